"""A small evaluator of Kubernetes node affinity (nodeSelectorTerms / matchExpressions), and
GPU Feature Discovery label sets for a driver version, the way GFD writes them."""

from __future__ import annotations

from typing import Any

from hermetic.cuda import max_cuda_for_driver


def _int(text: str) -> int | None:
    # Kubernetes parses Gt/Lt operands with strconv.ParseInt(s, 10, 64)
    s = text[1:] if text[:1] in "+-" else text
    if not s.isdigit():
        return None
    return int(text)


def expression_matches(labels: dict[str, str], expr: dict[str, Any]) -> bool:
    key, op, values = expr["key"], expr["operator"], expr.get("values", [])
    present = key in labels
    if op == "In":
        return present and labels[key] in values
    if op == "NotIn":
        return not present or labels[key] not in values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt"):
        assert len(values) == 1, "Gt/Lt take exactly one value"
        want = _int(values[0])
        assert want is not None, f"Gt/Lt value must be an integer: {values[0]!r}"
        have = _int(labels[key]) if present else None
        if have is None:
            return False
        return have > want if op == "Gt" else have < want
    raise AssertionError(f"unknown operator {op}")


def node_matches(labels: dict[str, str], node_affinity: dict[str, Any]) -> bool:
    terms = node_affinity["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms, "an empty nodeSelectorTerms matches nothing"
    return any(
        all(expression_matches(labels, e) for e in term["matchExpressions"]) for term in terms
    )


def gfd_labels(driver: str, *, families: str = "both", cc: str | None = "8.0") -> dict[str, str]:
    """Labels GFD's version labeler writes for `driver` (revision kept as written: '05')."""
    parts = driver.split(".")
    major, minor = parts[0], parts[1]
    rev = parts[2] if len(parts) > 2 else ""
    cuda = max_cuda_for_driver(driver) or "11.0"
    cmaj, cmin = cuda.split(".")
    labels: dict[str, str] = {"kubernetes.io/arch": "amd64", "kubernetes.io/os": "linux"}
    if families in ("both", "new"):
        labels.update(
            {
                "nvidia.com/cuda.driver-version.major": major,
                "nvidia.com/cuda.driver-version.minor": minor,
                "nvidia.com/cuda.driver-version.revision": rev,
                "nvidia.com/cuda.driver-version.full": driver,
                "nvidia.com/cuda.runtime-version.major": cmaj,
                "nvidia.com/cuda.runtime-version.minor": cmin,
                "nvidia.com/cuda.runtime-version.full": cuda,
            }
        )
    if families in ("both", "old"):
        labels.update(
            {
                "nvidia.com/cuda.driver.major": major,
                "nvidia.com/cuda.driver.minor": minor,
                "nvidia.com/cuda.driver.rev": rev,
                "nvidia.com/cuda.runtime.major": cmaj,
                "nvidia.com/cuda.runtime.minor": cmin,
            }
        )
    if cc is not None:
        a, b = cc.split(".")
        labels["nvidia.com/gpu.compute.major"] = a
        labels["nvidia.com/gpu.compute.minor"] = b
    return labels


def one_below(driver: str) -> str:
    """The driver version just below `driver`, written as GFD would see it."""
    parts = driver.split(".")
    if len(parts) > 2 and int(parts[2]) > 0:
        width = len(parts[2])
        return f"{parts[0]}.{parts[1]}.{int(parts[2]) - 1:0{width}d}"
    if int(parts[1]) > 0:
        return f"{parts[0]}.{int(parts[1]) - 1}.99"
    return f"{int(parts[0]) - 1}.99.99"
