"""The locked wheel files, checked against the lock's sha256 before anything reads them.

Local wheels (`file://`, a path) are hashed where they are; remote ones are downloaded once
into hermetic's cache under their sha256 and checked on the way in.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from hermetic.credentials import redact_url
from hermetic.errors import HermeticError, LockError
from hermetic.fs import sha256_file


def wheel_file(pkg: Any, cache: Path) -> Path:  # pkg: a locked PyPI package
    """The verified wheel of the locked PyPI package `pkg` (name, version, url, sha256)."""
    if not pkg.sha256:
        raise LockError(
            f"PyPI package {pkg.name} {pkg.version} has no sha256 in the lock",
            hint="re-create the lock with `hermetic lock`",
        )
    url = str(pkg.url)
    name = unquote(urlparse(url).path.rsplit("/", 1)[-1])
    if not name.endswith(".whl"):
        raise LockError(
            f"PyPI package {pkg.name} {pkg.version} is locked as a source distribution ({name})",
            hint="an image is built without running code, so it needs wheels: "
            "lock with `no-build = true` in [pypi-options], or build the wheel yourself",
        )
    if url.startswith("file://") or url.startswith("/"):
        path = Path(unquote(urlparse(url).path)) if url.startswith("file://") else Path(url)
        _check(path, str(pkg.sha256), str(path))
        return path
    dest: Path = cache / "wheels" / str(pkg.sha256) / name
    if dest.is_file():
        return dest
    _download(url, dest, pkg.sha256)
    return dest


def _check(path: Path, sha256: str, label: str) -> None:
    try:
        actual = sha256_file(path)
    except FileNotFoundError:
        raise LockError(f"the locked wheel is missing: {label}") from None
    if actual != sha256:
        raise LockError(
            f"{label} does not match the lock: sha256 {actual}, the lock has {sha256}",
            hint="the wheel was replaced; re-lock on purpose with `hermetic lock`",
        )


def _download(url: str, dest: Path, sha256: str) -> None:
    import httpx

    shown = redact_url(url)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    h = hashlib.sha256()
    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=60) as resp:
            if resp.status_code != 200:
                raise HermeticError(f"downloading {shown}: HTTP {resp.status_code}")
            with open(tmp, "wb") as fh:
                for chunk in resp.iter_bytes(1 << 20):
                    h.update(chunk)
                    fh.write(chunk)
    except httpx.HTTPError as exc:
        tmp.unlink(missing_ok=True)
        raise HermeticError(f"downloading {shown}: {exc.__class__.__name__}") from None
    if h.hexdigest() != sha256:
        tmp.unlink(missing_ok=True)
        raise LockError(f"{shown} does not match the lock's sha256")
    os.replace(tmp, dest)
