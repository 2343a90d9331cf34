"""A damaged lock keeps its pins: a damaged `hermetic:` block or a git merge conflict."""

from __future__ import annotations

from pathlib import Path

import pytest

from clirun import assert_clean_error
from projects import base_spec, h, locked, write_spec


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def _lock(root: Path, channel: Path, deps: str, cache: Path) -> str:
    write_spec(root, base_spec(channel, deps))
    h("lock", cwd=root, cache=cache)
    return (root / "hermetic.lock").read_text()


def test_damaged_hermetic_block_keeps_the_pins(
    tmp_path: Path, conda_channel: Path, cache: Path
) -> None:
    root = tmp_path / "p"
    text = _lock(root, conda_channel, 'libtiny = "0.9"', cache)
    assert locked(root)["libtiny"].startswith("0.9")
    # the spec is relaxed (a from-scratch solve would take libtiny 1.0) and one line of the
    # hermetic: block is damaged
    write_spec(root, base_spec(conda_channel, 'libtiny = "*"'))
    head, _, block = text.partition("\nhermetic:\n")
    (root / "hermetic.lock").write_text(head + "\nhermetic:\n  format: [1\n" + block)
    proc = h("lock", cwd=root, cache=cache)
    out = proc.stdout + proc.stderr
    assert "`hermetic:` block was damaged; re-locked keeping its pins" in out
    assert locked(root)["libtiny"].startswith("0.9")
    h("install", "--locked", cwd=root, cache=cache)  # the repaired lock is whole again


def test_merge_conflict_is_named_and_relock_keeps_both_sides(
    tmp_path: Path, conda_channel: Path, cache: Path
) -> None:
    ours = _lock(tmp_path / "a", conda_channel, 'libtiny = "0.9"', cache)
    theirs = _lock(tmp_path / "b", conda_channel, 'libtiny = "1.0"\ncuda-version = "12.2.*"', cache)
    root = tmp_path / "p"
    write_spec(root, base_spec(conda_channel, 'libtiny = "*"\ncuda-version = "*"'))
    conflict = f"<<<<<<< HEAD\n{ours}=======\n{theirs}>>>>>>> feature\n"
    (root / "hermetic.lock").write_text(conflict)

    for args in (("install", "--frozen"), ("list",), ("lock", "--check")):
        proc = h(*args, cwd=root, cache=cache, check=None)
        assert proc.returncode != 0
        assert_clean_error(proc)
        assert "hermetic.lock:1: the lock has git merge conflict markers" in proc.stderr
        assert "resolve the conflict, or run `hermetic lock`" in proc.stderr

    proc = h("lock", cwd=root, cache=cache)
    assert "merge conflict markers (line 1); re-locked keeping the pins of both sides" in (
        proc.stdout + proc.stderr
    )
    pins = locked(root)
    assert pins["libtiny"].startswith("0.9")  # ours
    assert pins["cuda-version"].startswith("12.2")  # theirs (ours has no cuda-version)
    assert "<<<<<<<" not in (root / "hermetic.lock").read_text()
