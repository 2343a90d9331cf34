"""Spec -> lock: solve every environment x platform and write `hermetic.lock`.

Re-locking is stable: the previous lock's records are given to the solver as preferences
(rattler's `locked_packages`; uv constraints that are dropped if they no longer fit), so adding
one dependency leaves unrelated packages where they were. `update` names packages to free.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from hermetic.channel import strip_url
from hermetic.errors import HermeticError, ResolveError
from hermetic.fs import atomic_write_text
from hermetic.lock.format import LockedEnvironment, render
from hermetic.lock.gitpins import git_pins, locked_commit
from hermetic.lock.groups import SolveUnit, conda_subset, pypi_subset, solve_units
from hermetic.lock.inputs import environment_inputs
from hermetic.lock.model import PypiArtifact
from hermetic.lock.read import Lock, load_lock
from hermetic.manifest.model import Environment, Spec
from hermetic.manifest.places import SystemRequirementsSites
from hermetic.mirrors import Mirrors
from hermetic.platform import DEFAULT_GLIBC, default_macos
from hermetic.resolve.conda import CondaRequest, solve_all
from hermetic.resolve.mapping import provided_distributions
from hermetic.resolve.platforms import virtual_packages

if TYPE_CHECKING:
    from rattler import RepoDataRecord

    from hermetic.resolve.pypi import PypiRequest

Reporter = Callable[[str], None]


@dataclass(frozen=True)
class EnvironmentSummary:
    environment: str
    platform: str
    conda: int
    pypi: int


@dataclass(frozen=True)
class Change:
    environment: str
    platform: str
    name: str
    old: str | None  # None: added
    new: str | None  # None: removed
    source: str  # "conda" | "pypi"


@dataclass(frozen=True)
class LockResult:
    path: Path
    written: bool  # False when the new lock is byte-identical to the old one
    environments: tuple[EnvironmentSummary, ...]
    changes: tuple[Change, ...]
    notes: tuple[str, ...] = ()


def lock_spec(
    spec: Spec,
    path: Path,
    *,
    update: frozenset[str] | None = None,
    update_all: bool = False,
    reporter: Reporter | None = None,
    mirrors: Mirrors | None = None,
    platform_override: Sequence[str] = (),
) -> LockResult:
    """Solve the spec and write the lock atomically; a failure leaves the old lock untouched.

    `platform_override` names the platforms `spec` was narrowed to by `lock -p`; the lock
    records them.
    """
    say = reporter or (lambda _msg: None)
    update = update or frozenset()
    notes: list[str] = []
    previous, other_pins = _previous(path, notes, say)
    envs = [spec.environment(n) for n in spec.environment_names]
    if previous and update:
        _check_update_names(previous, update)

    units = solve_units(envs)
    requests = [
        CondaRequest(
            environment=unit.label,
            platform=p,
            channels=unit.channels(p),
            specs=unit.conda_specs(p),
            virtual_packages=virtual_packages(p, unit.system_requirements(p)),
            sites=SystemRequirementsSites.of(spec, unit.members_on(p), p),
            group=unit.describe() if unit.group else None,
        )
        for unit in units
        for p in unit.platforms
    ]
    for r in requests:
        if not r.channels:
            raise ResolveError(
                f"{r.subject} has no channels",
                hint='add channels = ["conda-forge"] to the spec',
            )
    locked = {} if update_all or previous is None else _locked_records(previous, units, update)
    if not update_all:
        for other in other_pins:  # the other side of a merge conflict: its extra pins
            for key, recs in _locked_records(other, units, update).items():
                have = {r.name.normalized for r in locked.get(key, [])}
                locked.setdefault(key, []).extend(r for r in recs if r.name.normalized not in have)
    grouped = sum(1 for u in units if u.group is not None)
    say(
        f"solving conda packages: {len(requests)} environment x platform solves"
        + (f" ({grouped} solve group(s))" if grouped else "")
    )
    solved = solve_all(requests, locked, mirrors=mirrors)
    unit_conda = {
        (r.environment, r.platform): recs for r, recs in zip(requests, solved, strict=True)
    }

    mapping = dict(spec.pypi_mapping)
    pypi_requests: list[PypiRequest] = []
    for unit in units:
        for p in unit.platforms:
            reqs = unit.pypi_requirements(p)
            if not reqs:
                continue
            # imported here: uv's driver is a noticeable import that a conda-only lock skips
            from hermetic.resolve.pypi import PypiRequest

            records = unit_conda[(unit.label, p)]
            python = next((r for r in records if r.name.normalized == "python"), None)
            if python is None:
                raise ResolveError(
                    f"{unit.describe()} has pypi-dependencies but no python for {p}",
                    hint='add python to the conda dependencies, e.g. python = "3.11.*"',
                )
            sysreq = unit.system_requirements(p)
            pypi_requests.append(
                PypiRequest(
                    environment=unit.label,
                    platform=p,
                    python_version=str(python.version),
                    requirements=reqs,
                    provided=tuple(sorted(provided_distributions(records, mapping).items())),
                    options=unit.pypi_options(),
                    group=unit.describe() if unit.group else None,
                    glibc=sysreq.glibc or DEFAULT_GLIBC,
                    macos=sysreq.macos or default_macos(p),
                    preferences=()
                    if previous is None or update_all
                    else _pypi_preferences(previous, unit, p, update),
                    git_pins=()
                    if previous is None or update_all
                    else git_pins(previous, unit.members_on(p), p, update),
                )
            )
    unit_pypi: dict[tuple[str, str], tuple[PypiArtifact, ...]] = {}
    if pypi_requests:
        from hermetic.resolve.pypi import request_key, resolve_all

        distinct = len(set(map(request_key, pypi_requests)))
        say(
            f"resolving PyPI packages with uv: {len(pypi_requests)} environment x platform "
            f"resolutions ({distinct} distinct)"
        )
        for req, result in zip(pypi_requests, resolve_all(pypi_requests), strict=True):
            unit_pypi[(req.environment, req.platform)] = result

    conda: dict[tuple[str, str], list[RepoDataRecord]] = {}
    pypi: dict[tuple[str, str], tuple[PypiArtifact, ...]] = {}
    for unit in units:
        for p in unit.platforms:
            records = unit_conda[(unit.label, p)]
            artifacts = unit_pypi.get((unit.label, p), ())
            for env in unit.members_on(p):
                if unit.group is None:
                    conda[(env.name, p)], pypi[(env.name, p)] = records, artifacts
                else:
                    conda[(env.name, p)], pypi[(env.name, p)] = _member_share(
                        env, p, records, artifacts, mapping
                    )
                pypi[(env.name, p)] = mark_editable(env, p, pypi[(env.name, p)])
    _check_editable_agrees(pypi)

    locked_envs = [
        LockedEnvironment(
            name=env.name,
            inputs=environment_inputs(spec, env),
            conda={p: conda[(env.name, p)] for p in env.platforms},
            pypi={p: pypi.get((env.name, p), ()) for p in env.platforms},
        )
        for env in envs
    ]
    text = render(locked_envs, platform_override, base=Path(path).absolute().parent)
    written = previous is None or previous.path != path or previous.text != text
    if written:
        atomic_write_text(path, text)
    summaries = tuple(
        EnvironmentSummary(e.name, p, len(e.conda[p]), len(e.pypi[p]))
        for e in sorted(locked_envs, key=lambda e: e.name)
        for p in sorted(e.inputs.platforms)
    )
    return LockResult(
        path=path,
        written=written,
        environments=summaries,
        changes=_changes(previous, locked_envs),
        notes=tuple(notes),
    )


ADOPTABLE = ("pixi.lock",)  # other tools' locks in rattler's format, read as they are


def _previous(path: Path, notes: list[str], say: Reporter) -> tuple[Lock | None, tuple[Lock, ...]]:
    """The lock whose pins a re-lock keeps: hermetic.lock, else a pixi.lock beside it; and
    more pins (a merge conflict's other side). A lock that cannot be read whole still gives
    the pins of what can be read of it."""
    if not path.exists():
        adopted = next((path.parent / n for n in ADOPTABLE if (path.parent / n).is_file()), None)
        if adopted is None:
            return None, ()
        path = adopted
        notes.append(f"keeping the pins of {adopted.name} wherever the spec allows")
    try:
        lock = load_lock(path)
        lock.environment_names()  # parse now, so a broken lock is noticed here
        return lock, ()
    except HermeticError as exc:
        from hermetic.lock.repair import salvage_lock

        salvaged = salvage_lock(path)
        if salvaged is None:
            notes.append(
                f"the previous lock could not be read ({exc.message}); solving from scratch"
            )
            return None, ()
        notes.append(salvaged.repaired)
        say(salvaged.repaired)
        return salvaged.lock, salvaged.others


def _check_update_names(previous: Lock, update: frozenset[str]) -> None:
    known = {
        r.name.normalized
        for e in previous.environment_names()
        for p in previous.platforms(e)
        for r in previous.conda_records(e, p)
    } | {
        q.name
        for e in previous.environment_names()
        for p in previous.platforms(e)
        for q in previous.pypi_packages(e, p)
    }
    unknown = sorted(update - known)
    if unknown:
        from hermetic.errors import UsageError, did_you_mean

        guess = did_you_mean(unknown[0], known)
        raise UsageError(
            f"--update names packages that are not in the lock: {', '.join(unknown)}",
            hint=f"did you mean {guess!r}?"
            if guess
            else "`hermetic list` shows the locked packages",
        )


def _locked_records(
    previous: Lock, units: list[SolveUnit], update: frozenset[str]
) -> dict[tuple[str, str], list[RepoDataRecord]]:
    """Each solve's preferences: the previous records of its environments (the first
    environment's record of a name wins), minus the packages to update."""
    out: dict[tuple[str, str], list[RepoDataRecord]] = {}
    names = previous.environment_names()
    for unit in units:
        for p in unit.platforms:
            prefs: dict[str, RepoDataRecord] = {}
            for env in unit.members_on(p):
                if env.name in names and p in previous.platforms(env.name):
                    for rec in previous.conda_records(env.name, p):
                        if rec.name.normalized not in update:
                            prefs.setdefault(rec.name.normalized, rec)
            if prefs:
                out[(unit.label, p)] = list(prefs.values())
    return out


def _pypi_preferences(
    previous: Lock, unit: SolveUnit, platform: str, update: frozenset[str]
) -> tuple[tuple[str, str], ...]:
    prefs: dict[str, str] = {}
    names = previous.environment_names()
    for env in unit.members_on(platform):
        if env.name in names and platform in previous.platforms(env.name):
            for q in previous.pypi_packages(env.name, platform):
                # a path or git dependency (no hash) is pinned by its URL, not a version
                if q.name not in update and q.sha256 is not None:
                    prefs.setdefault(q.name, q.version)
    return tuple(prefs.items())


def mark_editable(
    env: Environment, platform: str, artifacts: tuple[PypiArtifact, ...]
) -> tuple[PypiArtifact, ...]:
    """The environment's artifacts, those its spec declares `editable` marked so."""
    wanted = {d.name: d for d in env.pypi_dependencies(platform) if d.editable}
    if not wanted:
        return artifacts
    out = []
    for a in artifacts:
        dep = wanted.get(a.name)
        if dep is not None:
            if not a.is_directory:
                raise ResolveError(
                    f"{a.name}: `editable = true` needs a source directory, but it resolved "
                    f"to {strip_url(a.url)}",
                    location=dep.location,
                    hint="point `path` at the project's directory (the one with its "
                    "pyproject.toml), or drop `editable`",
                )
            a = replace(a, editable=True)
        out.append(a)
    return tuple(out)


def _check_editable_agrees(pypi: dict[tuple[str, str], tuple[PypiArtifact, ...]]) -> None:
    """The lock records `editable` on the package entry (one per location, as pixi.lock
    does), so every environment that locks a directory must agree on it."""
    seen: dict[str, tuple[bool, str]] = {}
    for (env, _platform), artifacts in sorted(pypi.items()):
        for a in artifacts:
            if not a.is_directory:
                continue
            first = seen.setdefault(a.url, (a.editable, env))
            if first[0] != a.editable:
                yes, no = (env, first[1]) if a.editable else (first[1], env)
                raise ResolveError(
                    f"{a.name} ({strip_url(a.url)}) is editable in environment {yes!r} but "
                    f"not in {no!r}: the lock records one install mode per source directory",
                    hint=f"give {a.name} the same `editable` in every feature that lists it",
                )


def _member_share(
    env: Environment,
    platform: str,
    records: list[RepoDataRecord],
    artifacts: tuple[PypiArtifact, ...],
    mapping: dict[str, str],
) -> tuple[list[RepoDataRecord], tuple[PypiArtifact, ...]]:
    """A solve-group member's part of the group's solution: what its own requirements reach,
    including the conda packages that provide the Python distributions its PyPI part needs."""
    python = next((r for r in records if r.name.normalized == "python"), None)
    own_pypi, from_conda = pypi_subset(
        artifacts,
        (d.requirement for d in env.pypi_dependencies(platform)),
        platform,
        str(python.version) if python is not None else "3",
    )
    providers = {
        dist: r.name.normalized
        for r in records
        if (dist := next(iter(provided_distributions([r], mapping)), None)) is not None
    }
    roots = [d.name for d in env.conda_dependencies(platform)]
    roots += [providers[n] for n in sorted(from_conda) if n in providers]
    if own_pypi and python is not None:
        roots.append("python")
    return conda_subset(records, roots), own_pypi


def _changes(previous: Lock | None, envs: list[LockedEnvironment]) -> tuple[Change, ...]:
    if previous is None:
        return ()
    prev_envs = set(previous.environment_names())
    changes: list[Change] = []
    for env in sorted(envs, key=lambda e: e.name):
        for p in sorted(env.inputs.platforms):
            have = env.name in prev_envs and p in previous.platforms(env.name)
            old_c = (
                {r.name.normalized: str(r.version) for r in previous.conda_records(env.name, p)}
                if have
                else {}
            )
            old_p = {q.name: _shown(q) for q in previous.pypi_packages(env.name, p)} if have else {}
            new_c = {r.name.normalized: str(r.version) for r in env.conda[p]}
            new_p = {q.name: _shown(q) for q in env.pypi[p]}
            for source, old, new in (("conda", old_c, new_c), ("pypi", old_p, new_p)):
                for name in sorted(old.keys() | new.keys()):
                    if old.get(name) != new.get(name):
                        changes.append(
                            Change(env.name, p, name, old.get(name), new.get(name), source)
                        )
    return tuple(changes)


def _shown(artifact: PypiArtifact) -> str:
    """A PyPI package's version as a change shows it: a git checkout with its commit, since
    a new commit often keeps the version."""
    commit = locked_commit(artifact)
    return f"{artifact.version} ({commit[:12]})" if commit else artifact.version
