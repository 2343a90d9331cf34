"""The reproducible tar writer and the conda package writer: same input, same bytes."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import time
import zipfile
from pathlib import Path

import pytest
from rattler.package import IndexJson, PathsJson

from hermetic.condapkg import (
    PackageSpec,
    TarEntry,
    compression_for,
    tree_entries,
    write_package,
    write_tar,
)
from hermetic.errors import HermeticError


def make_tree(root: Path, mode: int = 0o640) -> Path:
    (root / "b" / "deep").mkdir(parents=True)
    (root / "a.txt").write_bytes(b"a" * 3000)
    (root / "b" / "deep" / "tool").write_bytes(b"#!/bin/sh\necho hi\n")
    os.chmod(root / "b" / "deep" / "tool", 0o700)
    os.chmod(root / "a.txt", mode)
    os.symlink("a.txt", root / "link")
    os.symlink("b", root / "dirlink")
    (root / "ü-名前.txt").write_bytes(b"unicode\n")
    (root / ("long" * 40)).write_bytes(b"long name\n")
    return root


def tar_bytes(entries: list[TarEntry], **kw: object) -> bytes:
    buf = io.BytesIO()
    write_tar(entries, buf, **kw)  # type: ignore[arg-type]
    return buf.getvalue()


@pytest.mark.parametrize("compression", ["none", "gzip", "zstd", "bz2"])
def test_same_tree_same_bytes_whatever_the_disk_says(tmp_path: Path, compression: str) -> None:
    one = make_tree(tmp_path / "one")
    time.sleep(1.1)
    two = make_tree(tmp_path / "two", mode=0o604)  # other mtimes, other read bits
    os.utime(two / "a.txt", (1, 1))
    a = tar_bytes(tree_entries(one), compression=compression, mtime=5)
    b = tar_bytes(tree_entries(two), compression=compression, mtime=5)
    assert a == b
    assert a != tar_bytes(tree_entries(one), compression=compression, mtime=6)


def test_members_are_sorted_and_normalized(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "t")
    data = tar_bytes(tree_entries(root, prefix="pfx"), mtime=123)
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        members = tf.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names) and names[0] == "pfx/a.txt"
    by = {m.name: m for m in members}
    assert all(m.uid == 0 and m.gid == 0 and m.uname == "" and m.gname == "" for m in members)
    assert {m.mtime for m in members} == {123}
    assert by["pfx/a.txt"].mode == 0o644 and by["pfx/b/deep/tool"].mode == 0o755
    assert by["pfx/b"].isdir() and by["pfx/b"].mode == 0o755
    assert by["pfx/link"].issym() and by["pfx/link"].linkname == "a.txt"
    assert by["pfx/dirlink"].issym()  # not followed
    assert "pfx/dirlink/deep" not in by
    assert "pfx/ü-名前.txt" in by and f"pfx/{'long' * 40}" in by
    assert len(data) % tarfile.RECORDSIZE == 0


def test_source_date_epoch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    data = tar_bytes([TarEntry.data("x", b"1")])
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        assert tf.getmember("x").mtime == 1700000000
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(HermeticError, match="SOURCE_DATE_EPOCH"):
        tar_bytes([TarEntry.data("x", b"1")])


def test_zstd_output_does_not_depend_on_thread_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big"
    big.write_bytes(os.urandom(1 << 16) * 200)  # 12.5 MiB: several zstd jobs
    entries = [TarEntry.file("big", big)]
    outs = set()
    for n in (1, 3):
        monkeypatch.setattr("hermetic.condapkg.tar._threads", lambda n=n: n)
        for comp in ("zstd", "gzip"):
            outs.add((comp, hashlib.sha256(tar_bytes(entries, compression=comp)).hexdigest()))
    assert len(outs) == 2


@pytest.mark.parametrize("name", ["../evil", "/abs", "a/../../b", ""])
def test_unsafe_names_are_refused(name: str) -> None:
    with pytest.raises(HermeticError, match="unsafe"):
        tar_bytes([TarEntry.data(name, b"x")])


def test_duplicates_and_changing_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(HermeticError, match="twice"):
        tar_bytes([TarEntry.data("x", b"1"), TarEntry.data("x", b"2")])
    f = tmp_path / "f"
    f.write_bytes(b"abc")
    entry = TarEntry.file("f", f)

    class Growing(io.BytesIO):
        def write(self, b: bytes) -> int:  # type: ignore[override]
            if b"abc" in bytes(b):
                f.write_bytes(b"abcdef")
            return super().write(b)

    with pytest.raises(HermeticError, match="grew"):
        write_tar([entry], Growing())


def test_compression_follows_the_extension() -> None:
    assert compression_for(Path("x.tar.gz")) == "gzip"
    assert compression_for(Path("x.tar.zst")) == "zstd"
    assert compression_for(Path("x.tar")) == "none"
    with pytest.raises(HermeticError, match=r"\.tar\.gz"):
        compression_for(Path("x.zip"))


@pytest.mark.parametrize("fmt", ["conda", "tar.bz2"])
def test_package_is_reproducible_and_readable(tmp_path: Path, fmt: str) -> None:
    spec = PackageSpec(
        "demo",
        "1.0",
        "h0_0",
        fmt=fmt,  # type: ignore[arg-type]
        files={
            "bin/demo": b"#!/bin/sh\necho /opt/anaconda1anaconda2anaconda3\n",
            "lib/libdemo.so": b"\0ELF /opt/anaconda1anaconda2anaconda3/lib\0",
        },
        executable_files=("bin/demo",),
        text_placeholder_files=("bin/demo",),
        binary_placeholder_files=("lib/libdemo.so",),
        symlinks={"lib/libdemo.so.1": "libdemo.so"},
    )
    a = write_package(spec, tmp_path / "a" / spec.filename)
    time.sleep(1.1)
    b = write_package(spec, tmp_path / "b" / spec.filename)
    assert a.read_bytes() == b.read_bytes()
    assert IndexJson.from_package_archive(a).name.normalized == "demo"
    modes = {
        str(p.relative_path): (
            str(p.prefix_placeholder.file_mode) if p.prefix_placeholder else None
        )
        for p in PathsJson.from_package_archive(a).paths
    }
    assert set(modes) == {"bin/demo", "lib/libdemo.so", "lib/libdemo.so.1"}
    assert "text" in str(modes["bin/demo"]).lower()
    assert "binary" in str(modes["lib/libdemo.so"]).lower()
    if fmt == "conda":
        with zipfile.ZipFile(a) as zf:
            assert zf.namelist() == [
                "metadata.json",
                "pkg-demo-1.0-h0_0.tar.zst",
                "info-demo-1.0-h0_0.tar.zst",
            ]
            assert json.loads(zf.read("metadata.json")) == {"conda_pkg_format_version": 2}
    else:
        with tarfile.open(a) as tf:
            assert tf.getnames()[0].startswith("info/")


def test_kernel_copy_into_a_file_gives_the_same_bytes(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "t")
    (root / "big").write_bytes(os.urandom(3 << 20))
    out = tmp_path / "a.tar"
    with open(out, "wb") as f:  # a real file: contents go through os.sendfile
        write_tar(tree_entries(root), f, mtime=1)
    assert out.read_bytes() == tar_bytes(tree_entries(root), mtime=1)
