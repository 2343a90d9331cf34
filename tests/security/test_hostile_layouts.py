"""`hermetic image build` and `hermetic pack` refuse a hostile package before laying out
anything: the same `hermetic.pkgpaths` check `hermetic install` runs (test_hostile_packages)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from clirun import assert_clean_error
from fixtures.hostile import HostilePackage, hostile_channel, text_entry
from projects import h

UP4 = "../../../.."


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A channel with a `../` escape and an absolute `_path`; the absolute one's target."""
    base = tmp_path_factory.mktemp("hostile-layouts")
    victim = base / "abs-victim"
    packages = [
        HostilePackage(
            "dotdot-escape",
            members={"share/x": b"/usr/bin:stuff\n"},
            paths=[text_entry(f"{UP4}/escaped.txt")],
        ),
        HostilePackage(
            "abs-escape", members={"share/y": b"/usr/bin:stuff\n"}, paths=[text_entry(str(victim))]
        ),
        # a symlink out of the prefix, and a file of the same package through it
        HostilePackage(
            "through-link",
            members={"share/esc": ("symlink", "../../../.."), "share/esc/escaped.txt": b"x\n"},
        ),
    ]
    return hostile_channel(base / "channel", packages), victim


def _tree(top: Path, skip: set[Path]) -> dict[str, tuple[object, ...]]:
    out: dict[str, tuple[object, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(top):
        d = Path(dirpath)
        dirnames[:] = [n for n in dirnames if d / n not in skip]
        for name in dirnames + filenames:
            st = os.lstat(d / name)
            out[str(d / name)] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return out


CASES = [
    ("dotdot-escape", f"{UP4}/escaped.txt"),
    ("abs-escape", "abs-victim"),
    ("through-link", "share/esc/escaped.txt"),
]


@pytest.mark.parametrize(("package", "offending"), CASES)
@pytest.mark.parametrize("command", ["image", "pack"])
def test_hostile_package_is_refused_before_anything_is_laid_out(
    world: tuple[Path, Path], tmp_path: Path, command: str, package: str, offending: str
) -> None:
    channel, victim = world
    root = tmp_path / "a" / "b" / "proj"
    root.mkdir(parents=True)
    (root / "hermetic.toml").write_text(
        f'channels = [{json.dumps(str(channel))}]\nplatforms = ["linux-64"]\n'
        f'[dependencies]\n{package} = "*"\n'
    )
    cache = tmp_path / "cache"
    h("lock", cwd=root, cache=cache)
    out = tmp_path / "out"
    before = _tree(tmp_path, {cache})
    if command == "image":
        args = ["image", "build", "--base", "scratch", "-o", f"oci:{out}:v1"]
    else:
        args = ["pack", "-o", str(out / "env.tar.gz")]
    proc = h(*args, cwd=root, cache=cache, check=None)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert_clean_error(proc)
    assert f"refusing package {package}-1.0-0" in proc.stderr, proc.stderr
    assert offending in proc.stderr, proc.stderr
    # the message says what this command did not do, not what `install` would say
    outcome = "no image was built" if command == "image" else "nothing was packed"
    assert outcome in proc.stderr and "installed" not in proc.stderr, proc.stderr
    assert not victim.exists()
    assert not (tmp_path / "escaped.txt").exists()
    # nothing written anywhere but the cache (no output, nothing beside or above it)
    assert _tree(tmp_path, {cache}) == before
    staged = [p for p in cache.rglob("*") if p.name == "escaped.txt" or p.name == victim.name]
    assert staged == []
