"""The projects `hermetic init --template` scaffolds, as data (dumped to TOML with tomlkit).

Each uses every layer: a spec (with `cpu` and `gpu` environments for the CUDA templates, so
GPU-less laptops and CI use `cpu` and the cluster uses `gpu`), the devcontainer, the CI
workflow, and a lock when the channels can be reached.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: the CUDA the GPU templates declare; conda-forge builds PyTorch and JAX for it
TEMPLATE_CUDA = "12.6"


@dataclass(frozen=True)
class Template:
    name: str
    summary: str
    spec: dict[str, Any]  # hermetic.toml keys (the [tool.hermetic] table of a pyproject.toml)
    cluster_env: str  # the environment the image and the cluster use
    laptop_env: str  # the environment the devcontainer and CI tests use


def _base(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "channels": ["conda-forge"],
        "platforms": ["linux-64", "linux-aarch64", "osx-arm64"],
        "dependencies": {"python": "3.12.*", "pip": "*", "pytest": ">=8"},
    }


def _cpu() -> Template:
    spec = _base("cpu-project")
    spec["dependencies"]["numpy"] = ">=2"
    return Template("cpu", "numpy on CPU: one environment everywhere", spec, "default", "default")


def _gpu_split(
    name: str, package: str, cpu_build: str, gpu_build: str, extra: dict[str, str]
) -> Template:
    spec = _base(name)
    spec["dependencies"].update(extra)
    spec["feature"] = {
        "cpu": {"dependencies": {package: {"version": "*", "build": cpu_build}}},
        "gpu": {
            # CUDA builds exist for linux only; the GPU environment runs on the cluster
            "platforms": ["linux-64", "linux-aarch64"],
            "dependencies": {package: {"version": "*", "build": gpu_build}},
            "system-requirements": {"cuda": TEMPLATE_CUDA},
        },
    }
    spec["environments"] = {"cpu": ["cpu"], "gpu": ["gpu"]}
    summary = (
        f"{package}: a cpu environment (laptops, CI) and a CUDA {TEMPLATE_CUDA} gpu one (cluster)"
    )
    return Template(name, summary, spec, "gpu", "cpu")


TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in (
        _cpu(),
        _gpu_split("pytorch-cuda", "pytorch", "cpu_*", "cuda*", {}),
        _gpu_split("jax-cuda", "jaxlib", "cpu*", "cuda*", {"jax": "*"}),
    )
}
