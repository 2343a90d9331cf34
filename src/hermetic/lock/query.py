"""`hermetic list` and `hermetic tree`: what an environment holds, and why, from the lock alone.

The dependency edges come from the lock: conda records' `depends`, and PyPI artifacts'
`requires_dist` (their core metadata, recorded at lock time). Nothing needs to be installed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hermetic.errors import UsageError, did_you_mean
from hermetic.lock.read import Lock
from hermetic.resolve.mapping import pypi_name

if TYPE_CHECKING:
    from rattler import RepoDataRecord

    from hermetic.manifest.model import Spec


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    build: str  # "" for PyPI
    source: str  # "conda" | "pypi"
    size: int | None  # bytes of the artifact, when known
    requested: bool  # named in the spec


@dataclass(frozen=True)
class Listing:
    environment: str
    platform: str
    packages: tuple[Package, ...]


@dataclass(frozen=True)
class Why:
    """Why `package` is in the environment: chains of dependents up to what the spec asks."""

    environment: str
    platform: str
    package: Package
    # each chain starts at the package and ends at a requested one: (pkg, dependent, ..., root)
    chains: tuple[tuple[Package, ...], ...]
    requested_as: tuple[str, ...]  # the spec's requirement strings for the roots


def list_packages(
    lock: Lock, environment: str, platform: str, requested: Collection[str] = frozenset()
) -> Listing:
    locked = lock.platform(environment, platform)
    out = []
    for r in locked.conda:
        out.append(
            Package(
                r.name.normalized,
                str(r.version),
                str(r.build),
                "conda",
                r.size,
                r.name.normalized in requested,
            )
        )
    for p in locked.pypi:
        size = None
        path = p.local_path
        if path is not None and path.is_file():
            try:
                size = path.stat().st_size
            except OSError:
                size = None
        out.append(Package(p.name, p.version, "", "pypi", size, p.name in requested))
    return Listing(environment, platform, tuple(sorted(out, key=lambda p: (p.name, p.source))))


def requested_names(spec: Spec | None, environment: str, platform: str) -> dict[str, str]:
    """name -> requirement string, for what the spec asks for in this environment."""
    if spec is None:
        return {}
    env = spec.environment(environment)
    out = {d.name: d.spec for d in env.conda_dependencies(platform)}
    out.update({d.name: d.requirement for d in env.pypi_dependencies(platform)})
    return out


def why(
    lock: Lock, environment: str, platform: str, name: str, requested: Mapping[str, str]
) -> Why:
    from packaging.utils import canonicalize_name
    from rattler import MatchSpec

    listing = list_packages(lock, environment, platform, frozenset(requested))
    by_key = {(p.source, p.name): p for p in listing.packages}
    locked = lock.platform(environment, platform)
    records = {r.name.normalized: r for r in locked.conda}
    pypi = {p.name: p for p in locked.pypi}

    # dependents[x] = packages that depend on x
    dependents: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for r in records.values():
        for dep in r.depends:
            try:
                spec = MatchSpec(str(dep), strict=False)
            except Exception:
                continue
            dep_record = records.get(spec.name.normalized)
            if dep_record is not None and spec.matches(dep_record):
                dependents.setdefault(("conda", dep_record.name.normalized), set()).add(
                    ("conda", r.name.normalized)
                )
    # a PyPI package may depend on a distribution conda provides (pytorch provides torch)
    conda_dists = {
        dist: conda_name
        for conda_name, r in records.items()
        if (dist := pypi_name(conda_name, r.depends, _noarch(r))) is not None
    }
    for p in pypi.values():
        for req in p.base_requirements():
            dep = str(canonicalize_name(req.name))
            key: tuple[str, str] | None = ("pypi", dep) if dep in pypi else None
            if key is None and dep in conda_dists:
                key = ("conda", conda_dists[dep])
            if key is not None:
                dependents.setdefault(key, set()).add(("pypi", p.name))

    target = _find(name, by_key, listing)
    roots = {(p.source, p.name) for p in listing.packages if p.name in requested}
    chains: list[tuple[Package, ...]] = []

    def walk(key: tuple[str, str], path: tuple[tuple[str, str], ...]) -> None:
        if len(chains) >= 50:
            return
        if key in roots:
            chains.append(tuple(by_key[k] for k in path))
        for parent in sorted(dependents.get(key, ())):
            if parent not in path:
                walk(parent, (*path, parent))

    start = (target.source, target.name)
    walk(start, (start,))
    chains.sort(key=len)
    used = tuple(dict.fromkeys(requested[c[-1].name] for c in chains if c[-1].name in requested))
    return Why(environment, platform, target, tuple(chains), used)


def _noarch(r: RepoDataRecord) -> str | None:
    return "python" if r.noarch is not None and r.noarch.python else None


def _find(name: str, by_key: Mapping[tuple[str, str], Package], listing: Listing) -> Package:
    from packaging.utils import canonicalize_name

    for key in (("conda", name.lower()), ("pypi", canonicalize_name(name))):
        if key in by_key:
            return by_key[key]
    names = sorted({p.name for p in listing.packages})
    guess = did_you_mean(name, names)
    raise UsageError(
        f"{name!r} is not in environment {listing.environment!r} ({listing.platform})",
        hint=(f"did you mean {guess!r}? " if guess else "") + "`hermetic list` shows what is there",
    )
