"""Choosing what to inspect: -e, --prefix, the project's default env, then the active env."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from hermetic.errors import UsageError
from hermetic.project.doctor import find_target


def project(tmp_path: Path) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "pyproject.toml").write_text("[tool.hermetic]\nchannels = []\n")
    (tmp_path / "sub").mkdir()
    return tmp_path


def test_env_of_the_project(tmp_path: Path) -> None:
    root = project(tmp_path)
    with pytest.raises(UsageError, match="not installed"):
        find_target("gpu", None, root / "sub", {})
    (root / ".hermetic/envs/gpu").mkdir(parents=True)
    t = find_target("gpu", None, root / "sub", {})
    assert (t.prefix, t.env, t.how) == (root / ".hermetic/envs/gpu", "gpu", "-e")


def test_defaults(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    assert find_target(None, None, outside, {"CONDA_PREFIX": "/opt/c"}).how == "CONDA_PREFIX"
    assert find_target(None, None, outside, {"VIRTUAL_ENV": "/v"}).prefix == Path("/v")
    assert find_target(None, None, outside, {}).prefix == Path(sys.prefix)
    with pytest.raises(UsageError, match="not inside"):
        find_target("x", None, outside, {})
    root = project(tmp_path / "p")
    (root / ".hermetic/envs/default").mkdir(parents=True)
    assert find_target(None, None, root, {"CONDA_PREFIX": "/opt/c"}).env == "default"
