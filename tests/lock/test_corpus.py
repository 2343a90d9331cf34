"""Real world: locking two real projects must reproduce their real locks' conda sets exactly."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from clirun import hermetic
from hermetic.lock.read import load_lock

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"


def locked_set(lockfile: Path) -> set[tuple[str, str, str]]:
    data = yaml.safe_load(lockfile.read_text())
    return {
        (p["name"], str(p["version"]), p["url"].rsplit("/", 1)[-1])
        for p in data["package"]
        if p["manager"] == "conda"
    }


def ours(root: Path) -> set[tuple[str, str, str]]:
    lock = load_lock(root / "hermetic.lock")
    return {
        (r.name.normalized, str(r.version), r.file_name)
        for r in lock.conda_records("default", "linux-64")
    }


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.exists():
        pytest.fail(f"the shared corpus is missing at {CORPUS}")
    return CORPUS


def test_cryo_environment_yml(tmp_path, corpus):
    # the real environment.yml, used as is: only the channel name points at the offline copy
    text = (corpus / "cryo" / "environment.yml").read_text()
    channel = corpus / "cryo" / "channels" / "conda-forge"
    text = re.sub(r"^(\s+)- conda-forge\s*$", rf"\1- {channel}", text, count=1, flags=re.M)
    (tmp_path / "environment.yml").write_text(text)
    hermetic("lock", "-m", "environment.yml", cwd=tmp_path)
    assert ours(tmp_path) == locked_set(corpus / "cryo" / "conda-lock.yml")


def test_yi_pyproject(tmp_path, corpus):
    chans = [str(corpus / "yi" / "channels" / c) for c in ("conda-forge", "pytorch", "nvidia")]
    # Yi's conda specs from its pyproject ([tool.poetry.dependencies] + [tool.conda-lock]),
    # written as [tool.hermetic]; poetry's `~3.10` is conda's 3.10.*
    (tmp_path / "pyproject.toml").write_text(
        f"""[project]
name = "yi-models"
version = "0.1.1"
[tool.hermetic]
channels = {json.dumps(chans)}
platforms = ["linux-64"]
[tool.hermetic.dependencies]
python = "3.10.*"
pytorch = "==2.0.1"
pytorch-cuda = "==11.8"
deepspeed = "==0.12.2"
transformers = "==4.36.0"
sentencepiece = "==0.1.99"
accelerate = "==0.24.1"
datasets = "==2.14.5"
optimum = "==1.13.2"
einops = "==0.7.0"
pip = ">=23.3"
"""
    )
    hermetic("lock", cwd=tmp_path)
    assert ours(tmp_path) == locked_set(corpus / "yi" / "conda-lock.yml")
