"""Checking conda artifacts against the lock before rattler links them.

rattler's package cache (0.28) trusts an extracted entry whose name matches, and does not
hash local (`file://`) archives at all, so hermetic checks both itself:

* an archive that must be fetched from a local channel is hashed and compared with the
  lock's sha256 (remote downloads are checked by rattler against the same sha256);
* an extracted cache entry about to be linked is checked against its `info/paths.json`:
  every file present, with its size and sha256. A corrupted entry is removed, so rattler
  extracts it again from the channel, and the install reports it.

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
from dataclasses import dataclass
from pathlib import Path

from hermetic.errors import LockError
from hermetic.fs import sha256_file
from hermetic.lock.model import local_path as local_path  # moved to the lock

STAMP = ".hermetic-verified"
_STAMP_VERSION = "1"


@dataclass(frozen=True)
class Refetched:
    """A cache entry that failed verification and was extracted again from its channel."""

    package: str  # name-version-build
    reason: str
    cache_entry: Path


def entry_name(record) -> str:
    return f"{record.name.normalized}-{record.version}-{record.build}"


@dataclass(frozen=True)
class CachePlan:
    refetched: tuple[Refetched, ...]
    to_fetch: tuple  # records rattler will extract (their archives were checked)


def prepare_cache(records: list, cache: Path) -> CachePlan:
    """Verify what rattler is about to link from `cache`; fix what can be fixed.

    Raises LockError when an artifact in a local channel does not match the lock."""
    refetched: list[Refetched] = []
    to_fetch = []
    for r in records:
        intact, problem = _prepare_one(r, cache)
        if problem is not None:
            refetched.append(problem)
        if not intact:
            to_fetch.append(r)
    return CachePlan(tuple(refetched), tuple(to_fetch))


def stamp_entries(records, cache: Path) -> None:
    """After an install: stamp the entries rattler extracted from verified archives."""
    for r in records:
        entry = cache / entry_name(r)
        paths = _paths_json(entry)
        if paths is not None:
            with contextlib.suppress(OSError):
                _write_stamp(entry, _signature(entry, paths))


def _prepare_one(record, cache: Path) -> tuple[bool, Refetched | None]:
    """(is the extracted entry intact, what was wrong with it when it was not)."""
    name = entry_name(record)
    entry = cache / name
    expected = record.sha256.hex() if record.sha256 else None
    refetched = None
    if _lock_sha(cache, name) == expected and os.path.isdir(entry):
        problem = _check_entry(entry)
        if problem is None:
            return True, None
        refetched = Refetched(name, problem, entry)
        _remove_entry(cache, record)
    _check_archive(record, expected)
    return False, refetched


def _lock_sha(cache: Path, name: str) -> str | None:
    """The sha256 rattler recorded for the entry (the last 32 bytes of `<entry>.lock`)."""
    try:
        with open(f"{cache}/{name}.lock", "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    return data[-32:].hex() if len(data) >= 40 else None


def _remove_entry(cache: Path, record) -> None:
    entry = cache / entry_name(record)
    shutil.rmtree(entry, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(cache / f"{entry_name(record)}.lock")
    if entry.exists():
        raise LockError(
            f"cannot remove the corrupted package cache entry {entry}",
            hint="remove it by hand (check its permissions)",
        )


def _check_archive(record, expected: str | None) -> None:
    """A local archive that rattler will extract must match the lock's sha256."""
    path = local_path(str(record.url))
    if path is None or expected is None:
        return
    try:
        actual = sha256_file(path)
    except FileNotFoundError:
        raise LockError(
            f"{record.file_name}: the locked artifact is missing: {path}",
            hint="was the channel moved or cleaned? re-create it, or re-lock with `hermetic lock`",
        ) from None
    except OSError as exc:
        raise LockError(f"cannot read {path}: {exc.strerror}") from None
    if actual != expected:
        raise LockError(
            f"{path} does not match the lock: sha256 {actual}, the lock has {expected}",
            hint="the channel's package was replaced; re-lock on purpose with "
            "`hermetic lock --update <name>`, or restore the original file",
        )


def _paths_json(entry: Path) -> list[dict] | None:
    try:
        with open(f"{entry}/info/paths.json", "rb") as fh:
            return json.loads(fh.read())["paths"]
    except (OSError, ValueError, KeyError):
        return None


def _signature(entry: Path, paths: list[dict]) -> str:
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
        if (entry / "info" / "index.json").is_file() and not (entry / "info" / "files").exists():
            return None  # nothing to check against
        return "info/paths.json is missing or unreadable"
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


def _check_path(entry: Path, p: dict) -> str | None:
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
