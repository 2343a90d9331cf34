"""The verification stamp of a package cache entry: its checked layout, and what it is bound to.

A cache entry that passed the full check (`verify.check_entry`: `info/` read and every path
checked, every file hashed) gets `<entry>/.hermetic-verified`:

    <signature>\\n<layout as JSON: the checked paths, noarch python or not>

The signature is a sha256 over the layout text, the `lstat` of each metadata file that says
where paths go (`info/paths.json`, `files`, `has_prefix`, `link.json`: inode, size, mtime,
ctime, type) and the `lstat` of each of the layout's paths (inode, size, mtime, type). While
it matches, a warm install reads this one file instead of re-reading `info/`, and one `lstat`
per path gives both the verdict and the symlinks `check_packages` needs. Anything that
changes breaks the match and sends the entry back through the full check:

* a file's bytes (its mtime; or a new inode when it is replaced),
* a file swapped for a symlink (inode and type),
* a metadata file edited, e.g. a `../` added to `paths.json`: its ctime changes even when
  the editor restores the mtime (ctime cannot be set back; metadata files are never
  hard-linked into environments, so nothing else moves it),
* the stamp's own text (the layout is under the signature).

What the stamp does not do is stop someone who can write the cache and recomputes it: that
person can change the package payload itself, which no check of the cache can tell from the
real one. The paths read back from a stamp are checked again (`check_relative`) all the same.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path

from hermetic.pkgpaths import (
    INFO_FILES,
    PackageLayout,
    UnsafePackageError,
    check_relative,
    read_small,
)

STAMP = ".hermetic-verified"
_VERSION = "3"  # 3: the layout and the metadata files are under the signature
_MAX_STAMP = 64 << 20

Stats = Mapping[str, os.stat_result | None]


def info_lines(entry: Path) -> list[str]:
    """What the signature binds of the metadata files; taken before they are read."""
    base = f"{entry}/"
    lines = []
    for name in INFO_FILES:
        try:
            st = os.lstat(base + name)
        except OSError:
            lines.append(f"{name}\0-")
            continue
        lines.append(
            f"{name}\0{st.st_ino}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_mode}"
        )
    return lines


def lstat_paths(
    entry: Path, rels: Sequence[str]
) -> tuple[dict[str, os.stat_result | None], dict[str, str]]:
    """`lstat` of each (already checked) relative path, None where it is missing; and the
    symlinks among them, with their targets."""
    base = f"{entry}/"
    lstat, islink, readlink = os.lstat, stat.S_ISLNK, os.readlink
    stats: dict[str, os.stat_result | None] = {}
    links: dict[str, str] = {}
    for rel in rels:
        try:
            st = stats[rel] = lstat(base + rel)
        except OSError:
            stats[rel] = None
            continue
        if islink(st.st_mode):
            links[rel] = readlink(base + rel)
    return stats, links


def read_stamped(entry: Path, label: str) -> PackageLayout | None:
    """The layout of `entry` from its stamp, when the stamp matches the entry as it is now."""
    try:
        raw = read_small(f"{entry}/{STAMP}", _MAX_STAMP)
    except OSError:
        return None
    if raw is None:
        return None
    signature, _, body = raw.partition(b"\n")
    try:
        doc = json.loads(body)
        paths = tuple(check_relative(label, p) for p in doc["paths"])
        noarch_python = doc["noarch_python"]
    except (ValueError, KeyError, TypeError, RecursionError, UnsafePackageError):
        return None
    if not isinstance(noarch_python, bool):
        return None
    info = info_lines(entry)
    stats, links = lstat_paths(entry, paths)
    if _signature(body, info, paths, stats) != signature.decode("ascii", "replace"):
        return None
    return PackageLayout(label, paths, links, noarch_python)


def write_stamp(entry: Path, layout: PackageLayout, info: list[str], stats: Stats) -> None:
    """Stamp `entry` as verified; `info` and `stats` as taken before it was checked."""
    body = json.dumps(
        {"paths": list(layout.paths), "noarch_python": layout.noarch_python},
        separators=(",", ":"),
    ).encode()
    signature = _signature(body, info, layout.paths, stats)
    tmp = f"{entry}/{STAMP}.{os.getpid()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)  # left by a killed install of the same pid
    # a new file, never through whatever already has that name
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(signature.encode() + b"\n" + body)
        os.replace(tmp, f"{entry}/{STAMP}")
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _signature(body: bytes, info: list[str], paths: Sequence[str], stats: Stats) -> str:
    h = hashlib.sha256(f"{_VERSION}\n".encode())
    h.update(body)
    lines = [""]
    lines.extend(info)
    for rel in paths:
        st = stats.get(rel)
        if st is None:
            lines.append(f"{rel}\0-")
        else:
            lines.append(f"{rel}\0{st.st_ino}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_mode}")
    h.update("\n".join(lines).encode("utf-8", "surrogateescape"))
    return h.hexdigest()
