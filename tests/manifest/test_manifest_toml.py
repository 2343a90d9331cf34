"""The TOML spec readers: hermetic.toml, [tool.hermetic] in pyproject.toml, find_manifest."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from rattler import MatchSpec
from rattler.platform import Subdir

from clirun import assert_clean_error, hermetic
from hermetic.errors import SpecError, UsageError
from hermetic.manifest import (
    Activation,
    CondaDependency,
    Policy,
    PypiDependency,
    PypiOptions,
    SystemRequirements,
)
from hermetic.manifest.load import default_platforms, find_manifest, load_spec
from hermetic.manifest.toml_source import TomlLocator


def write(root: Path, name: str, body: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / name
    path.write_text(textwrap.dedent(body).lstrip("\n"))
    return path


def spec_of(tmp_path: Path, body: str, name: str = "hermetic.toml"):
    return load_spec(write(tmp_path, name, body))


def error_of(tmp_path: Path, body: str, name: str = "hermetic.toml") -> SpecError:
    with pytest.raises(UsageError) as info:
        spec_of(tmp_path, body, name)
    err = info.value
    assert err.location is not None and err.location.path.endswith(name)
    return err


FULL = """
name = "demo"
channels = ["conda-forge", "https://repo.example.com/chan", "./local-chan"]
platforms = ["linux-64", "osx-arm64"]

[dependencies]
python = "3.11.*"
NumPy = "1.26"
scipy = "*"
pandas = ">=2,<3"
gpukernel = "*=cuda*"
pytorch = { version = "2.3.1", build = "cuda12*", channel = "pytorch" }

[pypi-dependencies]
Torch_Vision = ">=0.18"
requests = { version = ">=2", extras = ["socks"] }
black = "24.4.2"
anything = "*"
mine = { path = "../mine" }
wheel-at = { url = "https://host/x/wheel_at-1.0-py3-none-any.whl" }
linuxonly = { version = ">=1", markers = "sys_platform == 'linux'" }

[pypi-options]
index-url = "https://pypi.example.com/simple"
extra-index-urls = ["https://extra.example.com/simple"]
find-links = ["./wheels", "https://host/links"]
no-build = true

[system-requirements]
cuda = "12.4"
glibc = "2.28"
linux = 5
archspec = "x86_64_v3"

[activation]
env = { OMP_NUM_THREADS = "4", HF_HOME = "/cache" }
scripts = ["setup.sh"]

[target.osx-arm64.dependencies]
libomp = "*"
[target.linux-64.activation]
env = { LD_PRELOAD = "" }

[feature.gpu]
channels = ["nvidia"]
platforms = ["linux-64"]
[feature.gpu.system-requirements]
cuda = "12.6"
[feature.gpu.dependencies]
cudnn = "9.*"
[feature.gpu.pypi-dependencies]
nvidia-ml-py = ">=12"
[feature.gpu.target.linux-64.dependencies]
nccl = "*"

[feature.test.dependencies]
pytest = "*"

[feature.unused.dependencies]
nothing = "*"

[environments]
gpu = ["gpu"]
ci = { features = ["test", "gpu"] }

[policy]
allowed-channels = ["conda-forge", "pytorch", "nvidia"]
forbidden-channels = ["defaults"]
strict-channel-priority = true
require-python-pin = false
allow-conda-pypi-duplicates = true
warn-bundled-native-libs = false
ignore = ["channel-not-allowed"]

[pypi-mapping]
py-opencv = "opencv-python"
libfoo = false
"""


def test_full_hermetic_toml(tmp_path):
    spec = spec_of(tmp_path, FULL)
    assert spec.kind == "hermetic-toml" and spec.name == "demo"
    assert spec.platforms == ("linux-64", "osx-arm64")
    default = spec.default_feature
    assert default.channels == (
        "conda-forge",
        "https://repo.example.com/chan",
        str(tmp_path / "local-chan"),
    )
    assert {d.name: d.spec for d in default.dependencies} == {
        "python": "python 3.11.*",
        "numpy": "numpy ==1.26",
        "scipy": "scipy",
        "pandas": "pandas >=2,<3",
        "gpukernel": "gpukernel * cuda*",
        "pytorch": "pytorch::pytorch ==2.3.1 cuda12*",
    }
    for d in default.dependencies:
        MatchSpec(d.spec, strict=False)
    pypi = {d.name: d.requirement for d in default.pypi_dependencies}
    assert pypi == {
        "torch-vision": "torch-vision>=0.18",
        "requests": "requests[socks]>=2",
        "black": "black==24.4.2",
        "anything": "anything",
        "mine": f"mine @ {(tmp_path.parent / 'mine').as_uri()}",
        "wheel-at": "wheel-at @ https://host/x/wheel_at-1.0-py3-none-any.whl",
        "linuxonly": 'linuxonly>=1; sys_platform == "linux"',
    }
    assert spec.pypi_options == PypiOptions(
        index_url="https://pypi.example.com/simple",
        extra_index_urls=("https://extra.example.com/simple",),
        find_links=(str(tmp_path / "wheels"), "https://host/links"),
        no_build=True,
    )
    assert default.system_requirements == SystemRequirements(
        cuda="12.4", glibc="2.28", linux="5", archspec="x86_64_v3"
    )
    assert default.activation == Activation(
        env=(("OMP_NUM_THREADS", "4"), ("HF_HOME", "/cache")), scripts=("setup.sh",)
    )
    assert [t.platform for t in default.targets] == ["osx-arm64", "linux-64"]
    assert spec.environment_names == ("default", "gpu", "ci")
    assert spec.policy == Policy(
        allowed_channels=("conda-forge", "pytorch", "nvidia"),
        forbidden_channels=("defaults",),
        strict_channel_priority=True,
        require_python_pin=False,
        allow_conda_pypi_duplicates=True,
        warn_bundled_native_libs=False,
        ignore=("channel-not-allowed",),
    )
    assert spec.pypi_mapping == (("py-opencv", "opencv-python"), ("libfoo", ""))

    # composition: the gpu environment narrows platforms and adds its feature
    gpu = spec.environment("gpu")
    assert gpu.platforms == ("linux-64",)
    assert gpu.channels == (
        "nvidia",
        "conda-forge",
        "https://repo.example.com/chan",
        str(tmp_path / "local-chan"),
    )
    names = [d.name for d in gpu.conda_dependencies("linux-64")]
    assert "cudnn" in names and "nccl" in names and "python" in names
    assert gpu.system_requirements.cuda == "12.6"
    ci = spec.environment("ci")
    assert ci.features == ("default", "test", "gpu")
    default_env = spec.environment("default")
    assert "libomp" in [d.name for d in default_env.conda_dependencies("osx-arm64")]
    assert "libomp" not in [d.name for d in default_env.conda_dependencies("linux-64")]
    assert default_env.activation("linux-64").env[-1] == ("LD_PRELOAD", "")


def test_locations_point_at_the_key(tmp_path):
    spec = spec_of(tmp_path, FULL)
    text = (tmp_path / "hermetic.toml").read_text().splitlines()

    def line_of(dep) -> str:
        return text[dep.location.line - 1]

    for dep in spec.default_feature.dependencies:
        assert line_of(dep).lower().startswith(dep.name), dep
    for dep in spec.default_feature.pypi_dependencies:
        assert line_of(dep).lower().replace("_", "-").startswith(dep.name), dep
    cudnn = spec.feature("gpu").dependencies[0]
    assert (
        line_of(cudnn).startswith("cudnn")
        and "[feature.gpu.dependencies]" in text[cudnn.location.line - 2]
    )
    assert spec.feature("gpu").location.line == text.index("[feature.gpu]") + 1
    env_line = next(e for e in spec.environments if e.name == "ci").location.line
    assert text[env_line - 1].startswith("ci =")


def test_pyproject_form(tmp_path):
    spec = spec_of(
        tmp_path,
        """
        [project]
        name = "my-project"
        dependencies = ["requests>=2", "Rich", "click>=8"]

        [tool.hermetic]
        channels = ["conda-forge"]
        [tool.hermetic.dependencies]
        python = "3.12.*"
        [tool.hermetic.pypi-dependencies]
        click = "==8.1.7"
        """,
        name="pyproject.toml",
    )
    assert spec.kind == "pyproject" and spec.name == "my-project"
    assert spec.platforms == default_platforms()
    pypi = spec.default_feature.pypi_dependencies
    # project.dependencies first, [tool.hermetic] overriding the same name
    assert [(d.name, d.requirement) for d in pypi] == [
        ("requests", "requests>=2"),
        ("rich", "rich"),
        ("click", "click==8.1.7"),
    ]
    text = (tmp_path / "pyproject.toml").read_text().splitlines()
    assert text[pypi[0].location.line - 1].startswith("dependencies")


def test_pyproject_name_wins_over_project(tmp_path):
    spec = spec_of(
        tmp_path,
        """
        [project]
        name = "pkg"
        [tool.hermetic]
        name = "env"
        channels = ["conda-forge"]
        """,
        name="pyproject.toml",
    )
    assert spec.name == "env"


def test_default_platforms_are_linux_and_current(tmp_path):
    spec = spec_of(tmp_path, 'channels = ["conda-forge"]\n')
    assert spec.platforms[0] == "linux-64"
    assert str(Subdir.current()) in spec.platforms
    assert len(set(spec.platforms)) == len(spec.platforms)


def test_redefined_default_environment(tmp_path):
    spec = spec_of(
        tmp_path,
        """
        channels = ["conda-forge"]
        [feature.extra.dependencies]
        rich = "*"
        [environments]
        default = ["extra"]
        """,
    )
    assert spec.environment_names == ("default",)
    assert [d.name for d in spec.environment().conda_dependencies("linux-64")] == ["rich"]


def test_pypi_mapping_and_conda_names_lowercased(tmp_path):
    spec = spec_of(
        tmp_path,
        """
        channels = ["conda-forge"]
        [dependencies]
        PyYAML = ">=6"
        [pypi-mapping]
        Py-OpenCV = "OpenCV_Python"
        """,
    )
    assert spec.default_feature.dependencies == (CondaDependency("pyyaml", "pyyaml >=6"),)
    assert spec.pypi_mapping == (("py-opencv", "opencv-python"),)


def test_equality_ignores_locations(tmp_path):
    a = spec_of(tmp_path / "a", 'channels = ["conda-forge"]\n[dependencies]\nnumpy = "*"\n')
    b = spec_of(
        tmp_path / "b", '\n\nchannels = [ "conda-forge" ]\n\n[dependencies]\n\nnumpy = "*"\n'
    )
    assert a.features == b.features
    assert PypiDependency("x", "x") == PypiDependency("x", "x", location=None)


# ---- errors: file:line, what was expected, did you mean ----


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        (
            'channels = ["conda-forge"]\n[pypi-dependecies]\nx = "*"\n',
            2,
            ["pypi-dependecies", "did you mean 'pypi-dependencies'"],
        ),
        (
            'channels = ["conda-forge"]\n[feature.gpu]\nplatform = ["linux-64"]\n',
            3,
            ["'platform'", "[feature.gpu]", "did you mean 'platforms'"],
        ),
        (
            'channels = ["conda-forge"]\n[feature.gpu]\npypi-mapping = {}\n',
            3,
            ["pypi-mapping", "only allowed at the top level"],
        ),
        (
            'channels = ["conda-forge"]\n[target.linux-64]\ndependancies = {}\n',
            3,
            ["did you mean 'dependencies'"],
        ),
        ('channels = "conda-forge"\n', 1, ["channels", "expected a list of strings"]),
        (
            'channels = [\n  "conda-forge",\n  3,\n]\n',
            3,
            ["expected a list of strings", "item 2"],
        ),
        (
            'channels = ["conda-forge"]\nplatforms = ["linux-64", "linux-46"]\n',
            2,
            ["linux-46", "did you mean 'linux-64'", "osx-arm64", "win-64"],
        ),
        (
            'channels = ["conda-forge"]\n[dependencies]\npython = "3.11"\nnumpy = ">=1.2,"\n',
            4,
            ["dependencies.numpy", ">=1.2,", "conda"],
        ),
        (
            'channels = ["conda-forge"]\n[dependencies]\nnumpy = 1.26\n',
            3,
            ["dependencies.numpy", "expected a version spec string", "float"],
        ),
        (
            'channels = ["conda-forge"]\n[pypi-dependencies]\ntorch = ">=2.3 foo"\n',
            3,
            ["pypi-dependencies.torch", "invalid PyPI requirement", "PEP 508"],
        ),
        (
            'channels = ["conda-forge"]\n[system-requirements]\ncuda = 12.10\n',
            3,
            ["system-requirements.cuda", "quote it", 'cuda = "12.1"'],
        ),
        (
            'channels = ["conda-forge"]\n[system-requirements]\nglibc = true\n',
            3,
            ["expected a version string"],
        ),
        (
            'channels = ["conda-forge"]\n[feature.gpu.dependencies]\nx = "*"\n'
            '[feature.test.dependencies]\ny = "*"\n\n[environments]\ngpu = ["gpus"]\n',
            8,
            ["unknown feature 'gpus'", "did you mean 'gpu'"],
        ),
        (
            'channels = ["conda-forge"]\n[environments]\nci = { features = [], solve-grup = "a" }\n',
            3,
            ["unknown key 'solve-grup'", "did you mean 'solve-group'"],
        ),
        (
            'channels = ["conda-forge"]\n[feature.default.dependencies]\nx = "*"\n',
            2,
            ["cannot be named 'default'"],
        ),
        (
            'channels = ["conda-forge"]\n[policy]\nstrict-channel-priority = "yes"\n',
            3,
            ["expected true or false"],
        ),
        (
            'channels = ["conda-forge"]\n[pypi-mapping]\nfoo = true\n',
            3,
            ["or false"],
        ),
        (
            'channels = ["conda-forge"]\n[dependencies]\nnumpy = "numpy>=1"\n',
            3,
            ["repeats the package name", 'numpy = ">=1"'],
        ),
        (
            'channels = ["conda-forge"]\ndependencies.numpy = {version = ">=1", bild = "x"}\n',
            2,
            ["'bild'", "did you mean 'build'"],
        ),
        (
            'channels = ["conda-forge"]\n[pypi-dependencies]\nx = { url = "https://h/x.whl", path = "." }\n',
            3,
            ["url or path"],
        ),
        (
            'channels = ["conda-forge"\nfoo = 1\n',
            2,
            ["invalid TOML"],
        ),
    ],
)
def test_errors(tmp_path, body, line, words):
    err = error_of(tmp_path, body)
    shown = str(err)
    assert err.location.line == line, shown
    for w in words:
        assert w in shown, shown


def test_platform_overlap_error_points_at_environment(tmp_path):
    err = error_of(
        tmp_path,
        """
        channels = ["conda-forge"]
        platforms = ["linux-64"]
        [feature.mac]
        platforms = ["osx-arm64"]
        [environments]
        mac = ["mac"]
        """,
    )
    assert "no platform left" in err.message and err.location.line == 6
    assert isinstance(err, SpecError)


def test_pyproject_without_tool_hermetic(tmp_path):
    err = error_of(tmp_path, '[project]\nname = "x"\n', name="pyproject.toml")
    assert "[tool.hermetic]" in err.message and "hermetic init" in err.hint


def test_pyproject_errors_name_full_key(tmp_path):
    err = error_of(
        tmp_path,
        """
        [project]
        name = "x"
        [tool.hermetic]
        channels = ["conda-forge"]
        [tool.hermetic.feature.gpu.dependencies]
        cudnn = ">>9"
        """,
        name="pyproject.toml",
    )
    assert err.location.line == 6
    assert "tool.hermetic.feature.gpu.dependencies.cudnn" in err.message


def test_error_via_cli_is_one_message(tmp_path):
    write(tmp_path, "hermetic.toml", 'channels = ["conda-forge"]\n[pypi-dependecies]\nx = "*"\n')
    proc = hermetic("lock", cwd=tmp_path, check=2)
    assert_clean_error(proc)
    assert "hermetic.toml:2:" in proc.stderr and "did you mean 'pypi-dependencies'" in proc.stderr


# ---- the locator ----


def test_locator_handles_tomls_shapes():
    text = textwrap.dedent(
        """\
        # comment
        [tool.hermetic]
        channels = [
          "a",  # one
          'b',
        ]
        description = \"\"\"
        several
        lines\"\"\"
        dependencies.numpy = "*"
        "quoted.key" = 1
        [tool.hermetic."target".'linux-64'.dependencies]
        x = { version = "1", build = "b" }
        y = { version = "1", extras = ["a", "b"], nested = { k = 1 } }
        [[tool.aot]]
        k = 1
        [[tool.aot]]
        k = 2
        z = 1979-05-27 07:32:00
        w = 3
        """
    )
    loc = TomlLocator(text)
    h = ("tool", "hermetic")
    assert loc.line(h) == 2
    assert loc.line((*h, "channels")) == 3
    assert loc.line((*h, "channels", 0)) == 4
    assert loc.line((*h, "channels", 1)) == 5
    assert loc.line((*h, "description")) == 7
    assert loc.line((*h, "dependencies", "numpy")) == 10
    assert loc.line((*h, "dependencies")) == 10
    assert loc.line((*h, "quoted.key")) == 11
    t = (*h, "target", "linux-64", "dependencies")
    assert loc.line(t) == 12
    assert loc.line((*t, "x", "build")) == 13
    assert loc.line((*t, "y", "nested", "k")) == 14
    assert loc.line((*t, "missing")) == 12  # falls back to the table header
    assert loc.line(("tool", "aot", 1, "k")) == 18
    assert loc.line(("tool", "aot", 1, "w")) == 20
    assert loc.line(("nothing",)) is None


# ---- finding the manifest ----


def test_find_manifest_order_and_walk_up(tmp_path):
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    write(tmp_path, "environment.yml", "channels: [conda-forge]\n")
    assert find_manifest(deep) == tmp_path / "environment.yml"
    write(tmp_path, "pyproject.toml", "[project]\nname = 'x'\n")  # not ours
    assert find_manifest(deep) == tmp_path / "environment.yml"
    write(tmp_path, "pyproject.toml", "[project]\nname = 'x'\n[tool.hermetic]\n")
    assert find_manifest(deep) == tmp_path / "pyproject.toml"
    write(tmp_path, "hermetic.toml", 'channels = ["conda-forge"]\n')
    assert find_manifest(deep) == tmp_path / "hermetic.toml"
    write(tmp_path / "a", "environment.yaml", "channels: [conda-forge]\n")
    assert find_manifest(deep) == tmp_path / "a" / "environment.yaml"  # the nearest wins
    assert load_spec(deep).kind == "environment-yml"


def test_find_manifest_none(tmp_path):
    with pytest.raises(SpecError) as info:
        find_manifest(tmp_path)
    msg = str(info.value)
    for name in ("hermetic.toml", "pyproject.toml", "[tool.hermetic]", "environment.yml"):
        assert name in msg
    assert "hermetic init" in msg


def test_load_spec_dispatch(tmp_path):
    write(tmp_path, "custom.toml", 'channels = ["conda-forge"]\n')
    assert load_spec(tmp_path / "custom.toml").kind == "hermetic-toml"
    write(tmp_path, "other.toml", '[tool.hermetic]\nchannels = ["conda-forge"]\n')
    assert load_spec(tmp_path / "other.toml").kind == "pyproject"
    write(tmp_path, "my-env.yaml", "channels: [conda-forge]\n")
    assert load_spec(tmp_path / "my-env.yaml").kind == "environment-yml"
    write(tmp_path, "spec.json", "{}")
    with pytest.raises(SpecError):
        load_spec(tmp_path / "spec.json")
    with pytest.raises(UsageError):
        load_spec(tmp_path / "missing.toml")


def test_environments_are_composed_once_at_load(tmp_path, monkeypatch):
    """`Spec.environment()` hands out the environment composed when the spec was read."""
    import hermetic.manifest.model as model

    (tmp_path / "hermetic.toml").write_text(
        'channels = ["conda-forge"]\nplatforms = ["linux-64"]\n'
        '[feature.gpu.dependencies]\ncuda-version = "12.*"\n'
        '[environments]\ngpu = ["gpu"]\n'
    )
    calls: list[str] = []
    real = model.compose

    def counting(spec, decl):  # type: ignore[no-untyped-def]
        calls.append(decl.name)
        return real(spec, decl)

    monkeypatch.setattr(model, "compose", counting)
    spec = load_spec(tmp_path / "hermetic.toml")
    assert sorted(calls) == ["default", "gpu"]
    for _ in range(5):
        assert spec.environment("gpu") is spec.environment("gpu")
        spec.environment()
    assert sorted(calls) == ["default", "gpu"]
