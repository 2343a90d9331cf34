"""`hermetic init --from environment.yml`: the converted spec reads back as the same spec."""

from __future__ import annotations

import dataclasses
import shutil
import textwrap
from pathlib import Path

import pytest

from clirun import assert_clean_error, hermetic
from hermetic.manifest.load import find_manifest, load_spec

SHARED = Path(__file__).resolve().parents[3] / "shared"
CRYO = SHARED / "corpus" / "cryo" / "environment.yml"

RICH_ENV = """
name: demo
channels:
  - conda-forge
  - ./local-chan
  - nodefaults
platforms: [linux-64, osx-arm64]
variables:
  OMP_NUM_THREADS: "4"
dependencies:
  # the interpreter
  - python=3.11  # keep in step with CI
  - numpy>=1.26,<2
  - pytorch::pytorch=2.3.1
  - gpukernel=1.0=cuda12*
  - scipy 1.13
  - pip

  # from PyPI
  - pip:
    - torch-geometric>=2.5  # not on conda-forge
    - Black[jupyter]==24.4.2
    - mine @ https://host/mine-1.0-py3-none-any.whl
    - linuxonly>=1; sys_platform == "linux"
    - --extra-index-url https://extra.example.com/simple
    - -f ./wheels
"""


def same_spec(a, b) -> bool:
    """Equal as models: locations are never compared, nor where the spec was read from."""
    return dataclasses.replace(a, manifest="", kind="") == dataclasses.replace(
        b, manifest="", kind=""
    )


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def test_creates_hermetic_toml_that_reads_back_the_same(tmp_path):
    env = write(tmp_path / "environment.yml", RICH_ENV)
    proc = hermetic("init", "--from", "environment.yml", cwd=tmp_path)
    assert "created hermetic.toml" in proc.stdout and "nodefaults" in proc.stdout
    toml = tmp_path / "hermetic.toml"
    text = toml.read_text()
    assert "# keep in step with CI" in text and "# the interpreter" in text
    assert "# not on conda-forge" in text and "# from PyPI" in text
    # pytorch::pytorch adds its channel, after the listed ones, as conda does
    assert 'channels = ["conda-forge", "./local-chan", "pytorch"]' in text
    assert find_manifest(tmp_path) == toml  # it now wins over the environment.yml
    back = load_spec(toml)
    assert back.kind == "hermetic-toml"
    assert same_spec(back, load_spec(env))
    deps = {d.name: d.spec for d in back.default_feature.dependencies}
    assert deps["pytorch"] == "pytorch::pytorch 2.3.1.*"
    assert deps["gpukernel"] == "gpukernel ==1.0 cuda12*"  # conda: a build makes it exact
    assert deps["scipy"] == "scipy ==1.13"
    assert not list(tmp_path.glob("*.tmp"))


def test_inserts_into_pyproject_keeping_its_comments(tmp_path):
    env = write(tmp_path / "environment.yml", RICH_ENV)
    original = textwrap.dedent(
        """\
        # my project
        [project]
        name = "demo"  # same as the env's name
        version = "0.1"

        [tool.ruff]
        line-length = 100  # wide
        """
    )
    (tmp_path / "pyproject.toml").write_text(original)
    proc = hermetic("init", "--from", "environment.yml", cwd=tmp_path)
    assert "[tool.hermetic] in pyproject.toml" in proc.stdout
    assert not (tmp_path / "hermetic.toml").exists()
    text = (tmp_path / "pyproject.toml").read_text()
    assert text.startswith(original)  # nothing of the user's file changed
    assert "[tool.hermetic]\n" in text and "[tool.hermetic.dependencies]" in text
    assert 'name = "demo"' not in text.split("[tool.hermetic]")[1]  # project.name says it
    back = load_spec(tmp_path / "pyproject.toml")
    assert back.kind == "pyproject"
    assert same_spec(back, load_spec(env))


def test_refuses_to_overwrite_without_force(tmp_path):
    write(tmp_path / "environment.yml", "channels: [conda-forge]\ndependencies: [numpy]\n")
    pyproject = write(
        tmp_path / "pyproject.toml",
        """
        [project]
        name = "x"
        [tool.hermetic]
        channels = ["mine"]
        [tool.hermetic.dependencies]
        old = "*"
        """,
    )
    before = pyproject.read_text()
    proc = hermetic("init", "--from", "environment.yml", cwd=tmp_path, check=2)
    assert_clean_error(proc)
    assert "already has a [tool.hermetic]" in proc.stderr and "--force" in proc.stderr
    assert pyproject.read_text() == before
    hermetic("init", "--from", "environment.yml", "--force", cwd=tmp_path)
    spec = load_spec(pyproject)
    assert [d.name for d in spec.default_feature.dependencies] == ["numpy"]
    assert spec.default_feature.channels == ("conda-forge",)
    assert pyproject.read_text().count("[tool.hermetic]") == 1
    # hermetic.toml too
    hermetic("init", "--manifest", "hermetic.toml", cwd=tmp_path)
    proc = hermetic("init", "--manifest", "hermetic.toml", cwd=tmp_path, check=2)
    assert "exists" in proc.stderr
    hermetic("init", "--manifest", "hermetic.toml", "--force", cwd=tmp_path)


def test_manifest_option_and_project_dependencies(tmp_path):
    write(tmp_path / "envs" / "environment.yml", "channels: [conda-forge]\ndependencies: [numpy]\n")
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\ndependencies = ["requests"]\n')
    proc = hermetic("init", "--from", "envs/environment.yml", "-m", "pyproject.toml", cwd=tmp_path)
    assert "project.dependencies" in proc.stdout
    spec = load_spec(tmp_path / "pyproject.toml")
    assert [d.name for d in spec.default_feature.pypi_dependencies] == ["requests"]
    assert spec.name == "x"
    # asking for hermetic.toml next to a pyproject.toml
    hermetic("init", "--from", "envs/environment.yml", "-m", "hermetic.toml", cwd=tmp_path)
    assert load_spec(tmp_path / "hermetic.toml").default_feature.pypi_dependencies == ()


def test_errors(tmp_path):
    proc = hermetic("init", cwd=tmp_path, check=2)
    assert_clean_error(proc)
    assert "environment.yml" in proc.stderr
    write(tmp_path / "environment.yml", "channels: [conda-forge]\ndependencies:\n  - numpy>>1\n")
    proc = hermetic("init", cwd=tmp_path, check=2)
    assert_clean_error(proc)
    assert "environment.yml:3:" in proc.stderr
    assert not (tmp_path / "hermetic.toml").exists()
    proc = hermetic("init", "--manifest", "spec.json", cwd=tmp_path, check=2)
    assert "TOML" in proc.stderr


def test_converts_the_real_world_file(tmp_path):
    if not CRYO.exists():
        pytest.skip(f"the shared corpus is not at {CRYO}")
    shutil.copy(CRYO, tmp_path / "environment.yml")
    hermetic("init", cwd=tmp_path)
    back = load_spec(tmp_path / "hermetic.toml")
    assert same_spec(back, load_spec(CRYO))
    assert len(back.default_feature.dependencies) > 100
    text = (tmp_path / "hermetic.toml").read_text()
    assert "# Core scientific python stack" in text
    assert 'python = "3.13.*"  # if changing' in text
