"""Hostile conda packages: `hermetic install` refuses each one and writes nothing outside.

Every test runs hermetic as a user would, with a fake HOME (default package cache under
`~/.cache`, project at `~/src/proj`), so a `../../../../../.profile` in a package points at
the same file from the cache entry and from the environment, as in the reported attack.
A snapshot of the whole sandbox (everything but the project's `.hermetic/`, the cache and
the lock) must be unchanged afterwards.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from clirun import assert_clean_error, hermetic
from fixtures.hostile import (
    PROFILE,
    HostilePackage,
    home_env,
    home_project,
    hostile_channel,
    snapshot,
    text_entry,
)

UP5 = "../../../../.."  # from a cache entry or the env prefix to the fake HOME
UP6 = "../../../../../.."  # from a directory inside the env prefix to the fake HOME


HOSTILE = [
    # the reported rewrite: a text-mode entry that patches ~/.profile in place
    HostilePackage(
        "rewrite-profile",
        members={"share/x": b"/usr/bin:stuff\n"},
        paths=[text_entry(f"{UP5}/.profile")],
    ),
    HostilePackage(
        "abs-path", members={"share/y": b"x"}, paths=[text_entry("/tmp/hermetic-abs-victim")]
    ),
    HostilePackage("abs-member", members={"/tmp/hermetic-abs-member": b"x"}),
    HostilePackage("dotdot-member", members={f"{UP5}/.bashrc": b"x"}),
    HostilePackage(
        "hardlink-member", members={"share/a": b"a", "share/b": ("hardlink", f"{UP5}/.bashrc")}
    ),
    HostilePackage(
        "has-prefix-escape",
        members={"share/z": b"/usr/bin\n"},
        has_prefix=f"/usr/bin text {UP5}/.profile\n",
    ),
    HostilePackage("files-escape", members={"share/w": b"w"}, files=f"share/w\n{UP5}/.bashrc\n"),
    HostilePackage(
        "entry-point-escape",
        subdir="noarch",
        noarch="python",
        members={"site-packages/m.py": b"def f(): pass\n"},
        link_json={
            "noarch": {"type": "python", "entry_points": [f"{UP6}/.bashrc = m:f"]},
            "package_metadata_version": 1,
        },
    ),
    # a symlink out of the prefix, and a file of the same package through it
    HostilePackage(
        "symlink-then-file",
        members={"share/esc": ("symlink", UP6), "share/esc/.bashrc": b"pwned\n"},
    ),
    # the race pair: whichever links first, the other must not go through the symlink
    HostilePackage("race-link", members={"lib/evil": ("symlink", UP6)}),
    HostilePackage("race-file", members={"lib/evil/.bashrc": b"pwned\n"}),
    # a file written onto another package's symlink to ~/.profile
    HostilePackage("onto-link", members={"etc/x": ("symlink", f"{UP6}/.profile")}),
    HostilePackage(
        "onto-file",
        members={"etc/x": b"/usr/bin:x\n"},
        paths=[text_entry("etc/x", 11)],
    ),
    # 300 MiB of zeros in a few hundred KiB (over the 256 MiB floor of the ratio limit)
    HostilePackage("bomb", fmt="conda", members={"share/zeros": ("zeros", 300 << 20)}),
    # a symlink out of the prefix that nothing goes through is allowed
    HostilePackage(
        "benign",
        members={"share/doc-link": ("symlink", "/usr/share/doc"), "share/benign.txt": b"ok\n"},
    ),
]


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hostile_channel(tmp_path_factory.mktemp("hostile-channel"), HOSTILE)


def _install(home: Path, root: Path, check: int | None = None):  # type: ignore[no-untyped-def]
    return hermetic("install", cwd=root, env=home_env(home), check=check)


def _refused(home: Path, root: Path, package: str, offending: str) -> str:
    before = snapshot(home.parent, root)
    proc = _install(home, root)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert_clean_error(proc)
    assert f"refusing package {package}" in proc.stderr, proc.stderr
    assert offending in proc.stderr, proc.stderr
    assert "nothing was installed" in proc.stderr, proc.stderr
    assert snapshot(home.parent, root) == before
    assert (home / ".profile").read_bytes() == PROFILE
    prefix = root / ".hermetic" / "envs" / "default"
    laid = [p for p in prefix.rglob("*")] if prefix.exists() else []
    assert laid == [], f"refused, yet written into the env: {laid}"
    return proc.stderr


@pytest.mark.parametrize(
    ("package", "offending"),
    [
        ("rewrite-profile", f"{UP5}/.profile"),
        ("abs-path", "/tmp/hermetic-abs-victim"),
        ("abs-member", "/tmp/hermetic-abs-member"),
        ("dotdot-member", f"{UP5}/.bashrc"),
        ("hardlink-member", f"{UP5}/.bashrc"),
        ("has-prefix-escape", f"{UP5}/.profile"),
        ("files-escape", f"{UP5}/.bashrc"),
        ("entry-point-escape", f"{UP6}/.bashrc"),
        ("symlink-then-file", "share/esc/.bashrc"),
        ("bomb", "share/zeros"),
    ],
)
def test_hostile_package_is_refused_and_nothing_outside_changes(
    home: Path, channel: Path, package: str, offending: str
) -> None:
    root = home_project(home, channel, package)
    start = time.monotonic()
    _refused(home, root, f"{package}-1.0-0", offending)
    assert not Path("/tmp/hermetic-abs-victim").exists()
    assert not Path("/tmp/hermetic-abs-member").exists()
    if package == "bomb":  # refused from the member's header, not after unpacking 300 MiB
        assert time.monotonic() - start < 60


def test_symlink_race_pair_is_refused_in_one_transaction(home: Path, channel: Path) -> None:
    """The pair whose symlink could land first: refused whatever the linking order."""
    root = home_project(home, channel, "race-link", "race-file")
    err = _refused(home, root, "race-file-1.0-0", "lib/evil/.bashrc")
    assert "lib/evil" in err and "points outside the prefix" in err


def test_file_onto_another_packages_symlink_is_refused(home: Path, channel: Path) -> None:
    root = home_project(home, channel, "onto-link", "onto-file")
    _refused(home, root, "onto-file-1.0-0", "etc/x")


def test_symlink_already_in_the_env_is_not_gone_through(home: Path, channel: Path) -> None:
    """A symlink out of the env from an earlier install: a later package cannot use it, and
    the refused install leaves the working env and its completion marker as they were."""
    root = home_project(home, channel, "race-link", "benign")
    _install(home, root, check=0)
    prefix = root / ".hermetic" / "envs" / "default"
    marker = prefix / "conda-meta" / "hermetic-complete"
    assert marker.is_file() and os.readlink(prefix / "lib" / "evil") == UP6
    marker_before = marker.read_bytes()
    home_project(home, channel, "race-link", "benign", "race-file")
    before = snapshot(home.parent, root)
    env_before = sorted(str(p) for p in prefix.rglob("*"))
    proc = _install(home, root)
    assert proc.returncode == 1 and "refusing package race-file-1.0-0" in proc.stderr
    assert_clean_error(proc)
    assert snapshot(home.parent, root) == before
    assert sorted(str(p) for p in prefix.rglob("*")) == env_before
    assert marker.read_bytes() == marker_before


def test_benign_symlink_out_of_the_env_installs(home: Path, channel: Path) -> None:
    root = home_project(home, channel, "benign")
    before = snapshot(home.parent, root)
    _install(home, root, check=0)
    prefix = root / ".hermetic" / "envs" / "default"
    assert (prefix / "share" / "benign.txt").read_text() == "ok\n"
    assert os.readlink(prefix / "share" / "doc-link") == "/usr/share/doc"
    assert snapshot(home.parent, root) == before
