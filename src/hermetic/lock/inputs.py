"""What an environment was locked from: the normalized inputs and their hash.

`hermetic lock --check` compares these with the spec, so it can say exactly what is stale
without solving anything.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from hermetic.channel import strip_url
from hermetic.lock.model import local_path, lock_location
from hermetic.lock.sourcedigest import source_digest
from hermetic.manifest.model import Environment, Spec
from hermetic.resolve.platforms import virtual_packages

FORMAT = 1


@dataclass(frozen=True)
class EnvironmentInputs:
    channels: tuple[str, ...]
    platforms: tuple[str, ...]
    system_requirements: tuple[tuple[str, str], ...]
    virtual_packages: tuple[tuple[str, tuple[str, ...]], ...]  # platform -> "name=ver=build"
    conda: tuple[tuple[str, tuple[str, ...]], ...]  # platform -> match specs
    pypi: tuple[tuple[str, tuple[str, ...]], ...]  # platform -> requirements
    pypi_options: tuple[tuple[str, object], ...]
    pypi_mapping: tuple[tuple[str, str], ...]
    # (group name, hash of every member's own inputs): a sibling's change re-locks this one
    solve_group: tuple[str, str] | None = None
    # platform -> the PyPI dependencies installed editable (only platforms that have some)
    pypi_editable: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # a path or editable dependency -> the digest of its metadata sources (`sourcedigest`)
    pypi_sources: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, object]:
        group = (
            {"solve-group": {"name": self.solve_group[0], "members-hash": self.solve_group[1]}}
            if self.solve_group
            else {}
        )
        # absent when empty: the inputs of a lock without editables keep their hash
        editable = (
            {"pypi-editable": {p: list(v) for p, v in self.pypi_editable}}
            if self.pypi_editable
            else {}
        )
        sources = {"pypi-sources": dict(self.pypi_sources)} if self.pypi_sources else {}
        return (
            group
            | editable
            | sources
            | {
                "channels": list(self.channels),
                "platforms": list(self.platforms),
                "system-requirements": dict(self.system_requirements),
                "virtual-packages": {p: list(v) for p, v in self.virtual_packages},
                "conda": {p: list(v) for p, v in self.conda},
                "pypi": {p: list(v) for p, v in self.pypi if v},
                "pypi-options": {
                    k: list(v) if isinstance(v, tuple) else v for k, v in self.pypi_options
                },
                "pypi-mapping": dict(self.pypi_mapping),
            }
        )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EnvironmentInputs:
        return cls(
            channels=tuple(d.get("channels", ())),
            platforms=tuple(d.get("platforms", ())),
            system_requirements=tuple(sorted((d.get("system-requirements") or {}).items())),
            virtual_packages=tuple(
                (p, tuple(v)) for p, v in sorted((d.get("virtual-packages") or {}).items())
            ),
            conda=tuple((p, tuple(v)) for p, v in sorted((d.get("conda") or {}).items())),
            pypi=tuple((p, tuple(v)) for p, v in sorted((d.get("pypi") or {}).items())),
            pypi_options=tuple(
                (k, tuple(v) if isinstance(v, list) else v)
                for k, v in sorted((d.get("pypi-options") or {}).items())
            ),
            pypi_mapping=tuple(sorted((d.get("pypi-mapping") or {}).items())),
            solve_group=(
                (str(d["solve-group"]["name"]), str(d["solve-group"]["members-hash"]))
                if isinstance(d.get("solve-group"), dict)
                else None
            ),
            pypi_editable=tuple(
                (p, tuple(v)) for p, v in sorted((d.get("pypi-editable") or {}).items())
            ),
            pypi_sources=tuple(sorted((d.get("pypi-sources") or {}).items())),
        )

    @property
    def digest(self) -> str:
        blob = json.dumps([FORMAT, self.to_dict()], sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    def conda_for(self, platform: str) -> tuple[str, ...]:
        return dict(self.conda).get(platform, ())

    def pypi_for(self, platform: str) -> tuple[str, ...]:
        return dict(self.pypi).get(platform, ())

    def editable_for(self, platform: str) -> tuple[str, ...]:
        return dict(self.pypi_editable).get(platform, ())


def recorded_requirement(requirement: str, base: Path | None = None) -> str:
    """A PyPI requirement as the lock records it: a direct URL without its credentials
    (`pkg @ git+https://user:token@host/repo` would otherwise end up in a committed file),
    a source directory inside `base` (the manifest's directory) relative to it (`pkg @ .`)."""
    if " @ " not in requirement or "://" not in requirement:
        return requirement
    from packaging.requirements import Requirement

    req = Requirement(requirement)
    if req.url is None:
        return requirement
    url = strip_url(req.url)
    if base is not None:
        url = lock_location(url, base)
    if url == req.url:
        return requirement
    req.url = url
    return str(req)


def environment_inputs(spec: Spec, env: Environment) -> EnvironmentInputs:
    own = _own_inputs(spec, env)
    if env.solve_group is None:
        return own
    members = [spec.environment(n) for n in spec.environment_names]
    blob = json.dumps(
        sorted(
            (m.name, _own_inputs(spec, m).digest)
            for m in members
            if m.solve_group == env.solve_group
        )
    )
    return replace(own, solve_group=(env.solve_group, hashlib.sha256(blob.encode()).hexdigest()))


def _own_inputs(spec: Spec, env: Environment) -> EnvironmentInputs:
    base = Path(spec.manifest).absolute().parent if spec.manifest else None
    sysreq = {k: v for k, v in vars(env.system_requirements).items() if v is not None}
    opts = env.pypi_options
    # the lock is committed: URLs are recorded without credentials (a changed token does
    # not make the lock stale)
    options = {
        "index-url": strip_url(opts.index_url) if opts.index_url else None,
        "extra-index-urls": tuple(strip_url(u) for u in opts.extra_index_urls),
        "find-links": opts.find_links,
        "no-build": opts.no_build,
        "no-index": opts.no_index,
    }
    platforms = tuple(sorted(env.platforms))
    return EnvironmentInputs(
        channels=tuple(strip_url(c) for c in env.channels),
        platforms=platforms,
        system_requirements=tuple(sorted(sysreq.items())),
        virtual_packages=tuple(
            (p, tuple(str(v) for v in virtual_packages(p, env.system_requirements)))
            for p in platforms
        ),
        conda=tuple(
            (p, tuple(sorted(d.spec for d in env.conda_dependencies(p)))) for p in platforms
        ),
        pypi=tuple(
            (
                p,
                tuple(
                    sorted(
                        recorded_requirement(d.requirement, base) for d in env.pypi_dependencies(p)
                    )
                ),
            )
            for p in platforms
        ),
        pypi_options=tuple(sorted((k, v) for k, v in options.items() if v)),
        pypi_mapping=tuple(sorted(spec.pypi_mapping)),
        pypi_editable=tuple(
            (p, names)
            for p in platforms
            if (names := tuple(sorted(d.name for d in env.pypi_dependencies(p) if d.editable)))
        ),
        pypi_sources=_source_digests(env, platforms),
    )


def _source_digests(env: Environment, platforms: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """name -> metadata digest of each local source directory the environment depends on."""
    out: dict[str, str] = {}
    for p in platforms:
        for d in env.pypi_dependencies(p):
            if d.name in out or " @ file:" not in d.requirement:
                continue
            from packaging.requirements import Requirement

            path = local_path(Requirement(d.requirement).url or "")
            digest = source_digest(path) if path is not None and path.is_dir() else None
            if digest is not None:
                out[d.name] = digest
    return tuple(sorted(out.items()))
