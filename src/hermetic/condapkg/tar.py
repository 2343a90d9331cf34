"""The one reproducible tar writer: same entries in, same bytes out, wherever it runs.

Every archive hermetic writes (conda packages, image layers, packs) goes through
`write_tar`, so two producers of the same tree agree on digests by construction:

* entries are written in sorted order of their archive name (unless the caller pins an
  order, as `.tar.bz2` packages do with `info/` first), duplicate names are refused;
* ownership is `0:0` with empty user/group names, every mtime is one value (the caller's,
  else `SOURCE_DATE_EPOCH`, else 0);
* modes are normalized: directories `0755`, files `0755` when any execute bit is set and
  `0644` otherwise, symlinks `0777` (an explicit `TarEntry.mode` is kept as given);
* the format is pinned to PAX (ustar headers, PAX records only for long or non-ASCII
  names), UTF-8 names;
* file contents stream from disk in 1 MiB chunks, never loaded whole; a file that changes
  size while being written is an error, never a silently short member;
* compressors are deterministic: gzip (isa-l, multithreaded, header mtime 0 and no file
  name), zstd (multithreaded; zstd's output does not depend on the worker count once it is
  at least one) and bz2.
"""

from __future__ import annotations

import os
import stat
import tarfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Literal, cast

from hermetic.errors import HermeticError, UsageError

EntryKind = Literal["file", "dir", "symlink"]
Compression = Literal["none", "gzip", "zstd", "bz2"]

CHUNK = 1 << 20
_BLOCK = tarfile.BLOCKSIZE
_SUFFIXES: tuple[tuple[tuple[str, ...], Compression], ...] = (
    ((".tar.gz", ".tgz"), "gzip"),
    ((".tar.zst", ".tzst"), "zstd"),
    ((".tar.bz2",), "bz2"),
    ((".tar",), "none"),
)
_KIND_TYPE = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE}


@dataclass(frozen=True)
class TarEntry:
    """One archive member. Build them with `file`, `data`, `directory`, `symlink` or
    `tree_entries`; `name` is a relative POSIX path without `..`, `mode` the permission bits
    (None: normalized from the kind and the source's execute bit)."""

    name: str
    kind: EntryKind
    source: Path | None = None  # "file": streamed from here ...
    content: bytes | None = None  # ... or these bytes
    linkname: str = ""  # "symlink": the target, as written
    executable: bool = False
    mode: int | None = None

    @staticmethod
    def file(name: str, source: Path, *, executable: bool | None = None) -> TarEntry:
        """A file streamed from `source` (executable: from its mode when None)."""
        if executable is None:
            executable = bool(os.stat(source).st_mode & 0o111)
        return TarEntry(name, "file", source=Path(source), executable=executable)

    @staticmethod
    def data(name: str, content: bytes, *, executable: bool = False) -> TarEntry:
        return TarEntry(name, "file", content=content, executable=executable)

    @staticmethod
    def directory(name: str) -> TarEntry:
        return TarEntry(name, "dir")

    @staticmethod
    def symlink(name: str, target: str) -> TarEntry:
        return TarEntry(name, "symlink", linkname=target)

    @property
    def normalized_mode(self) -> int:
        if self.mode is not None:
            return self.mode
        if self.kind == "file":
            return 0o755 if self.executable else 0o644
        return 0o755 if self.kind == "dir" else 0o777


def default_mtime() -> int:
    """`SOURCE_DATE_EPOCH` when set (the reproducible-builds convention), else 0."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        return 0
    try:
        return max(0, int(value))
    except ValueError:
        raise HermeticError(
            f"SOURCE_DATE_EPOCH must be a whole number of seconds, not {value!r}",
            hint="unset it or set it to e.g. the last commit time: `git log -1 --format=%ct`",
        ) from None


def check_member_name(name: str) -> str:
    """`name` if it is a safe relative archive path; raises otherwise."""
    p = PurePosixPath(name)
    if not name or name.startswith("/") or ".." in p.parts or "\\" in name or "\0" in name:
        raise HermeticError(f"unsafe archive member name {name!r}")
    return p.as_posix()


def tree_entries(
    root: Path, *, prefix: str = "", directories: bool = True, skip: Iterable[str] = ()
) -> list[TarEntry]:
    """Entries for everything under `root` (not `root` itself), sorted, named
    `prefix/<relative path>`. Symlinks are kept as links (never followed); hard links become
    regular files; sockets, fifos and devices are refused. `skip`: relative paths to leave
    out (with everything below them)."""
    root = Path(root)
    skipped = set(skip)
    out: list[TarEntry] = []
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        rel_dir = base.relative_to(root).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir
        keep_dirs = []
        for name in sorted(dirnames + filenames):
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if rel in skipped:
                continue
            path = base / name
            arc = f"{prefix.rstrip('/')}/{rel}" if prefix else rel
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                out.append(TarEntry.symlink(arc, os.readlink(path)))
            elif stat.S_ISDIR(st.st_mode):
                keep_dirs.append(name)
                if directories:
                    out.append(TarEntry.directory(arc))
            elif stat.S_ISREG(st.st_mode):
                out.append(TarEntry(arc, "file", source=path, executable=bool(st.st_mode & 0o111)))
            else:
                raise HermeticError(f"{path}: not a file, directory or symlink; cannot archive")
        dirnames[:] = keep_dirs
    out.sort(key=lambda e: e.name)
    return out


def _tarinfo(entry: TarEntry, mtime: int, size: int) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(check_member_name(entry.name))
    ti.type = _KIND_TYPE[entry.kind]
    ti.mode = entry.normalized_mode
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    ti.mtime = mtime
    ti.size = size if entry.kind == "file" else 0
    ti.linkname = entry.linkname
    return ti


def write_tar(
    entries: Iterable[TarEntry],
    fileobj: IO[bytes],
    *,
    mtime: int | None = None,
    compression: Compression = "none",
    level: int | None = None,
    sort: bool = True,
) -> int:
    """Write a reproducible tar of `entries` to `fileobj` (compressed with `compression`);
    returns the uncompressed tar size. `mtime`: every member's time (default
    `default_mtime()`); `sort=False` keeps the caller's order (names must still be unique).
    The stream is finished (end blocks, compressor flushed) but `fileobj` is left open."""
    when = default_mtime() if mtime is None else mtime
    items = sorted(entries, key=lambda e: e.name) if sort else list(entries)
    seen: set[str] = set()
    direct = _file_descriptor(fileobj) if compression == "none" else None
    with compressed_writer(fileobj, compression, level) as out:
        written = 0
        for entry in items:
            name = check_member_name(entry.name)
            if name in seen:
                raise HermeticError(f"archive member {name!r} is given twice")
            seen.add(name)
            written += _write_entry(out, entry, when, direct)
        out.write(b"\0" * (2 * _BLOCK))
        written += 2 * _BLOCK
        pad = -written % tarfile.RECORDSIZE
        out.write(b"\0" * pad)
        return written + pad


def _file_descriptor(fileobj: IO[bytes]) -> int | None:
    """The descriptor of a real file, for kernel-side copies (None for anything else)."""
    try:
        fd = fileobj.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        return None
    return fd if stat.S_ISREG(os.fstat(fd).st_mode) else None


def _copy(src: IO[bytes], out: IO[bytes], size: int, direct: int | None, source: Path) -> None:
    """`size` bytes of `src` to `out`: by `os.sendfile` into a plain file (no copy through
    Python), else in 1 MiB chunks."""
    remaining = size
    if direct is not None and hasattr(os, "sendfile"):
        out.flush()
        offset = 0
        while remaining:
            sent = os.sendfile(direct, src.fileno(), offset, min(remaining, 1 << 30))
            if sent == 0:
                raise HermeticError(f"{source} shrank while it was being archived")
            offset += sent
            remaining -= sent
        src.seek(offset)
        return
    while remaining:
        chunk = src.read(min(CHUNK, remaining))
        if not chunk:
            raise HermeticError(f"{source} shrank while it was being archived")
        out.write(chunk)
        remaining -= len(chunk)


def _write_entry(out: IO[bytes], entry: TarEntry, mtime: int, direct: int | None = None) -> int:
    if entry.kind != "file":
        header = _tarinfo(entry, mtime, 0).tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
        out.write(header)
        return len(header)
    if entry.content is not None:
        size = len(entry.content)
        header = _tarinfo(entry, mtime, size).tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
        out.write(header)
        out.write(entry.content)
    else:
        if entry.source is None:
            raise HermeticError(f"archive member {entry.name!r} has neither content nor source")
        with open(entry.source, "rb") as src:
            size = os.fstat(src.fileno()).st_size
            header = _tarinfo(entry, mtime, size).tobuf(
                tarfile.PAX_FORMAT, "utf-8", "surrogateescape"
            )
            out.write(header)
            _copy(src, out, size, direct, entry.source)
            if src.read(1):
                raise HermeticError(f"{entry.source} grew while it was being archived")
    pad = -size % _BLOCK
    out.write(b"\0" * pad)
    return len(header) + size + pad


def _threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@contextmanager
def compressed_writer(
    fileobj: IO[bytes], compression: Compression, level: int | None = None
) -> Iterator[IO[bytes]]:
    """A writer that compresses into `fileobj` deterministically; flushed and finished (but
    `fileobj` not closed) when the block exits."""
    if compression == "none":
        yield fileobj
        fileobj.flush()
    elif compression == "zstd":
        import zstandard

        # threads >= 1 always: zstd's multithreaded output is the same for any worker count,
        # but differs from its single-threaded mode, so never let it fall back to that.
        cctx = zstandard.ZstdCompressor(level=3 if level is None else level, threads=_threads())
        with cctx.stream_writer(fileobj, closefd=False) as zw:
            yield cast(IO[bytes], zw)  # a ZstdCompressionWriter writes like a binary file
    elif compression == "gzip":
        from isal import igzip_threaded

        # block-parallel deflate, each block primed with the previous 32 KiB: the output
        # depends on the block size, not on the thread count; the header has mtime 0 and no
        # file name.
        gz: IO[bytes] = igzip_threaded.open(  # type: ignore[no-untyped-call]  # isal is untyped
            fileobj, "wb", compresslevel=2 if level is None else level, threads=_threads()
        )
        try:
            yield gz
        finally:
            gz.close()
    elif compression == "bz2":
        import bz2

        bzw = bz2.BZ2File(fileobj, "wb", compresslevel=9 if level is None else level)
        try:
            yield cast(IO[bytes], bzw)
        finally:
            bzw.close()
    else:
        raise HermeticError(f"unknown compression {compression!r}")


def compression_for(path: Path) -> Compression:
    """The compression a file name asks for: `.tar.gz`/`.tgz`, `.tar.zst`, `.tar.bz2`, `.tar`."""
    name = Path(path).name
    for suffixes, comp in _SUFFIXES:
        if name.endswith(suffixes):
            return comp
    raise UsageError(
        f"cannot tell the archive format of {name!r}",
        hint="name it .tar.gz, .tar.zst or .tar",
    )
