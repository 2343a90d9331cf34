"""Property-based fuzzing of the three manifest readers and the lock reader.

Whatever the text, a reader returns a spec (or lock) or raises a `HermeticError`; anything
else is a crash a user would see as a traceback. Inputs are mutations of real documents
(cut, duplicated, spliced, characters replaced, keys nested) and free-form text.

Budget: `HERMETIC_FUZZ_EXAMPLES` examples per reader; CI runs the default 60 per reader,
the nightly job runs `HERMETIC_FUZZ_EXAMPLES=10000 python -m pytest -q tests/security/test_fuzz_readers.py`
(10,000 per reader, 40,000 cases in all; about 15 minutes on one idle core).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hermetic.errors import HermeticError
from hermetic.lock.read import Lock
from hermetic.manifest.envyml import read_environment_yml
from hermetic.manifest.toml_source import read_toml_manifest

EXAMPLES = int(os.environ.get("HERMETIC_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 60,  # CI: the same cases every run; nightly: new ones each night
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

HERMETIC_TOML = """\
name = "demo"
channels = ["conda-forge", "./channel"]
platforms = ["linux-64", "osx-arm64"]

[dependencies]
python = ">=3.10,<3.13"
numpy = { version = "1.26.*", build = "py*" }

[pypi-dependencies]
requests = { version = ">=2", extras = ["socks"] }

[pypi-options]
index-url = "https://pypi.org/simple"

[activation.env]
A = "1"
B = { value = "$HOME/x", expand = true }

[target.linux-64.dependencies]
cuda-version = "12.*"

[feature.gpu.dependencies]
pytorch = "*"

[environments]
gpu = ["gpu"]
"""
PYPROJECT = """\
[project]
name = "demo"
dependencies = ["requests>=2"]

[tool.hermetic]
channels = ["conda-forge"]
platforms = ["linux-64"]

[tool.hermetic.dependencies]
python = "3.11.*"
"""
ENV_YML = """\
name: demo
channels:
  - conda-forge
  - nodefaults
platforms: [linux-64, osx-arm64]
variables:
  OMP_NUM_THREADS: "4"
dependencies:
  - python=3.11
  - numpy 1.26
  - scipy>=1.10,<2
  - pip
  - pip:
    - requests>=2
    - --index-url https://pypi.org/simple
"""
LOCK = """\
version: 6
environments:
  default:
    channels:
    - url: https://conda.anaconda.org/conda-forge/
    packages:
      linux-64:
      - conda: https://conda.anaconda.org/conda-forge/linux-64/tiny-1.0-0.conda
packages:
- conda: https://conda.anaconda.org/conda-forge/linux-64/tiny-1.0-0.conda
  sha256: 0000000000000000000000000000000000000000000000000000000000000000
  md5: 00000000000000000000000000000000
  depends: []
# hermetic: inputs of each environment (do not edit; `hermetic lock` rewrites it)
hermetic:
  format: 1
  environments:
    default:
      inputs-hash: abc
      channels: [conda-forge]
      platforms: [linux-64]
"""

NASTY = st.sampled_from(
    [
        "\0",
        "\x01",
        "\ufeff",
        "\udcff"[:0] + "\u2028",
        "[",
        "{",
        "]",
        "}",
        "&a",
        "*a",
        "<<: *a",
        '"',
        "'",
        "\\",
        "\n",
        "\t",
        ":",
        "- ",
        "#",
        "=",
        ".",
        "${X}",
        "../../x",
        "/abs",
        "\U0010ffff",
        "[[a]]",
        "a.b.c = 1",
        '"""',
        "'''",
        "x" * 300,
        "1e999",
        "-0",
        "nan",
        "true",
        "~",
    ]
)


@st.composite
def mutated(draw: st.DrawFn, base: str) -> str:
    text = base
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["insert", "delete", "replace", "dup", "nest", "cut"]))
        i = draw(st.integers(0, len(text)))
        if op == "insert":
            text = text[:i] + draw(st.one_of(NASTY, st.text(max_size=20))) + text[i:]
        elif op == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 40)) :]
        elif op == "replace":
            text = text[:i] + draw(NASTY) + text[i + 1 :]
        elif op == "dup":
            j = draw(st.integers(i, min(len(text), i + 200)))
            text = text[:j] + text[i:j] + text[j:]
        elif op == "nest":
            n = draw(st.integers(1, 3000))
            text = text[:i] + draw(st.sampled_from(["[", "{a=", "- ", " "])) * n + text[i:]
        else:
            text = text[:i]
    return text


def documents(base: str) -> st.SearchStrategy[str]:
    return st.one_of(mutated(base), st.text(max_size=400))


def _only_hermetic_errors(call, text: str, path: Path) -> None:  # type: ignore[no-untyped-def]
    with contextlib.suppress(HermeticError):
        call(path, text)


@FUZZ
@given(text=documents(HERMETIC_TOML))
def test_hermetic_toml_reader(tmp_path: Path, text: str) -> None:
    _only_hermetic_errors(read_toml_manifest, text, tmp_path / "hermetic.toml")


@FUZZ
@given(text=documents(PYPROJECT))
def test_pyproject_reader(tmp_path: Path, text: str) -> None:
    _only_hermetic_errors(read_toml_manifest, text, tmp_path / "pyproject.toml")


@FUZZ
@given(text=documents(ENV_YML))
def test_environment_yml_reader(tmp_path: Path, text: str) -> None:
    _only_hermetic_errors(read_environment_yml, text, tmp_path / "environment.yml")


@FUZZ
@given(text=documents(LOCK))
def test_lock_reader(tmp_path: Path, text: str) -> None:
    path = tmp_path / "hermetic.lock"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")

    def read(p: Path, _t: str) -> None:
        lock = Lock(p, text)
        for env in lock.environment_names():
            for platform in lock.platforms(env):
                lock.conda_records(env, platform)
                lock.pypi_packages(env, platform)

    _only_hermetic_errors(read, text, path)
