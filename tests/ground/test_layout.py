"""hermetic.layout: the one rule that finds a project, and the paths below its root."""

from __future__ import annotations

from pathlib import Path

import pytest

from hermetic.errors import SpecError, UsageError
from hermetic.layout import find_project


def test_nearest_manifest_wins_and_names_the_paths(tmp_path: Path):
    (tmp_path / "environment.yml").write_text("dependencies: [python]\n")
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    p = find_project(cwd=sub)
    assert p.manifest == (tmp_path / "environment.yml").resolve() and p.root == tmp_path.resolve()
    assert p.lock_path == p.root / "hermetic.lock"
    assert p.env_prefix("gpu") == p.root / ".hermetic" / "envs" / "gpu"
    assert p.config_path == p.root / ".hermetic" / "config.toml"
    (tmp_path / "a" / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert find_project(cwd=sub).root == tmp_path.resolve()  # no [tool.hermetic]: not a project
    (tmp_path / "a" / "pyproject.toml").write_text("[tool.hermetic]\nchannels = []\n")
    assert find_project(cwd=sub).root == (tmp_path / "a").resolve()
    (tmp_path / "a" / "hermetic.toml").write_text("channels = []\n")
    assert find_project(cwd=sub).manifest.name == "hermetic.toml"
    assert find_project(tmp_path / "a" / "b").manifest.name == "hermetic.toml"  # a directory


def test_explicit_manifest(tmp_path: Path):
    odd = tmp_path / "deps.yaml"
    odd.write_text("dependencies: [python]\n")
    assert find_project(odd).manifest == odd.resolve()
    with pytest.raises(UsageError, match="no such manifest"):
        find_project(tmp_path / "missing.toml")


def test_no_project(tmp_path: Path):
    with pytest.raises(SpecError, match="no manifest found"):
        find_project(cwd=tmp_path)


def test_one_find_project():
    import hermetic

    src = Path(hermetic.__file__).parent
    defs = [
        str(p.relative_to(src))
        for p in src.rglob("*.py")
        if "def find_project(" in p.read_text() or "def find_manifest(" in p.read_text()
    ]
    assert defs == ["layout.py"]
