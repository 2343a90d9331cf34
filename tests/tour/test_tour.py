"""`hermetic tour`: the offline walk-through, on a fresh directory and cache."""

from __future__ import annotations

import json
from pathlib import Path

from clirun import assert_clean_error, hermetic

ROOT = Path(__file__).resolve().parents[2]


def test_bundled_example_is_the_examples_copy():
    packaged = ROOT / "src" / "hermetic" / "tour" / "example.toml"
    assert packaged.read_text() == (ROOT / "examples" / "tour" / "hermetic.toml").read_text()


def test_tour_runs_offline_and_proves_where_things_came_from(tmp_path):
    env = {"HERMETIC_CACHE_DIR": str(tmp_path / "cache")}
    proc = hermetic("tour", "--dir", "t", cwd=tmp_path, env=env)
    out = proc.stdout
    prefix = tmp_path / "t" / ".hermetic" / "envs" / "default"
    assert f"native: {prefix}/lib/libtiny.so.1" in out
    assert f"python: {prefix}/lib/python" in out and "tour_demo/__init__.py" in out
    assert "both were loaded from the environment" in out
    assert "default linux-64" in out and "default osx-arm64" in out
    for label in ("channel", "lock", "environment", "package cache"):
        assert label in out
    assert (tmp_path / "t" / "hermetic.lock").exists()
    # the doctor step: the tool's library resolves inside the env through its RPATH
    assert "<env>/bin/tour-tool: libtiny.so.1 -> <env>/lib/libtiny.so.1 (via runpath)" in out
    assert "0 error(s)" in out and (tmp_path / "t" / "doctor.html").is_file()
    # the deploy steps: a devcontainer and a Job, read back and validated
    assert (tmp_path / "t" / ".devcontainer" / "devcontainer.json").is_file()
    assert "interpreter /opt/env/bin/python, user 65532" in out
    assert "1 manifest(s) valid (kubernetes-validate --strict" in out
    # the env stays readable by conda-style tools: every conda-meta/*.json is a package record
    for record in (prefix / "conda-meta").glob("*.json"):
        assert "name" in json.loads(record.read_text()), record

    again = hermetic("tour", "--dir", "t", cwd=tmp_path, env=env)  # idempotent
    assert "both were loaded from the environment" in again.stdout
    run = hermetic("run", "tour-demo", cwd=tmp_path / "t", env=env)
    assert "greeting: hello from the tour environment" in run.stdout

    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    refused = hermetic("tour", "--dir", "mine", cwd=tmp_path, env=env, check=2)
    assert_clean_error(refused)
