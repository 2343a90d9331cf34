"""Driver detection (fake /proc, an NVML stand-in), the CUDA table and the compat rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from hermetic.cuda import (
    MIN_DRIVER_GA,
    max_cuda_for_driver,
    min_driver_for,
    version_tuple,
)
from hermetic.doctor.compat import check_declared, check_runtimes
from hermetic.doctor.driver import DriverInfo, Gpu, detect_driver, is_data_center, what_if
from hermetic.doctor.runtimes import Runtime


class FakeNvml:
    """Stands in for the pynvml module: the boundary to the driver."""

    def __init__(self, fail: bool = False):
        self.fail = fail

    def nvmlInit(self) -> None:
        if self.fail:
            raise RuntimeError("NVML Shared Library Not Found")

    def nvmlShutdown(self) -> None: ...
    def nvmlSystemGetDriverVersion(self) -> bytes:
        return b"535.104.05"

    def nvmlSystemGetCudaDriverVersion(self) -> int:
        return 12020

    def nvmlDeviceGetCount(self) -> int:
        return 2

    def nvmlDeviceGetHandleByIndex(self, i: int) -> int:
        return i

    def nvmlDeviceGetName(self, h: int) -> str:
        return ["NVIDIA A100-SXM4-80GB", "NVIDIA GeForce RTX 4090"][h]

    def nvmlDeviceGetCudaComputeCapability(self, h: int) -> tuple[int, int]:
        return [(8, 0), (8, 9)][h]


def fake_proc(root: Path, version_line: str) -> Path:
    d = root / "proc/driver/nvidia"
    (d / "gpus/0000:3b:00.0").mkdir(parents=True)
    (d / "version").write_text(version_line + "\nGCC version:  gcc version 12.2.0\n")
    (d / "gpus/0000:3b:00.0/information").write_text("Model: \t\t NVIDIA H100 80GB HBM3\nIRQ: 1\n")
    return root


def test_nvml() -> None:
    d = detect_driver("/nonexistent", nvml=FakeNvml(), libcuda=False)
    assert (d.version, d.cuda, d.source) == ("535.104.05", "12.2", "nvml")
    assert [(g.name, g.sm, g.data_center) for g in d.gpus] == [
        ("NVIDIA A100-SXM4-80GB", "sm_80", True),
        ("NVIDIA GeForce RTX 4090", "sm_89", False),
    ]


def test_proc_fallback(tmp_path: Path) -> None:
    root = fake_proc(
        tmp_path,
        "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  550.54.14  Release Build",
    )
    d = detect_driver(str(root), nvml=FakeNvml(fail=True), libcuda=False)
    assert (d.version, d.cuda, d.source) == ("550.54.14", "12.4", "proc")
    assert d.gpus[0].name == "NVIDIA H100 80GB HBM3" and d.gpus[0].data_center
    assert any("NVML" in n for n in d.notes) or d.notes == ()


def test_no_driver_at_all(tmp_path: Path) -> None:
    d = detect_driver(str(tmp_path), nvml=FakeNvml(fail=True), libcuda=False)
    assert not d.present and d.source == "none" and d.notes


def test_what_if() -> None:
    d = what_if(DriverInfo(None, None, (), "none"), "535.104.05", (8, 0))
    assert d.cuda == "12.2" and d.gpus[0].sm == "sm_80" and d.present


def test_cuda_table() -> None:
    assert set(MIN_DRIVER_GA) >= {"11.0", "12.0", "12.8", "13.1"}
    # Newer CUDA never needs an older driver: a typo in the table would break this.
    drivers = [MIN_DRIVER_GA[k] for k in sorted(MIN_DRIVER_GA, key=version_tuple)]
    assert drivers == sorted(drivers, key=version_tuple)
    assert max_cuda_for_driver("535.104.05") == "12.2"
    assert max_cuda_for_driver("440.0") is None
    assert min_driver_for("12.7") == "570.26"  # never released: the next minor's driver
    assert min_driver_for("12.1.105") == "530.30.02"
    assert is_data_center("Tesla T4") and not is_data_center("NVIDIA GeForce GTX 1080")


def rt(cuda: str, component: str = "cudart") -> Runtime:
    return Runtime(component, cuda, cuda + ".0", "conda", f"cuda-{component}")


def driver(version: str, *gpus: Gpu) -> DriverInfo:
    return DriverInfo(version, max_cuda_for_driver(version), gpus, "what-if")


A100 = Gpu(0, "NVIDIA A100", (8, 0), True)
RTX = Gpu(0, "NVIDIA GeForce RTX 3090", (8, 6), False)


@pytest.mark.parametrize(
    ("runtimes", "drv", "status", "finding"),
    [
        ((rt("12.1"),), driver("535.104.05", A100), "ok", None),
        ((rt("12.4"),), driver("535.104.05", A100), "minor-compat", "cuda.minor-compat"),
        ((rt("12.4"),), driver("470.82.01", A100), "too-new", "cuda.driver-too-old"),
        (
            (rt("12.4"), rt("12.4", "cuda-compat")),
            driver("470.82.01", A100),
            "forward-compat",
            "cuda.forward-compat",
        ),
        (
            (rt("12.4"), rt("12.4", "cuda-compat")),
            driver("470.82.01", RTX),
            "forward-compat",
            "cuda.forward-compat-unsupported",
        ),
        ((rt("12.1"),), DriverInfo(None, None, (), "none"), "no-driver", "driver.none"),
    ],
)
def test_runtime_vs_driver(runtimes, drv, status, finding) -> None:  # type: ignore[no-untyped-def]
    checks, findings = check_runtimes(runtimes, drv)
    assert [c.status for c in checks] == [status]
    assert [f.id for f in findings] == ([finding] if finding else [])
    if finding == "cuda.driver-too-old":
        assert "cuda-version<=11.4" in findings[0].hint and "550.54.14" in findings[0].hint
    if finding == "cuda.forward-compat-unsupported":
        assert "804" in findings[0].message and findings[0].severity == "error"


def test_mixed_majors_and_declared() -> None:
    _, findings = check_runtimes((rt("11.8"), rt("12.1")), driver("550.54.14"))
    assert [f.id for f in findings] == ["cuda.mixed-majors"]
    declared = check_declared("12.4", (rt("12.6"),), driver("535.104.05"))
    assert [f.id for f in declared] == ["lock.cuda-above-driver", "lock.runtime-above-declared"]
    assert check_declared(None, (rt("12.6"),), driver("535.104.05")) == []
