"""environment.yml as conda-lock users write it: selectors, channel::pkg, defaults, category,
-e ., platforms and system-requirements; read, locked and converted by `hermetic init`."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from clirun import hermetic
from hermetic.condapkg.index import index_channel
from hermetic.errors import SpecError
from hermetic.lock.read import load_lock
from hermetic.manifest.envyml import parse_environment_yml
from hermetic.manifest.load import load_spec
from hermetic.manifest.selectors import evaluate
from projects import h, locked

PLATFORMS = ("linux-64", "linux-aarch64", "linux-ppc64le", "osx-64", "osx-arm64", "win-64")

# Shaped like the environment.yml files of PyTorch/JAX projects locked with conda-lock.
ML_ENV = """\
name: trainer
channels:
  - conda-forge
  - defaults
category: main
platforms: [linux-64, linux-aarch64, osx-arm64, win-64]
system-requirements:
  cuda: "12.0"
dependencies:
  - python=3.11
  - pytorch::pytorch=2.3  # [linux64]
  - pytorch=2.3  # [not linux64]
  - nvidia::cuda-nvcc  # [linux and x86_64]
  - libomp  # [osx]
  - pywin32  # [win]
  - mkl  # [x86_64]
  - gxx  # [py>=38]
  - pip
  - pip:
    - -e .
    - wandb  # [not win]
"""


def write(tmp_path: Path, body: str, name: str = "environment.yml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


@pytest.mark.parametrize(
    ("selector", "platforms"),
    [
        ("linux", ("linux-64", "linux-aarch64", "linux-ppc64le")),
        ("osx", ("osx-64", "osx-arm64")),
        ("win", ("win-64",)),
        ("unix", ("linux-64", "linux-aarch64", "linux-ppc64le", "osx-64", "osx-arm64")),
        ("linux64", ("linux-64",)),
        ("aarch64", ("linux-aarch64",)),
        ("arm64", ("osx-arm64",)),
        ("ppc64le", ("linux-ppc64le",)),
        ("x86_64", ("linux-64", "osx-64", "win-64")),
        ("osx64", ("osx-64",)),
        ("win64", ("win-64",)),
        ("not win", ("linux-64", "linux-aarch64", "linux-ppc64le", "osx-64", "osx-arm64")),
        ("linux and not aarch64", ("linux-64", "linux-ppc64le")),
        ("(osx or win) and x86_64", ("osx-64", "win-64")),
        ("py>=38", None),
        ("cuda_compiler_version != 'None'", None),
    ],
)
def test_selectors_follow_conda_lock_names(selector, platforms):
    assert evaluate(selector, PLATFORMS).platforms == platforms


def test_a_real_shaped_file_reads_per_platform(tmp_path):
    spec = load_spec(write(tmp_path, ML_ENV))
    env = spec.environment()
    main, r = "https://repo.anaconda.com/pkgs/main", "https://repo.anaconda.com/pkgs/r"
    assert env.channels == ("conda-forge", main, r, "pytorch", "nvidia")
    assert env.system_requirements.cuda == "12.0"

    def conda(p: str) -> dict[str, str]:
        return {d.name: d.spec for d in env.conda_dependencies(p)}

    assert conda("linux-64")["pytorch"] == "pytorch::pytorch 2.3.*"
    assert conda("linux-64")["cuda-nvcc"] == "nvidia::cuda-nvcc"
    assert conda("linux-64")["mkl"] == "mkl"
    assert conda("linux-aarch64")["pytorch"] == "pytorch 2.3.*"
    assert "cuda-nvcc" not in conda("linux-aarch64") and "mkl" not in conda("linux-aarch64")
    assert "libomp" in conda("osx-arm64") and "libomp" not in conda("linux-64")
    assert "pywin32" in conda("win-64") and "mkl" in conda("win-64")
    assert "gxx" not in set().union(*(conda(p) for p in env.platforms))
    assert {d.name for d in env.pypi_dependencies("linux-64")} == {"wandb"}
    assert env.pypi_dependencies("win-64") == ()

    warnings = [str(w) for w in spec.warnings]
    assert len(warnings) == 3, warnings
    assert "environment.yml:5: conda-lock's 'category'" in warnings[0]
    assert any(":17: gxx: the selector [py>=38] is no platform condition" in w for w in warnings)
    assert any(":20: pip: '-e .' is an editable install" in w for w in warnings)


def test_the_same_name_behind_overlapping_selectors_is_an_error(tmp_path):
    path = write(
        tmp_path,
        """\
        channels: [conda-forge]
        platforms: [linux-64, osx-arm64]
        dependencies:
          - numpy=1.26  # [unix]
          - numpy=2.0  # [osx]
        """,
    )
    with pytest.raises(SpecError) as info:
        load_spec(path)
    text = str(info.value)
    assert (
        "environment.yml:5:" in text
        and "listed twice (first on line 4), both for osx-arm64" in text
    )


def test_bad_system_requirements_name_line_key_and_fix(tmp_path):
    path = write(tmp_path, "channels: [conda-forge]\nsystem-requirements:\n  cuda: 12.0\n")
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert str(info.value).startswith(f"{path}:3: system-requirements.cuda: 12.0 is a number")
    assert 'cuda: "12.0"' in str(info.value)
    path = write(tmp_path, "channels: [conda-forge]\nsystem-requirement:\n  cuda: '12.0'\n")
    with pytest.raises(SpecError, match="did you mean 'system-requirements'"):
        load_spec(path)


def test_lock_selectors_and_channel_pkg_from_a_real_channel(tmp_path, conda_channel):
    # a second channel, not listed in channels: - <it>::pyhello adds it, as conda does
    other = tmp_path / "other-channel"
    (other / "noarch").mkdir(parents=True)
    for pkg in (conda_channel / "noarch").glob("pyhello-*"):
        shutil.copy(pkg, other / "noarch" / pkg.name)
    index_channel(other, subdirs=("noarch", "linux-64", "osx-arm64"))
    root = tmp_path / "proj"
    root.mkdir()
    write(
        root,
        f"""\
        channels:
          - {json.dumps(str(conda_channel))}
        platforms: [linux-64, osx-arm64]
        dependencies:
          - python
          - pynum  # [linux]
          - libtiny 1.0  # [osx]
          - libtiny 0.9  # [linux]
          - {other}::pyhello
        """,
    )
    h("lock", cwd=root, cache=tmp_path / "cache")
    linux = locked(root, platform="linux-64")
    osx = locked(root, platform="osx-arm64")
    assert "pynum" in linux and "pynum" not in osx and linux["libtiny"].startswith("0.9=")
    assert osx["libtiny"].startswith("1.0=")
    lock = load_lock(root / "hermetic.lock")
    pyhello = next(
        r for r in lock.conda_records("default", "linux-64") if r.name.normalized == "pyhello"
    )
    assert "other-channel" in str(pyhello.channel)


def test_init_carries_selectors_channels_and_system_requirements(tmp_path):
    write(tmp_path, ML_ENV)
    proc = hermetic("init", cwd=tmp_path)
    text = (tmp_path / "hermetic.toml").read_text()
    assert 'channels = ["conda-forge", "defaults", "pytorch", "nvidia"]' in text
    assert "[target.linux-64.dependencies]" in text
    assert 'pytorch = {version = "2.3.*", channel = "pytorch"}' in text
    assert '[target.win-64.dependencies]\npytorch = "2.3.*"\npywin32' in text
    assert '[system-requirements]\ncuda = "12.0"' in text
    assert "channel 'pytorch' added for pytorch (line 11)" in proc.stdout
    assert "category" in proc.stderr and "-e ." in proc.stderr
    # the written manifest is the same spec (init checked it) and now the project's manifest
    a, b = load_spec(tmp_path / "hermetic.toml"), load_spec(tmp_path / "environment.yml")
    assert a.environment().conda_dependencies("linux-64") == b.environment().conda_dependencies(
        "linux-64"
    )


def test_init_warns_where_a_cuda_build_needs_cuda(tmp_path):
    write(
        tmp_path,
        """\
        channels: [pytorch, nvidia, conda-forge]
        platforms: [linux-64]
        dependencies:
          - python=3.11
          - pytorch-cuda=12.1
          - jaxlib=0.4.23=cuda12*
        """,
    )
    proc = hermetic("init", cwd=tmp_path)
    assert "warning: pytorch-cuda 12.1.*" in proc.stderr and "environment.yml:5" in proc.stderr
    assert (
        "jaxlib" in proc.stderr and 'add `cuda = "12.1"`' in proc.stderr
    )  # from pytorch-cuda's pin


def test_comments_keep_and_lose_only_the_selector(tmp_path):
    path = write(
        tmp_path,
        """\
        channels: [conda-forge]
        platforms: [linux-64, win-64]
        dependencies:
          # native deps
          - pywin32  # needed by the launcher [win]
        """,
    )
    env = parse_environment_yml(path)
    assert env.selectors == {5: "win"}
    hermetic("init", cwd=tmp_path)
    text = (tmp_path / "hermetic.toml").read_text()
    assert (
        '[target.win-64.dependencies]\n# native deps\npywin32 = "*"  # needed by the launcher'
        in text
    )
