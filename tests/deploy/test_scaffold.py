"""`hermetic init --template`: a project that uses every layer, offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from validators import DEVCONTAINER_SCHEMA, devcontainer_errors, workflow_errors

from clirun import assert_clean_error, hermetic
from hermetic.manifest.load import load_spec

OFFLINE = {"HERMETIC_CHANNEL_ALIAS": "http://127.0.0.1:9/"}


@pytest.mark.parametrize("template", ["cpu", "pytorch-cuda", "jax-cuda"])
def test_template_scaffolds_every_layer(tmp_path: Path, template: str) -> None:
    root = tmp_path / "My Project"
    root.mkdir()
    out = hermetic("init", "--template", template, cwd=root, env=OFFLINE)
    assert "not locked (" in out.stdout and "run `hermetic lock`" in out.stdout
    spec = load_spec(root / "hermetic.toml")
    assert spec.name == "my-project"
    dc = json.loads((root / ".devcontainer/devcontainer.json").read_text())
    if DEVCONTAINER_SCHEMA.exists():
        assert devcontainer_errors(dc) == []
    assert workflow_errors(root / ".github/workflows/hermetic.yml") is None
    if template == "cpu":
        assert spec.environment_names == ("default",)
        return
    assert set(spec.environment_names) == {"default", "cpu", "gpu"}
    gpu, cpu = spec.environment("gpu"), spec.environment("cpu")
    assert gpu.system_requirements.cuda == "12.6" and cpu.system_requirements.cuda is None
    assert set(gpu.platforms) == {"linux-64", "linux-aarch64"}
    assert "osx-arm64" in cpu.platforms  # laptops
    assert dc["containerEnv"]["HERMETIC_ENV"] == "cpu"
    wf = (root / ".github/workflows/hermetic.yml").read_text()
    assert "hermetic run -e cpu -- python -m pytest -q" in wf
    assert "hermetic image build -e gpu" in wf and "hermetic k8s -e gpu" in wf
    assert "--gpus 1" in wf
    assert "hermetic k8s -e gpu --image REF@sha256:… --gpus 1" in out.stdout


def test_template_into_an_existing_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "lib"\nversion = "1"\n')
    hermetic("init", "--template", "cpu", "--no-lock", cwd=tmp_path)
    text = (tmp_path / "pyproject.toml").read_text()
    assert text.startswith('[project]\nname = "lib"') and "[tool.hermetic]" in text
    refused = hermetic("init", "--template", "cpu", cwd=tmp_path, check=2)
    assert_clean_error(refused)
    assert "already has a [tool.hermetic]" in refused.stderr
    hermetic("init", "--template", "jax-cuda", "--no-lock", "--force", cwd=tmp_path)
    assert "jaxlib" in (tmp_path / "pyproject.toml").read_text()


def test_template_and_from_do_not_mix(tmp_path: Path) -> None:
    (tmp_path / "environment.yml").write_text("dependencies: [python]\n")
    out = hermetic("init", "--template", "cpu", "--from", "environment.yml", cwd=tmp_path, check=2)
    assert_clean_error(out)
    assert "--template writes its own spec" in out.stderr
