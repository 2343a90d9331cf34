"""`hermetic list` and `hermetic tree`: what an environment holds, and why."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hermetic.errors import UsageError, did_you_mean


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


def list_packages(lock, environment: str, platform: str, requested=frozenset()) -> Listing:
    from hermetic.env.pypi import requirement_url
    from hermetic.env.verify import local_path

    out = []
    for r in lock.conda_records(environment, platform):
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
    for p in lock.pypi_packages(environment, platform):
        size = None
        path = local_path(requirement_url(p.url))
        if path is not None:
            try:
                size = path.stat().st_size
            except OSError:
                size = None
        out.append(Package(p.name, p.version, "", "pypi", size, p.name in requested))
    return Listing(environment, platform, tuple(sorted(out, key=lambda p: (p.name, p.source))))


def requested_names(spec, environment: str, platform: str) -> dict[str, str]:
    """name -> requirement string, for what the spec asks for in this environment."""
    if spec is None:
        return {}
    env = spec.environment(environment)
    out = {d.name: d.spec for d in env.conda_dependencies(platform)}
    out.update({d.name: d.requirement for d in env.pypi_dependencies(platform)})
    return out


def _installed_requires(prefix, name: str) -> tuple[str, ...]:
    """Requires-Dist of an installed distribution (the lock may not record them)."""
    from email.parser import HeaderParser

    from packaging.utils import canonicalize_name

    if prefix is None:
        return ()
    for d in Path(prefix).glob("lib/python*/site-packages/*.dist-info"):
        if canonicalize_name(d.name.partition("-")[0]) == name:
            try:
                meta = HeaderParser().parsestr((d / "METADATA").read_text(errors="replace"))
            except OSError:
                return ()
            return tuple(meta.get_all("Requires-Dist") or ())
    return ()


def why(
    lock, environment: str, platform: str, name: str, requested: dict[str, str], prefix=None
) -> Why:
    from packaging.utils import canonicalize_name
    from rattler import MatchSpec

    listing = list_packages(lock, environment, platform, frozenset(requested))
    by_key = {(p.source, p.name): p for p in listing.packages}
    records = {r.name.normalized: r for r in lock.conda_records(environment, platform)}
    pypi = {p.name: p for p in lock.pypi_packages(environment, platform)}

    # dependents[x] = packages that depend on x
    dependents: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for r in records.values():
        for dep in r.depends:
            try:
                spec = MatchSpec(str(dep), strict=False)
            except Exception:
                continue
            target = records.get(spec.name.normalized)
            if target is not None and spec.matches(target):
                dependents.setdefault(("conda", target.name.normalized), set()).add(
                    ("conda", r.name.normalized)
                )
    for p in pypi.values():
        for req in base_requirements(p.requires_dist or _installed_requires(prefix, p.name)):
            dep = canonicalize_name(req.name)
            key = ("pypi", dep) if dep in pypi else None
            if key is None:  # a PyPI package may depend on a distribution conda provides
                key = next((("conda", n) for n in records if canonicalize_name(n) == dep), None)
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


def _find(name: str, by_key: dict, listing: Listing) -> Package:
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


def base_requirements(requires_dist):  # -> list[packaging.requirements.Requirement]
    """The parseable Requires-Dist entries that hold without extras."""
    from packaging.requirements import InvalidRequirement, Requirement

    out = []
    for raw in requires_dist:
        try:
            req = Requirement(raw)
        except InvalidRequirement:
            continue
        if req.marker is None or "extra" not in str(req.marker):
            out.append(req)
    return out
