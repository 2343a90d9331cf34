"""The PyPI layer of `hermetic lock`: uv on top of conda, nothing installed twice."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from clirun import assert_clean_error, hermetic
from hermetic.lock.read import load_lock
from projects import locked, write_spec


def mixed_spec(channel, wheelhouse, pypi: str, conda: str = 'pynum = "*"', extra: str = "") -> str:
    return textwrap.dedent(f"""
    channels = [{json.dumps(str(channel))}]
    platforms = ["linux-64"]
    [dependencies]
    python = "*"
    {conda}
    [pypi-dependencies]
    {pypi}
    [pypi-options]
    find-links = [{json.dumps(str(wheelhouse))}]
    no-index = true
    {extra}
    """)


def test_conda_provided_distribution_is_not_taken_from_pypi(tmp_path, conda_channel, wheelhouse):
    write_spec(tmp_path, mixed_spec(conda_channel, wheelhouse, 'pyusesnum = "*"\nhellowheel = "*"'))
    hermetic("lock", cwd=tmp_path)
    lock = load_lock(tmp_path / "hermetic.lock")
    pypi = {p.name: p for p in lock.pypi_packages("default", "linux-64")}
    assert set(pypi) == {"pyusesnum", "hellowheel"}, (
        "pynum comes from conda and must not be locked from PyPI"
    )
    assert locked(tmp_path)["pynum"].startswith("1.5=")
    for p in pypi.values():
        assert p.sha256 and len(p.sha256) == 64
        assert p.url.startswith("file://") and p.url.endswith(".whl")
    # every PyPI artifact's hash is the real file's
    import hashlib
    from urllib.parse import unquote, urlparse

    for p in pypi.values():
        data = Path(unquote(urlparse(p.url).path)).read_bytes()
        assert hashlib.sha256(data).hexdigest() == p.sha256


def test_pypi_package_sees_the_conda_version(tmp_path, conda_channel, wheelhouse):
    write_spec(tmp_path, mixed_spec(conda_channel, wheelhouse, 'pyneedsnew = "*"'))
    proc = hermetic("lock", cwd=tmp_path, check=1)
    assert_clean_error(proc)
    assert "pynum" in proc.stderr and "1.5" in proc.stderr and "conda" in proc.stderr


def test_pypi_mapping_override(tmp_path, conda_channel, wheelhouse):
    # py-renamed (conda) is the PyPI distribution renamed-dist: without the mapping uv would
    # take renamed-dist from PyPI a second time.
    body = mixed_spec(conda_channel, wheelhouse, 'usesrenamed = "*"', conda='py-renamed = "*"')
    write_spec(tmp_path, body)
    hermetic("lock", cwd=tmp_path)
    names = {
        p.name for p in load_lock(tmp_path / "hermetic.lock").pypi_packages("default", "linux-64")
    }
    assert "renamed-dist" in names
    write_spec(tmp_path, body + '\n[pypi-mapping]\npy-renamed = "renamed-dist"\n')
    hermetic("lock", cwd=tmp_path)
    names = {
        p.name for p in load_lock(tmp_path / "hermetic.lock").pypi_packages("default", "linux-64")
    }
    assert names == {"usesrenamed"}


def test_pypi_unknown_package_is_a_clear_error(tmp_path, conda_channel, wheelhouse):
    write_spec(tmp_path, mixed_spec(conda_channel, wheelhouse, 'no-such-wheel = "*"'))
    proc = hermetic("lock", cwd=tmp_path, check=1)
    assert_clean_error(proc)
    assert "no-such-wheel" in proc.stderr


@pytest.mark.network
def test_real_pypi_platform_wheels(tmp_path, conda_channel):
    """One test against real PyPI: a compiled wheel is picked per platform, with its hash."""
    write_spec(
        tmp_path,
        textwrap.dedent(f"""
        channels = [{json.dumps(str(conda_channel))}]
        platforms = ["linux-64", "osx-arm64"]
        [dependencies]
        python = "*"
        [pypi-dependencies]
        pyyaml = "==6.0.2"
        """),
    )
    proc = hermetic("lock", cwd=tmp_path, check=None)
    unreachable = ("network", "failed to fetch", "dns error", "connect", "timed out")
    if proc.returncode != 0 and any(w in proc.stderr.lower() for w in unreachable):
        pytest.skip("PyPI is not reachable from this machine")
    assert proc.returncode == 0, proc.stderr
    lock = load_lock(tmp_path / "hermetic.lock")
    linux = lock.pypi_packages("default", "linux-64")[0]
    mac = lock.pypi_packages("default", "osx-arm64")[0]
    assert "manylinux" in linux.url and "x86_64" in linux.url
    assert "macosx" in mac.url and "arm64" in mac.url
    assert linux.sha256 != mac.sha256
