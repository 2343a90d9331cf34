"""Which conda packages are Python distributions, and under which PyPI name.

A conda package is taken to provide the PyPI distribution of the same (normalized) name when
it is a Python package: `noarch: python`, or it depends on `python`/`python_abi`. The table
below holds the well-known exceptions; `[tool.hermetic.pypi-mapping]` overrides both
(`conda-name = "pypi-name"`, or `false` for "not a Python distribution").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rattler import RepoDataRecord

# conda-forge / pytorch names whose PyPI distribution is named otherwise ("" = provides none).
KNOWN: dict[str, str] = {
    "pytorch": "torch",
    "pytorch-cpu": "",
    "pytorch-gpu": "",
    "pytorch-cuda": "",
    "pytorch-mutex": "",
    "matplotlib-base": "matplotlib",
    "msgpack-python": "msgpack",
    "python-graphviz": "graphviz",
    "python-kaleido": "kaleido",
    "python-flatbuffers": "flatbuffers",
    "python-xxhash": "xxhash",
    "python-lmdb": "lmdb",
    "python-tzdata": "tzdata",
    "python-fastjsonschema": "fastjsonschema",
    "python-duckdb": "duckdb",
    "pytables": "tables",
    "py-xgboost": "xgboost",
    "py-xgboost-cpu": "xgboost",
    "py-xgboost-gpu": "xgboost",
    "py-opencv": "opencv-python",
    "pyqt": "pyqt5",
    "tensorflow-base": "tensorflow",
    "jupyter_core": "jupyter-core",
    "faiss-cpu": "faiss-cpu",
    "python": "",
    "python_abi": "",
}

_NAME = re.compile(r"^\s*([A-Za-z0-9_.\-]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pypi_name(
    conda_name: str,
    depends: Iterable[str],
    noarch: str | None,
    overrides: Mapping[str, str] | None = None,
) -> str | None:
    """The PyPI distribution a conda package provides, or None."""
    if overrides and conda_name in overrides:
        return canonical(overrides[conda_name]) or None
    if conda_name in KNOWN:
        return canonical(KNOWN[conda_name]) or None
    if noarch == "python" or any(_dep_name(d) in ("python", "python_abi") for d in depends):
        return canonical(conda_name)
    return None


def _dep_name(spec: str) -> str:
    m = _NAME.match(spec)
    return m.group(1).lower() if m else ""


def provided_distributions(
    records: Iterable[RepoDataRecord], overrides: Mapping[str, str] | None = None
) -> dict[str, str]:
    """PyPI name -> version for every Python distribution the conda records provide."""
    out: dict[str, str] = {}
    for r in records:
        if r.name.normalized.startswith("_"):  # conda-forge helper packages (_openmp_mutex, ...)
            continue
        noarch = "python" if r.noarch is not None and r.noarch.python else None
        name = pypi_name(r.name.normalized, r.depends, noarch, overrides)
        if name:
            out[name] = str(r.version)
    return out
