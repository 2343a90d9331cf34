"""PyPI wheels that bundle native libraries, and the conda packages that provide the same.

Two copies of one native library (cuDNN from an `nvidia-cudnn-cu12` wheel and from conda's
`cudnn`) can both load into one process; which one wins depends on load order.
"""

from __future__ import annotations

import re

# PyPI wheel name pattern -> conda package names that ship the same library.
BUNDLED: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"nvidia-cudnn-cu\d+", ("cudnn",)),
    (r"nvidia-cublas-cu\d+", ("libcublas", "cudatoolkit")),
    (r"nvidia-cuda-runtime-cu\d+", ("cuda-cudart", "cudatoolkit")),
    (r"nvidia-cuda-nvrtc-cu\d+", ("cuda-nvrtc", "cudatoolkit")),
    (r"nvidia-cuda-cupti-cu\d+", ("cuda-cupti", "cudatoolkit")),
    (r"nvidia-cufft-cu\d+", ("libcufft", "cudatoolkit")),
    (r"nvidia-curand-cu\d+", ("libcurand", "cudatoolkit")),
    (r"nvidia-cusolver-cu\d+", ("libcusolver", "cudatoolkit")),
    (r"nvidia-cusparse-cu\d+", ("libcusparse", "cudatoolkit")),
    (r"nvidia-nccl-cu\d+", ("nccl",)),
    (r"nvidia-nvjitlink-cu\d+", ("libnvjitlink",)),
    (r"nvidia-nvtx-cu\d+", ("cuda-nvtx", "cudatoolkit")),
    (r"mkl", ("mkl",)),
    (r"intel-openmp", ("intel-openmp", "llvm-openmp")),
    (r"tbb", ("tbb",)),
)


def conda_equivalents(pypi_name: str, conda_names: set[str]) -> tuple[str, ...]:
    """The conda packages in `conda_names` that ship what the wheel `pypi_name` bundles."""
    for pattern, conda in BUNDLED:
        if re.fullmatch(pattern, pypi_name):
            return tuple(c for c in conda if c in conda_names)
    return ()
