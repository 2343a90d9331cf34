"""`hermetic lock --check`: does the lock still satisfy the spec, and if not, why.

The fast path compares each environment's stored inputs hash with the spec's and parses
nothing else. Only when they differ is the lock read, to tell a harmless edit (a loosened
constraint the locked version still meets) from a stale lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hermetic.lock.format import read_meta
from hermetic.lock.inputs import EnvironmentInputs, environment_inputs
from hermetic.lock.read import Lock
from hermetic.manifest.model import Spec
from hermetic.textinput import read_lock_text


@dataclass(frozen=True)
class Stale:
    environment: str | None
    reason: str


@dataclass(frozen=True)
class CheckResult:
    path: Path
    stale: tuple[Stale, ...]

    @property
    def fresh(self) -> bool:
        return not self.stale


def check_lock(spec: Spec, path: Path) -> CheckResult:
    try:
        text = read_lock_text(Path(path))
    except FileNotFoundError:
        return CheckResult(path, (Stale(None, f"there is no lock file at {path}"),))
    meta = read_meta(text, str(path))
    if meta is None:
        return CheckResult(
            path,
            (Stale(None, "the lock has no `hermetic:` block (was it written by another tool?)"),),
        )
    current = {
        name: environment_inputs(spec, spec.environment(name)) for name in spec.environment_names
    }
    stale: list[Stale] = []
    for name in sorted(current.keys() - meta.inputs.keys()):
        stale.append(Stale(name, "the environment is new: it is not in the lock"))
    for name in sorted(meta.inputs.keys() - current.keys()):
        stale.append(
            Stale(name, "the environment was removed from the spec but is still in the lock")
        )
    lock: Lock | None = None
    for name in sorted(current.keys() & meta.inputs.keys()):
        now, then = current[name], meta.inputs[name]
        if now.digest == meta.digests.get(name) == then.digest:
            continue
        if lock is None:
            lock = Lock(Path(path), text)
        stale.extend(Stale(name, r) for r in _differences(name, now, then, lock))
    return CheckResult(path, tuple(stale))


def _differences(
    env: str, now: EnvironmentInputs, then: EnvironmentInputs, lock: Lock
) -> list[str]:
    out: list[str] = []
    if now.channels != then.channels:
        out.append(f"channels changed: {list(then.channels)} -> {list(now.channels)}")
    for p in sorted(set(now.platforms) - set(then.platforms)):
        out.append(f"platform {p} is new: it is not in the lock")
    for p in sorted(set(then.platforms) - set(now.platforms)):
        out.append(f"platform {p} was removed from the spec")
    if now.system_requirements != then.system_requirements:
        out.append(
            f"system-requirements changed: {dict(then.system_requirements)} -> {dict(now.system_requirements)}"
        )
    elif now.virtual_packages != then.virtual_packages:
        out.append("the virtual packages of the solve changed (a newer hermetic default)")
    if now.pypi_options != then.pypi_options:
        out.append("pypi-options changed")
    if now.pypi_mapping != then.pypi_mapping:
        out.append("pypi-mapping changed")
    was_sources = dict(then.pypi_sources)
    for name, digest in now.pypi_sources:
        if was_sources.get(name, digest) != digest:
            out.append(
                f"the metadata of PyPI source {name!r} changed (its pyproject.toml [project] "
                "or [build-system], setup.py or setup.cfg)"
            )
    if now.solve_group != then.solve_group:
        was = then.solve_group[0] if then.solve_group else None
        is_ = now.solve_group[0] if now.solve_group else None
        out.append(
            f"solve group changed: {was} -> {is_}"
            if was != is_
            else f"another environment of solve group {is_!r} changed"
        )
    for p in sorted(set(now.platforms) & set(then.platforms)):
        out.extend(_conda_differences(env, p, now.conda_for(p), then.conda_for(p), lock))
        out.extend(_pypi_differences(env, p, now.pypi_for(p), then.pypi_for(p), lock))
        editable_then, editable_now = set(then.editable_for(p)), set(now.editable_for(p))
        for name in sorted(editable_then ^ editable_now):
            mode = "editable" if name in editable_now else "not editable"
            out.append(f"[{p}] PyPI dependency {name!r} is now {mode}")
    return out


def _conda_differences(
    env: str, platform: str, now: tuple[str, ...], then: tuple[str, ...], lock: Lock
) -> list[str]:
    if now == then:
        return []
    from rattler import MatchSpec

    out: list[str] = []
    records = {r.name.normalized: r for r in lock.conda_records(env, platform)}
    now_names = {MatchSpec(s, strict=False).name.normalized: s for s in now}
    then_names = {MatchSpec(s, strict=False).name.normalized: s for s in then}
    for name in sorted(then_names.keys() - now_names.keys()):
        out.append(f"[{platform}] conda dependency {name!r} was removed from the spec")
    for name, spec in sorted(now_names.items()):
        if then_names.get(name) == spec:
            continue
        rec = records.get(name)
        if rec is None:
            out.append(f"[{platform}] conda dependency {spec!r} is not in the lock")
        elif not MatchSpec(spec, strict=False).matches(rec):
            out.append(
                f"[{platform}] conda dependency {spec!r} is not satisfied by the locked {name} {rec.version} {rec.build}"
            )
    return out


def _pypi_differences(
    env: str, platform: str, now: tuple[str, ...], then: tuple[str, ...], lock: Lock
) -> list[str]:
    if now == then:
        return []
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    out: list[str] = []
    locked = {p.name: p for p in lock.pypi_packages(env, platform)}
    now_reqs = {canonicalize_name(Requirement(r).name): Requirement(r) for r in now}
    then_names = {canonicalize_name(Requirement(r).name): str(Requirement(r)) for r in then}
    for name in sorted(then_names.keys() - now_reqs.keys()):
        out.append(f"[{platform}] PyPI dependency {name!r} was removed from the spec")
    for name, req in sorted(now_reqs.items()):
        if then_names.get(name) == str(req):
            continue
        pkg = locked.get(name)
        was = Requirement(then_names[name]).url if name in then_names else None
        if pkg is None:
            out.append(f"[{platform}] PyPI dependency {str(req)!r} is not in the lock")
        elif req.url != was:  # a new path, archive, or git repository or revision
            to = f"to {req.url}" if req.url else "to a version requirement"
            out.append(f"[{platform}] PyPI dependency {name!r} changed its source {to}")
        elif req.specifier and not req.specifier.contains(pkg.version, prereleases=True):
            out.append(
                f"[{platform}] PyPI dependency {str(req)!r} is not satisfied by the locked {name} {pkg.version}"
            )
    return out
