"""Reading a conda environment.yml as is, the real-world one included."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from rattler import MatchSpec

from clirun import assert_clean_error, hermetic
from hermetic.errors import SpecError
from hermetic.manifest import Activation, PypiOptions
from hermetic.manifest.envyml import parse_environment_yml
from hermetic.manifest.load import default_platforms, load_spec

SHARED = Path(__file__).resolve().parents[3] / "shared"
CRYO = SHARED / "corpus" / "cryo" / "environment.yml"


def write_env(root: Path, body: str, name: str = "environment.yml") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / name
    path.write_text(textwrap.dedent(body).lstrip("\n"))
    return path


def env_error(tmp_path: Path, body: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        load_spec(write_env(tmp_path, body))
    return info.value


@pytest.mark.parametrize(
    ("line", "name", "spec"),
    [
        ("numpy", "numpy", "numpy"),
        ("numpy=1.26", "numpy", "numpy 1.26.*"),
        ("numpy 1.26", "numpy", "numpy ==1.26"),
        ("numpy==1.26", "numpy", "numpy ==1.26"),
        ("numpy>=1.2,<2", "numpy", "numpy >=1.2,<2"),
        ("numpy >=1.2, <2", "numpy", "numpy >=1.2,<2"),
        ("numpy~=1.2", "numpy", "numpy ~=1.2"),
        ("numpy=1.26.*", "numpy", "numpy 1.26.*"),
        ("pkg=1.2=build_0", "pkg", "pkg ==1.2 build_0"),
        ("pkg 1.2 build_0", "pkg", "pkg ==1.2 build_0"),
        ("pkg=*=cuda*", "pkg", "pkg * cuda*"),
        ("pytorch::pytorch", "pytorch", "pytorch::pytorch"),
        ("pytorch::pytorch=2.0.1", "pytorch", "pytorch::pytorch 2.0.1.*"),
        ("conda-forge::numpy >=1", "numpy", "conda-forge::numpy >=1"),
        ("NumPy>=1", "numpy", "numpy >=1"),
        ("numpy>=1  # a comment", "numpy", "numpy >=1"),
        ("numpy>=1#tight", "numpy", "numpy >=1"),
    ],
)
def test_conda_syntax(tmp_path, line, name, spec):
    path = write_env(tmp_path, f"channels: [conda-forge]\ndependencies:\n  - {line}\n")
    (dep,) = load_spec(path).default_feature.dependencies
    assert (dep.name, dep.spec) == (name, spec)
    MatchSpec(dep.spec, strict=False)
    assert dep.location.line == 3 and dep.location.path == str(path)


def test_whole_file(tmp_path):
    (tmp_path / "reqs").mkdir()
    (tmp_path / "reqs" / "base.txt").write_text(
        "# base requirements\nrequests>=2 \\\n  ; python_version >= '3.8'\n-f ./wheels\n"
    )
    path = write_env(
        tmp_path,
        """
        name: demo
        channels:
          - conda-forge
          - ./local-chan
          - nodefaults
        platforms: [linux-64, osx-arm64]
        variables:
          OMP_NUM_THREADS: 4
          HF_HOME: /cache
        dependencies:
          - python=3.11
          - pip
          - pip:
            - torch>=2.3
            - Black[jupyter]==24.4.2
            - mine @ https://host/mine-1.0-py3-none-any.whl
            - --index-url https://pypi.example.com/simple
            - --extra-index-url=https://extra.example.com/simple
            - -f https://host/links
            - -r reqs/base.txt
            - "--only-binary :all:"
        """,
    )
    env = parse_environment_yml(path)
    spec = env.spec
    assert env.nodefaults
    assert spec.kind == "environment-yml" and spec.name == "demo"
    assert spec.platforms == ("linux-64", "osx-arm64")
    assert spec.environment_names == ("default",)
    f = spec.default_feature
    assert f.channels == ("conda-forge", str(tmp_path / "local-chan"))
    assert [d.spec for d in f.dependencies] == ["python 3.11.*", "pip"]
    assert [d.requirement for d in f.pypi_dependencies] == [
        "torch>=2.3",
        "black[jupyter]==24.4.2",
        "mine @ https://host/mine-1.0-py3-none-any.whl",
        'requests>=2; python_version >= "3.8"',
    ]
    requests = f.pypi_dependencies[-1]
    assert requests.location.path == str(tmp_path / "reqs" / "base.txt")
    assert requests.location.line == 2
    assert spec.pypi_options == PypiOptions(
        index_url="https://pypi.example.com/simple",
        extra_index_urls=("https://extra.example.com/simple",),
        find_links=("https://host/links", str(tmp_path / "reqs" / "wheels")),
        no_build=True,
    )
    assert f.activation == Activation(env=(("OMP_NUM_THREADS", "4"), ("HF_HOME", "/cache")))
    assert spec.environment().channels == f.channels


def test_platforms_default(tmp_path):
    spec = load_spec(write_env(tmp_path, "channels: [conda-forge]\ndependencies: [numpy]\n"))
    assert spec.platforms == default_platforms()
    assert spec.name is None


def test_comments_are_kept_for_init(tmp_path):
    path = write_env(
        tmp_path,
        """
        channels: [conda-forge]
        dependencies:
          - python=3.11  # keep in step

          # Science
          # stack
          - numpy
          # - scipy
          - pandas
        """,
    )
    env = parse_environment_yml(path)
    assert env.comments[3].after == "keep in step"  # python, by its line
    assert env.comments[7].above == ("Science", "stack")  # numpy
    assert env.comments[7].blank_before
    assert env.comments[9].above == ("- scipy",)  # pandas


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        (
            "channels: [conda-forge]\ndependency:\n  - numpy\n",
            2,
            ["'dependency'", "did you mean 'dependencies'"],
        ),
        (
            "channels: [conda-forge]\ndependencies:\n  - numpy\n  - numpy>=1.2,\n",
            4,
            ["invalid conda requirement", "numpy>=1.2,"],
        ),
        (
            "channels: [conda-forge]\ndependencies:\n  - pip:\n    - --pre\n",
            4,
            ["unsupported option '--pre'"],
        ),
        (
            "channels: [conda-forge]\ndependencies:\n  - pip:\n    - torch>=2.3 foo\n",
            4,
            ["invalid PyPI requirement", "PEP 508"],
        ),
        (
            "channels: [conda-forge]\ndependencies:\n  - pip:\n    - ./pkg\n",
            4,
            ["bare path or URL", "pkg @ file:///"],
        ),
        (
            "channels: [conda-forge]\ndependencies:\n  - numpy\n  - numpy=1\n",
            4,
            ["listed twice", "line 3"],
        ),
        (
            "channels: [conda-forge]\ndependencies:\n  - pip:\n    - a\n    - A>=1\n",
            5,
            ["listed twice"],
        ),
        ("channels: [conda-forge\ndependencies: [numpy]\n", 2, ["invalid YAML"]),
        ("name: x\ndependencies:\n  - numpy\n", 1, ["channels", "none listed"]),
        ("channels: [conda-forge]\ndependencies:\n  - 3.5\n", 3, ["expected a conda requirement"]),
        (
            "channels: [conda-forge]\nplatforms: [linux64]\n",
            2,
            ["unknown platform 'linux64'", "did you mean 'linux-64'"],
        ),
        ("channels: conda-forge\n", 1, ["channels: expected a list"]),
        (
            "channels: [conda-forge]\ndependencies:\n  - conda:\n    - x\n",
            3,
            ["unknown entry 'conda'", "pip:"],
        ),
        ("channels: [conda-forge]\nchannels: [x]\n", 2, ["appears twice"]),
        ("", 1, ["empty"]),
        (
            "channels: [conda-forge]\ndependencies:\n  - pip:\n    - --only-binary :all:\n",
            4,
            ["as a mapping", "quote"],
        ),
    ],
)
def test_errors(tmp_path, body, line, words):
    err = env_error(tmp_path, body)
    shown = str(err)
    assert err.location.line == line, shown
    assert err.location.path.endswith("environment.yml"), shown
    for w in words:
        assert w in shown, shown


def test_error_in_requirements_file_points_there(tmp_path):
    (tmp_path / "reqs.txt").write_text("requests\n\nfoo bar baz\n")
    err = env_error(
        tmp_path, "channels: [conda-forge]\ndependencies:\n  - pip:\n    - -r reqs.txt\n"
    )
    assert err.location.path == str(tmp_path / "reqs.txt") and err.location.line == 3


def test_error_via_cli(tmp_path):
    write_env(tmp_path, "channels: [conda-forge]\ndependencies:\n  - pip:\n    - --pre\n")
    proc = hermetic("lock", cwd=tmp_path, check=2)
    assert_clean_error(proc)
    assert "environment.yml:4:" in proc.stderr and "'--pre'" in proc.stderr


# ---- the real-world file ----


@pytest.fixture
def cryo() -> Path:
    if not CRYO.exists():
        pytest.skip(f"the shared corpus is not at {CRYO}")
    return CRYO


def test_cryo_environment_yml(cryo):
    spec = load_spec(cryo)
    text = cryo.read_text().splitlines()
    listed = [
        re.sub(r"\s+#.*$", "", line.strip()[2:]).strip()
        for line in text[text.index("dependencies:") :]
        if line.startswith("  - ")
    ]
    f = spec.default_feature
    assert spec.name == "cryocloud"
    assert f.channels == ("conda-forge",)
    assert len(f.dependencies) == len(listed) > 100
    assert not f.pypi_dependencies
    by_name = {d.name: d for d in f.dependencies}
    assert by_name["python"].spec == "python 3.13.*"
    assert by_name["jupyterhub-singleuser"].spec == "jupyterhub-singleuser ~=5.0"
    assert by_name["pandas"].spec == "pandas >=2.0.1,<3.0"
    assert by_name["gh"].spec == "gh"
    for dep, raw in zip(f.dependencies, listed, strict=True):
        m = MatchSpec(dep.spec, strict=False)
        assert m.name.normalized == dep.name
        assert raw.startswith(dep.name) or raw.replace("_", "-").startswith(dep.name)
        assert text[dep.location.line - 1].strip()[2:].startswith(raw)
    env = spec.environment()
    assert env.platforms == spec.platforms and "linux-64" in env.platforms
