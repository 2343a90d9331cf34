"""The locked wheel files, checked against the lock's sha256 before anything reads them.

The one way `hermetic image build` and `hermetic pack` get a locked wheel (both lay wheels
out without running code, so a source distribution is refused). Local wheels (`file://`, a
path) are hashed where they are (`hermetic.env.pypi.check_artifact`); remote ones are
downloaded once into `<cache>/wheels/<sha256>/`, hashed on the way in, and published only
when they match.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlparse

from hermetic.credentials import redact_url
from hermetic.env.pypi import check_artifact
from hermetic.errors import HermeticError, LockError
from hermetic.fs import sha256_file
from hermetic.lock.model import PypiArtifact


def fetch_wheel(package: PypiArtifact, cache: Path) -> Path:
    """The verified wheel file of the locked PyPI `package` (downloaded once into `cache`)."""
    refuse_sources((package,))
    if not package.sha256:
        raise LockError(
            f"PyPI package {package.name} {package.version} has no sha256 in the lock",
            hint="re-create the lock with `hermetic lock`",
        )
    url = str(package.url)
    name = unquote(urlparse(url).path).rsplit("/", 1)[-1]
    if not name.endswith(".whl"):
        raise LockError(
            f"PyPI package {package.name} {package.version} is locked as {name}, not a wheel: "
            "images and packs are laid out without running code, so they need wheels",
            hint="lock with `no-build = true` in [pypi-options] (or `only-binary`), "
            "or build the wheel yourself and lock it",
        )
    if url.startswith("file://") or url.startswith("/"):
        path = Path(unquote(urlparse(url).path)) if url.startswith("file://") else Path(url)
        check_artifact(path, package)
        return path
    dest = Path(cache) / "wheels" / package.sha256 / name
    if dest.is_file() and sha256_file(dest) == package.sha256:
        return dest
    _download(url, dest, package.sha256)
    return dest


def fetch_wheels(packages: Sequence[PypiArtifact], cache: Path) -> tuple[Path, ...]:
    """`fetch_wheel` for each package, after one check that names every package that has
    no wheel (a path, editable or git dependency), before anything is downloaded."""
    refuse_sources(packages)
    return tuple(fetch_wheel(p, cache) for p in packages)


def refuse_sources(packages: Sequence[PypiArtifact]) -> None:
    """Why an image or pack cannot hold path, editable or git dependencies, and what to do."""
    refused = [p for p in packages if not p.sha256 and (p.is_directory or p.is_git)]
    if not refused:
        return
    names = ", ".join(p.name for p in refused)
    raise LockError(
        "images and packs are laid out from locked wheels without running code; "
        + ("this PyPI package has" if len(refused) == 1 else "these PyPI packages have")
        + " none: "
        + "; ".join(_what(p) for p in refused),
        hint=f"declare {names} in a feature that the environment you ship does not include "
        "(e.g. a `dev` feature for the editable project), or build the wheel (`uv build`) "
        'and depend on that file: name = { path = "dist/<the wheel>.whl" }',
    )


def _what(package: PypiArtifact) -> str:
    head = f"{package.name} {package.version} is"
    if package.editable:
        return (
            f"{head} an editable install of {package.local_path} (that source directory is "
            "not in an image or pack: the install would point at nothing)"
        )
    if package.is_git:
        return f"{head} a git checkout ({redact_url(package.url)})"
    return f"{head} a source directory ({package.local_path})"


def _download(url: str, dest: Path, sha256: str) -> None:
    import httpx

    shown = redact_url(url)  # an index URL may carry credentials: never in a message
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    digest = hashlib.sha256()
    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=60) as resp:
            if resp.status_code != 200:
                raise HermeticError(f"downloading {shown}: HTTP {resp.status_code}")
            with open(tmp, "wb") as fh:
                for chunk in resp.iter_bytes(1 << 20):
                    digest.update(chunk)
                    fh.write(chunk)
        if digest.hexdigest() != sha256:
            raise LockError(
                f"{shown} does not match the lock: sha256 {digest.hexdigest()}, "
                f"the lock has {sha256}",
                hint="the index serves other bytes than were locked; re-lock on purpose "
                "with `hermetic lock`",
            )
        os.replace(tmp, dest)
    except httpx.HTTPError as exc:
        raise HermeticError(f"downloading {shown}: {exc.__class__.__name__}") from None
    finally:
        tmp.unlink(missing_ok=True)
