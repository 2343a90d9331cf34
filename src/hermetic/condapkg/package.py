"""The one conda package writer: `.tar.bz2` and `.conda` archives from a `PackageSpec`.

rattler reads packages but cannot write them, so hermetic writes them itself: the payload is
staged in a temporary directory, `info/` is derived from it (index.json, paths.json with
sha256 and sizes, files, has_prefix for text and binary placeholders, link.json for
`noarch: python` entry points, about.json), and both parts go through the reproducible tar
writer. The same spec gives the same bytes.

`.conda` is a stored (uncompressed) zip of `metadata.json`, `pkg-<id>.tar.zst` and
`info-<id>.tar.zst`, the layout conda-package-handling writes; `.tar.bz2` is one tar with
`info/` first.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from hermetic.condapkg.tar import TarEntry, tree_entries, write_tar
from hermetic.errors import HermeticError
from hermetic.fs import sha256_file

PREFIX_PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3"

#: conda-build's 255-character placeholder, as conda-forge binaries carry it. A binary
#: placeholder can only be replaced by a prefix no longer than itself.
LONG_PREFIX_PLACEHOLDER = ("/opt/conda-bld/work_1700000000000/_h_env" + "_placehold" * 25)[:255]

#: Fixed build timestamp (ms since the epoch) so archives and repodata are deterministic.
DEFAULT_TIMESTAMP = 1_700_000_000_000

PackageFormat = Literal["conda", "tar.bz2"]

_SUBDIR_ARCH: dict[str, tuple[str | None, str | None]] = {
    "linux-64": ("x86_64", "linux"),
    "linux-aarch64": ("aarch64", "linux"),
    "osx-arm64": ("arm64", "osx"),
    "osx-64": ("x86_64", "osx"),
    "win-64": ("x86_64", "win"),
    "noarch": (None, None),
}
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class PackageSpec:
    """Everything needed to write one conda package archive.

    Paths in `files`, `symlinks` and the `*_files` tuples are relative to the package root
    (for `noarch: python` that is `site-packages/...` and `python-scripts/...`, as in real
    conda packages).
    """

    name: str
    version: str
    build: str = "0"
    build_number: int = 0
    subdir: str = "linux-64"
    depends: tuple[str, ...] = ()
    constrains: tuple[str, ...] = ()
    noarch: str | None = None  # "python" | "generic" | None
    files: dict[str, bytes] = field(default_factory=dict)
    text_placeholder_files: tuple[str, ...] = ()
    binary_placeholder_files: tuple[str, ...] = ()
    entry_points: tuple[str, ...] = ()  # noarch python: "name = module:func"
    fmt: PackageFormat = "conda"
    executable_files: tuple[str, ...] = ()
    #: relative link path -> link target (as written into the symlink)
    symlinks: dict[str, str] = field(default_factory=dict)
    #: noarch python: PyPI name of the generated `*.dist-info` (default: the conda name);
    #: `dist_info=False` writes none
    pypi_name: str | None = None
    dist_info: bool = True
    license: str = "MIT"
    timestamp: int = DEFAULT_TIMESTAMP
    track_features: str = ""
    #: extra keys merged into info/index.json
    extra_index: dict[str, object] = field(default_factory=dict)
    #: called with the staging directory after `files` are written; may add any files
    #: (including symlinks) and returns more text-placeholder paths (or nothing)
    tree_builder: Callable[[Path], object] | None = field(default=None, compare=False)
    #: when set (and `build_package` gets a cache dir), the archive is cached under it
    cache_key: str | None = None
    #: compression level: zstd for `.conda`, bzip2 for `.tar.bz2`
    compression_level: int | None = None
    #: the placeholder the `*_placeholder_files` contain (both modes)
    placeholder: str = PREFIX_PLACEHOLDER
    summary: str = ""

    @property
    def filename(self) -> str:
        ext = ".conda" if self.fmt == "conda" else ".tar.bz2"
        return f"{self.name}-{self.version}-{self.build}{ext}"


def _normalize_dist(name: str) -> str:
    return name.replace("-", "_").replace(".", "_")


def _dist_info_files(spec: PackageSpec) -> dict[str, bytes]:
    """`site-packages/<dist>-<ver>.dist-info/` as conda-forge's pip-built noarch packages
    have it: METADATA, INSTALLER (`conda`) and a RECORD relative to site-packages."""
    dist = spec.pypi_name or spec.name
    d = f"site-packages/{_normalize_dist(dist)}-{spec.version}.dist-info"
    meta = f"Metadata-Version: 2.1\nName: {dist}\nVersion: {spec.version}\n"
    out = {f"{d}/METADATA": meta.encode(), f"{d}/INSTALLER": b"conda\n"}
    record = []
    for rel, data in sorted({**spec.files, **out}.items()):
        if rel.startswith("site-packages/"):
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record.append(
                f"{rel.removeprefix('site-packages/')},sha256={digest.decode()},{len(data)}"
            )
    record.append(f"{d.removeprefix('site-packages/')}/RECORD,,")
    out[f"{d}/RECORD"] = ("\n".join(record) + "\n").encode()
    return out


def _stage_payload(spec: PackageSpec, stage: Path) -> set[str]:
    """Write the payload into `stage`; returns the text-placeholder paths."""
    files = dict(spec.files)
    if spec.noarch == "python" and spec.dist_info:
        for k, v in _dist_info_files(spec).items():
            files.setdefault(k, v)
    for rel, content in files.items():
        p = stage / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content)
    for rel in spec.executable_files:
        os.chmod(stage / rel, 0o755)
    for rel, target in spec.symlinks.items():
        p = stage / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, p)
    text_ph = set(spec.text_placeholder_files)
    if spec.tree_builder is not None:
        extra = spec.tree_builder(stage)
        if isinstance(extra, (list, tuple, set)):
            text_ph |= {str(x) for x in extra}
    return text_ph


def _paths_entry(
    spec: PackageSpec, stage: Path, entry: TarEntry, text_ph: set[str]
) -> dict[str, object]:
    p = stage / entry.name
    if entry.kind == "symlink":
        out: dict[str, object] = {"_path": entry.name, "path_type": "softlink"}
        if p.is_file():  # conda-build hashes the link's target
            out["sha256"] = sha256_file(p)
            out["size_in_bytes"] = p.stat().st_size
        else:
            out["sha256"] = hashlib.sha256(entry.linkname.encode()).hexdigest()
            out["size_in_bytes"] = 0
        return out
    out = {
        "_path": entry.name,
        "path_type": "hardlink",
        "sha256": sha256_file(p),
        "size_in_bytes": p.stat().st_size,
    }
    if entry.name in text_ph or entry.name in spec.binary_placeholder_files:
        out["file_mode"] = "text" if entry.name in text_ph else "binary"
        out["prefix_placeholder"] = spec.placeholder
    return out


def _info_files(
    spec: PackageSpec, stage: Path, payload: list[TarEntry], text_ph: set[str]
) -> dict[str, bytes]:
    bin_ph = set(spec.binary_placeholder_files)
    for rel in sorted(text_ph | bin_ph):
        if spec.placeholder.encode() not in (stage / rel).read_bytes():
            raise HermeticError(f"{spec.name}: {rel} is marked as a placeholder file but lacks it")
    paths = [_paths_entry(spec, stage, e, text_ph) for e in payload]
    arch, platform = _SUBDIR_ARCH.get(spec.subdir, (None, None))
    index: dict[str, object] = {
        "name": spec.name,
        "version": spec.version,
        "build": spec.build,
        "build_number": spec.build_number,
        "depends": list(spec.depends),
        "constrains": list(spec.constrains),
        "license": spec.license,
        "subdir": spec.subdir,
        "timestamp": spec.timestamp,
        "arch": arch,
        "platform": platform,
    }
    if spec.noarch:
        index["noarch"] = spec.noarch
    if spec.track_features:
        index["track_features"] = spec.track_features
    index.update(spec.extra_index)

    def dump(doc: object) -> bytes:
        return json.dumps(doc, indent=2, sort_keys=True).encode()

    summary = spec.summary or f"{spec.name} test fixture"
    info = {
        "info/index.json": dump(index),
        "info/paths.json": dump({"paths": paths, "paths_version": 1}),
        "info/files": "".join(f"{e.name}\n" for e in payload).encode(),
        "info/about.json": dump({"summary": summary, "license": spec.license}),
    }
    if text_ph or bin_ph:
        info["info/has_prefix"] = "".join(
            f"{spec.placeholder} {'text' if rel in text_ph else 'binary'} {rel}\n"
            for rel in sorted(text_ph | bin_ph)
        ).encode()
    if spec.noarch == "python":
        link = {
            "noarch": {"type": "python", "entry_points": list(spec.entry_points)},
            "package_metadata_version": 1,
        }
        info["info/link.json"] = dump(link)
    elif spec.entry_points:
        raise HermeticError(f"{spec.name}: entry_points need noarch='python'")
    return info


def write_package(spec: PackageSpec, out: Path) -> Path:
    """Write the archive of `spec` to `out` (atomically); returns `out`."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    mtime = spec.timestamp // 1000
    with tempfile.TemporaryDirectory(prefix=f"pkg-{spec.name}-") as tmp:
        stage = Path(tmp)
        text_ph = _stage_payload(spec, stage)
        payload = tree_entries(stage, directories=False)
        info = [
            TarEntry.data(n, d)
            for n, d in sorted(_info_files(spec, stage, payload, text_ph).items())
        ]
        tmp_out = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        try:
            with open(tmp_out, "wb") as f:
                if spec.fmt == "tar.bz2":
                    write_tar(
                        [*info, *payload],
                        f,
                        mtime=mtime,
                        compression="bz2",
                        level=spec.compression_level,
                        sort=False,
                    )
                elif spec.fmt == "conda":
                    _write_conda(spec, f, info, payload, mtime)
                else:
                    raise HermeticError(f"unknown package format {spec.fmt!r}")
            os.replace(tmp_out, out)
        finally:
            tmp_out.unlink(missing_ok=True)
    return out


def _write_conda(
    spec: PackageSpec, f: object, info: list[TarEntry], payload: list[TarEntry], mtime: int
) -> None:
    stem = spec.filename.removesuffix(".conda")
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as zf:  # type: ignore[call-overload]  # a binary file object
        meta = zipfile.ZipInfo("metadata.json", _ZIP_EPOCH)
        meta.external_attr = 0o644 << 16
        zf.writestr(meta, json.dumps({"conda_pkg_format_version": 2}))
        for component, entries in (
            (f"pkg-{stem}.tar.zst", payload),
            (f"info-{stem}.tar.zst", info),
        ):
            zi = zipfile.ZipInfo(component, _ZIP_EPOCH)
            zi.external_attr = 0o644 << 16
            with zf.open(zi, "w", force_zip64=True) as member:
                write_tar(
                    entries,
                    member,
                    mtime=mtime,
                    compression="zstd",
                    level=spec.compression_level,
                    sort=False,
                )


def build_package(spec: PackageSpec, channel_dir: Path, *, cache_dir: Path | None = None) -> Path:
    """Write `channel_dir/<subdir>/<filename>` and return its path. With `cache_dir` and a
    `spec.cache_key`, the archive is reused from (or stored into) `cache_dir/<cache_key>/`."""
    out = Path(channel_dir) / spec.subdir / spec.filename
    out.parent.mkdir(parents=True, exist_ok=True)
    cached = (
        Path(cache_dir) / spec.cache_key / spec.filename if cache_dir and spec.cache_key else None
    )
    if cached is not None and cached.is_file():
        _copy(cached, out)  # a copy: tests tamper with channel files in place
        return out
    write_package(spec, out)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp_cached = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
        shutil.copyfile(out, tmp_cached)
        os.replace(tmp_cached, cached)  # atomic: safe with parallel builders
    return out


def _copy(src: Path, dst: Path) -> None:
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)
