"""CUDA runtimes an environment carries, from package metadata and files -- never imports.

Sources: conda-meta/*.json (cuda-version, cudatoolkit, cuda-cudart, cudnn, cuda-compat,
framework builds), pip `nvidia-*-cuXX` wheels, and what frameworks were built against:
torch/version.py, tensorflow's build_info.py, jax CUDA plugin and cupy wheel names.
The same classifiers serve `--lock`, which has names and versions but no files.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from hermetic.cuda import component_for_pip, cuda_key


@dataclass(frozen=True)
class Runtime:
    """One piece of evidence about the CUDA an environment needs."""

    component: str  # "cudart", "cuda-version", "cudnn", "cuda-compat", "torch", ...
    cuda: str | None  # CUDA major.minor it needs (or, for cuda-compat, provides)
    version: str  # the package's own version
    source: str  # "conda", "pypi", "file"
    package: str  # where it came from: a package name or a path
    major_only: bool = False  # only the major is known (e.g. nvidia-*-cu12, cupy-cuda12x)


# conda packages whose version *is* a CUDA version.
_CONDA_CUDA_VERSIONED = {
    "cuda-version": "cuda-version",
    "cudatoolkit": "cudart",
    "cuda-cudart": "cudart",
    "cuda-runtime": "cudart",
    "cuda-nvcc": "nvcc",
    "cuda-compat": "cuda-compat",
    "cuda-compat-impl": "cuda-compat",
}
_FRAMEWORKS = {
    "pytorch": "torch",
    "torch": "torch",
    "jaxlib": "jax",
    "tensorflow": "tensorflow",
    "tensorflow-base": "tensorflow",
    "cupy": "cupy",
    "cupy-core": "cupy",
}
_BUILD_CUDA = re.compile(r"cuda_?(\d+)\.?(\d)(?!\d)")
# "+cu121" in a local version, "%2Bcu121" or "/cu121/" in a wheel URL.
_WHEEL_CU = re.compile(r"(?:\+|%2[Bb]|/)cu(\d+)(\d)(?!\d)")
_CUPY = re.compile(r"^cupy[-_]cuda(\d+)(x|\d)$")
_JAX_PLUGIN = re.compile(r"^jax[-_]cuda(\d+)[-_](plugin|pjrt)$")


def runtime_from_conda(name: str, version: str, build: str) -> Runtime | None:
    if name in _CONDA_CUDA_VERSIONED:
        return Runtime(_CONDA_CUDA_VERSIONED[name], cuda_key(version), version, "conda", name)
    if name == "cudnn":
        m = _BUILD_CUDA.search(build)
        cuda = f"{m.group(1)}.{m.group(2)}" if m else None
        return Runtime("cudnn", cuda, version, "conda", name)
    if name in _FRAMEWORKS:
        m = _BUILD_CUDA.search(build)
        if m:
            return Runtime(_FRAMEWORKS[name], f"{m.group(1)}.{m.group(2)}", version, "conda", name)
    return None


def runtime_from_pypi(
    name: str, version: str, url: str = "", cuda_major: int | None = None
) -> Runtime | None:
    """`cuda_major`: where a suffix-less CUDA 13 wheel installed itself (nvidia/cu13/)."""
    norm = name.lower().replace("_", "-")
    hit = component_for_pip(norm)
    if hit is not None:
        comp, suffix_major = hit
        major = suffix_major or cuda_major or (13 if norm == comp.pip else None)
        own = cuda_key(version)
        if comp.versioned_like_cuda and own is not None:
            # cudart 13.0.96 is CUDA 13.0; a suffixed -cuXX wheel states its major again.
            return Runtime(comp.key, own, version, "pypi", name)
        if major is None:
            return None
        # cuFFT 12.0, cuRAND 10.4, cuDNN 9: library versions, not CUDA versions.
        return Runtime(comp.key, f"{major}.0", version, "pypi", name, major_only=True)
    if norm in ("torch", "torchvision", "torchaudio") or norm == "jaxlib":
        m2 = _WHEEL_CU.search(version) or _WHEEL_CU.search(url)
        if m2:
            fw = "jax" if norm == "jaxlib" else "torch"
            return Runtime(fw, f"{m2.group(1)}.{m2.group(2)}", version, "pypi", name)
        m3 = re.search(r"\+cuda(\d+)", version)
        if m3:
            return Runtime("jax", f"{m3.group(1)}.0", version, "pypi", name, major_only=True)
    m = _CUPY.match(norm)
    if m:
        minor = "0" if m.group(2) == "x" else m.group(2)
        return Runtime(
            "cupy", f"{m.group(1)}.{minor}", version, "pypi", name, major_only=m.group(2) == "x"
        )
    m = _JAX_PLUGIN.match(norm)
    if m:
        return Runtime("jax", f"{m.group(1)}.0", version, "pypi", name, major_only=True)
    return None


def scan_runtimes(prefix: Path) -> tuple[Runtime, ...]:
    found: list[Runtime] = []
    found += _conda_meta(prefix / "conda-meta")
    for sp in site_packages(prefix):
        found += _dist_infos(sp)
        known = {(r.component, r.cuda, r.version) for r in found}
        # torch/version.py repeats what torch's dist-info said: list the build once.
        found += [r for r in _framework_files(sp) if (r.component, r.cuda, r.version) not in known]
    return tuple(dict.fromkeys(found))


def site_packages(prefix: Path) -> list[Path]:
    """Each site-packages once: a venv's lib64 is a link to lib."""
    out: dict[str, Path] = {}
    for lib in ("lib", "lib64"):
        with contextlib.suppress(OSError):
            for d in sorted((prefix / lib).iterdir()):
                if d.name.startswith("python") and (d / "site-packages").is_dir():
                    out.setdefault(os.path.realpath(d / "site-packages"), d / "site-packages")
    return list(out.values())


def _conda_meta(meta: Path) -> list[Runtime]:
    out: list[Runtime] = []
    with contextlib.suppress(OSError):
        for f in sorted(meta.glob("*.json")):
            # a file that is not a package record (another tool's state) is skipped, never fatal
            with contextlib.suppress(OSError, ValueError, AttributeError, KeyError, TypeError):
                rec = json.loads(f.read_text(encoding="utf-8"))
                r = runtime_from_conda(rec["name"], rec["version"], rec.get("build", ""))
                if r is not None:
                    out.append(r)
    return out


def _dist_infos(sp: Path) -> list[Runtime]:
    out: list[Runtime] = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(sp):
            if not entry.name.endswith(".dist-info"):
                continue
            stem = entry.name[: -len(".dist-info")]
            name, _, version = stem.partition("-")
            major = _installed_major(entry.path) if name.startswith("nvidia") else None
            r = runtime_from_pypi(name, version, cuda_major=major)
            if r is not None:
                out.append(r)
    return out


_CU_DIR = re.compile(r"^nvidia/cu(\d+)/", re.MULTILINE)


def _installed_major(dist_info: str) -> int | None:
    """CUDA 13 wheels install under nvidia/cu13/: their RECORD says which major they are."""
    with contextlib.suppress(OSError, UnicodeDecodeError):
        with open(os.path.join(dist_info, "RECORD"), encoding="utf-8") as fh:
            m = _CU_DIR.search(fh.read(4096))
        return int(m.group(1)) if m else None
    return None


_TORCH_CUDA = re.compile(r"^cuda\s*(?::[^=]*)?=\s*['\"]([\d.]+)['\"]", re.MULTILINE)
_TF_CUDA = re.compile(r"['\"]cuda_version['\"]\s*:\s*['\"]([\d.]+)['\"]")


def _framework_files(sp: Path) -> list[Runtime]:
    out: list[Runtime] = []
    torch_version = sp / "torch" / "version.py"
    with contextlib.suppress(OSError):
        text = torch_version.read_text(encoding="utf-8")
        m = _TORCH_CUDA.search(text)
        if m:
            v = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)", text, re.MULTILINE)
            out.append(
                Runtime(
                    "torch",
                    cuda_key(m.group(1)),
                    v.group(1) if v else "?",
                    "file",
                    str(torch_version),
                )
            )
    tf_info = sp / "tensorflow" / "python" / "platform" / "build_info.py"
    with contextlib.suppress(OSError):
        m = _TF_CUDA.search(tf_info.read_text(encoding="utf-8"))
        if m:
            out.append(Runtime("tensorflow", cuda_key(m.group(1)), "?", "file", str(tf_info)))
    return out
