"""Package-path safety: where a conda package may write, checked before anything is linked.

A package says where its files go in `info/paths.json` (and `info/files`, `info/has_prefix`,
`info/link.json` entry points). py-rattler 0.28 links those paths as written: a `_path` of
`../../.profile` rewrites a file outside the environment, an absolute one aborts the process
with a Rust panic (see docs/security.md). So before any package is laid out (install, image
layer, pack), every path of every package goes through `check_packages`:

* each path is relative, normalized (no `.`, `..`, empty component or NUL) and stays inside;
* no path goes through a symlink that points outside the prefix, whether the symlink is
  already in the prefix or laid by any package of the same transaction (packages are linked
  in parallel, so "earlier" is any order);
* a file never lands on a symlink that points outside (writing would follow it);
* the archive's members themselves are relative and normalized, only files, directories and
  symlinks, and unpack to at most `max_unpacked_bytes(archive size)`.

The archive is read as a stream and never extracted here: a refusal writes nothing.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shlex
import stat
import tarfile
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from hermetic.errors import HermeticError
from hermetic.settings import current as current_settings

#: an archive may unpack to `HERMETIC_MAX_UNPACK_RATIO` times its own size, but always to
#: at least this much (a tiny package of a few sparse files is no bomb)
UNPACK_FLOOR = 256 << 20
RATIO_ENV = "HERMETIC_MAX_UNPACK_RATIO"
#: one metadata file of `info/` (paths.json of the largest real packages is a few MiB)
_MAX_INFO_FILE = 64 << 20
#: symlinks followed while resolving one path (Linux's own limit is 40)
_MAX_HOPS = 40
#: the metadata files that say where a package's paths go
INFO_FILES = ("info/paths.json", "info/files", "info/has_prefix", "info/link.json")
_ENTRY_POINT_NAME = re.compile(r"[A-Za-z0-9_.+-]+")


class UnsafePackageError(HermeticError):
    """A package would write outside the prefix, or is not a well-formed archive.

    `outcome` says what the refusal prevented ("nothing was installed", "no image was
    built"); the operation that laid the packages out supplies it (`refusal_says`)."""

    def __init__(
        self, package: str, message: str, path: str | None = None, *, outcome: str | None = None
    ):
        where = f" ({path!r})" if path is not None else ""
        ending = f"; {outcome}" if outcome else ""
        super().__init__(
            f"refusing package {package}: {message}{where}{ending}",
            hint="the channel serves a package that could write outside the environment; "
            "report it to the channel's owner, and do not install it",
        )
        self.package = package
        self.reason = message
        self.path = path
        self.outcome = outcome


@contextmanager
def refusal_says(outcome: str) -> Iterator[None]:
    """Refusals raised inside end with `outcome`: what the operation did not do."""
    try:
        yield
    except UnsafePackageError as exc:
        if exc.outcome is not None:
            raise
        raise UnsafePackageError(exc.package, exc.reason, exc.path, outcome=outcome) from None


@dataclass(frozen=True)
class PackageLayout:
    """What one package lays into a prefix, with every path already checked."""

    package: str  # name-version-build, or the archive's file name
    paths: tuple[str, ...]  # relative paths, as in paths.json / files / has_prefix / entry points
    symlinks: Mapping[str, str] = field(default_factory=dict)  # path -> its target, as written
    noarch_python: bool = False
    unpacked_bytes: int = 0


def max_unpacked_bytes(archive_bytes: int) -> int | None:
    """The most an archive of `archive_bytes` may unpack to (None: no limit).

    `HERMETIC_MAX_UNPACK_RATIO` (settings) sets the ratio; 0 turns the limit off."""
    ratio = current_settings().max_unpack_ratio
    if ratio <= 0:
        return None
    return max(UNPACK_FLOOR, ratio * archive_bytes)


def check_relative(package: str, path: object, what: str = "path") -> str:
    """`path` if it is a normalized relative path inside the prefix, else refuse."""
    if isinstance(path, str) and path and "\0" not in path and path[1:2] != ":":
        # every component non-empty and neither `.` nor `..` (this runs once per file of
        # every package of every install: substring tests, not a split)
        framed = f"/{path}/"
        if "//" not in framed and "/./" not in framed and "/../" not in framed:
            return path
    if not isinstance(path, str) or not path:
        raise UnsafePackageError(package, f"a {what} that is not a path", repr(path))
    if "\0" in path:
        raise UnsafePackageError(package, f"a {what} with a NUL character", path)
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        raise UnsafePackageError(package, f"an absolute {what}", path)
    for part in path.split("/"):
        if part == "..":
            raise UnsafePackageError(package, f"a {what} that leaves the prefix", path)
        if part in ("", "."):
            raise UnsafePackageError(package, f"a {what} that is not normalized", path)
    return path


def check_wheel_member(wheel: str, name: str) -> str:
    """`name`, a wheel's member or where one is written, when it stays inside, else refuse.

    A backslash is refused too: a zip written on Windows would lay `a\\b` as one odd name."""
    if isinstance(name, str) and "\\" in name:
        raise UnsafePackageError(wheel, "a wheel member with a backslash", name)
    return check_relative(wheel, name, "wheel member")


def check_wheel(wheel: Path) -> tuple[str, ...]:
    """The member names of a wheel, every one checked, before anything of it is laid out."""
    wheel = Path(wheel)
    try:
        with zipfile.ZipFile(wheel) as zf:
            names = [i.filename.rstrip("/") for i in zf.infolist()]
    except (OSError, zipfile.BadZipFile) as exc:
        raise UnsafePackageError(wheel.name, f"not a readable wheel ({exc})") from None
    return tuple(check_wheel_member(wheel.name, n) for n in names)


# ---------------------------------------------------------------------------------------------
# reading a package: from its archive (never extracted), or the `info/` of an extracted one
# (a package cache entry: `hermetic.env.verify` reads it in the same pass that checks it)


def read_archive(archive: Path, package: str | None = None) -> PackageLayout:
    """The checked layout of a `.conda` or `.tar.bz2` archive; refuses a hostile one."""
    archive = Path(archive)
    label = package or archive.name
    size = archive.stat().st_size
    budget = _Budget(label, max_unpacked_bytes(size))
    info: dict[str, bytes] = {}
    symlinks: dict[str, str] = {}
    members: list[str] = []
    try:
        for tar in _tars(archive, label):
            _scan_tar(tar, label, budget, info, symlinks, members)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        if isinstance(exc, UnsafePackageError):
            raise
        raise UnsafePackageError(label, f"the archive cannot be read ({exc})") from None
    layout, _ = _layout(label, info, symlinks, budget.used)
    # unpacking itself must not go through the package's own symlinks
    view = _PrefixView(None)
    view.links.update(symlinks)
    _check_through_links(view, label, members + list(layout.paths), set(symlinks))
    return layout


def read_info(entry: Path, label: str) -> dict[str, bytes]:
    """The metadata files of an extracted package that say where its paths go (a symlink
    among them is refused: what is read must be what the entry holds)."""
    info: dict[str, bytes] = {}
    for name in INFO_FILES:
        try:
            data = read_small(f"{entry}/{name}", _MAX_INFO_FILE)
        except FileNotFoundError:
            continue
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise UnsafePackageError(label, "a symlink in info/", name) from None
            raise UnsafePackageError(label, f"cannot read {name} ({exc.strerror})") from None
        if data is None:
            raise UnsafePackageError(label, "an oversized metadata file", name)
        info[name] = data
    return info


def read_small(path: str, limit: int) -> bytes | None:
    """The bytes of the file at `path` (not a symlink), None when it has more than `limit`.

    Plain `os.read`: a warm install reads a few small files per package."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        chunks = []
        size = 0
        while chunk := os.read(fd, min(limit + 1 - size, 1 << 20) or 1):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                return None
        return b"".join(chunks)
    finally:
        os.close(fd)


def parse_info(
    label: str, info: Mapping[str, bytes]
) -> tuple[PackageLayout, list[dict[str, Any]] | None]:
    """The checked layout `info` describes (symlinks not known yet: the payload is not read),
    and the entries of its `info/paths.json` (None: it has none)."""
    return _layout(label, info, {}, 0)


def with_symlinks(layout: PackageLayout, symlinks: Mapping[str, str]) -> PackageLayout:
    """`layout` with the symlinks found among its paths on disk."""
    return PackageLayout(layout.package, layout.paths, dict(symlinks), layout.noarch_python, 0)


class _Budget:
    def __init__(self, package: str, limit: int | None):
        self.package, self.limit, self.used = package, limit, 0

    def take(self, n: int, name: str) -> None:
        self.used += n
        if self.limit is not None and self.used > self.limit:
            raise UnsafePackageError(
                self.package,
                f"it unpacks to more than {self.limit >> 20} MiB, over {RATIO_ENV} times "
                "its archive size (a decompression bomb?); set the variable to allow more",
                name,
            )


def _tars(archive: Path, label: str) -> Iterator[tarfile.TarFile]:
    if archive.name.endswith(".tar.bz2"):
        with tarfile.open(archive, mode="r|bz2") as tar:
            yield tar
        return
    if not archive.name.endswith(".conda"):
        raise UnsafePackageError(label, "not a .conda or .tar.bz2 archive", archive.name)
    import zstandard

    with zipfile.ZipFile(archive) as zf:
        names = [n for n in zf.namelist() if n.endswith(".tar.zst")]
        # info first, so a refusal by metadata costs no payload decompression
        for name in sorted(names, key=lambda n: not n.startswith("info-")):
            with zf.open(name) as raw:
                reader = zstandard.ZstdDecompressor().stream_reader(raw)
                with tarfile.open(fileobj=reader, mode="r|") as tar:
                    yield tar


def _scan_tar(
    tar: tarfile.TarFile,
    label: str,
    budget: _Budget,
    info: dict[str, bytes],
    symlinks: dict[str, str],
    members: list[str],
) -> None:
    for member in tar:
        name = member.name.removeprefix("./").rstrip("/") if member.isdir() else member.name
        name = name.removeprefix("./")
        check_relative(label, name, "archive member")
        members.append(name)
        if member.issym():
            if "\0" in member.linkname or not member.linkname:
                raise UnsafePackageError(label, "a symlink with a bad target", name)
            symlinks[name] = member.linkname
        elif member.islnk():
            check_relative(label, member.linkname, "hard link target")
        elif member.isfile():
            budget.take(member.size, name)
            if name in INFO_FILES:
                if member.size > _MAX_INFO_FILE:
                    raise UnsafePackageError(label, "an oversized metadata file", name)
                fh: IO[bytes] | None = tar.extractfile(member)
                info[name] = fh.read() if fh is not None else b""
        elif not member.isdir():
            raise UnsafePackageError(label, "an archive member that is a device or FIFO", name)


def _layout(
    label: str, info: Mapping[str, bytes], symlinks: dict[str, str], used: int
) -> tuple[PackageLayout, list[dict[str, Any]] | None]:
    paths: list[str] = []
    noarch_python = False
    entries: list[dict[str, Any]] | None = None
    raw = info.get("info/paths.json")
    if raw is not None:
        doc = _json(label, "info/paths.json", raw)
        listed = doc.get("paths") if isinstance(doc, dict) else None
        if not isinstance(listed, list):
            raise UnsafePackageError(label, "info/paths.json has no list of paths")
        for e in listed:
            if not isinstance(e, dict):
                raise UnsafePackageError(label, "an info/paths.json entry that is not an object")
            paths.append(check_relative(label, e.get("_path"), "paths.json _path"))
        entries = listed
    checked = set(paths)  # info/files mostly repeats paths.json: check each path once
    if "info/files" in info:
        for line in _lines(label, "info/files", info["info/files"]):
            paths.append(
                line if line in checked else check_relative(label, line, "info/files entry")
            )
    if "info/has_prefix" in info:
        for line in _lines(label, "info/has_prefix", info["info/has_prefix"]):
            paths.append(check_relative(label, _has_prefix_path(label, line), "has_prefix path"))
    if "info/link.json" in info:
        doc = _json(label, "info/link.json", info["info/link.json"])
        noarch = doc.get("noarch") if isinstance(doc, dict) else None
        if isinstance(noarch, dict) and noarch.get("type") == "python":
            noarch_python = True
            for ep in noarch.get("entry_points") or ():
                paths.append(_entry_point_path(label, ep))
    for name in symlinks:
        if name.startswith("info/"):
            raise UnsafePackageError(label, "a symlink in info/", name)
    layout = PackageLayout(label, tuple(dict.fromkeys(paths)), dict(symlinks), noarch_python, used)
    return layout, entries


def _json(label: str, name: str, raw: bytes) -> object:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise UnsafePackageError(label, f"{name} is not valid JSON") from None


def _lines(label: str, name: str, raw: bytes) -> list[str]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UnsafePackageError(label, f"{name} is not UTF-8") from None
    return [line.strip() for line in text.splitlines() if line.strip()]


def _has_prefix_path(label: str, line: str) -> str:
    """`<placeholder> <text|binary> <path>` or a bare `<path>`; quoted when it has spaces."""
    try:
        parts = shlex.split(line) if '"' in line or "'" in line else line.split()
    except ValueError:
        raise UnsafePackageError(label, "an unreadable info/has_prefix line", line) from None
    if len(parts) not in (1, 3):
        raise UnsafePackageError(label, "an unreadable info/has_prefix line", line)
    return parts[-1]


def _entry_point_path(label: str, entry_point: object) -> str:
    """`name = module:func` lays `python-scripts/name` (i.e. `bin/name`)."""
    name = entry_point.split("=", 1)[0].strip() if isinstance(entry_point, str) else ""
    if not _ENTRY_POINT_NAME.fullmatch(name) or name in (".", ".."):
        raise UnsafePackageError(label, "a link.json entry point that is not a plain name", name)
    return f"python-scripts/{name}"


# ---------------------------------------------------------------------------------------------
# one transaction into one prefix


def check_packages(
    prefix: Path, layouts: Sequence[PackageLayout], *, site_packages: str | None = None
) -> None:
    """Refuse the transaction if any path of `layouts` would land outside `prefix`.

    `site_packages` is where `noarch: python` packages go (`lib/python3.X/site-packages`);
    their `python-scripts/` go to `bin/`. Symlinks already in `prefix` and those of every
    package in `layouts` count, whichever is linked first."""
    view = _PrefixView(Path(prefix))
    site = site_packages or "lib/python3/site-packages"
    owners: dict[str, str] = {}
    for lay in layouts:
        for rel, target in lay.symlinks.items():
            where = _placed(rel, lay.noarch_python, site)
            view.links[where] = target
            owners[where] = lay.package
    for lay in layouts:
        placed = {_placed(rel, lay.noarch_python, site): rel for rel in lay.paths}
        own = {w for w in placed if owners.get(w) == lay.package}
        _check_through_links(view, lay.package, list(placed), own, shown=placed)


def _check_through_links(
    view: _PrefixView,
    package: str,
    paths: Sequence[str],
    own_links: set[str],
    shown: Mapping[str, str] | None = None,
) -> None:
    """No path goes through, or is written onto, a symlink that leads out of the prefix."""
    safe_dirs = view.safe_dirs
    for where in paths:
        rel = shown.get(where, where) if shown else where
        end = where.rfind("/")
        if end > 0 and where[:end] not in safe_dirs:
            i = where.find("/")
            while i > 0:
                parent = where[:i]
                if view.escapes(parent):
                    raise UnsafePackageError(
                        package,
                        f"a path goes through the symlink {parent} -> {view.target(parent)}, "
                        "which points outside the prefix",
                        rel,
                    )
                safe_dirs.add(parent)
                i = where.find("/", i + 1)
        if where not in own_links and view.target(where) is not None and view.escapes(where):
            raise UnsafePackageError(
                package,
                f"a file would be written through the symlink {where} -> "
                f"{view.target(where)}, which points outside the prefix",
                rel,
            )


def _placed(rel: str, noarch_python: bool, site: str) -> str:
    if noarch_python:
        if rel.startswith("site-packages/"):
            return site + rel[len("site-packages") :]
        if rel.startswith("python-scripts/"):
            return "bin" + rel[len("python-scripts") :]
    return rel


class _PrefixView:
    """The prefix as it will be: symlinks on disk, overlaid with the transaction's."""

    def __init__(self, prefix: Path | None):
        self.prefix = prefix  # None: no disk, only `links` (one archive on its own)
        roots = {os.path.abspath(prefix), os.path.realpath(prefix)} if prefix else set()
        self.roots = tuple(r.rstrip("/") + "/" for r in roots)
        self.links: dict[str, str] = {}
        self._disk: dict[str, str | None] = {}
        # paths known not to exist on disk: nothing below them does either, so a fresh
        # prefix costs one lstat in all, not one per directory of the transaction
        self._absent: set[str] = set()
        self._base = f"{prefix}/"
        self._prefix_absent = prefix is not None and not os.path.lexists(prefix)
        self._escapes: dict[str, bool] = {}
        #: directories known not to lead out (neither they nor any directory above them)
        self.safe_dirs: set[str] = set()

    def target(self, rel: str) -> str | None:
        if rel in self.links:
            return self.links[rel]
        if self.prefix is None:
            return None
        if rel not in self._disk:
            head = rel.rpartition("/")[0]
            link: str | None = None
            if (head in self._absent) if head else self._prefix_absent:
                self._absent.add(rel)
            else:
                try:
                    st = os.lstat(self._base + rel)
                except OSError:  # missing, or a component on the way is a file
                    self._absent.add(rel)
                else:
                    if stat.S_ISLNK(st.st_mode):
                        link = os.readlink(self._base + rel)
            self._disk[rel] = link
        return self._disk[rel]

    def escapes(self, rel: str) -> bool:
        """Whether `rel`, with every symlink on the way followed, is outside the prefix."""
        if rel not in self._escapes:
            self._escapes[rel] = self._resolve(rel)
        return self._escapes[rel]

    def _resolve(self, rel: str) -> bool:
        todo = rel.split("/")
        here: list[str] = []
        hops = 0
        while todo:
            part = todo.pop(0)
            if part in ("", "."):
                continue
            if part == "..":
                if not here:
                    return True
                here.pop()
                continue
            target = self.target("/".join([*here, part]))
            if target is None:  # a plain component
                here.append(part)
                continue
            hops += 1
            if hops > _MAX_HOPS:
                return True  # a loop: treat as unsafe
            if target.startswith("/"):
                inside = next((target[len(r) :] for r in self.roots if target.startswith(r)), None)
                if inside is None and target.rstrip("/") + "/" not in self.roots:
                    return True
                here = []
                todo = (inside or "").split("/") + todo
                continue
            else:
                todo = target.split("/") + todo
        return False
