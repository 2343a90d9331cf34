"""Which package goes into which layer: deterministic, stable under small changes.

Large, rarely changing packages (CUDA libraries, cuDNN, MKL, python, PyTorch, ...) get a
layer each. Everything else is batched into a fixed number of buckets chosen by a hash of
the package *name*, so adding, removing or upgrading one package changes exactly one
bucket's layer (and never shifts the others, as batching in sorted order would).
The total stays under `MAX_LAYERS`; when an env has more large packages than that allows,
the smallest of them fall back into the buckets.
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

#: names that get a layer of their own whatever their size (conda and PyPI names)
OWN_LAYER_PATTERNS: tuple[str, ...] = (
    "python",
    "cuda-*",
    "cuda",
    "cudatoolkit",
    "libcu*",
    "libnv*",
    "libnccl",
    "nccl",
    "cudnn",
    "libcudnn*",
    "mkl",
    "mkl-*",
    "libmagma*",
    "magma",
    "libtorch",
    "pytorch",
    "pytorch-gpu",
    "torch",
    "nvidia-*",
    "triton",
    "tensorflow*",
    "jaxlib",
    "llvm*",
    "libllvm*",
    "openblas",
    "libopenblas",
    "onnxruntime*",
    "ffmpeg",
    "qt*",
)
#: a package whose archive is at least this large gets its own layer too
OWN_LAYER_BYTES = 32 * 1024 * 1024
#: batch buckets for everything else (a fixed number: see the module docstring)
BUCKETS = 16
#: layers hermetic adds on top of a base, all included (overlayfs stacks stay shallow)
MAX_LAYERS = 64
#: layers that are not packages: the env's own files (conda-meta/history, the entrypoint)
#  and the app files
FIXED_LAYERS = 2

Kind = Literal["conda", "pypi"]


@dataclass(frozen=True)
class Package:
    """A locked package as the layer planner sees it."""

    kind: Kind
    name: str
    version: str
    sha256: str  # of the locked artifact: a layer's content is a function of these
    size: int  # of the archive (0 when unknown)

    @property
    def label(self) -> str:
        return (
            f"{self.name}=={self.version}" if self.kind == "pypi" else f"{self.name}={self.version}"
        )


@dataclass(frozen=True)
class Group:
    """The packages of one layer."""

    name: str  # "pkg-python", "batch-07"
    packages: tuple[Package, ...]


def owns_layer(pkg: Package) -> bool:
    return pkg.size >= OWN_LAYER_BYTES or any(
        fnmatch.fnmatchcase(pkg.name, pat) for pat in OWN_LAYER_PATTERNS
    )


def bucket_of(pkg: Package) -> int:
    digest = hashlib.sha256(f"{pkg.kind}:{pkg.name}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % BUCKETS


def plan(packages: Sequence[Package]) -> tuple[Group, ...]:
    """The layer groups: own-layer packages (largest kept first), then the non-empty buckets."""
    own = sorted((p for p in packages if owns_layer(p)), key=lambda p: (-p.size, p.kind, p.name))
    room = MAX_LAYERS - FIXED_LAYERS - BUCKETS
    kept, demoted = own[:room], own[room:]
    batched = [p for p in packages if not owns_layer(p)] + demoted
    groups = [
        Group(f"{p.kind}-{p.name}", (p,)) for p in sorted(kept, key=lambda p: (p.kind, p.name))
    ]
    buckets: dict[int, list[Package]] = {}
    for p in batched:
        buckets.setdefault(bucket_of(p), []).append(p)
    for i in sorted(buckets):
        members = tuple(sorted(buckets[i], key=lambda p: (p.kind, p.name)))
        groups.append(Group(f"batch-{i:02d}", members))
    return tuple(groups)


def python_xy(records: Sequence[Any]) -> str | None:
    """`3.12` for the locked python record (noarch/PyPI layers depend on it), else None."""
    for r in records:
        if r.name.normalized == "python":
            parts = str(r.version).split(".")
            return ".".join(parts[:2])
    return None
