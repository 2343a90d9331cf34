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
from pathlib import Path
from urllib.parse import unquote, urlparse

from hermetic.credentials import redact_url
from hermetic.env.pypi import check_artifact
from hermetic.errors import HermeticError, LockError
from hermetic.fs import sha256_file
from hermetic.lock.model import PypiArtifact


def fetch_wheel(package: PypiArtifact, cache: Path) -> Path:
    """The verified wheel file of the locked PyPI `package` (downloaded once into `cache`)."""
    if not package.sha256 and (package.is_directory or package.is_git):
        raise _source_refused(package)
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


def _source_refused(package: PypiArtifact) -> LockError:
    """Why an image or pack cannot hold a path, editable or git dependency, and what to do."""
    where = redact_url(package.url)
    if package.editable:
        what = (
            f"an editable install of {package.local_path}: an image or pack does not contain "
            "that source directory, so an editable install in it would point at nothing"
        )
    elif package.is_git:
        what = f"a git checkout ({where}): it has no wheel whose bytes the lock pins"
    else:
        what = (
            f"a source directory ({package.local_path}): it has no wheel whose bytes the lock pins"
        )
    return LockError(
        f"PyPI package {package.name} {package.version} is {what}; images and packs are laid "
        "out from locked wheels without running code",
        hint=f"declare {package.name} in a feature that the environment you ship does not "
        "include (e.g. a `dev` feature for the editable project), or build its wheel "
        f"(`uv build`) and depend on that file: {package.name} = "
        '{ path = "dist/<the wheel>.whl" }',
    )


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
