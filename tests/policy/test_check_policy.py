"""`hermetic check`: the policy lint of spec and lock."""

from __future__ import annotations

import json
import textwrap

import pytest

from clirun import hermetic
from projects import write_spec


def findings(proc) -> list[dict]:
    return json.loads(proc.stdout)["findings"]


def rules(proc) -> set[str]:
    return {f["id"] for f in findings(proc)}


def test_clean_project_passes(tmp_path, conda_channel):
    # the fixture channel is a local folder; the policy allows it by name
    write_spec(
        tmp_path,
        f"""
channels = [{json.dumps(str(conda_channel))}]
platforms = ["linux-64"]
[dependencies]
python = "3.*"
tinytool = "*"
[policy]
allowed-channels = [{json.dumps(conda_channel.name)}]
""",
    )
    hermetic("lock", cwd=tmp_path)
    proc = hermetic("check", "--json", cwd=tmp_path, check=0)
    assert json.loads(proc.stdout)["ok"] is True
    assert findings(proc) == []


def test_defaults_channel_forbidden_with_reason(tmp_path):
    write_spec(
        tmp_path,
        """
channels = ["defaults", "conda-forge"]
platforms = ["linux-64"]
[dependencies]
python = "3.11.*"
""",
    )
    proc = hermetic("check", cwd=tmp_path, check=1)
    assert "forbidden-channel" in proc.stdout and "licens" in proc.stdout.lower()
    proc = hermetic("check", "--json", cwd=tmp_path, check=1)
    assert rules(proc) == {"forbidden-channel"}
    f = findings(proc)[0]
    assert f["severity"] == "error" and f["hint"] and f["location"].endswith("hermetic.toml:2")


def test_unpinned_python_and_duplicates_with_lines(tmp_path):
    write_spec(
        tmp_path,
        textwrap.dedent("""
        channels = ["conda-forge"]
        platforms = ["linux-64"]
        [dependencies]
        python = "*"
        numpy = "1.26.*"
        [pypi-dependencies]
        numpy = ">=1.26"
        """),
    )
    proc = hermetic("check", "--json", cwd=tmp_path, check=1)
    assert rules(proc) == {"python-not-pinned", "conda-pypi-duplicate"}
    by_rule = {f["id"]: f for f in findings(proc)}
    assert by_rule["conda-pypi-duplicate"]["location"].endswith("hermetic.toml:8")
    assert by_rule["python-not-pinned"]["location"].endswith("hermetic.toml:5")


def test_pixi_pyproject_layout_is_no_duplicate(tmp_path):
    # pixi's layout (skrub and most pixi libraries): [project] dependencies say what the
    # package needs, [tool.pixi.dependencies] take them from conda; only a name asked for
    # again in [tool.pixi.pypi-dependencies] is a second request
    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent("""\
        [project]
        name = "mylib"
        version = "1.0"
        dependencies = ["numpy>=1.26", "pandas"]

        [project.optional-dependencies]
        plot = ["matplotlib"]

        [tool.pixi.workspace]
        channels = ["conda-forge"]
        platforms = ["linux-64"]

        [tool.pixi.dependencies]
        python = "3.11.*"
        numpy = "1.26.*"
        pandas = "*"
        matplotlib = "*"
        scipy = "*"

        [tool.pixi.pypi-dependencies]
        scipy = ">=1.11"
        """)
    )
    proc = hermetic("check", "--json", "-m", "pyproject.toml", cwd=tmp_path, check=1)
    dups = [f for f in findings(proc) if f["id"] == "conda-pypi-duplicate"]
    assert [d["message"].split()[0] for d in dups] == ["scipy"], dups
    assert dups[0]["location"].endswith("pyproject.toml:21")


def test_policy_is_configurable(tmp_path):
    write_spec(
        tmp_path,
        """
channels = ["conda-forge", "pytorch"]
platforms = ["linux-64"]
[dependencies]
python = "*"
[policy]
allowed-channels = ["conda-forge", "pytorch"]
require-python-pin = false
""",
    )
    proc = hermetic("check", "--json", cwd=tmp_path, check=0)
    assert findings(proc) == []
    write_spec(
        tmp_path,
        """
channels = ["conda-forge", "pytorch"]
platforms = ["linux-64"]
[dependencies]
python = "3.11.*"
[policy]
ignore = ["channel-not-allowed"]
""",
    )
    hermetic("check", cwd=tmp_path, check=0)


def test_bundled_native_libs_warning_from_lock(tmp_path):
    """nvidia-*-cu12 wheels next to conda CUDA packages: a warning (exit 0, 1 with --strict)."""
    from fixtures.channels import PackageSpec, build_channel
    from fixtures.wheels import build_wheel

    channel = tmp_path / "conda-forge"
    build_channel(
        channel,
        [
            PackageSpec("python", "3.11.9", "h0_cpython"),
            PackageSpec("cudnn", "9.1.0", "h0_0"),
        ],
    )
    wheels = tmp_path / "wheels"
    build_wheel(wheels, "nvidia-cudnn-cu12", "9.1.0.70")
    write_spec(
        tmp_path / "proj",
        f"""
channels = [{json.dumps(str(channel))}]
platforms = ["linux-64"]
[dependencies]
python = "3.11.*"
cudnn = "*"
[pypi-dependencies]
nvidia-cudnn-cu12 = "*"
[pypi-options]
find-links = [{json.dumps(str(wheels))}]
no-index = true
""",
    )
    hermetic("lock", cwd=tmp_path / "proj")
    proc = hermetic("check", "--json", cwd=tmp_path / "proj", check=0)
    f = [x for x in findings(proc) if x["id"] == "bundled-native-libs"]
    assert len(f) == 1 and "cudnn" in f[0]["message"] and f[0]["severity"] == "warning"
    hermetic("check", "--strict", cwd=tmp_path / "proj", check=1)


# ---- a policy that fits real projects: every manifest kind, config files, exact keys ----


def test_python_not_pinned_is_a_warning(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    write_spec(tmp_path, '\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n')
    proc = hermetic("check", "--json", cwd=tmp_path, check=0)
    (f,) = findings(proc)
    assert f["id"] == "python-not-pinned" and f["severity"] == "warning"
    assert "[dependencies]" in f["hint"] and "require-python-pin = false in [policy]" in f["hint"]
    hermetic("check", "--strict", cwd=tmp_path, check=1)


def test_messages_name_the_line_and_the_exact_key(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent("""\
        [project]
        name = "x"

        [tool.hermetic]
        channels = ["conda-forge", "pytorch"]
        platforms = ["linux-64"]

        [tool.hermetic.dependencies]
        python = "3.11.*"

        [tool.hermetic.policy]
        ignore = []
        """)
    )
    proc = hermetic("check", "--json", cwd=tmp_path, check=1)
    (f,) = findings(proc)
    assert f["id"] == "channel-not-allowed" and f["location"].endswith("pyproject.toml:5")
    assert "add 'pytorch' to allowed-channels in [tool.hermetic.policy]" in f["hint"]
    assert "pyproject.toml:11" in f["hint"] and 'preset = "pytorch"' in f["hint"]


def test_environment_yml_policy_key_and_pytorch_preset(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    env = tmp_path / "environment.yml"
    env.write_text(
        "channels: [pytorch, nvidia, conda-forge]\nplatforms: [linux-64]\n"
        "dependencies:\n  - python=3.11\n  - pytorch::pytorch\n"
    )
    proc = hermetic("check", "--json", cwd=tmp_path, check=1)
    assert rules(proc) == {"channel-not-allowed"}
    hint = findings(proc)[0]["hint"]
    assert "the policy: key of environment.yml" in hint
    env.write_text(env.read_text() + "policy:\n  preset: pytorch\n")
    proc = hermetic("check", "--json", cwd=tmp_path, check=0)
    assert findings(proc) == []
    env.write_text(env.read_text() + "  bogus: 1\n")
    proc = hermetic("check", cwd=tmp_path, check=2)
    assert "environment.yml:8: unknown key 'bogus' in policy:" in proc.stderr


def test_config_files_carry_the_policy_and_the_manifest_wins(tmp_path, monkeypatch):
    xdg = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    write_spec(
        tmp_path,
        '\nchannels = ["conda-forge", "pytorch"]\nplatforms = ["linux-64"]\n'
        '[dependencies]\npython = "*"\n',
    )
    (xdg / "hermetic").mkdir(parents=True)
    (xdg / "hermetic" / "config.toml").write_text('[tool.hermetic.policy]\npreset = "pytorch"\n')
    proc = hermetic("check", "--json", cwd=tmp_path, check=0)
    assert rules(proc) == {"python-not-pinned"}
    (tmp_path / ".hermetic").mkdir()
    (tmp_path / ".hermetic" / "config.toml").write_text("[policy]\nrequire-python-pin = false\n")
    proc = hermetic("check", "--json", cwd=tmp_path, check=0)
    assert findings(proc) == []
    (tmp_path / "hermetic.toml").write_text(
        (tmp_path / "hermetic.toml").read_text() + "[policy]\nallowed-channels = ['conda-forge']\n"
    )
    proc = hermetic("check", "--json", cwd=tmp_path, check=1)
    assert rules(proc) == {"channel-not-allowed"}
    assert "hermetic.toml:6" in findings(proc)[0]["hint"]


def test_pixi_manifest_policy_in_tool_hermetic(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    (tmp_path / "pixi.toml").write_text(
        textwrap.dedent("""\
        [workspace]
        channels = ["conda-forge", "nvidia"]
        platforms = ["linux-64"]
        [dependencies]
        python = "3.12.*"
        [tool.hermetic.policy]
        preset = "pytorch"
        """)
    )
    proc = hermetic("check", "--json", cwd=tmp_path, check=0)
    assert findings(proc) == []


# each manifest kind: (file, text, line of the dependencies table, the table as written there,
# how the pin is written, how the rule is turned off there)
PYTHON_PIN_KINDS = [
    (
        "pixi.toml",
        '[workspace]\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n\n'
        '[dependencies]\nnumpy = "*"\n',
        5,
        "to [dependencies]",
        'python = "3.11.*"',
        "require-python-pin = false in [tool.hermetic.policy]",
    ),
    (
        "pyproject.toml",
        '[project]\nname = "x"\n\n[tool.pixi.workspace]\nchannels = ["conda-forge"]\n'
        'platforms = ["linux-64"]\n\n[tool.pixi.dependencies]\nnumpy = "*"\n',
        8,
        "to [tool.pixi.dependencies]",
        'python = "3.11.*"',
        "require-python-pin = false in [tool.hermetic.policy]",
    ),
    (
        "pyproject.toml",
        '[project]\nname = "x"\n\n[tool.hermetic]\nchannels = ["conda-forge"]\n'
        'platforms = ["linux-64"]\n\n[tool.hermetic.dependencies]\nnumpy = "*"\n',
        8,
        "to [tool.hermetic.dependencies]",
        'python = "3.11.*"',
        "require-python-pin = false in [tool.hermetic.policy]",
    ),
    (
        "hermetic.toml",
        'channels = ["conda-forge"]\nplatforms = ["linux-64"]\n\n[dependencies]\nnumpy = "*"\n',
        4,
        "to [dependencies]",
        'python = "3.11.*"',
        "require-python-pin = false in [policy]",
    ),
    (
        "environment.yml",
        "name: x\nchannels:\n  - conda-forge\nplatforms: [linux-64]\ndependencies:\n  - numpy\n",
        5,
        "to dependencies:",
        "- python=3.11",
        "require-python-pin: false in the policy: key",
    ),
]


@pytest.mark.parametrize(
    "name,text,line,table,pin,off",
    PYTHON_PIN_KINDS,
    ids=["pixi.toml", "tool.pixi", "tool.hermetic", "hermetic.toml", "environment.yml"],
)
def test_python_not_pinned_names_file_line_and_key_in_every_manifest_kind(
    tmp_path, monkeypatch, name, text, line, table, pin, off
):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    (tmp_path / name).write_text(text)
    (f,) = findings(hermetic("check", "--json", cwd=tmp_path, check=0))
    assert f["id"] == "python-not-pinned"
    assert f["location"] == f"{tmp_path / name}:{line}"
    assert f"add {pin} (the version you run) {table} at {tmp_path / name}:{line}" in f["hint"]
    assert off in f["hint"]
