"""Turn a lock's CUDA requirement into Kubernetes node affinity on GPU Feature Discovery labels.

GPU Feature Discovery (NVIDIA/k8s-device-plugin, `internal/lm/nvml.go`) labels every GPU node
with the driver version twice: the deprecated `nvidia.com/cuda.driver.{major,minor,rev}` and
the newer `nvidia.com/cuda.driver-version.{major,minor,revision,full}`; likewise the CUDA
version the driver supports as `nvidia.com/cuda.runtime.{major,minor}` and
`nvidia.com/cuda.runtime-version.{major,minor,full}`. Values are strings of digits; the
revision may be zero-padded (`05`) or empty (driver `570.26`).

Node affinity has no version comparison: `Gt`/`Lt` compare one label as an integer, terms
are ORed and a term's expressions are ANDed. "driver >= 560.28.03" is therefore

    major > 560  OR  (major = 560 AND minor > 27)  OR  (major = 560 AND minor = 28 AND rev > 2)

and "= n" is written `Gt n-1` AND `Lt n+1`, an integer comparison, so a zero-padded value
still matches (`In ["28"]` would not match `"028"`). Each term is emitted once per label
family, so a node matches whether its GFD writes the newer labels, the older ones or both.

The minimum driver comes from `hermetic.cuda` (NVIDIA's table). A CUDA release the table
does not know yet falls back to the runtime labels (the driver's maximum CUDA >= the lock's).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from hermetic.cuda import MIN_SM_FOR_CUDA_MAJOR, min_driver_for, version_tuple
from hermetic.errors import UsageError

Operator = Literal["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]

#: (major, minor, revision) label keys of the driver version, newer family first.
DRIVER_LABELS: tuple[tuple[str, str, str], ...] = (
    (
        "nvidia.com/cuda.driver-version.major",
        "nvidia.com/cuda.driver-version.minor",
        "nvidia.com/cuda.driver-version.revision",
    ),
    ("nvidia.com/cuda.driver.major", "nvidia.com/cuda.driver.minor", "nvidia.com/cuda.driver.rev"),
)
#: (major, minor) label keys of the newest CUDA the driver supports.
RUNTIME_LABELS: tuple[tuple[str, str], ...] = (
    ("nvidia.com/cuda.runtime-version.major", "nvidia.com/cuda.runtime-version.minor"),
    ("nvidia.com/cuda.runtime.major", "nvidia.com/cuda.runtime.minor"),
)
ARCH_LABEL = "kubernetes.io/arch"  # set by the kubelet on every node
COMPUTE_LABELS = ("nvidia.com/gpu.compute.major", "nvidia.com/gpu.compute.minor")
#: the resource the NVIDIA device plugin advertises, and the taint GPU node pools carry
GPU_RESOURCE = "nvidia.com/gpu"


@dataclass(frozen=True)
class Expression:
    """One `matchExpressions` entry."""

    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"key": self.key, "operator": self.operator}
        if self.operator not in ("Exists", "DoesNotExist"):
            out["values"] = list(self.values)
        return out


Term = tuple[Expression, ...]  # ANDed


@dataclass(frozen=True)
class Placement:
    """Where a workload may run: terms ORed, and what they mean in words."""

    terms: tuple[Term, ...]
    reasons: tuple[str, ...]

    def to_node_affinity(self) -> dict[str, object]:
        return {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [e.to_dict() for e in term]} for term in self.terms
                ]
            }
        }


def _equal(key: str, n: int) -> Term:
    if n <= 0:
        return (Expression(key, "Lt", ("1",)),)
    return (Expression(key, "Gt", (str(n - 1),)), Expression(key, "Lt", (str(n + 1),)))


def _at_least_int(key: str, n: int) -> Term:
    return (Expression(key, "Gt", (str(n - 1),)),) if n > 0 else ()


def at_least(keys: tuple[str, ...], version: tuple[int, ...]) -> tuple[Term, ...]:
    """Terms matching a node whose labels `keys` spell a version >= `version`, lexicographically."""
    parts = list(version[: len(keys)])
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()  # ">= 570.26.0" is ">= 570.26": an empty revision label must still match
    terms: list[Term] = []
    for i, want in enumerate(parts):
        prefix: Term = tuple(
            e for k, v in zip(keys[:i], parts[:i], strict=True) for e in _equal(k, v)
        )
        if i == len(parts) - 1:
            terms.append(prefix + _at_least_int(keys[i], want))
        else:
            terms.append((*prefix, Expression(keys[i], "Gt", (str(want),))))
    return tuple(t for t in terms if t) or ((Expression(keys[0], "Exists"),),)


def cuda_placement(cuda: str) -> Placement:
    """Nodes whose NVIDIA driver runs CUDA `cuda` (the lock's `system-requirements.cuda`)."""
    driver = min_driver_for(cuda)
    parsed = version_tuple(cuda)
    if not parsed:
        raise UsageError(f"not a CUDA version: {cuda!r}", hint="e.g. 12.4")
    if driver is not None:
        want = version_tuple(driver)
        terms = tuple(t for keys in DRIVER_LABELS for t in at_least(keys, want))
        reason = f"NVIDIA driver >= {driver} (the minimum for CUDA {cuda}, NVIDIA's table)"
    else:
        cuda_mm = (*parsed, 0)[:2]
        terms = tuple(t for keys in RUNTIME_LABELS for t in at_least(keys, cuda_mm))
        reason = (
            f"driver supports CUDA >= {cuda_mm[0]}.{cuda_mm[1]} (hermetic.cuda has no minimum "
            f"driver for CUDA {cuda} yet, so the runtime labels decide)"
        )
    return Placement(terms, (reason,))


def min_gpu_arch_for(cuda: str) -> int | None:
    """The oldest GPU architecture (sm number) a CUDA major builds for: 75 for CUDA 13."""
    parsed = version_tuple(cuda)
    return MIN_SM_FOR_CUDA_MAJOR.get(parsed[0]) if parsed else None


def arch_floor(arch: str) -> int:
    """The lowest sm number `--gpu-arch` lets through (`sm_80+` -> 80, `sm_90` -> 90)."""
    major, minor, _ = _parse_arch(arch)
    return major * 10 + minor


_ARCH = re.compile(r"^(?:sm_?|compute_)?(\d+)(?:\.(\d+))?(\+)?$", re.IGNORECASE)


def gpu_arch_placement(arch: str) -> Placement:
    """`sm_80+` (compute capability >= 8.0), `sm_86` (exactly 8.6), `8.0+`, `9.0`."""
    major, minor_n, plus = _parse_arch(arch)
    if plus:
        terms = at_least(COMPUTE_LABELS, (major, minor_n))
        reason = f"GPU compute capability >= {major}.{minor_n} (sm_{major}{minor_n})"
    else:
        terms = (_equal(COMPUTE_LABELS[0], major) + _equal(COMPUTE_LABELS[1], minor_n),)
        reason = f"GPU compute capability = {major}.{minor_n} (sm_{major}{minor_n})"
    return Placement(terms, (reason,))


def architecture_placement(oci_platforms: tuple[str, ...]) -> Placement:
    """Nodes of an architecture the image has: `linux/amd64` -> `kubernetes.io/arch In [amd64]`."""
    archs = tuple(sorted({p.split("/", 1)[1] for p in oci_platforms if p.startswith("linux/")}))
    if not archs:
        raise UsageError(
            "the environment has no linux platform, so no image of it can run on Kubernetes",
            hint="add linux-64 (or linux-aarch64) to `platforms` and run `hermetic lock`",
        )
    return Placement(
        ((Expression(ARCH_LABEL, "In", archs),),),
        (f"node architecture {' or '.join(archs)} (the environment's linux platforms)",),
    )


def _parse_arch(arch: str) -> tuple[int, int, bool]:
    m = _ARCH.match(arch.strip())
    if m is None:
        raise UsageError(
            f"not a GPU architecture: {arch!r}", hint="write sm_80+ (8.0 or newer) or sm_90"
        )
    digits, minor, plus = m.group(1), m.group(2), m.group(3)
    if minor is not None:
        return int(digits), int(minor), bool(plus)
    if len(digits) < 2:
        return int(digits), 0, bool(plus)
    return int(digits[:-1]), int(digits[-1]), bool(plus)


def combine(*placements: Placement) -> Placement | None:
    """All of them at once: the cross product of their terms (AND of ORs, kept as OR of ANDs)."""
    if not placements:
        return None
    terms: tuple[Term, ...] = ((),)
    for p in placements:
        terms = tuple(a + b for a in terms for b in p.terms)
    return Placement(terms, tuple(r for p in placements for r in p.reasons))
