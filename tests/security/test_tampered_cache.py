"""A tampered package cache entry is caught on a warm install, and nothing outside changes.

A warm install trusts a cache entry through its verification stamp (`hermetic.env.stamp`):
one small file and one `lstat` per path. These tests tamper with a real, stamped entry the
ways the stamp must notice (a file's bytes, a file swapped for a symlink out of the cache, a
`../` added to `paths.json` with its mtime put back, the stamp itself) and run `hermetic
install` as a user would (fake HOME, default cache under `~/.cache`): the entry is found
corrupted and extracted again from the channel, the environment gets the package's own
bytes, and a snapshot of the whole sandbox outside the project and the cache is unchanged.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from clirun import hermetic
from fixtures.hostile import (
    PROFILE,
    HostilePackage,
    home_env,
    home_project,
    hostile_channel,
    snapshot,
    text_entry,
)
from hermetic.env.stamp import STAMP, info_lines, lstat_paths, read_stamped, write_stamp
from hermetic.pkgpaths import PackageLayout

DATA = b"the package's own bytes\n"
NAME = "plain-1.0-0"
UP5 = "../../../../.."  # from a cache entry (~/.cache/rattler/cache/pkgs/<entry>) to HOME
PACKAGES = [
    HostilePackage(
        "plain",
        members={
            "share/plain/data.txt": DATA,
            "share/plain/other.txt": b"other\n",
            "share/plain/alias": ("symlink", "data.txt"),
        },
    ),
    # a symlink out of the prefix that nothing goes through (allowed), and a package
    # whose file goes through it: refused, also when the first comes from a warm cache
    HostilePackage("race-link", members={"lib/evil": ("symlink", f"{UP5}/..")}),
    HostilePackage("race-file", members={"lib/evil/.bashrc": b"pwned\n"}),
]


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hostile_channel(tmp_path_factory.mktemp("tamper-channel"), PACKAGES)


def _install(home: Path, root: Path, check: int | None = 0):  # type: ignore[no-untyped-def]
    return hermetic("install", cwd=root, env=home_env(home), check=check)


def _entry(home: Path, name: str = NAME) -> Path:
    (entry,) = (home / ".cache").rglob(name)  # wherever the default cache puts it
    assert (entry / STAMP).is_file(), "the first install stamps the entry"
    return entry


def _reinstall(home: Path, root: Path) -> str:
    """Install again into a fresh environment from the (tampered) warm cache."""
    shutil.rmtree(root / ".hermetic" / "envs")
    before = snapshot(home.parent, root)
    out = _install(home, root).stdout
    assert snapshot(home.parent, root) == before
    assert (home / ".profile").read_bytes() == PROFILE
    env = root / ".hermetic" / "envs" / "default" / "share" / "plain"
    assert not (env / "data.txt").is_symlink() and (env / "data.txt").read_bytes() == DATA
    assert os.readlink(env / "alias") == "data.txt"
    return out


@pytest.fixture
def installed(home: Path, channel: Path) -> tuple[Path, Path]:
    """(project root, stamped cache entry of `plain`) after one install."""
    root = home_project(home, channel, "plain")
    _install(home, root)
    return root, _entry(home)


def test_untouched_entry_is_trusted_by_its_stamp(installed: tuple[Path, Path], home: Path) -> None:
    root, entry = installed
    layout = read_stamped(entry, NAME)
    assert layout is not None
    assert set(layout.paths) >= {"share/plain/data.txt", "share/plain/alias"}
    assert layout.symlinks == {"share/plain/alias": "data.txt"}
    assert "corrupted" not in _reinstall(home, root)


def test_file_with_other_bytes_is_extracted_again(installed: tuple[Path, Path], home: Path) -> None:
    root, entry = installed
    with open(entry / "share/plain/data.txt", "r+b") as fh:  # same inode, same size
        fh.write(b"T")
    out = _reinstall(home, root)
    assert f"{NAME} was corrupted" in out and "share/plain/data.txt" in out
    assert (entry / "share/plain/data.txt").read_bytes() == DATA


@pytest.mark.parametrize("target", ["decoy", "profile"])
def test_file_swapped_for_a_symlink_out_is_extracted_again(
    installed: tuple[Path, Path], home: Path, target: str
) -> None:
    """A symlink to a file outside with the very same bytes passes a hash; not the kind check."""
    root, entry = installed
    outside = home / ".profile"
    if target == "decoy":
        outside = home / "decoy.txt"
        outside.write_bytes(DATA)
    cached = entry / "share/plain/data.txt"
    cached.unlink()
    cached.symlink_to(outside)
    out = _reinstall(home, root)
    assert f"{NAME} was corrupted" in out and "data.txt is a symlink" in out
    assert not cached.is_symlink() and cached.read_bytes() == DATA


def test_paths_json_edited_after_the_stamp_is_seen(
    installed: tuple[Path, Path], home: Path
) -> None:
    """A `../` entry added to paths.json, mtime put back: ctime still moves."""
    root, entry = installed
    paths_json = entry / "info" / "paths.json"
    st = paths_json.stat()
    doc = json.loads(paths_json.read_bytes())
    doc["paths"].append(text_entry(f"{UP5}/.profile"))
    paths_json.write_text(json.dumps(doc))
    os.utime(paths_json, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert read_stamped(entry, NAME) is None
    out = _reinstall(home, root)
    assert f"{NAME} was corrupted" in out and f"{UP5}/.profile" in out
    assert f"{UP5}/.profile" not in paths_json.read_text()  # extracted again


def test_edited_stamp_forces_the_full_check(installed: tuple[Path, Path], home: Path) -> None:
    """Any edit of the stamp sends the entry through the full check, which hashes every
    file: here it finds a change the stamp alone cannot see (bytes rewritten in place with
    size and mtime put back)."""
    root, entry = installed
    stamp = entry / STAMP
    signature, _, body = stamp.read_bytes().partition(b"\n")
    doc = json.loads(body)
    doc["paths"].remove("share/plain/data.txt")  # hide a path, keep the signature
    stamp.write_bytes(signature + b"\n" + json.dumps(doc).encode())
    assert read_stamped(entry, NAME) is None
    cached = entry / "share/plain/data.txt"
    st = cached.stat()
    cached.write_bytes(DATA.upper())
    os.utime(cached, ns=(st.st_atime_ns, st.st_mtime_ns))
    out = _reinstall(home, root)
    assert f"{NAME} was corrupted" in out and "share/plain/data.txt" in out
    assert read_stamped(entry, NAME) is not None  # stamped again after the re-extraction


def test_garbage_stamp_is_rechecked_and_rewritten(installed: tuple[Path, Path], home: Path) -> None:
    root, entry = installed
    good = read_stamped(entry, NAME)
    (entry / STAMP).write_bytes(b"\xff\x00 not a stamp")
    assert read_stamped(entry, NAME) is None
    assert "corrupted" not in _reinstall(home, root)  # intact files: verified, not refetched
    assert read_stamped(entry, NAME) == good


def test_stamp_with_a_path_outside_is_never_trusted(installed: tuple[Path, Path]) -> None:
    """Even a stamp whose signature is right (written by someone who can write the cache)
    is read through the same path check as the package's own metadata."""
    _, entry = installed
    layout = PackageLayout(NAME, ("share/plain/data.txt", f"{UP5}/.profile"))
    stats, _ = lstat_paths(entry, ("share/plain/data.txt",))
    write_stamp(entry, layout, info_lines(entry), stats)
    assert read_stamped(entry, NAME) is None


def test_symlinks_of_a_stamped_entry_still_count(home: Path, channel: Path) -> None:
    """`race-link` comes from the warm cache through its stamp; its symlink out still makes
    `race-file`'s path through it a refusal, and nothing is written."""
    root = home_project(home, channel, "race-link")
    _install(home, root)
    layout = read_stamped(_entry(home, "race-link-1.0-0"), "race-link-1.0-0")
    assert layout is not None and layout.symlinks == {"lib/evil": f"{UP5}/.."}
    shutil.rmtree(root / ".hermetic" / "envs")
    home_project(home, channel, "race-link", "race-file")
    before = snapshot(home.parent, root)
    proc = _install(home, root, check=1)
    assert "refusing package race-file-1.0-0" in proc.stderr and "lib/evil" in proc.stderr
    assert "nothing was installed" in proc.stderr
    assert snapshot(home.parent, root) == before
    assert not (root / ".hermetic" / "envs" / "default" / "lib").exists()
