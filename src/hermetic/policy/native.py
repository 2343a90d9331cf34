"""PyPI wheels that bundle native libraries, and the conda packages that provide the same.

Two copies of one native library (cuDNN from an `nvidia-cudnn-cu12` wheel and from conda's
`cudnn`) can both load into one process; which one wins depends on load order.
"""

from __future__ import annotations

import re

from hermetic.cuda import component_for_pip

# PyPI wheel name pattern -> conda package names that ship the same library. The CUDA wheels
# (nvidia-*-cuXX, and CUDA 13's suffix-less nvidia-*) come from the one table in hermetic.cuda.
BUNDLED: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"mkl", ("mkl",)),
    (r"intel-openmp", ("intel-openmp", "llvm-openmp")),
    (r"tbb", ("tbb",)),
)


def conda_equivalents(pypi_name: str, conda_names: set[str]) -> tuple[str, ...]:
    """The conda packages in `conda_names` that ship what the wheel `pypi_name` bundles."""
    cuda = component_for_pip(pypi_name)
    if cuda is not None:
        comp = cuda[0]
        names = (comp.conda, "cudatoolkit") if comp.in_cudatoolkit else (comp.conda,)
        return tuple(c for c in names if c in conda_names)
    for pattern, conda in BUNDLED:
        if re.fullmatch(pattern, pypi_name):
            return tuple(c for c in conda if c in conda_names)
    return ()
