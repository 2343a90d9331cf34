"""The lock's own types: what one environment x platform is locked to.

These are the types every layer reads (`env` installs them, `doctor` and `policy` check them,
`export` writes them in other formats). They hold no behaviour that needs rattler or uv, so
the resolver can produce them and the installer consume them without importing each other.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlparse

from hermetic.channel import Channel

if TYPE_CHECKING:
    from packaging.requirements import Requirement
    from rattler import RepoDataRecord

    from hermetic.manifest.model import SystemRequirements


@dataclass(frozen=True)
class PypiArtifact:
    """One locked PyPI artifact: the wheel, sdist, directory or git checkout for one platform.

    `sha256` is None for what has no fixed bytes: a local directory (path or editable) or a
    git checkout. `requires_dist`/`requires_python` are the artifact's own core metadata, so
    the dependency graph can be read from the lock without installing anything. `editable`:
    a local directory installed in development mode (its `.py` files are imported from where
    they are); the lock writes it as pixi.lock v6 and uv's pylock do, `editable: true`."""

    name: str
    version: str
    url: str
    sha256: str | None
    requires_dist: tuple[str, ...] = ()
    requires_python: str | None = None
    editable: bool = False

    @property
    def requirement_url(self) -> str:
        """The URL to hand uv or pip: locked locations may be plain absolute paths."""
        return requirement_url(self.url)

    @property
    def local_path(self) -> Path | None:
        """The file or directory behind a `file://` URL or an absolute path, else None."""
        return local_path(self.url)

    @property
    def is_directory(self) -> bool:
        """A source tree (path or editable dependency) rather than an archive."""
        path = self.local_path
        return path is not None and not path.name.endswith((".whl", ".tar.gz", ".zip", ".tgz"))

    @property
    def is_git(self) -> bool:
        return self.url.startswith("git+")

    def base_requirements(self) -> list[Requirement]:
        """The parseable Requires-Dist entries that hold without extras."""
        return base_requirements(self.requires_dist)


def requirement_url(url: str) -> str:
    """Locked locations may be plain absolute paths; uv and pip want URLs."""
    if url.startswith("/"):
        return "file://" + quote(url)
    return url


#: how far above the project a source directory may be and still be recorded relative to it:
#: a monorepo's `../libs/x` moves with the checkout, `/opt/shared/x` does not
_MAX_LEVELS_UP = 3


def lock_location(url: str, base: Path) -> str:
    """Where the lock records a PyPI artifact: a source directory inside `base` (the lock's
    or the manifest's directory) as a relative path, `.` or `./sub`, as pixi.lock does, so
    the lock means the same in every checkout; one beside it (`../sibling`, up to three
    levels up, below a common folder other than `/`) relative too; anything else as it is."""
    path = local_path(url)
    if path is None or path.name.endswith((".whl", ".tar.gz", ".zip", ".tgz")):
        return url
    try:
        rel = path.relative_to(base)
    except ValueError:
        beside = Path(os.path.relpath(path, base))
        up = len([p for p in beside.parts if p == ".."])
        if os.path.commonpath([path, base]) == "/" or up > _MAX_LEVELS_UP:
            return url
        return beside.as_posix()
    return "." if rel == Path() else f"./{rel.as_posix()}"


def local_path(url: str) -> Path | None:
    """The file behind a `file://` URL or an absolute path, else None."""
    if url.startswith("file://"):
        return Path(unquote(urlparse(url).path))
    if url.startswith("/"):
        return Path(url)
    return None


def base_requirements(requires_dist: tuple[str, ...] | list[str]) -> list[Requirement]:
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


@dataclass(frozen=True)
class PlatformLock:
    """What one environment is locked to on one platform."""

    environment: str
    platform: str
    conda: tuple[RepoDataRecord, ...]  # sorted by name, installable as they are
    pypi: tuple[PypiArtifact, ...]  # sorted by name

    def conda_names(self) -> frozenset[str]:
        return frozenset(r.name.normalized for r in self.conda)


@dataclass(frozen=True)
class EnvironmentHeader:
    """An environment's lock-wide facts: channels, platforms, system requirements."""

    name: str
    channels: tuple[Channel, ...]  # as recorded in the lock (URLs without credentials)
    platforms: tuple[str, ...]  # sorted
    system_requirements: SystemRequirements


def content_hash(records: Iterable[RepoDataRecord], pypi: Iterable[PypiArtifact]) -> str:
    """What an environment x platform contains: each artifact's URL and sha256."""
    import hashlib

    h = hashlib.sha256()
    for r in sorted(records, key=lambda r: r.name.normalized):
        sha = r.sha256.hex() if r.sha256 else ""
        h.update(f"conda {r.name.normalized} {r.url} {sha}\n".encode())
    for p in sorted(pypi, key=lambda p: p.name):
        # " editable" only when set: the hash of every other environment keeps its bytes
        mode = " editable" if p.editable else ""
        h.update(f"pypi {p.name} {p.version} {p.url} {p.sha256 or ''}{mode}\n".encode())
    return h.hexdigest()
