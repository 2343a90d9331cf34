"""The test fixtures are real: rattler solves and installs them, and the installed things run."""

from __future__ import annotations

import base64
import ctypes
import hashlib
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from rattler.exceptions import SolverError
from rattler.package import IndexJson, PathsJson

from fixtures.channels import (
    PREFIX_PLACEHOLDER,
    PackageSpec,
    build_channel,
    build_package,
    cache_dir,
    install_records,
    python_package,
    solve_specs,
)


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "LD_", "CONDA"))}
    env.pop("VIRTUAL_ENV", None)
    return env


def run(*cmd: str | Path) -> str:
    proc = subprocess.run(
        [str(c) for c in cmd], env=clean_env(), capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def names(records) -> dict[str, str]:
    return {r.name.normalized: f"{r.version}={r.build}" for r in records}


@pytest.fixture(scope="module")
def pkg_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("rattler-pkgs")


def test_channel_layout(conda_channel: Path, fixture_python_version: str):
    for sub in ("linux-64", "noarch", "osx-arm64"):
        assert (conda_channel / sub / "repodata.json").is_file()
    assert not (conda_channel / ".tmp").exists()
    assert not list(conda_channel.rglob("*.zst"))
    repo = json.loads((conda_channel / "linux-64" / "repodata.json").read_text())
    pkgs = {**repo["packages"], **repo["packages.conda"]}
    assert f"python-{fixture_python_version}-h0_0_cpython.conda" in pkgs
    assert "tinytool-2.1-h0_0.conda" in pkgs
    assert "libtiny-0.9-h0_0.tar.bz2" in pkgs
    tiny = IndexJson.from_package_archive(conda_channel / "linux-64" / "tinytool-2.1-h0_0.conda")
    assert tiny.depends == ["libtiny >=1.0,<2"]
    paths = PathsJson.from_package_archive(conda_channel / "linux-64" / "tinytool-2.1-h0_0.conda")
    placeholders = {
        str(p.relative_path): p.prefix_placeholder.placeholder
        for p in paths.paths
        if p.prefix_placeholder
    }
    assert placeholders == {
        "bin/tinytool": PREFIX_PLACEHOLDER,
        "etc/tinytool.conf": PREFIX_PLACEHOLDER,
    }


def test_tinytool_installs_and_runs_without_ld_library_path(conda_channel, tmp_path, pkg_cache):
    recs = solve_specs(conda_channel, ["tinytool"])
    assert names(recs) == {"libtiny": "1.0=h0_0", "tinytool": "2.1=h0_0"}
    prefix = install_records(recs, tmp_path / "env", pkg_cache)

    out = run(prefix / "bin" / "tinytool")
    assert out.splitlines() == [f"prefix={prefix}", "tinytool 2.1 libtiny 1.0 answer 42"]
    assert run(prefix / "bin" / "tinytool-runpath").strip() == "tinytool 2.1 libtiny 1.0 answer 42"
    conf = (prefix / "etc" / "tinytool.conf").read_text()
    assert f"prefix = {prefix}\n" in conf and PREFIX_PLACEHOLDER not in conf

    # DT_RPATH on tinytool-bin, DT_RUNPATH on tinytool-runpath, both $ORIGIN/../lib
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile

    def dyn(path: Path) -> dict[str, str]:
        with open(path, "rb") as f:
            sec = next(s for s in ELFFile(f).iter_sections() if isinstance(s, DynamicSection))
            return {
                t.entry.d_tag: getattr(t, "rpath", getattr(t, "runpath", ""))
                for t in sec.iter_tags()
            }

    assert dyn(prefix / "bin" / "tinytool-bin")["DT_RPATH"] == "$ORIGIN/../lib"
    assert "DT_RUNPATH" not in dyn(prefix / "bin" / "tinytool-bin")
    assert dyn(prefix / "bin" / "tinytool-runpath")["DT_RUNPATH"] == "$ORIGIN/../lib"

    # activation files and conda-meta
    assert "TINYTOOL_ACTIVATED=yes" in (prefix / "etc/conda/activate.d/tinytool.sh").read_text()
    assert (prefix / "etc/conda/deactivate.d/tinytool.sh").is_file()
    env_vars = json.loads((prefix / "etc/conda/env_vars.d/tinytool.json").read_text())
    assert env_vars == {"TINYTOOL_HOME": "share/tinytool"}
    assert (prefix / "conda-meta" / "tinytool-2.1-h0_0.json").is_file()
    assert (prefix / "lib" / "libtiny.so").is_symlink()


def test_libwhere_binary_placeholder_is_patched(conda_channel, tmp_path, pkg_cache):
    prefix = install_records(solve_specs(conda_channel, ["libwhere"]), tmp_path / "env", pkg_cache)
    lib = ctypes.CDLL(str(prefix / "lib" / "libwhere.so"))
    lib.where_data.restype = ctypes.c_char_p
    assert lib.where_data().decode() == f"{prefix}/share/data"


@pytest.mark.parametrize(
    ("cuda", "build"),
    [(None, "cpu_0"), ("12.2", "cpu_0"), ("12.6", "cuda124_1")],
)
def test_gpukernel_variant_follows_cuda(conda_channel, cuda, build):
    got = names(solve_specs(conda_channel, ["gpukernel"], cuda=cuda))
    assert got["gpukernel"] == f"1.0={build}"
    if build.startswith("cuda"):
        assert got["cuda-version"].startswith("12.6=")
    else:
        assert "cuda-version" not in got


def test_constrains_and_virtual_packages(conda_channel):
    assert names(solve_specs(conda_channel, ["libtiny", "pinner"]))["libtiny"] == "0.9=h0_0"
    with pytest.raises(SolverError):
        solve_specs(conda_channel, ["tinytool", "pinner"])
    assert "cpukernel" in names(solve_specs(conda_channel, ["cpukernel"], glibc="2.28"))
    with pytest.raises(SolverError, match="__glibc"):
        solve_specs(conda_channel, ["cpukernel"], glibc="2.12")


def test_osx_arm64_solves(conda_channel, fixture_python_version):
    got = names(solve_specs(conda_channel, ["tinytool", "pyhello"], platform="osx-arm64"))
    assert got["tinytool"] == "2.1=h0_0"
    assert got["libtiny"] == "1.0=h0_0"
    assert got["python"] == f"{fixture_python_version}=h0_0_cpython"
    assert got["pyhello"] == "0.3.0=pyhd8ed1ab_0"


def test_python_and_noarch_packages_install_and_run(
    conda_channel, tmp_path, pkg_cache, fixture_python_version, wheelhouse
):
    recs = solve_specs(conda_channel, ["python", "pyhello", "pynum", "py-renamed"])
    got = names(recs)
    assert got["python"] == f"{fixture_python_version}=h0_0_cpython"
    prefix = install_records(recs, tmp_path / "env", pkg_cache)

    xy = ".".join(fixture_python_version.split(".")[:2])
    py = prefix / "bin" / "python"
    assert py.is_symlink() and (prefix / "bin" / f"python{xy}").is_file()
    code = (
        "import sys, json, ssl, sqlite3, sysconfig, pynum, renamed_dist;"
        "print(sys.prefix); print(sys.version.split()[0]); print(pynum.__version__);"
        "print(sysconfig.get_config_var('prefix'))"
    )
    out = run(py, "-c", code).splitlines()
    assert out == [str(prefix), fixture_python_version, "1.5", str(prefix)]

    out = run(prefix / "bin" / "pyhello")
    site = prefix / "lib" / f"python{xy}" / "site-packages"
    assert out.strip() == f"hello from pyhello {site / 'pyhello' / '__init__.py'}"
    assert (site / "pynum-1.5.dist-info" / "METADATA").is_file()
    meta = (site / "renamed_dist-2.0.dist-info" / "METADATA").read_text()
    assert "Name: renamed-dist" in meta

    # the wheelhouse installs into that conda python with uv, seeing conda's pynum 1.5
    try:
        from uv import find_uv_bin

        uv = find_uv_bin()
    except (ImportError, FileNotFoundError):
        pytest.skip("uv not installed")
    env = clean_env() | {"UV_CACHE_DIR": str(tmp_path / "uv-cache"), "UV_NO_CONFIG": "1"}
    proc = subprocess.run(
        [
            uv,
            "pip",
            "install",
            "--python",
            str(py),
            "--offline",
            "--no-index",
            "--find-links",
            str(wheelhouse),
            "pyusesnum",
            "hellowheel",
            "usesrenamed",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "pynum" not in proc.stderr.replace("pyusesnum", "")  # conda's pynum satisfied it
    out = run(
        py, "-c", "import pyusesnum, hellowheel, pynum; hellowheel.main(); print(pynum.__version__)"
    )
    assert out.splitlines() == ["hello from hellowheel", "1.5"]


def test_wheels_are_valid(wheelhouse):
    wheels = sorted(p.name for p in wheelhouse.glob("*.whl"))
    assert wheels == [
        "hellowheel-0.1-py3-none-any.whl",
        "pyneedsnew-1.0-py3-none-any.whl",
        "pynum-1.5-py3-none-any.whl",
        "pynum-2.0-py3-none-any.whl",
        "pyusesnum-1.0-py3-none-any.whl",
        "renamed_dist-2.0-py3-none-any.whl",
        "usesrenamed-1.0-py3-none-any.whl",
    ]
    with zipfile.ZipFile(wheelhouse / "pyusesnum-1.0-py3-none-any.whl") as zf:
        meta = zf.read("pyusesnum-1.0.dist-info/METADATA").decode()
        assert "Requires-Dist: pynum>=1.0" in meta
        for line in zf.read("pyusesnum-1.0.dist-info/RECORD").decode().splitlines():
            path, digest, size = line.split(",")
            if path.endswith("RECORD"):
                continue
            data = zf.read(path)
            want = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert digest == f"sha256={want}" and int(size) == len(data)


def test_custom_channel_and_python_cache(tmp_path):
    ch = build_channel(
        tmp_path / "ch",
        [
            PackageSpec("aaa", "1.0", fmt="tar.bz2", files={"share/aaa": b"a"}),
            PackageSpec("bbb", "2.0", subdir="noarch", noarch="generic", depends=("aaa",)),
        ],
    )
    assert names(solve_specs(ch, ["bbb"])) == {"aaa": "1.0=0", "bbb": "2.0=0"}
    empty = build_channel(tmp_path / "empty", [])
    for sub in ("noarch", "linux-64"):
        assert json.loads((empty / sub / "repodata.json").read_text())["packages"] == {}

    spec = python_package(sys.version_info)
    assert spec.cache_key and (cache_dir() / spec.cache_key / spec.filename).is_file()
    t0 = time.monotonic()
    out = build_package(spec, tmp_path / "again")
    assert time.monotonic() - t0 < 5 and out.stat().st_size > 1_000_000
