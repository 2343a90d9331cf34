"""The policy rules. Each returns findings; none prints."""

from __future__ import annotations

from hermetic.channel import channel_name
from hermetic.errors import Location
from hermetic.findings import ERROR, WARNING, Finding, sort_findings
from hermetic.manifest.model import Environment, Spec
from hermetic.policy.native import conda_equivalents

FORBIDDEN_REASON = (
    "Anaconda's channels need a paid license for organizations of 200+ people, and their "
    "binaries are built with other compilers and runtimes than conda-forge's, so mixing them "
    "breaks ABI in ways no solver sees"
)


def lint(spec: Spec, lock=None) -> tuple[Finding, ...]:
    """All findings for the spec and, when given, its lock (hermetic.lock.read.Lock)."""
    policy = spec.policy
    findings: list[Finding] = []
    envs = [spec.environment(n) for n in spec.environment_names]
    for env in envs:
        findings += _channels(spec, env)
        findings += _python_pin(spec, env)
        findings += _spec_duplicates(spec, env)
    if not policy.strict_channel_priority:
        findings.append(
            Finding(
                "channel-priority",
                WARNING,
                "policy turns strict channel priority off, but hermetic always solves with strict priority",
                location=_loc(spec),
                hint="remove `strict-channel-priority = false` from [tool.hermetic.policy]",
            )
        )
    if lock is not None:
        for env in envs:
            if env.name in lock.environment_names():
                findings += _lock_findings(spec, env, lock)
    ignored = set(policy.ignore)
    return sort_findings(f for f in findings if f.id not in ignored)


def _loc(spec: Spec) -> Location:
    return Location(spec.manifest)


def _channels(spec: Spec, env: Environment) -> list[Finding]:
    out = []
    policy = spec.policy
    for ch in env.channels:
        name = channel_name(ch)
        if (
            name in policy.forbidden_channels
            or name.startswith("pkgs/")
            or "repo.anaconda.com" in ch
        ):
            out.append(
                Finding(
                    "forbidden-channel",
                    ERROR,
                    f"channel {ch!r} is forbidden: {FORBIDDEN_REASON}",
                    environment=env.name,
                    location=_loc(spec),
                    hint="use conda-forge instead",
                )
            )
        elif policy.allowed_channels and name not in policy.allowed_channels:
            allowed = ", ".join(policy.allowed_channels)
            out.append(
                Finding(
                    "channel-not-allowed",
                    ERROR,
                    f"channel {ch!r} is not in the allowed channels ({allowed})",
                    environment=env.name,
                    location=_loc(spec),
                    hint="add it to [tool.hermetic.policy] allowed-channels if it is meant to be there",
                )
            )
    return out


def _python_pin(spec: Spec, env: Environment) -> list[Finding]:
    if not spec.policy.require_python_pin:
        return []
    out = []
    for p in env.platforms:
        py = next((d for d in env.conda_dependencies(p) if d.name == "python"), None)
        if py is None:
            out.append(
                Finding(
                    "python-not-pinned",
                    ERROR,
                    "python is not a dependency: the solver picks any version",
                    environment=env.name,
                    location=_loc(spec),
                    hint='add python = "3.11.*" (or the version you run) to the dependencies',
                )
            )
        elif py.spec.strip() in ("python", "python *"):
            out.append(
                Finding(
                    "python-not-pinned",
                    ERROR,
                    "python has no version constraint: a re-lock may move to a new minor version",
                    environment=env.name,
                    location=py.location or _loc(spec),
                    hint='pin it, e.g. python = "3.11.*"',
                )
            )
    return list(dict.fromkeys(out))  # the same finding for every platform is one finding


def _spec_duplicates(spec: Spec, env: Environment) -> list[Finding]:
    if spec.policy.allow_conda_pypi_duplicates:
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
            if dep.name in conda_names:
                out.append(
                    Finding(
                        "conda-pypi-duplicate",
                        ERROR,
                        f"{dep.name} is asked for from both conda ({conda_names[dep.name].spec!r}) and PyPI ({dep.requirement!r})",
                        environment=env.name,
                        location=dep.location or _loc(spec),
                        hint=f"keep one: remove {dep.name} from pypi-dependencies (conda's build is linked against the env's native libraries)",
                    )
                )
    return list(dict.fromkeys(out))


def _lock_findings(spec: Spec, env: Environment, lock) -> list[Finding]:
    from hermetic.resolve.mapping import provided_distributions

    policy = spec.policy
    out: list[Finding] = []
    mapping = dict(spec.pypi_mapping)
    for p in lock.platforms(env.name):
        records = lock.conda_records(env.name, p)
        pypi = lock.pypi_packages(env.name, p)
        provided = provided_distributions(records, mapping)
        conda_names = {r.name.normalized for r in records}
        allowed_urls = {channel_name(c) for c in env.channels}
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
