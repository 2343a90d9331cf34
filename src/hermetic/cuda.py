"""CUDA facts as data, in one place: drivers, GPU generations, package names.

Sources (checked 2026-12):
- NVIDIA CUDA Toolkit Release Notes, "Table 3: CUDA Toolkit and Corresponding Driver Versions"
  (Linux x86_64, the GA release of each minor) and "Table 2" (minimum driver for minor version
  compatibility); https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/
  CUDA 13.2 GA: >= 595.45.04. CUDA 13.3 GA: 610.43.02 (the driver of the GA local installer,
  cuda_13.3.0_610.43.02_linux.run). NVIDIA has published 13.4 and 13.5 since; their release
  notes' driver table was not available to us, so a 13.4+ runtime is reported as "newer than
  this table" with the newest known minimum as a lower bound -- never as "?".
- CUDA Compatibility guide: minor version compatibility floors (11.x >= 450.80.02,
  12.x >= 525.60.13, 13.x >= 580); forward compatibility (cuda-compat) on data-center GPUs.
- Driver release notes: R580 is the last branch for Maxwell, Pascal and Volta; Blackwell needs
  R570+; CUDA 13.0 dropped Maxwell, Pascal and Volta (sm_50..sm_72) from the toolkit.

To add a CUDA release: one line in MIN_DRIVER_GA (and PYTORCH_INDEXES when PyTorch publishes a
wheel index for it). Nothing else needs to change.
"""

from __future__ import annotations

from dataclasses import dataclass

# CUDA major.minor -> the Linux driver its GA toolkit shipped with (Table 3).
MIN_DRIVER_GA: dict[str, str] = {
    "11.0": "450.36.06",
    "11.1": "455.23",
    "11.2": "460.27.03",
    "11.3": "465.19.01",
    "11.4": "470.42.01",
    "11.5": "495.29.05",
    "11.6": "510.39.01",
    "11.7": "515.43.04",
    "11.8": "520.61.05",
    "12.0": "525.60.13",
    "12.1": "530.30.02",
    "12.2": "535.54.03",
    "12.3": "545.23.06",
    "12.4": "550.54.14",
    "12.5": "555.42.02",
    "12.6": "560.28.03",
    "12.8": "570.26",
    "12.9": "575.51.03",
    "13.0": "580.65.06",
    "13.1": "590.44.01",
    "13.2": "595.45.04",
    "13.3": "610.43.02",
}

# CUDA major -> the oldest driver that runs any minor of it through minor version
# compatibility (Table 2). Below it, only forward compatibility (cuda-compat) helps.
MINOR_COMPAT_FLOOR: dict[int, str] = {
    11: "450.80.02",
    12: "525.60.13",
    13: "580.65.06",
}

# CUDA major -> the oldest GPU architecture its toolkit and libraries build for.
MIN_SM_FOR_CUDA_MAJOR: dict[int, int] = {11: 35, 12: 50, 13: 75}

# PyTorch's wheel indexes (https://download.pytorch.org/whl/cuXYZ) and their CUDA.
PYTORCH_INDEXES: dict[str, str] = {
    "cu118": "11.8",
    "cu121": "12.1",
    "cu124": "12.4",
    "cu126": "12.6",
    "cu128": "12.8",
    "cu129": "12.9",
    "cu130": "13.0",
}

# The oldest GPU each PyTorch wheel index builds for (TORCH_CUDA_ARCH_LIST of its builds):
# cu128 and later dropped Maxwell and Pascal, cu130 dropped Volta.
PYTORCH_INDEX_MIN_SM: dict[str, int] = {
    "cu118": 37,
    "cu121": 50,
    "cu124": 50,
    "cu126": 50,
    "cu128": 70,
    "cu129": 70,
    "cu130": 75,
}


@dataclass(frozen=True)
class Generation:
    """A GPU generation and the driver branches that support it."""

    name: str
    majors: tuple[int, ...]  # compute capability majors
    min_branch: int  # the first driver branch that knows these GPUs
    last_branch: int | None  # the last branch that supports them (None: still supported)
    last_cuda_major: int | None  # the last CUDA major that builds for them


GENERATIONS: tuple[Generation, ...] = (
    Generation("Kepler", (3,), 304, 470, 11),
    Generation("Maxwell", (5,), 346, 580, 12),
    Generation("Pascal", (6,), 367, 580, 12),
    Generation("Volta", (7,), 384, 580, 12),  # 7.0 and 7.2; Turing (7.5) is its own
    Generation("Turing", (7,), 410, None, None),
    Generation("Ampere", (8,), 450, None, None),  # 8.0-8.7
    Generation("Ada", (8,), 520, None, None),  # 8.9
    Generation("Hopper", (9,), 520, None, None),
    Generation("Blackwell", (10, 11, 12), 570, None, None),
)

# Every compute capability NVIDIA has shipped, for "which GPUs can run this" ranges.
KNOWN_CCS: tuple[tuple[int, int], ...] = (
    (3, 5), (3, 7), (5, 0), (5, 2), (5, 3), (6, 0), (6, 1), (6, 2), (7, 0), (7, 2), (7, 5),
    (8, 0), (8, 6), (8, 7), (8, 9), (9, 0), (10, 0), (10, 3), (11, 0), (12, 0), (12, 1),
)  # fmt: skip


def generation_of(cc: tuple[int, int]) -> Generation | None:
    major, minor = cc
    if major == 7:
        return GENERATIONS[4] if minor >= 5 else GENERATIONS[3]
    if major == 8:
        return GENERATIONS[6] if minor >= 9 else GENERATIONS[5]
    for g in GENERATIONS:
        if major in g.majors:
            return g
    return None


@dataclass(frozen=True)
class CudaComponent:
    """One CUDA library: its conda package and its pip wheel (the wheel is `pip` + -cuXX for
    CUDA 11/12, and `pip` without a suffix for CUDA 13, installed under nvidia/cu13/)."""

    key: str
    conda: str
    pip: str
    soname: str  # the library's file stem
    versioned_like_cuda: bool  # the library's own version is the CUDA version
    in_cudatoolkit: bool = False  # also shipped by conda's legacy `cudatoolkit` (CUDA <= 11)


CUDA_COMPONENTS: tuple[CudaComponent, ...] = (
    CudaComponent("cudart", "cuda-cudart", "nvidia-cuda-runtime", "libcudart", True, True),
    CudaComponent("nvrtc", "cuda-nvrtc", "nvidia-cuda-nvrtc", "libnvrtc", True, True),
    CudaComponent("cupti", "cuda-cupti", "nvidia-cuda-cupti", "libcupti", True, True),
    CudaComponent("nvtx", "cuda-nvtx", "nvidia-nvtx", "libnvToolsExt", True, True),
    CudaComponent("nvcc", "cuda-nvcc", "nvidia-cuda-nvcc", "libnvptxcompiler", True),
    CudaComponent("nvjitlink", "libnvjitlink", "nvidia-nvjitlink", "libnvJitLink", True),
    CudaComponent("cublas", "libcublas", "nvidia-cublas", "libcublas", True, True),
    CudaComponent("cufft", "libcufft", "nvidia-cufft", "libcufft", False, True),
    CudaComponent("curand", "libcurand", "nvidia-curand", "libcurand", False, True),
    CudaComponent("cusolver", "libcusolver", "nvidia-cusolver", "libcusolver", False, True),
    CudaComponent("cusparse", "libcusparse", "nvidia-cusparse", "libcusparse", False, True),
    CudaComponent("cufile", "libcufile", "nvidia-cufile", "libcufile", False),
    CudaComponent("npp", "libnpp", "nvidia-npp", "libnpp", False, True),
    CudaComponent("nvjpeg", "libnvjpeg", "nvidia-nvjpeg", "libnvjpeg", False, True),
    CudaComponent("cudnn", "cudnn", "nvidia-cudnn", "libcudnn", False),
    CudaComponent("nccl", "nccl", "nvidia-nccl", "libnccl", False),
    CudaComponent("nvshmem", "libnvshmem", "nvidia-nvshmem", "libnvshmem", False),
    CudaComponent("cusparselt", "cusparselt", "nvidia-cusparselt", "libcusparseLt", False),
    CudaComponent("compat", "cuda-compat", "", "libcuda", True),
)
_BY_PIP = {c.pip: c for c in CUDA_COMPONENTS if c.pip}
_BY_CONDA = {c.conda: c for c in CUDA_COMPONENTS}


def component_for_pip(name: str) -> tuple[CudaComponent, int | None] | None:
    """'nvidia-cublas-cu12' -> (cublas, 12); 'nvidia-cublas' -> (cublas, None: see the dir)."""
    norm = name.lower().replace("_", "-")
    base, _, suffix = norm.rpartition("-cu")
    if base and suffix.isdigit() and base in _BY_PIP:
        return _BY_PIP[base], int(suffix)
    return (_BY_PIP[norm], None) if norm in _BY_PIP else None


def component_for_conda(name: str) -> CudaComponent | None:
    return _BY_CONDA.get(name)


def pip_twin(conda_name: str, cuda_major: int) -> str | None:
    """The pip wheel of a conda CUDA package for a CUDA major ('libcublas', 12 -> ...-cu12)."""
    c = _BY_CONDA.get(conda_name)
    if c is None or not c.pip:
        return None
    return c.pip if cuda_major >= 13 and c.versioned_like_cuda else f"{c.pip}-cu{cuda_major}"


def version_tuple(version: str) -> tuple[int, ...]:
    """'535.104.05' -> (535, 104, 5); junk parts stop the parse (a what-if may be sloppy)."""
    out: list[int] = []
    for part in version.strip().split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        if not digits:
            break
        out.append(int(digits))
    return tuple(out)


def cuda_key(version: str) -> str | None:
    """'12.1.105' -> '12.1'; None when it is not a CUDA-like version."""
    parts = version_tuple(version)
    if len(parts) >= 2:
        return f"{parts[0]}.{parts[1]}"
    if len(parts) == 1:
        return f"{parts[0]}.0"
    return None


def newest_in_table() -> str:
    return max(MIN_DRIVER_GA, key=version_tuple)


def min_driver_for(cuda: str) -> str | None:
    """The driver a CUDA minor needs without any compatibility mode; None when unknown.

    An unlisted minor (e.g. 12.7, never released) takes the next listed one of its major. A
    minor newer than the table has no known minimum: use `driver_requirement` for messages.
    """
    key = cuda_key(cuda)
    if key is None:
        return None
    if key in MIN_DRIVER_GA:
        return MIN_DRIVER_GA[key]
    want = version_tuple(key)
    later = [k for k in MIN_DRIVER_GA if version_tuple(k)[0] == want[0] and version_tuple(k) > want]
    return MIN_DRIVER_GA[min(later, key=version_tuple)] if later else None


def driver_requirement(cuda: str) -> str:
    """'>= 580.65.06', or a lower bound for a CUDA newer than the table: never a '?'."""
    exact = min_driver_for(cuda)
    if exact is not None:
        return f">= {exact}"
    newest = newest_in_table()
    return (
        f"> {MIN_DRIVER_GA[newest]} (CUDA {cuda_key(cuda) or cuda} is newer than hermetic's "
        f"driver table, which ends at CUDA {newest}; see NVIDIA's release notes)"
    )


def minor_compat_floor(cuda: str) -> str | None:
    parts = version_tuple(cuda)
    return MINOR_COMPAT_FLOOR.get(parts[0]) if parts else None


def max_cuda_for_driver(driver: str) -> str | None:
    """The newest CUDA minor whose GA driver requirement `driver` meets."""
    have = version_tuple(driver)
    if not have:
        return None
    ok = [k for k, v in MIN_DRIVER_GA.items() if version_tuple(v) <= have]
    return max(ok, key=version_tuple) if ok else None


def runs_on_driver(cuda: str, driver: str) -> str:
    """'ok', 'minor-compat' (same major, at or above the floor) or 'too-old'."""
    have = version_tuple(driver)
    need = min_driver_for(cuda)
    if need is not None and have >= version_tuple(need):
        return "ok"
    floor = minor_compat_floor(cuda)
    if floor is not None and have >= version_tuple(floor):
        return "minor-compat"
    return "too-old"


def pytorch_index_for_driver(driver: str, gpu_arch: int | None = None) -> str | None:
    """The newest PyTorch wheel index (cuXYZ) this driver runs, through minor compatibility
    when needed, and that still builds for `gpu_arch` (61 for sm_61) when given."""
    ok = [
        name
        for name, cuda in PYTORCH_INDEXES.items()
        if runs_on_driver(cuda, driver) != "too-old"
        and (gpu_arch is None or PYTORCH_INDEX_MIN_SM[name] <= gpu_arch)
    ]
    return max(ok, key=lambda n: version_tuple(PYTORCH_INDEXES[n])) if ok else None


def pytorch_index_url(index: str) -> str:
    return f"https://download.pytorch.org/whl/{index}"


def branch(driver: str) -> int | None:
    parts = version_tuple(driver)
    return parts[0] if parts else None


def cuda_int_to_str(value: int) -> str:
    """The driver API's integer form: 12040 -> '12.4'."""
    return f"{value // 1000}.{(value % 1000) // 10}"


def sm_name(cc: tuple[int, int]) -> str:
    return f"sm_{cc[0]}{cc[1]}"
