"""Hostile conda packages, written byte by byte (the regular builder refuses to write them).

`HostilePackage` says exactly what the archive holds: its payload members (any name, any
symlink target), and `info/` files as given, so `paths.json` can lie about the payload.
The channel is indexed with `hermetic.condapkg.index_channel`; the package writer there
refuses such members, as it should, so the archives are written here with plain tarfile.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from hermetic.condapkg import index_channel

MTIME = 1_700_000_000


@dataclass(frozen=True)
class HostilePackage:
    name: str
    version: str = "1.0"
    build: str = "0"
    subdir: str = "linux-64"
    #: payload member name -> bytes (a regular file), ("symlink", target),
    #: ("hardlink", target) or ("zeros", size)
    members: dict[str, object] = field(default_factory=dict)
    #: info/paths.json entries; None: one hardlink entry per regular payload member
    paths: list[dict[str, object]] | None = None
    has_prefix: str | None = None
    files: str | None = None
    link_json: dict[str, object] | None = None
    noarch: str | None = None
    depends: tuple[str, ...] = ()
    fmt: str = "tar.bz2"  # or "conda"

    @property
    def filename(self) -> str:
        ext = ".conda" if self.fmt == "conda" else ".tar.bz2"
        return f"{self.name}-{self.version}-{self.build}{ext}"


def _add(tar: tarfile.TarFile, name: str, value: object) -> None:
    ti = tarfile.TarInfo(name)
    ti.mtime = MTIME
    ti.mode = 0o644
    if isinstance(value, tuple) and value[0] == "symlink":
        ti.type = tarfile.SYMTYPE
        ti.linkname = str(value[1])
        tar.addfile(ti)
    elif isinstance(value, tuple) and value[0] == "hardlink":
        ti.type = tarfile.LNKTYPE
        ti.linkname = str(value[1])
        tar.addfile(ti)
    elif isinstance(value, tuple) and value[0] == "zeros":
        ti.size = int(value[1])
        tar.addfile(ti, _Zeros(ti.size))
    else:
        data = bytes(value)  # type: ignore[call-overload]
        ti.size = len(data)
        tar.addfile(ti, io.BytesIO(data))


class _Zeros(io.RawIOBase):
    """`size` zero bytes, without holding them in memory."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
        n = min(len(b), self.left)
        b[:n] = bytes(n)
        self.left -= n
        return n


def _info(pkg: HostilePackage) -> dict[str, bytes]:
    index = {
        "name": pkg.name,
        "version": pkg.version,
        "build": pkg.build,
        "build_number": 0,
        "depends": list(pkg.depends),
        "subdir": pkg.subdir,
        "timestamp": MTIME * 1000,
    }
    if pkg.noarch:
        index["noarch"] = pkg.noarch
    paths = pkg.paths
    if paths is None:
        paths = []
        for rel, value in sorted(pkg.members.items()):
            if isinstance(value, tuple):
                paths.append({"_path": rel, "path_type": "softlink", "size_in_bytes": 0})
            else:
                data = bytes(value)  # type: ignore[call-overload]
                paths.append(
                    {
                        "_path": rel,
                        "path_type": "hardlink",
                        "sha256": hashlib.sha256(data).hexdigest(),
                        "size_in_bytes": len(data),
                    }
                )
    out = {
        "info/index.json": json.dumps(index).encode(),
        "info/paths.json": json.dumps({"paths": paths, "paths_version": 1}).encode(),
        "info/files": (
            pkg.files if pkg.files is not None else "".join(f"{p['_path']}\n" for p in paths)
        ).encode(),
    }
    if pkg.has_prefix is not None:
        out["info/has_prefix"] = pkg.has_prefix.encode()
    if pkg.link_json is not None:
        out["info/link.json"] = json.dumps(pkg.link_json).encode()
    return out


def write_hostile(pkg: HostilePackage, channel: Path) -> Path:
    out = channel / pkg.subdir / pkg.filename
    out.parent.mkdir(parents=True, exist_ok=True)
    info = _info(pkg)
    if pkg.fmt == "tar.bz2":
        with tarfile.open(out, "w:bz2") as tar:
            for name, data in info.items():
                _add(tar, name, data)
            for name, value in pkg.members.items():
                _add(tar, name, value)
        return out
    import zstandard

    def tar_zst(items: dict[str, object], dest: Path) -> None:
        with open(dest, "wb") as fh:
            zst = zstandard.ZstdCompressor(level=3).stream_writer(fh, closefd=False)
            with zst, tarfile.open(fileobj=zst, mode="w") as tar:
                for name, value in items.items():
                    _add(tar, name, value)

    stem = out.name[: -len(".conda")]
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("metadata.json", json.dumps({"conda_pkg_format_version": 2}))
        for part, items in (("info", dict(info)), ("pkg", dict(pkg.members))):
            tmp = out.with_name(f".{part}-{stem}.tmp")
            tar_zst(items, tmp)
            zf.write(tmp, f"{part}-{stem}.tar.zst")
            tmp.unlink()
    return out


def hostile_channel(channel: Path, packages: list[HostilePackage]) -> Path:
    for sub in ("noarch", "linux-64"):
        (channel / sub).mkdir(parents=True, exist_ok=True)
    for pkg in packages:
        write_hostile(pkg, channel)
    index_channel(channel)
    return channel
