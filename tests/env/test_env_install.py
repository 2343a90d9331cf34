"""`hermetic install` and `hermetic run` on the fixture channel and wheelhouse (offline)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from clirun import assert_clean_error
from hermetic.env.install import KILL_POINTS
from hermetic.env.marker import is_complete, read_marker
from hermetic.layout import MARKER
from hermetic.platform import current_platform
from projects import h, write_project

PREFIX = Path(".hermetic/envs/default")


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    """One package cache for the module (HERMETIC_CACHE_DIR), kept out of the user's."""
    return tmp_path_factory.mktemp("hermetic-cache")


def test_install_then_run_tool_entry_point_and_wheel(tmp_path, conda_channel, wheelhouse, cache):
    root = write_project(tmp_path / "p", conda_channel, wheelhouse)
    proc = h("install", cwd=root, cache=cache)
    assert "re-locked" in proc.stdout  # there was no lock yet
    prefix = root / PREFIX
    marker = read_marker(prefix)
    assert marker is not None and marker.platform == current_platform()
    assert is_complete(prefix, root / "hermetic.lock", "default", current_platform())

    tool = h("run", "tinytool", cwd=root, cache=cache)
    assert "libtiny 1.0 answer 42" in tool.stdout
    assert f"prefix={prefix}" in tool.stdout  # the text placeholder was patched
    entry = h("run", "pyhello", cwd=root, cache=cache)
    assert "hello from pyhello" in entry.stdout and str(prefix) in entry.stdout
    wheel = h(
        "run",
        "python",
        "-c",
        "import hellowheel; hellowheel.main(); print(hellowheel.__file__)",
        cwd=root,
        cache=cache,
    )
    assert "hello from hellowheel" in wheel.stdout and str(prefix) in wheel.stdout
    # uv installed the wheel; conda's pyhello is still conda's
    sp = next(prefix.glob("lib/python*/site-packages"))
    assert (next(sp.glob("hellowheel-*.dist-info")) / "INSTALLER").read_text().strip() == "uv"

    again = h("install", cwd=root, cache=cache)
    assert "up to date" in again.stdout


def test_activation_env_vars_and_scripts(tmp_path, conda_channel, cache):
    root = tmp_path / "p"
    extra = """
[activation]
scripts = ["setup.sh"]

[activation.env]
SPEC_VAR = "from the spec"
SPEC_REF = { value = "$CONDA_PREFIX/share", expand = true }
"""
    write_project(root, conda_channel, deps='tinytool = "*"', extra="", pypi="")
    (root / "hermetic.toml").write_text((root / "hermetic.toml").read_text() + extra)
    (root / "setup.sh").write_text('export FROM_SCRIPT="script ran"\n')
    show = (
        'echo "CP=$CONDA_PREFIX"; echo "TA=$TINYTOOL_ACTIVATED"; echo "TH=$TINYTOOL_HOME"; '
        'echo "SV=$SPEC_VAR"; echo "SR=$SPEC_REF"; echo "FS=$FROM_SCRIPT"; '
        'echo "LD=${LD_LIBRARY_PATH-unset}"; echo "PATH=$PATH"; echo "HE=$HERMETIC_ENV"'
    )
    env = dict(os.environ)
    env.pop("LD_LIBRARY_PATH", None)
    proc = h("run", "bash", "-c", show, cwd=root, cache=cache, LD_LIBRARY_PATH="")
    out = dict(line.split("=", 1) for line in proc.stdout.splitlines())
    prefix = str(root / PREFIX)
    assert out["CP"] == prefix
    assert out["TA"] == "yes"  # etc/conda/activate.d/*.sh was sourced
    assert out["TH"] == "share/tinytool"  # etc/conda/env_vars.d/*.json
    assert out["SV"] == "from the spec"
    assert out["SR"] == f"{prefix}/share"
    assert out["FS"] == "script ran"
    assert out["LD"] == ""  # left as the caller had it: hermetic never sets it
    assert out["HE"] == "default"
    path = out["PATH"].split(":")
    assert path[0] == f"{prefix}/bin" and path.count(f"{prefix}/bin") == 1

    hook = h("shell-hook", cwd=root, cache=cache).stdout
    assert f"export PATH='{prefix}/bin':\"${{PATH}}\"" in hook
    assert "activate.d/tinytool.sh" in hook and "SPEC_VAR='from the spec'" in hook
    assert "LD_LIBRARY_PATH" not in hook
    fish = h("shell-hook", "--shell", "fish", cwd=root, cache=cache).stdout
    assert "set -gx CONDA_PREFIX" in fish and "setup.sh" not in fish


def test_exit_codes_signals_and_missing_commands(tmp_path, conda_channel, cache):
    root = write_project(tmp_path / "p", conda_channel, deps='tinytool = "*"', pypi="")
    h("install", cwd=root, cache=cache)
    assert h("run", "bash", "-c", "exit 7", cwd=root, cache=cache, check=7)
    killed = h("run", "bash", "-c", "kill -TERM $$", cwd=root, cache=cache, check=None)
    assert killed.returncode == -signal.SIGTERM
    # options after the command belong to the command
    echo = h("run", "printf", "%s|", "-e", "--frozen", cwd=root, cache=cache)
    assert echo.stdout == "-e|--frozen|"
    missing = h("run", "no-such-tool", cwd=root, cache=cache, check=127)
    assert_clean_error(missing)
    assert "no-such-tool" in missing.stderr and "'default'" in missing.stderr


@pytest.mark.parametrize("point", ["marker-removed", "linking", "pypi-installed", "before-marker"])
def test_killed_install_is_never_complete_and_is_repaired(
    tmp_path, conda_channel, wheelhouse, cache, point
):
    assert point in KILL_POINTS
    root = write_project(tmp_path / "p", conda_channel, wheelhouse)
    h("lock", cwd=root, cache=cache)
    killed = h("install", cwd=root, cache=cache, check=None, HERMETIC_TEST_KILL_AT=point)
    assert killed.returncode == -signal.SIGKILL
    prefix = root / PREFIX
    assert not (prefix / MARKER).exists()
    assert not is_complete(prefix, root / "hermetic.lock", "default", current_platform())
    # `run` does not trust it: it installs first, then runs
    run = h("run", "tinytool", cwd=root, cache=cache)
    assert "answer 42" in run.stdout
    assert (prefix / MARKER).exists()
    wheel = h("run", "python", "-c", "import hellowheel", cwd=root, cache=cache)
    assert wheel.returncode == 0


def test_killed_update_then_install_repairs(tmp_path, conda_channel, wheelhouse, cache):
    root = write_project(
        tmp_path / "p", conda_channel, wheelhouse, deps='python = "*"\ntinytool = "*"'
    )
    h("install", cwd=root, cache=cache)
    write_project(
        root, conda_channel, wheelhouse, pypi='pyusesnum = "*"'
    )  # + pyhello, - hellowheel
    h("lock", cwd=root, cache=cache)
    killed = h("install", cwd=root, cache=cache, check=None, HERMETIC_TEST_KILL_AT="linking")
    assert killed.returncode == -signal.SIGKILL
    prefix = root / PREFIX
    assert not is_complete(prefix, root / "hermetic.lock", "default", current_platform())
    # break it some more: a file of an installed package is gone
    (prefix / "lib" / "libtiny.so.1").unlink()
    proc = h("install", cwd=root, cache=cache)
    assert "repaired" in proc.stdout
    assert "answer 42" in h("run", "tinytool", cwd=root, cache=cache).stdout
    assert "hello from pyhello" in h("run", "pyhello", cwd=root, cache=cache).stdout
    code = "import importlib.util as u; print(u.find_spec('hellowheel'), u.find_spec('pyusesnum') is not None)"
    out = h("run", "python", "-c", code, cwd=root, cache=cache).stdout
    assert out.strip() == "None True"  # exactly the locked PyPI set


def test_corrupted_cache_entry_is_refetched_and_reported(tmp_path, conda_channel, cache):
    own_cache = tmp_path / "cache"
    a = write_project(tmp_path / "a", conda_channel, deps='tinytool = "*"', pypi="")
    h("install", cwd=a, cache=own_cache)
    cached = own_cache / "pkgs" / "libtiny-1.0-h0_0" / "include" / "tiny.h"
    good = cached.read_bytes()
    bad = bytearray(good)
    bad[0] ^= 0x01  # same size, different content
    cached.unlink()  # a new inode, so environment a keeps its copy
    cached.write_bytes(bytes(bad))

    b = write_project(tmp_path / "b", conda_channel, deps='tinytool = "*"', pypi="")
    proc = h("install", cwd=b, cache=own_cache)
    assert "libtiny-1.0-h0_0 was corrupted" in proc.stdout
    assert "include/tiny.h" in proc.stdout
    assert (b / PREFIX / "include" / "tiny.h").read_bytes() == good
    assert cached.read_bytes() == good  # extracted again from the channel


def test_tampered_local_artifact_is_refused(tmp_path, cache):
    from fixtures.channels import PackageSpec, build_channel, build_package

    channel = build_channel(
        tmp_path / "ch", [PackageSpec("leaf", "1.0", "h0", files={"share/leaf": b"one\n"})]
    )
    root = write_project(tmp_path / "p", channel, deps='leaf = "*"', pypi="")
    own_cache = tmp_path / "cache"
    h("lock", cwd=root, cache=own_cache)
    build_package(PackageSpec("leaf", "1.0", "h0", files={"share/leaf": b"evil\n"}), channel)
    proc = h("install", "--frozen", cwd=root, cache=own_cache, check=1)
    assert_clean_error(proc)
    assert "does not match the lock" in proc.stderr and "leaf-1.0-h0" in proc.stderr
    assert not (root / PREFIX / MARKER).exists()
    assert not (root / PREFIX / "share" / "leaf").exists()


def test_frozen_locked_and_relock(tmp_path, conda_channel, wheelhouse, cache):
    root = write_project(tmp_path / "p", conda_channel, deps='tinytool = "*"', pypi="")
    h("install", "--locked", cwd=root, cache=cache, check=1)  # no lock yet
    h("install", cwd=root, cache=cache)
    write_project(root, conda_channel, deps='tinytool = "*"\npython = "*"\npyhello = "*"', pypi="")
    locked = h("install", "--locked", cwd=root, cache=cache, check=1)
    assert_clean_error(locked)
    assert "stale" in locked.stderr and "pyhello" in locked.stderr
    frozen = h("install", "--frozen", cwd=root, cache=cache)
    assert "up to date" in frozen.stdout  # the old lock, as it is
    assert not (root / PREFIX / "bin" / "pyhello").exists()
    relock = h("install", cwd=root, cache=cache)
    assert "re-locked" in relock.stdout and "pyhello" in relock.stdout
    assert (root / PREFIX / "bin" / "pyhello").exists()
    assert h("install", "--locked", cwd=root, cache=cache).returncode == 0
    both = h("install", "--locked", "--frozen", cwd=root, cache=cache, check=2)
    assert_clean_error(both)


def test_pypi_removal_touches_only_uv_installed(tmp_path, conda_channel, wheelhouse, cache):
    root = write_project(tmp_path / "p", conda_channel, wheelhouse, pypi='hellowheel = "*"')
    h("install", cwd=root, cache=cache)
    write_project(root, conda_channel, wheelhouse, pypi="")
    h("install", cwd=root, cache=cache)
    sp = next((root / PREFIX).glob("lib/python*/site-packages"))
    assert not list(sp.glob("hellowheel-*.dist-info"))
    assert list(sp.glob("pyhello-*.dist-info"))  # conda's: never uv's to remove


def test_bad_input_messages(tmp_path, conda_channel, cache):
    root = write_project(tmp_path / "p", conda_channel, deps='tinytool = "*"', pypi="")
    proc = h("install", "-e", "nope", cwd=root, cache=cache, check=2)
    assert_clean_error(proc)
    assert "environments: default" in proc.stderr
    h("lock", cwd=root, cache=cache)
    frozen = h("run", "--frozen", "-e", "nope", "true", cwd=root, cache=cache, check=2)
    assert_clean_error(frozen)
    assert "default" in frozen.stderr

    other = write_project(
        tmp_path / "osx", conda_channel, deps='tinytool = "*"', pypi="", platforms='["osx-arm64"]'
    )
    proc = h("install", cwd=other, cache=cache, check=2)
    assert_clean_error(proc)
    assert f"not locked for {current_platform()}" in proc.stderr and "osx-arm64" in proc.stderr
