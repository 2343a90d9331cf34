"""Checking conda artifacts against the lock before rattler links them.

rattler's package cache (0.28) trusts an extracted entry whose name matches, and does not
hash local (`file://`) archives at all, so hermetic checks both itself:

* an archive that must be fetched is fetched, hashed against the lock, checked and
  extracted by hermetic (`stage.py`), never by rattler;
* an extracted cache entry about to be linked is checked against its `info/paths.json`:
  every path inside the entry, every file present, with its size and sha256. A corrupted
  entry is removed, so it is extracted again from the channel, and the install reports it.

Hashing every file on every install would cost more than the install itself, so a verified
entry gets a stamp (`.hermetic-verified`): a digest of each file's inode, size and mtime.
While the stamp matches, checking the entry costs one `lstat` per file; editing a cached
file (or a hardlink of it inside an environment) changes its mtime and forces a full check.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hermetic.errors import LockError
from hermetic.fs import sha256_file
from hermetic.lock.model import local_path as local_path  # moved to the lock
from hermetic.pkgpaths import UnsafePackageError, check_relative

STAMP = ".hermetic-verified"
_STAMP_VERSION = "1"


@dataclass(frozen=True)
class Refetched:
    """A cache entry that failed verification and was extracted again from its channel."""

    package: str  # name-version-build
    reason: str
    cache_entry: Path


def entry_name(record: Any) -> str:
    return f"{record.name.normalized}-{record.version}-{record.build}"


@dataclass(frozen=True)
class CachePlan:
    refetched: tuple[Refetched, ...]
    to_fetch: tuple[Any, ...]  # records whose archives must be fetched and extracted
    intact: frozenset[str]  # entry names whose extracted cache entry is intact


def prepare_cache(records: list[Any], cache: Path) -> CachePlan:
    """Verify what rattler is about to link from `cache`; fix what can be fixed.

    Raises LockError when a cache entry cannot be removed."""
    refetched: list[Refetched] = []
    to_fetch = []
    intact_names: set[str] = set()
    for r in records:
        intact, problem = _prepare_one(r, cache)
        if problem is not None:
            refetched.append(problem)
        if intact:
            intact_names.add(entry_name(r))
        else:
            to_fetch.append(r)
    return CachePlan(tuple(refetched), tuple(to_fetch), frozenset(intact_names))


def stamp_entries(records: Sequence[Any], cache: Path) -> None:
    """After an install: stamp the entries rattler extracted from verified archives."""
    for r in records:
        entry = cache / entry_name(r)
        paths = _paths_json(entry)
        if paths is not None:
            with contextlib.suppress(OSError):
                _write_stamp(entry, _signature(entry, paths))


def _prepare_one(record: Any, cache: Path) -> tuple[bool, Refetched | None]:
    """(is the extracted entry intact, what was wrong with it when it was not)."""
    name = entry_name(record)
    entry = cache / name
    expected = record.sha256.hex() if record.sha256 else None
    refetched = None
    if cache_lock_sha(cache, name) == expected and os.path.isdir(entry):
        problem = _check_entry(entry)
        if problem is None:
            return True, None
        refetched = Refetched(name, problem, entry)
        _remove_entry(cache, record)
    return False, refetched


def cache_lock_sha(cache: Path, name: str) -> str | None:
    """The sha256 rattler recorded for the entry (the last 32 bytes of `<entry>.lock`)."""
    try:
        with open(f"{cache}/{name}.lock", "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    return data[-32:].hex() if len(data) >= 40 else None


def _remove_entry(cache: Path, record: Any) -> None:
    entry = cache / entry_name(record)
    shutil.rmtree(entry, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(cache / f"{entry_name(record)}.lock")
    if entry.exists():
        raise LockError(
            f"cannot remove the corrupted package cache entry {entry}",
            hint="remove it by hand (check its permissions)",
        )


def _paths_json(entry: Path) -> list[dict[str, Any]] | None:
    """The entries of `info/paths.json`, each `_path` checked to stay inside the entry
    (None: missing, unreadable, or a path that would leave it)."""
    try:
        with open(f"{entry}/info/paths.json", "rb") as fh:
            paths = json.loads(fh.read())["paths"]
        for p in paths:
            check_relative(entry.name, p["_path"])
    except (OSError, ValueError, KeyError, TypeError, RecursionError, UnsafePackageError):
        return None
    return paths if isinstance(paths, list) else None


def _signature(entry: Path, paths: list[dict[str, Any]]) -> str:
    base = f"{entry}/"
    parts = [_STAMP_VERSION]
    lstat = os.lstat
    for p in paths:
        rel = p["_path"]
        st = lstat(base + rel)
        parts.append(f"{rel}\0{st.st_ino}\0{st.st_size}\0{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _write_stamp(entry: Path, signature: str) -> None:
    tmp = entry / f"{STAMP}.{os.getpid()}.tmp"
    tmp.write_text(signature)
    os.replace(tmp, entry / STAMP)


def _check_entry(entry: Path) -> str | None:
    """None when the extracted entry is intact, else what is wrong with it."""
    paths = _paths_json(entry)
    if paths is None:
        if (
            not os.path.lexists(entry / "info" / "paths.json")
            and (entry / "info" / "index.json").is_file()
            and not (entry / "info" / "files").exists()
        ):
            return None  # nothing to check against
        return "info/paths.json is missing, unreadable or has a path outside the entry"
    try:
        with open(f"{entry}/{STAMP}") as fh:
            stamp = fh.read()
    except OSError:
        stamp = None
    if stamp is not None:
        try:
            if _signature(entry, paths) == stamp:
                return None
        except OSError:
            pass
    for p in paths:
        problem = _check_path(entry, p)
        if problem is not None:
            return problem
    with contextlib.suppress(OSError):
        _write_stamp(entry, _signature(entry, paths))
    return None


def _check_path(entry: Path, p: dict[str, Any]) -> str | None:
    rel = p["_path"]
    path = entry / rel
    kind = p.get("path_type", "hardlink")
    if kind == "softlink":
        return None if os.path.lexists(path) else f"{rel} is missing"
    if kind == "directory":
        return None if path.is_dir() else f"{rel} is missing"
    try:
        st = os.stat(path)
    except OSError:
        return f"{rel} is missing"
    size = p.get("size_in_bytes")
    if size is not None and st.st_size != size:
        return f"{rel} has {st.st_size} bytes, the package has {size}"
    sha = p.get("sha256")
    if sha:
        try:
            actual = sha256_file(path)
        except OSError as exc:
            return f"{rel} cannot be read ({exc.strerror})"
        if actual != sha:
            return f"{rel} does not match the package's sha256"
    return None
