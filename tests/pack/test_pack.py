"""`hermetic pack`/`unpack`/`bundle` end to end, as a user runs them.

A project locks python, a compiled tool with text placeholders, a library with a binary
placeholder, a noarch python package and a PyPI wheel with a console script, from a channel
served over HTTP on 127.0.0.1. The archive is extracted with plain `tar` and relocated by its
own `bin/hermetic-unpack` under `env -i`, into a short and a much longer path.
"""

from __future__ import annotations

import ctypes
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clirun import assert_clean_error
from fixtures.serve import serve_directory
from fixtures.wheels import build_wheel
from projects import h

PH = b"/opt/anaconda1anaconda2anaconda3"


@pytest.fixture(scope="module")
def project(
    conda_channel: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Path]]:
    """(project root, cache) with a lock whose channel is served over HTTP."""
    tmp = tmp_path_factory.mktemp("pack")
    wheels = tmp / "wheels"
    build_wheel(
        wheels,
        "hellowheel",
        "0.1",
        files={
            "hellowheel/__init__.py": 'def main():\n    print("hello from hellowheel", __file__)\n',
            "hellowheel-0.1.dist-info/entry_points.txt": "[console_scripts]\n"
            "hellowheel = hellowheel:main\n",
        },
    )
    root = tmp / "proj"
    root.mkdir()
    with serve_directory(conda_channel) as url:
        (root / "hermetic.toml").write_text(
            f'channels = ["{url}"]\nplatforms = ["linux-64"]\n\n[dependencies]\n'
            'python = "*"\ntinytool = "*"\npyhello = "*"\nlibwhere = "*"\n\n'
            '[pypi-dependencies]\nhellowheel = "*"\n\n'
            f'[pypi-options]\nfind-links = ["{wheels}"]\nno-index = true\n\n'
            '[activation]\nscripts = ["dev-setup.sh"]\n\n'
            "[activation.env]\nSECRET_LOOKING = 'pa$$word $(touch /tmp/pwned) `id`'\n"
            'DATA_DIR = { value = "${HOME}/data", expand = true }\n'
        )
        cache = tmp / "cache"
        h("lock", cwd=root, cache=cache)
        assert url in (root / "hermetic.lock").read_text()
        yield root, cache


@pytest.fixture(scope="module")
def archive(project: tuple[Path, Path]) -> Path:
    root, cache = project
    out = root / "env.tar.zst"
    proc = h("pack", "-o", str(out), cwd=root, cache=cache)
    assert "members" in proc.stdout
    assert "dev-setup.sh" in proc.stderr and "not in the archive" in proc.stderr
    return out


def run_clean(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["env", "-i", *map(str, argv)], capture_output=True, text=True, timeout=60, check=False
    )


def extract_and_relocate(archive: Path, dest: Path) -> subprocess.CompletedProcess[str]:
    dest.mkdir(parents=True)
    subprocess.run(["tar", "-xf", str(archive), "-C", str(dest)], check=True)
    return run_clean("/bin/sh", dest / "bin" / "hermetic-unpack")


def test_pack_is_byte_reproducible(project: tuple[Path, Path], archive: Path) -> None:
    root, _ = project
    time.sleep(1.1)
    again = root / "again.tar.zst"
    h("pack", "-o", str(again), cwd=root, cache=root / "another-cache")  # fetched afresh
    assert again.read_bytes() == archive.read_bytes()


@pytest.mark.parametrize("depth", [1, 5])
def test_unpacked_env_runs_anywhere(archive: Path, tmp_path: Path, depth: int) -> None:
    dest = tmp_path.joinpath(*[f"much-longer-directory-{i:02d}" for i in range(depth)], "env")
    proc = extract_and_relocate(archive, dest)
    assert proc.returncode == 0, proc.stderr
    assert "relocated" in proc.stdout
    dest = dest.resolve()

    tool = run_clean(dest / "bin" / "tinytool")  # text placeholder + compiled tool via RPATH
    assert tool.returncode == 0, tool.stderr
    assert f"prefix={dest}" in tool.stdout and "libtiny 1.0 answer 42" in tool.stdout
    py = run_clean(dest / "bin" / "python", "-c", "import sys, hellowheel; print(sys.prefix)")
    assert py.returncode == 0, py.stderr
    assert py.stdout.strip() == str(dest)
    for script, says in (("hellowheel", "hello from hellowheel"), ("pyhello", "hello from")):
        out = run_clean(dest / "bin" / script)  # PyPI and conda entry points, shebangs moved
        assert out.returncode == 0, out.stderr
        assert says in out.stdout and str(dest) in out.stdout
    if len(str(dest)) + 20 > 127:
        assert (dest / "bin" / "hellowheel").read_bytes().startswith(b"#!/bin/sh\n")
    # the binary placeholder, patched in place and NUL-padded
    lib = ctypes.CDLL(str(dest / "lib" / "libwhere.so"))
    lib.where_data.restype = ctypes.c_char_p
    assert lib.where_data() == f"{dest}/share/data".encode()
    act = run_clean(
        "HOME=/home/u", "/bin/sh", "-c",
        f". {dest}/bin/activate && echo $CONDA_PREFIX && echo $PATH && echo $HERMETIC_ENV"
        ' && printf "%s\\n" "$SECRET_LOOKING" "$DATA_DIR"',
    )  # fmt: skip
    lines = act.stdout.splitlines()
    assert lines[0] == str(dest)
    assert lines[1].startswith(f"{dest}/bin")
    # the manifest's [activation.env], as `hermetic run` exports it: literal unless `expand`
    assert lines[2:] == ["default", "pa$$word $(touch /tmp/pwned) `id`", "/home/u/data"]
    meta = json.loads(next((dest / "conda-meta").glob("tinytool-*.json")).read_text())
    assert "extracted_package_dir" not in meta and meta["name"] == "tinytool"
    again = run_clean("/bin/sh", dest / "bin" / "hermetic-unpack")
    assert again.returncode == 0 and "already relocated" in again.stdout


def test_binary_placeholder_length_limit(archive: Path, tmp_path: Path) -> None:
    dest = tmp_path.joinpath(*["d" * 60] * 5)  # > 255 bytes: longer than libwhere's placeholder
    proc = extract_and_relocate(archive, dest)
    assert proc.returncode == 1
    assert "lib/libwhere.so" in proc.stderr and "shorter path" in proc.stderr
    assert PH in (dest / "bin" / "tinytool").read_bytes()  # checked before anything changed
    assert not (dest / ".hermetic-pack" / "relocated").exists()


def test_hermetic_unpack_checks_then_relocates(
    project: tuple[Path, Path], archive: Path, tmp_path: Path
) -> None:
    _, cache = project
    proc = h("unpack", str(archive), str(tmp_path / "u"), cwd=tmp_path, cache=cache)
    assert "relocated" in proc.stdout
    assert run_clean(tmp_path / "u" / "bin" / "tinytool").returncode == 0

    cut = tmp_path / "cut.tar.zst"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    bad = h("unpack", str(cut), str(tmp_path / "v"), cwd=tmp_path, cache=cache, check=1)
    assert_clean_error(bad)
    assert "truncated or corrupt" in bad.stderr
    assert not (tmp_path / "v").exists()


def _tar_gz(path: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    with tarfile.open(path, "w:gz" if path.name.endswith(".gz") else "w:") as tf:
        for ti, data in members:
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return path


@pytest.mark.parametrize(
    "evil",
    [
        [("../escape", tarfile.REGTYPE, "")],
        [("/etc/evil", tarfile.REGTYPE, "")],
        [("lib", tarfile.SYMTYPE, "/etc"), ("lib/passwd", tarfile.REGTYPE, "")],
        [("up", tarfile.SYMTYPE, "../../x")],
    ],
)
def test_tar_slip_members_are_refused(
    project: tuple[Path, Path], tmp_path: Path, evil: list[tuple[str, bytes, str]]
) -> None:
    members = []
    for name, kind, link in evil:
        ti = tarfile.TarInfo(name)
        ti.type = kind  # type: ignore[assignment]
        ti.linkname = link
        members.append((ti, b"x"))
    bad = _tar_gz(tmp_path / "evil.tar.gz", members)
    proc = h("unpack", str(bad), str(tmp_path / "d"), cwd=tmp_path, cache=project[1], check=1)
    assert_clean_error(proc)
    assert "escape" in proc.stderr or "outside" in proc.stderr or "below a symlink" in proc.stderr
    assert not (tmp_path / "d").exists()


def test_tampered_member_is_detected(archive: Path, tmp_path: Path, project) -> None:
    with _open_zst(archive) as tf:
        members = [(m, tf.extractfile(m).read() if m.isfile() else b"") for m in tf]
    members = [
        (m, data.replace(b"tinytool data", b"tinytool DATA") if m.name.endswith("README") else data)
        for m, data in members
    ]
    bad = _tar_gz(tmp_path / "tampered.tar", members)
    proc = h("unpack", str(bad), str(tmp_path / "d"), cwd=tmp_path, cache=project[1], check=1)
    assert "does not match its checksums" in proc.stderr
    assert not (tmp_path / "d").exists()


def _open_zst(path: Path) -> tarfile.TarFile:
    import zstandard

    data = zstandard.ZstdDecompressor().stream_reader(path.read_bytes(), read_across_frames=True)
    return tarfile.open(fileobj=io.BytesIO(data.read()), mode="r:")


def test_gzip_pack_matches_plain_tar(project: tuple[Path, Path], archive: Path) -> None:
    root, cache = project
    gz = root / "env.tar.gz"
    h("pack", "-o", str(gz), cwd=root, cache=cache)
    with gzip.open(gz) as g, _open_zst(archive) as z:
        assert (
            hashlib.sha256(g.read()).hexdigest()
            == hashlib.sha256(
                z.fileobj.getvalue()  # type: ignore[union-attr]
            ).hexdigest()
        )


def _tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _records(prefix: Path) -> set[tuple[str, str, str, str]]:
    out = set()
    for f in (prefix / "conda-meta").glob("*.json"):
        m = json.loads(f.read_text())
        out.add((m["name"], m["version"], m["build"], m["sha256"]))
    for d in prefix.glob("lib/python*/site-packages/*.dist-info"):
        out.add((d.name, "", "", (d / "INSTALLER").read_text().strip()))
    return out


def test_bundle_installs_offline(
    conda_channel: Path, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # its own served channel, so stopping the server affects no other test
    tmp = tmp_path_factory.mktemp("bundle")
    wheels = tmp / "wheels"
    build_wheel(wheels, "hellowheel", "0.1")
    root = tmp / "proj"
    root.mkdir()
    cache = tmp / "cache"
    with serve_directory(conda_channel) as url:
        (root / "hermetic.toml").write_text(
            f'channels = ["{url}"]\nplatforms = ["linux-64"]\n\n[dependencies]\n'
            'python = "*"\ntinytool = "*"\npyhello = "*"\n\n'
            '[pypi-dependencies]\nhellowheel = "*"\n\n'
            f'[pypi-options]\nfind-links = ["{wheels}"]\nno-index = true\n\n'
            '[activation]\nscripts = ["dev-setup.sh"]\n\n'
            "[activation.env]\nSECRET_LOOKING = 'pa$$word $(touch /tmp/pwned) `id`'\n"
            'DATA_DIR = { value = "${HOME}/data", expand = true }\n'
        )
        h("lock", cwd=root, cache=cache)
        h("install", "--frozen", cwd=root, cache=cache)
        h("bundle", "-o", str(tmp / "b1"), cwd=root, cache=cache)
        time.sleep(1.1)
        h("bundle", "-o", str(tmp / "b2"), cwd=root, cache=tmp / "cache2")
    assert _tree(tmp / "b1") == _tree(tmp / "b2")
    assert "@EXPLICIT" in (tmp / "b1" / "explicit-linux-64.txt").read_text()
    assert url not in (tmp / "b1" / "hermetic.lock").read_text()
    shutil.rmtree(wheels)  # the wheelhouse is gone too: only the bundle remains

    site = tmp / "airgapped"
    site.mkdir()
    empty = tmp / "empty-cache"
    proc = subprocess.run(
        ["unshare", "-n", "env", f"HERMETIC_CACHE_DIR={empty}", "NO_COLOR=1",
         sys.executable, "-m", "hermetic", "install", "--bundle", str(tmp / "b1")],
        cwd=site, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    offline = site / ".hermetic" / "envs" / "default"
    assert _records(offline) == _records(root / ".hermetic" / "envs" / "default")
    assert run_clean(offline / "bin" / "tinytool").returncode == 0

    # a bundle with a file missing, or a different one, is refused naming the package
    broken = tmp / "b2"
    next(broken.glob("channel/linux-64/tinytool-*")).unlink()
    bad = h("install", "--bundle", str(broken), cwd=site, cache=empty, check=1)
    assert_clean_error(bad)
    assert "missing tinytool 2.1" in bad.stderr
    wheel = next((tmp / "b1" / "wheels").glob("hellowheel-*.whl"))
    wheel.write_bytes(wheel.read_bytes() + b"\0")
    bad = h("install", "--bundle", str(tmp / "b1"), cwd=tmp, cache=empty, check=1)
    assert "hellowheel 0.1" in bad.stderr and "sha256" in bad.stderr


def test_hermetic_unpack_refuses_a_too_long_path_before_writing(
    project: tuple[Path, Path], archive: Path, tmp_path: Path
) -> None:
    dest = tmp_path.joinpath(*["d" * 60] * 5)
    proc = h("unpack", str(archive), str(dest), cwd=tmp_path, cache=project[1], check=1)
    assert_clean_error(proc)
    assert "lib/libwhere.so" in proc.stderr and "nothing was written" in proc.stderr
    assert not dest.exists()


def test_cross_platform_pack_runs_nothing(conda_channel: Path, tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "hermetic.toml").write_text(
        f'channels = ["{conda_channel}"]\nplatforms = ["linux-64", "osx-arm64"]\n\n'
        '[dependencies]\npython = "*"\ntinytool = "*"\n'
    )
    cache = tmp_path / "cache"
    h("lock", cwd=root, cache=cache)
    out = root / "osx.tar"
    proc = h("pack", "-p", "osx-arm64", "-o", str(out), cwd=root, cache=cache)
    assert "(osx-arm64)" in proc.stdout
    with tarfile.open(out) as tf:
        names = tf.getnames()
        tool = tf.extractfile("bin/tinytool").read()  # type: ignore[union-attr]
        manifest = tf.extractfile(".hermetic-pack/relocate").read()  # type: ignore[union-attr]
    assert "bin/hermetic-unpack" in names and "conda-meta/tinytool-2.1-h0_0.json" in names
    assert PH in tool  # the osx-arm64 script, placeholder intact
    assert b"bin/tinytool" in manifest
    bad = h("pack", "-p", "linux-aarch64", "-o", str(out), cwd=root, cache=cache, check=None)
    assert bad.returncode != 0 and "not locked for linux-aarch64" in bad.stderr


def test_bundle_of_a_local_channel_for_another_platform(
    conda_channel: Path, tmp_path: Path
) -> None:
    from hermetic.lock.read import load_lock
    from hermetic.pack.bundle import absolute_lock

    root = tmp_path / "proj"
    root.mkdir()
    (root / "hermetic.toml").write_text(
        f'channels = ["{conda_channel}"]\nplatforms = ["linux-64", "osx-arm64"]\n\n'
        '[dependencies]\ntinytool = "*"\n'
    )
    cache = tmp_path / "cache"
    h("lock", cwd=root, cache=cache)
    h("bundle", "-p", "osx-arm64", "-o", str(tmp_path / "b"), cwd=root, cache=cache)
    moved = tmp_path / "moved"
    (tmp_path / "b").rename(moved)  # a bundle works wherever it is copied to
    local = tmp_path / "local.lock"
    local.write_text(absolute_lock((moved / "hermetic.lock").read_text(), moved))
    records = load_lock(local).conda_records("default", "osx-arm64")
    assert sorted(r.name.normalized for r in records) == ["libtiny", "tinytool"]
    assert all(str(r.url).startswith(moved.as_uri()) for r in records)
    assert (moved / "channel" / "osx-arm64" / "repodata.json").is_file()


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".unpacking-" in p.name)


def test_failed_relocation_leaves_nothing_that_looks_unpacked(
    project: tuple[Path, Path], archive: Path, tmp_path: Path
) -> None:
    # the relocation script refuses a DEST with a `$` in it: hermetic must clean up after it
    dest = tmp_path / "price$tag"
    proc = h("unpack", str(archive), str(dest), cwd=tmp_path, cache=project[1], check=1)
    assert_clean_error(proc)
    assert "relocating" in proc.stderr and "nothing was left there" in proc.stderr
    assert not dest.exists()
    assert _leftovers(tmp_path) == []


def test_extraction_failure_leaves_nothing_that_looks_unpacked(
    project: tuple[Path, Path], archive: Path, tmp_path: Path
) -> None:
    # a file-size limit makes `tar` fail half-way through, as a full disk would
    dest = tmp_path / "env"
    env = dict(os.environ, HERMETIC_CACHE_DIR=str(project[1]), NO_COLOR="1")
    proc = subprocess.run(
        ["prlimit", "--fsize=20000", "--", sys.executable, "-m", "hermetic", "unpack",
         str(archive), str(dest)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert_clean_error(proc)
    assert "failed" in proc.stderr and "nothing was left there" in proc.stderr
    assert not dest.exists()
    assert _leftovers(tmp_path) == []
    # an empty DEST the user made stays usable for the next try
    dest.mkdir()
    h("unpack", str(archive), str(dest), cwd=tmp_path, cache=project[1])
    assert (dest / ".hermetic-pack" / "relocated").is_file()
