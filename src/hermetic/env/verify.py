"""Checking conda artifacts against the lock before rattler links them.

rattler's package cache (0.28) trusts an extracted entry whose name matches, and does not
hash local (`file://`) archives at all, so hermetic checks both itself:

* an archive that must be fetched is fetched, hashed against the lock, checked and
  extracted by hermetic (`stage.py`), never by rattler;
* an extracted cache entry about to be linked is checked against its `info/paths.json`:
  every path inside the entry, every file present, of the kind the package says (a file
  swapped for a symlink is corruption), with its size and sha256. A corrupted entry is
  removed, so it is extracted again from the channel, and the install reports it.

Hashing every file on every install would cost more than the install itself, so a verified
entry gets a stamp (`stamp.py`) holding its checked layout, bound to the `lstat` of its
metadata files and of every one of its paths. While the stamp matches, checking an entry
costs reading that one file and one `lstat` per path, which also finds its symlinks for
`check_packages`; editing a cached file, swapping it for a symlink, editing `paths.json` or
the stamp itself breaks the match and forces the full check again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hermetic.env.stamp import info_lines, lstat_paths, read_stamped, write_stamp
from hermetic.errors import LockError
from hermetic.fs import sha256_file
from hermetic.lock.model import local_path as local_path  # moved to the lock
from hermetic.pkgpaths import (
    PackageLayout,
    UnsafePackageError,
    parse_info,
    read_info,
    read_small,
    with_symlinks,
)


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
    #: entry name -> the checked layout of its intact extracted cache entry
    intact: Mapping[str, PackageLayout]


def prepare_cache(records: list[Any], cache: Path) -> CachePlan:
    """Verify what rattler is about to link from `cache`; fix what can be fixed.

    Raises LockError when a cache entry cannot be removed."""
    refetched: list[Refetched] = []
    to_fetch = []
    intact: dict[str, PackageLayout] = {}
    for r in records:
        name = entry_name(r)
        layout, problem = _prepare_one(r, name, cache)
        if problem is not None:
            refetched.append(problem)
        if layout is not None:
            intact[name] = layout
        else:
            to_fetch.append(r)
    return CachePlan(tuple(refetched), tuple(to_fetch), intact)


def stamp_entries(records: Sequence[Any], cache: Path) -> None:
    """After an install: stamp the entries rattler extracted from verified archives."""
    for r in records:
        entry = cache / entry_name(r)
        info = info_lines(entry)
        try:
            layout, paths = parse_info(entry.name, read_info(entry, entry.name))
        except UnsafePackageError:
            continue
        stats, _ = lstat_paths(entry, layout.paths)
        if paths is not None and all(stats[p["_path"]] is not None for p in paths):
            with contextlib.suppress(OSError):
                write_stamp(entry, layout, info, stats)


def _prepare_one(
    record: Any, name: str, cache: Path
) -> tuple[PackageLayout | None, Refetched | None]:
    """(the layout of the extracted entry when it is intact, what was wrong when it was not)."""
    entry = cache / name
    expected = record.sha256.hex() if record.sha256 else None
    refetched = None
    if cache_lock_sha(cache, name) == expected and os.path.isdir(entry):
        checked = read_stamped(entry, name) or check_entry(entry, name)
        if isinstance(checked, PackageLayout):
            return checked, None
        refetched = Refetched(name, checked, entry)
        _remove_entry(cache, name)
    return None, refetched


def cache_lock_sha(cache: Path, name: str) -> str | None:
    """The sha256 rattler recorded for the entry (the last 32 bytes of `<entry>.lock`)."""
    try:
        data = read_small(f"{cache}/{name}.lock", 1 << 10)
    except OSError:
        return None
    return data[-32:].hex() if data is not None and len(data) >= 40 else None


def _remove_entry(cache: Path, name: str) -> None:
    entry = cache / name
    shutil.rmtree(entry, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(cache / f"{name}.lock")
    if entry.exists():
        raise LockError(
            f"cannot remove the corrupted package cache entry {entry}",
            hint="remove it by hand (check its permissions)",
        )


def check_entry(entry: Path, label: str) -> PackageLayout | str:
    """The full check: the layout of an intact extracted entry, else what is wrong with it.

    `info/` is read and every path in it checked; each path's `lstat` gives its kind and
    size and the symlinks; every file with a sha256 in `paths.json` is hashed. An intact
    entry is stamped, so the next install reads the stamp instead (`stamp.read_stamped`)."""
    info = info_lines(entry)  # before reading: an edit while it is read breaks the stamp
    try:
        layout, paths = parse_info(label, read_info(entry, label))
    except UnsafePackageError as exc:
        where = f" ({exc.path!r})" if exc.path is not None else ""
        return f"its info/ is unreadable or has a path outside the entry: {exc.reason}{where}"
    stats, links = lstat_paths(entry, layout.paths)
    if paths is None:
        if (
            (entry / "info" / "index.json").is_file()
            and not os.path.lexists(entry / "info" / "paths.json")
            and not os.path.lexists(entry / "info" / "files")
        ):
            return with_symlinks(layout, links)  # nothing to check against
        return "info/paths.json is missing"
    base = f"{entry}/"
    for p in paths:
        problem = _check_path(base, p, stats[p["_path"]])
        if problem is not None:
            return problem
    with contextlib.suppress(OSError):
        write_stamp(entry, layout, info, stats)
    return with_symlinks(layout, links)


def _check_path(base: str, p: dict[str, Any], st: os.stat_result | None) -> str | None:
    """What is wrong with one path of the entry (`st`: its `lstat`), None when nothing."""
    rel = p["_path"]
    if st is None:
        return f"{rel} is missing"
    kind = p.get("path_type", "hardlink")
    if kind == "softlink":
        return None
    if kind == "directory":
        return None if stat.S_ISDIR(st.st_mode) else f"{rel} is not a directory"
    if stat.S_ISLNK(st.st_mode):
        return f"{rel} is a symlink, the package has a file there"
    if not stat.S_ISREG(st.st_mode):
        return f"{rel} is not a regular file"
    size = p.get("size_in_bytes")
    if size is not None and st.st_size != size:
        return f"{rel} has {st.st_size} bytes, the package has {size}"
    sha = p.get("sha256")
    if sha:
        try:
            actual = sha256_file(Path(base + rel))
        except OSError as exc:
            return f"{rel} cannot be read ({exc.strerror})"
        if actual != sha:
            return f"{rel} does not match the package's sha256"
    return None
