"""Node affinity from a CUDA requirement, checked with a Kubernetes matchExpressions evaluator
against GFD label sets, for every CUDA release in hermetic.cuda from 11.8 on."""

from __future__ import annotations

import pytest
from nodes import gfd_labels, node_matches, one_below

from hermetic.cuda import MIN_DRIVER_GA, version_tuple
from hermetic.deploy.affinity import combine, cuda_placement, gpu_arch_placement
from hermetic.errors import UsageError

RELEASES = sorted((k for k in MIN_DRIVER_GA if version_tuple(k) >= (11, 8)), key=version_tuple)


def affinity(cuda: str) -> dict:
    return cuda_placement(cuda).to_node_affinity()


def test_the_table_covers_11_8_to_13() -> None:
    assert RELEASES[0] == "11.8"
    assert any(r.startswith("13.") for r in RELEASES)


@pytest.mark.parametrize("cuda", RELEASES)
@pytest.mark.parametrize("families", ["both", "new", "old"])
def test_minimum_driver_matches_and_one_below_does_not(cuda: str, families: str) -> None:
    minimum = MIN_DRIVER_GA[cuda]
    aff = affinity(cuda)
    assert node_matches(gfd_labels(minimum, families=families), aff)
    assert not node_matches(gfd_labels(one_below(minimum), families=families), aff)


@pytest.mark.parametrize("cuda", RELEASES)
def test_every_newer_release_driver_matches_every_older_doesnt(cuda: str) -> None:
    aff = affinity(cuda)
    for other in RELEASES:
        driver = MIN_DRIVER_GA[other]
        want = version_tuple(driver) >= version_tuple(MIN_DRIVER_GA[cuda])
        assert node_matches(gfd_labels(driver), aff) is want, (cuda, driver)


@pytest.mark.parametrize(
    ("driver", "ok"),
    [
        ("560.28.03", True),
        ("560.28.3", True),  # no zero padding
        ("560.28.10", True),
        ("560.28", False),  # GFD writes an empty revision: below .03
        ("560.28.02", False),
        ("560.29", True),
        ("560.100.01", True),  # integer, not string, comparison
        ("561.0.0", True),
        ("559.99.99", False),
        ("1000.1", True),
        ("99.99.99", False),
    ],
)
def test_cuda_12_6_edges(driver: str, ok: bool) -> None:
    assert node_matches(gfd_labels(driver), affinity("12.6")) is ok


def test_two_part_minimum_matches_an_empty_revision() -> None:
    # CUDA 12.8 needs 570.26: a node on exactly 570.26 has revision "" and must match.
    aff = affinity("12.8")
    assert node_matches(gfd_labels("570.26"), aff)
    assert node_matches(gfd_labels("570.26.01"), aff)
    assert not node_matches(gfd_labels("570.25.99"), aff)


def test_node_without_gfd_labels_never_matches() -> None:
    assert not node_matches(
        {"kubernetes.io/arch": "amd64", "kubernetes.io/os": "linux"}, affinity("12.4")
    )


def test_only_integer_operators_on_version_labels() -> None:
    for term in cuda_placement("12.6").terms:
        for e in term:
            assert e.operator in ("Gt", "Lt")
            assert all(v.lstrip("-").isdigit() for v in e.values)


def test_unlisted_minor_takes_next_listed_driver() -> None:
    # 12.7 was never released: it needs what 12.8 needs.
    assert cuda_placement("12.7").terms == cuda_placement("12.8").terms
    assert "570.26" in cuda_placement("12.7").reasons[0]


def test_cuda_beyond_the_table_uses_runtime_labels() -> None:
    p = cuda_placement("19.3")
    keys = {e.key for t in p.terms for e in t}
    assert keys <= {
        "nvidia.com/cuda.runtime-version.major",
        "nvidia.com/cuda.runtime-version.minor",
        "nvidia.com/cuda.runtime.major",
        "nvidia.com/cuda.runtime.minor",
    }
    aff = p.to_node_affinity()
    node = gfd_labels("999.1.1")
    node["nvidia.com/cuda.runtime-version.major"] = "19"
    node["nvidia.com/cuda.runtime-version.minor"] = "3"
    assert node_matches(node, aff)
    node["nvidia.com/cuda.runtime-version.minor"] = "2"
    node["nvidia.com/cuda.runtime.major"] = "19"
    node["nvidia.com/cuda.runtime.minor"] = "2"
    assert not node_matches(node, aff)


@pytest.mark.parametrize(
    ("arch", "cc", "ok"),
    [
        ("sm_80+", "8.0", True),
        ("sm_80+", "9.0", True),
        ("sm_80+", "12.0", True),
        ("sm_80+", "7.5", False),
        ("sm_86+", "8.6", True),
        ("sm_86+", "8.9", True),
        ("sm_86+", "8.0", False),
        ("sm_86+", "9.0", True),
        ("sm_90", "9.0", True),
        ("sm_90", "9.1", False),
        ("sm_90", "10.0", False),
        ("8.0+", "8.0", True),
        ("sm_100+", "10.0", True),
        ("sm_100+", "9.0", False),
        ("sm_120+", "12.0", True),
        ("sm_120+", "10.0", False),
    ],
)
def test_gpu_arch(arch: str, cc: str, ok: bool) -> None:
    aff = gpu_arch_placement(arch).to_node_affinity()
    assert node_matches(gfd_labels("580.65.06", cc=cc), aff) is ok


def test_cuda_and_arch_combined_need_both() -> None:
    aff = combine(cuda_placement("13.0"), gpu_arch_placement("sm_80+"))
    assert aff is not None
    na = aff.to_node_affinity()
    assert node_matches(gfd_labels("580.65.06", cc="9.0"), na)
    assert not node_matches(gfd_labels("580.65.05", cc="9.0"), na)
    assert not node_matches(gfd_labels("580.65.06", cc="7.5"), na)
    assert len(aff.reasons) == 2


@pytest.mark.parametrize("bad", ["", "ampere", "sm_", "sm_80++", "cuda12"])
def test_bad_arch_is_a_usage_error(bad: str) -> None:
    with pytest.raises(UsageError):
        gpu_arch_placement(bad)
