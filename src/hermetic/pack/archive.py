"""Writing a pack, and checking and unpacking one.

`write_pack` streams the members through the reproducible tar writer into a temporary file
next to the output and renames it into place: an interrupted pack leaves no archive.

`unpack` reads the whole archive once before writing anything: the compressed stream and
the tar must be complete, every member must stay inside DEST (no absolute names, no `..`,
no member below a symlink, no link pointing out), and every file must match the sha256 in
`.hermetic-pack/SHA256SUMS`. Only then is it extracted, and relocated by running the
archive's own `bin/hermetic-unpack` (one relocation implementation, the one a user without
hermetic runs).
"""

from __future__ import annotations

import hashlib
import io
import os
import posixpath
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

from hermetic.condapkg import TarEntry, compression_for, write_tar
from hermetic.errors import HermeticError
from hermetic.pack.layout import MANIFEST, PACK_DIR, UNPACK_SCRIPT, PackLayout

SUMS = f"{PACK_DIR}/SHA256SUMS"


@dataclass(frozen=True)
class Packed:
    path: Path
    size: int  # bytes on disk
    members: int
    tar_size: int  # uncompressed


def _sums(members: tuple[TarEntry, ...], known: dict[str, str]) -> bytes:
    lines = []
    for m in sorted(members, key=lambda e: e.name):
        if m.kind != "file":
            continue
        if m.name in known and m.content is None:
            lines.append(f"{known[m.name]}  {m.name}\n")
            continue
        h = hashlib.sha256()
        if m.content is not None:
            h.update(m.content)
        elif m.source is not None:
            with open(m.source, "rb") as f:
                while chunk := f.read(1 << 20):
                    h.update(chunk)
        lines.append(f"{h.hexdigest()}  {m.name}\n")
    return "".join(lines).encode()


def write_pack(layout: PackLayout, out: Path, *, level: int | None = None) -> Packed:
    compression = compression_for(out)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    sums = TarEntry.data(SUMS, _sums(layout.members, layout.known_sha256))
    members = [*layout.members, sums]
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            tar_size = write_tar(members, f, mtime=0, compression=compression, level=level)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return Packed(out, out.stat().st_size, len(members), tar_size)


@contextmanager
def _open(archive: Path) -> Iterator[IO[bytes]]:
    comp = compression_for(archive)
    with open(archive, "rb") as raw:
        if comp == "zstd":
            import zstandard

            with zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True) as r:
                yield io.BufferedReader(r, 1 << 20)
        elif comp == "gzip":
            from isal import igzip

            with igzip.IGzipFile(fileobj=raw, mode="rb") as r:  # type: ignore[no-untyped-call]
                yield cast(IO[bytes], r)
        elif comp == "bz2":
            import bz2

            with bz2.BZ2File(raw, "rb") as r:
                yield r
        else:
            yield raw


@dataclass(frozen=True)
class Checked:
    members: int
    binary_limits: tuple[tuple[str, int], ...]  # (file, placeholder bytes) to relocate


def check_archive(archive: Path) -> Checked:
    """Read `archive` completely; raise unless it is whole, safe and matches its checksums."""
    archive = Path(archive)
    if not archive.is_file():
        raise HermeticError(f"no such archive: {archive}")
    links: set[str] = set()
    names: set[str] = set()
    actual: dict[str, str] = {}
    sums: bytes | None = None
    manifest = b""
    try:
        with (
            _open(archive) as stream,
            tarfile.open(fileobj=stream, mode="r|", bufsize=1 << 20) as tf,
        ):
            for m in tf:
                name = _member_name(m, archive)
                for i in range(1, len(name.split("/"))):
                    if "/".join(name.split("/")[:i]) in links:
                        raise HermeticError(
                            f"{archive}: member {name!r} lies below a symlink; refusing it"
                        )
                if m.issym() or m.islnk():
                    _check_link(name, m.linkname, archive)
                    links.add(name)
                elif not (m.isfile() or m.isdir()):
                    raise HermeticError(f"{archive}: member {name!r} is not a file, dir or link")
                names.add(name)
                if m.isfile():
                    data = tf.extractfile(m)
                    if data is None:
                        raise HermeticError(f"{archive}: cannot read member {name!r}")
                    h = hashlib.sha256()
                    if name == SUMS:
                        sums = data.read()
                        continue
                    if name == MANIFEST:
                        manifest = data.read()
                        h.update(manifest)
                        actual[name] = h.hexdigest()
                        continue
                    while chunk := data.read(1 << 20):
                        h.update(chunk)
                    actual[name] = h.hexdigest()
    except HermeticError:
        raise
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise HermeticError(
            f"{archive} is truncated or corrupt ({type(exc).__name__}: {exc}); nothing was written",
            hint="copy or download the archive again",
        ) from None
    except Exception as exc:  # zstandard.ZstdError and isal errors have no common base
        raise HermeticError(
            f"{archive} is truncated or corrupt ({exc}); nothing was written",
            hint="copy or download the archive again",
        ) from None
    if sums is None or UNPACK_SCRIPT not in names:
        raise HermeticError(
            f"{archive} is not a hermetic pack (no {SUMS} or {UNPACK_SCRIPT}), or is truncated"
        )
    expected = {}
    for line in sums.decode().splitlines():
        digest, _, name = line.partition("  ")
        expected[name] = digest
    if expected != actual:
        bad = sorted(n for n in set(expected) | set(actual) if expected.get(n) != actual.get(n))
        raise HermeticError(
            f"{archive} does not match its checksums ({len(bad)} file(s) differ, e.g. {bad[0]}); "
            "nothing was written",
            hint="the archive was damaged or modified; get a fresh copy",
        )
    return Checked(len(names), _binary_limits(manifest))


def _binary_limits(manifest: bytes) -> tuple[tuple[str, int], ...]:
    lines = manifest.decode(errors="replace").splitlines()
    out = []
    for i, line in enumerate(lines):
        fields = line.split(" ")
        if fields[0] == "B" and len(fields) == 3 and i + 1 < len(lines):
            out.append((lines[i + 1], int(fields[1])))
    return tuple(out)


def _member_name(m: tarfile.TarInfo, archive: Path) -> str:
    name = m.name
    norm = posixpath.normpath(name) if name else ""
    if (
        not name
        or name.startswith("/")
        or norm == ".."
        or norm.startswith("../")
        or ".." in name.split("/")
        or "\0" in name
    ):
        raise HermeticError(f"{archive}: member {name!r} would escape the target directory")
    return norm


def _check_link(name: str, target: str, archive: Path) -> None:
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
    if target.startswith("/") or resolved == ".." or resolved.startswith("../"):
        raise HermeticError(
            f"{archive}: link {name!r} -> {target!r} points outside the target directory"
        )


def _extract(archive: Path, dest: Path, shown: Path) -> None:
    """Extract the checked archive: decompressed here, written by the system `tar` (fast,
    no ownership kept) when there is one, else by `tarfile` with its data filter."""
    tar = shutil.which("tar")
    with _open(archive) as stream:
        if tar is not None:
            proc = subprocess.Popen(
                [tar, "-x", "-f", "-", "-C", str(dest), "--no-same-owner"],
                stdin=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            assert proc.stdin is not None
            try:
                while chunk := stream.read(1 << 20):
                    proc.stdin.write(chunk)
                proc.stdin.close()
            except BrokenPipeError:
                pass
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            if proc.wait() != 0:
                raise HermeticError(
                    f"extracting {archive} into {shown} failed: {err.strip()}; "
                    "nothing was left there",
                    hint="check free space and permissions, then run `hermetic unpack` again",
                )
            return
        with tarfile.open(fileobj=stream, mode="r|", bufsize=1 << 20) as tf:
            for m in tf:
                # names, links and kinds were checked; the data filter checks them again
                if hasattr(tarfile, "data_filter"):
                    tf.extract(m, dest, filter="data")
                else:  # Python < 3.10.12
                    tf.extract(m, dest)


def unpack(archive: Path, dest: Path) -> tuple[int, str]:
    """Check, extract into `dest` (new or empty) and relocate; (members, script output).

    The archive is extracted into a hidden sibling of `dest` and renamed into place, then
    relocated there (the script relocates to the folder it sits in). Any failure (a full
    disk, a relocation error, Ctrl-C) removes what was written, so `dest` never holds a
    half-extracted environment; a SIGKILL can only leave the hidden `.NAME.unpacking-*`.
    """
    dest = Path(dest).absolute()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise HermeticError(f"{dest} exists and is not an empty directory", hint="pick a new path")
    checked = check_archive(archive)
    real = os.path.realpath(dest).encode()
    for path, limit in checked.binary_limits:
        if len(real) > limit:
            raise HermeticError(
                f"cannot relocate {path} into {real.decode()}: it holds a binary prefix "
                f"placeholder of {limit} bytes and the path is {len(real)} bytes long; "
                "nothing was written",
                hint=f"unpack into a shorter path (at most {limit} bytes)",
            )
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HermeticError(f"cannot create {dest.parent}: {exc.strerror}") from None
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.unpacking-", dir=dest.parent))
    placed = False
    try:
        _extract(Path(archive), work, shown=dest)
        if dest.exists():
            dest.rmdir()  # checked empty above
        os.rename(work, dest)
        placed = True
        proc = subprocess.run(
            ["/bin/sh", str(dest / UNPACK_SCRIPT)],
            env={"PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise HermeticError(
                f"relocating {dest} failed; nothing was left there:\n{proc.stderr.strip()}"
            )
    except BaseException as exc:
        shutil.rmtree(dest if placed else work, ignore_errors=True)
        if isinstance(exc, OSError):
            raise HermeticError(
                f"unpacking {archive} into {dest} failed: {exc.strerror or exc}; "
                "nothing was left there",
                hint="check free space and permissions, then run `hermetic unpack` again",
            ) from None
        raise
    return checked.members, proc.stdout.strip()
