"""The policy rules. Each returns findings; none prints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hermetic.channel import channel_name, redact_url
from hermetic.errors import Location
from hermetic.findings import ERROR, WARNING, Finding, sort_findings
from hermetic.manifest.model import Environment, Policy, Spec
from hermetic.manifest.places import dependencies_place
from hermetic.manifest.policy_table import PRESETS
from hermetic.policy.config import effective_policy
from hermetic.policy.native import conda_equivalents

if TYPE_CHECKING:
    from rattler import RepoDataRecord

    from hermetic.lock.model import PypiArtifact
    from hermetic.lock.read import Lock

FORBIDDEN_REASON = (
    "Anaconda's channels need a paid license for organizations of 200+ people, and their "
    "binaries are built with other compilers and runtimes than conda-forge's, so mixing them "
    "breaks ABI in ways no solver sees"
)


def lint(
    spec: Spec, lock: Lock | None = None, *, user_config: Path | None = None
) -> tuple[Finding, ...]:
    """All findings for the spec and, when given, its lock.

    The policy is the spec's over the project's and the user's config (`effective_policy`).
    """
    policy = effective_policy(spec, user_config)
    where = PolicyPlace(spec, policy)
    findings: list[Finding] = []
    envs = [spec.environment(n) for n in spec.environment_names]
    findings += _once_per_channel(
        [f for env in envs for f in _channels(spec, env, policy, where)], len(envs)
    )
    for env in envs:
        findings += _python_pin(spec, env, policy, where)
        findings += _spec_duplicates(spec, env, policy)
    if not policy.strict_channel_priority:
        findings.append(
            Finding(
                "channel-priority",
                WARNING,
                "policy turns strict channel priority off, but hermetic always solves with strict priority",
                location=where.location("strict-channel-priority"),
                hint=f"remove strict-channel-priority from {where.table}",
            )
        )
    if lock is not None:
        for env in envs:
            if env.name in lock.environment_names():
                findings += _lock_findings(spec, env, lock, policy)
    ignored = set(policy.ignore)
    return sort_findings(f for f in findings if f.id not in ignored)


@dataclass(frozen=True)
class PolicyPlace:
    """Where a policy key is, or would go, in this project: for "change X at file:line"."""

    spec: Spec
    policy: Policy

    @property
    def table(self) -> str:
        if self.policy.source is not None:
            return self.policy.source.where
        return f"{policy_table_name(self.spec)} of {Path(self.spec.manifest).name}"

    def setting(self, key: str, value: str) -> str:
        """`key = value` as the policy table writes it (`key: value` in environment.yml)."""
        yaml = (
            self.policy.source.table == "policy:"
            if self.policy.source is not None
            else self.spec.kind == "environment-yml"
        )
        return f"{key}: {value}" if yaml else f"{key} = {value}"

    def location(self, key: str) -> Location:
        source = self.policy.source
        if source is not None:
            return Location(source.path, source.line(key) or source.line(""))
        return Location(self.spec.manifest)


def policy_table_name(spec: Spec) -> str:
    """How the policy table is spelled in this kind of manifest."""
    return {
        "hermetic-toml": "[policy]",
        "environment-yml": "the policy: key",
    }.get(spec.kind, "[tool.hermetic.policy]")


def _channels(spec: Spec, env: Environment, policy: Policy, where: PolicyPlace) -> list[Finding]:
    out = []
    for ch in env.channels:
        name = channel_name(ch)
        loc = _channel_location(spec, ch)
        anaconda = name.startswith("pkgs/") or "repo.anaconda.com" in ch
        shown = redact_url(ch)  # a finding is printed: never with the channel's credentials
        if name in policy.forbidden_channels or (anaconda and name not in policy.allowed_channels):
            out.append(
                Finding(
                    "forbidden-channel",
                    ERROR,
                    f"channel {shown!r} is forbidden: {FORBIDDEN_REASON}",
                    environment=env.name,
                    location=loc,
                    hint="use conda-forge instead, or allow it on purpose: take "
                    f"{name!r} out of forbidden-channels and put it in allowed-channels in "
                    f"{where.table}",
                )
            )
        elif policy.allowed_channels and name not in policy.allowed_channels:
            allowed = ", ".join(policy.allowed_channels)
            preset = next((n for n, c in PRESETS.items() if name in c and n != "conda-forge"), None)
            out.append(
                Finding(
                    "channel-not-allowed",
                    ERROR,
                    f"channel {shown!r} is not in the allowed channels ({allowed})",
                    environment=env.name,
                    location=loc,
                    hint=f"if it is meant to be there, add {name!r} to allowed-channels in "
                    f"{where.table}" + (f', or set preset = "{preset}" there' if preset else ""),
                )
            )
    return out


def _once_per_channel(findings: list[Finding], environments: int) -> list[Finding]:
    """A channel listed once is one finding, not one per environment that has it."""
    import dataclasses

    by_line: dict[tuple[str, str, Location | None], list[Finding]] = {}
    for f in findings:
        by_line.setdefault((f.id, f.message, f.location), []).append(f)
    out = []
    for same in by_line.values():
        if len(same) == 1 or len(same) < environments:
            out += same
        else:  # in every environment: it is about the manifest, not one environment
            out.append(dataclasses.replace(same[0], environment=None))
    return out


def _channel_location(spec: Spec, channel: str) -> Location:
    for f in spec.features:
        loc = f.channel_location(channel)
        if loc is not None:
            return loc
    return Location(spec.manifest)


def _python_pin(spec: Spec, env: Environment, policy: Policy, where: PolicyPlace) -> list[Finding]:
    if not policy.require_python_pin:
        return []
    off = f"or turn the rule off: {where.setting('require-python-pin', 'false')} in {where.table}"
    out = []
    for p in env.platforms:
        py = next((d for d in env.conda_dependencies(p) if d.name == "python"), None)
        if py is None:
            deps = dependencies_place(spec, env)
            version = "3.11" if deps.style == "yaml-list" else "3.11.*"
            pin = deps.advice("python", version, why="(the version you run)")
            out.append(
                Finding(
                    "python-not-pinned",
                    WARNING,
                    "python is not a dependency: the solver picks any version",
                    environment=env.name,
                    location=deps.location,
                    hint=f"{pin}, {off}",
                )
            )
        elif py.spec.strip() in ("python", "python *"):
            deps = dependencies_place(spec, env)
            pin = deps.entry("python", "3.11" if deps.style == "yaml-list" else "3.11.*")
            out.append(
                Finding(
                    "python-not-pinned",
                    WARNING,
                    "python has no version constraint: a re-lock may move to a new minor version",
                    environment=env.name,
                    location=py.location or deps.location,
                    hint=f"pin it: write {pin} (the version you run) on this line, {off}",
                )
            )
    return list(dict.fromkeys(out))  # the same finding for every platform is one finding


def _spec_duplicates(spec: Spec, env: Environment, policy: Policy) -> list[Finding]:
    if policy.allow_conda_pypi_duplicates:
        return []
    from hermetic.resolve.mapping import KNOWN, canonical

    mapping = dict(spec.pypi_mapping)
    out = []
    for p in env.platforms:
        conda_names = {}
        for d in env.conda_dependencies(p):
            pypi = mapping.get(d.name, KNOWN.get(d.name, d.name))
            if pypi:
                conda_names[canonical(pypi)] = d
        for dep in env.pypi_dependencies(p):
            # the package's own metadata names what it needs; conda providing it is the
            # point of pixi's pyproject layout (the lock takes it from conda, never twice)
            if dep.name in conda_names and not dep.from_package_metadata:
                out.append(
                    Finding(
                        "conda-pypi-duplicate",
                        ERROR,
                        f"{dep.name} is asked for from both conda ({conda_names[dep.name].spec!r}) and PyPI ({dep.requirement!r})",
                        environment=env.name,
                        location=dep.location or Location(spec.manifest),
                        hint=f"keep one: remove {dep.name} from pypi-dependencies (conda's build is linked against the env's native libraries)",
                    )
                )
    return list(dict.fromkeys(out))


def _lock_findings(spec: Spec, env: Environment, lock: Lock, policy: Policy) -> list[Finding]:
    from hermetic.resolve.mapping import provided_distributions

    out: list[Finding] = []
    mapping = dict(spec.pypi_mapping)
    for p in lock.platforms(env.name):
        records = lock.conda_records(env.name, p)
        pypi = lock.pypi_packages(env.name, p)
        provided = provided_distributions(records, mapping)
        conda_names = {r.name.normalized for r in records}
        allowed_urls = {channel_name(c) for c in env.channels}
        out += _unpinned(env.name, p, records, pypi, str(lock.path))
        for r in records:
            if channel_name(str(r.channel or "")) not in allowed_urls:
                out.append(
                    Finding(
                        "lock-foreign-channel",
                        ERROR,
                        f"[{p}] {r.name.normalized} {r.version} comes from {r.channel}, which is not a channel of the spec",
                        environment=env.name,
                        location=Location(str(lock.path)),
                        hint="re-lock with `hermetic lock`",
                    )
                )
        for pkg in pypi:
            if not policy.allow_conda_pypi_duplicates and pkg.name in provided:
                out.append(
                    Finding(
                        "conda-pypi-duplicate",
                        ERROR,
                        f"[{p}] {pkg.name} is locked from both conda ({provided[pkg.name]}) and PyPI ({pkg.version})",
                        environment=env.name,
                        location=Location(str(lock.path)),
                        hint="re-lock with `hermetic lock`: hermetic never installs a conda-provided distribution from PyPI",
                    )
                )
            same = (
                conda_equivalents(pkg.name, conda_names) if policy.warn_bundled_native_libs else ()
            )
            if same:
                out.append(
                    Finding(
                        "bundled-native-libs",
                        WARNING,
                        f"[{p}] PyPI wheel {pkg.name} {pkg.version} bundles native libraries that conda's "
                        f"{', '.join(same)} also provides: two copies can load into one process",
                        environment=env.name,
                        location=Location(str(lock.path)),
                        hint=f"take the package that pulls {pkg.name} from conda instead (e.g. pytorch from conda-forge), "
                        f"or drop the conda {', '.join(same)}",
                    )
                )
    return out


def _unpinned(
    env: str,
    platform: str,
    records: Sequence[RepoDataRecord],
    pypi: Sequence[PypiArtifact],
    lock_path: str,
) -> list[Finding]:
    """Artifacts the lock does not pin by sha256 (install checks md5 only, or refuses)."""
    out = []
    for r in records:
        if r.sha256 is None:
            out.append(
                Finding(
                    "lock-md5-only" if r.md5 is not None else "lock-unpinned",
                    WARNING if r.md5 is not None else ERROR,
                    f"[{platform}] {r.file_name} is pinned by md5 only (no sha256)"
                    if r.md5 is not None
                    else f"[{platform}] {r.file_name} has no sha256 and no md5: install refuses it",
                    environment=env,
                    location=Location(lock_path),
                    hint="re-lock with `hermetic lock` to record its sha256",
                )
            )
    for pkg in pypi:
        if not pkg.sha256 and not (pkg.is_git or pkg.is_directory):
            out.append(
                Finding(
                    "lock-unpinned",
                    ERROR,
                    f"[{platform}] PyPI package {pkg.name} {pkg.version} has no sha256: install refuses it",
                    environment=env,
                    location=Location(lock_path),
                    hint="re-lock with `hermetic lock`",
                )
            )
    return out
