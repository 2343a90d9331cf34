"""Activation values come out exactly as written, in `run` and in `shell-hook` for bash, zsh
and fish: from `[activation.env]`, from an environment.yml's `variables:` and from a
package's `etc/conda/env_vars.d`. Only `{ value = ..., expand = true }` is expanded."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hermetic.condapkg import PackageSpec, build_channel
from projects import h

#: name -> value; each must arrive in the command's environment byte for byte
TABLE = {
    "V_DOLLARS": "pa$$word",
    "V_SUBST": "$(touch PWNED_SUBST)",
    "V_BRACE": "${HOME}/x",
    "V_ARITH": "$((6*7))",
    "V_TICKS": "`touch PWNED_TICKS`",
    "V_QUOTES": "it's \"quoted\" and 'single'",
    "V_NEWLINE": "line1\nline2\n",
    "V_BACKSLASH": "back\\slash \\n \\\\",
    "V_GLOB": "* ?",
    "V_TILDE": "~/x",
    "V_OPS": "a;b && c | d > e",
    "V_FISH": "(echo fish) {a,b} $status",
}
SHELLS = [s for s in ("bash", "zsh", "fish") if shutil.which(s)]
DUMP = (
    f"{sys.executable} -c 'import json, os; "
    'print(json.dumps({k: v for k, v in os.environ.items() if k[:2] in ("V_", "P_", "Y_", "X_")}))\''
)


def _toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a TOML basic string for these values


@pytest.fixture(scope="module")
def env_vars_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pkg_vars = {f"P_{k[2:]}": v for k, v in TABLE.items()}
    spec = PackageSpec(
        "envvarspkg",
        "1.0",
        subdir="noarch",
        noarch="generic",
        files={"etc/conda/env_vars.d/envvarspkg.json": json.dumps(pkg_vars).encode()},
    )
    return build_channel(tmp_path_factory.mktemp("envvars-channel"), [spec])


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, env_vars_channel: Path) -> Path:
    root = tmp_path_factory.mktemp("literal")
    env = "\n".join(f"{k} = {_toml_string(v)}" for k, v in TABLE.items())
    root.joinpath("hermetic.toml").write_text(
        f"channels = [{json.dumps(str(env_vars_channel))}]\n"
        'platforms = ["linux-64"]\n'
        '[dependencies]\nenvvarspkg = "*"\n'
        f"[activation.env]\n{env}\n"
        'X_EXPANDED = { value = "${HOME}/x", expand = true }\n'
        'X_LITERAL = { value = "${HOME}/x", expand = false }\n'
    )
    return root


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def _expected(home: str) -> dict[str, str]:
    out = dict(TABLE)
    out.update({f"P_{k[2:]}": v for k, v in TABLE.items()})
    out["X_EXPANDED"] = f"{home}/x"
    out["X_LITERAL"] = "${HOME}/x"
    return out


def _check(out: str, cwd: Path, home: str) -> None:
    got = json.loads(out.strip().splitlines()[-1])
    want = _expected(home)
    assert {k: got.get(k) for k in want} == want
    assert not list(cwd.glob("PWNED_*")), "a value was executed"


def test_run_exports_values_literally(project: Path, cache: Path, tmp_path: Path) -> None:
    home = str(tmp_path)
    proc = h("run", "sh", "-c", DUMP, cwd=project, cache=cache, HOME=home)
    _check(proc.stdout, project, home)


@pytest.mark.parametrize("shell", SHELLS)
def test_shell_hook_exports_values_literally(
    project: Path, cache: Path, tmp_path: Path, shell: str
) -> None:
    home = str(tmp_path)
    hook = h("shell-hook", "--shell", shell, cwd=project, cache=cache, HOME=home).stdout
    script = tmp_path / f"hook.{shell}"
    script.write_text(hook)
    argv = {
        "bash": ["bash", "--noprofile", "--norc", "-c"],
        "zsh": ["zsh", "-f", "-c"],
        "fish": ["fish", "--no-config", "-c"],
    }[shell]
    line = f"source {script}; {DUMP}" if shell != "bash" else f". {script}; {DUMP}"
    proc = subprocess.run(
        [*argv, line],
        cwd=project,
        capture_output=True,
        text=True,
        env={"HOME": home, "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    _check(proc.stdout, project, home)


def test_environment_yml_variables_are_literal(
    tmp_path: Path, env_vars_channel: Path, cache: Path
) -> None:
    import yaml

    root = tmp_path / "yml"
    root.mkdir()
    doc = {
        "name": "lit",
        "channels": [str(env_vars_channel)],
        "dependencies": ["envvarspkg"],
        "platforms": ["linux-64"],
        "variables": {f"Y_{k[2:]}": v for k, v in TABLE.items()},
    }
    (root / "environment.yml").write_text(yaml.safe_dump(doc))
    proc = h("run", "sh", "-c", DUMP, cwd=root, cache=cache, HOME=str(tmp_path))
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert {k: got.get(f"Y_{k[2:]}") for k in TABLE} == TABLE
    assert not list(root.glob("PWNED_*"))
