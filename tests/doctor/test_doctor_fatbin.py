"""`.nv_fatbin` sections assembled from the documented layout, parsed back, and judged."""

from __future__ import annotations

from pathlib import Path

import pytest
from doctor_fixtures import (
    HAVE_GCC,
    add_section,
    build_lib,
    fatbin_container,
    fatbin_entry,
)

from hermetic.doctor import DoctorOptions, run_doctor
from hermetic.doctor.elf import ElfInfo, read_elf
from hermetic.doctor.fatbin import FatbinInfo, coverage, parse_sm, read_fatbin

pytestmark = pytest.mark.skipif(not HAVE_GCC, reason="needs gcc and objcopy")


def gpu_lib(path: Path, data: bytes) -> Path:
    return add_section(build_lib(path), ".nv_fatbin", data)


def parsed(path: Path) -> FatbinInfo:
    info = read_elf(path)
    assert isinstance(info, ElfInfo) and info.fatbin is not None
    return read_fatbin(str(path), info.fatbin)


def test_entries_and_containers(tmp_path: Path) -> None:
    data = fatbin_container(
        [
            fatbin_entry(2, 70, b"sass70"),
            fatbin_entry(2, 80, b"x" * 13),
            fatbin_entry(1, 80, b"ptx"),
        ]
    ) + fatbin_container([fatbin_entry(2, 90, b"y" * 8, header_size=112)])
    fb = parsed(gpu_lib(tmp_path / "libk.so", data))
    assert (
        fb.sass == ("70", "80", "90")
        and fb.ptx == ("80",)
        and fb.containers == 2
        and fb.problem is None
    )


def test_damaged_section_is_reported(tmp_path: Path) -> None:
    good = fatbin_container([fatbin_entry(2, 80, b"k")])
    fb = parsed(gpu_lib(tmp_path / "libd.so", good + b"\x01\x02\x03\x04garbage!" * 2))
    assert fb.sass == ("80",) and fb.problem and "magic" in fb.problem


def test_coverage_rules() -> None:
    fb = FatbinInfo(sass=("80",), ptx=("70",), containers=1)
    assert coverage(fb, (8, 0)) == "sass"
    assert coverage(fb, (8, 6)) == "sass"  # same major, newer minor runs sm_80 code
    assert coverage(fb, (9, 0)) == "ptx"  # other major: only PTX, JIT-compiled
    assert coverage(fb, (7, 5)) == "ptx"
    assert coverage(FatbinInfo(("86",), (), 1), (8, 0)) == "none"  # older minor cannot run sm_86
    assert coverage(FatbinInfo(("80",), ("90",), 1), (7, 0)) == "none"
    assert parse_sm("sm_90a") == (9, 0) and parse_sm("8.6") == (8, 6) and parse_sm("120") == (12, 0)
    with pytest.raises(ValueError):
        parse_sm("hopper")


def test_doctor_predicts_no_kernel_image(tmp_path: Path) -> None:
    env = tmp_path / "env"
    (env / "conda-meta").mkdir(parents=True)
    gpu_lib(env / "lib/libkern.so", fatbin_container([fatbin_entry(2, 80, b"k")]))
    opts = dict(prefix=env, cache=None, driver="550.54.14")
    ok = run_doctor(DoctorOptions(gpu="sm_86", **opts))
    assert not [f for f in ok.findings if f.id.startswith("gpu.")]
    bad = run_doctor(DoctorOptions(gpu="sm_90", **opts))
    found = [f for f in bad.findings if f.id == "gpu.no-kernel-image"]
    assert found and "sm_90" in found[0].message and bad.failed
    obj = next(o for o in bad.objects if o.fatbin)
    assert obj.fatbin.sass == ("80",)


def test_ptx_only_under_minor_version_compat_is_blocked(tmp_path: Path) -> None:
    env = tmp_path / "env"
    (env / "conda-meta").mkdir(parents=True)
    (env / "conda-meta/cuda-cudart-12.4.127-0.json").write_text(
        '{"name": "cuda-cudart", "version": "12.4.127", "build": "0"}'
    )
    gpu_lib(env / "lib/libjit.so", fatbin_container([fatbin_entry(1, 80, b"ptx")]))
    # 535 runs CUDA 12.4 only through minor version compatibility, which cannot JIT newer PTX.
    report = run_doctor(DoctorOptions(prefix=env, cache=None, driver="535.104.05", gpu="sm_90"))
    assert {"cuda.minor-compat", "gpu.ptx-jit-blocked"} <= {f.id for f in report.findings}
