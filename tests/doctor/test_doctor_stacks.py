"""The doctor on ML stacks as pip and conda lay them out, built at test time with gcc/objcopy.

Each fixture reproduces one pattern seen on real PyTorch installs: dlopen-only plugins whose
dependencies cannot resolve, cuFFT's fatbins in `.ldata`, arch-specific cubins, a CPU-only
torch, suffix-less CUDA 13 wheels, a venv's lib64 -> lib link, and NVML reporting a driver /
library mismatch. Only NVML (the driver) is stood in for.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from doctor_fixtures import (
    FLAG_ARCH_SPECIFIC,
    FLAG_FAMILY_SPECIFIC,
    HAVE_GCC,
    add_section,
    build_lib,
    fatbin_container,
    fatbin_entry,
    ld_cache,
)
from test_doctor_driver import FakeNvml, fake_proc

from hermetic.cuda import MIN_DRIVER_GA, driver_requirement, max_cuda_for_driver, min_driver_for
from hermetic.doctor import DoctorOptions, run_doctor
from hermetic.doctor.causes import machine_findings
from hermetic.doctor.driver import DriverInfo, detect_driver
from hermetic.doctor.elf import ElfInfo, read_elf
from hermetic.doctor.fatbin import FatbinInfo, coverage, read_fatbin

pytestmark = pytest.mark.skipif(not HAVE_GCC, reason="needs gcc and objcopy")
PY = "lib/python3.11/site-packages"
EXT = "cpython-311-x86_64-linux-gnu.so"


def fatbin_for(*archs: int, flags: int = 0) -> bytes:
    return b"".join(fatbin_container([fatbin_entry(2, a, b"k" * 40, flags=flags)]) for a in archs)


def dist(sp: Path, name: str, version: str, files: list[str], installer: str = "pip") -> None:
    d = sp / f"{name}-{version}.dist-info"
    d.mkdir(parents=True)
    (d / "RECORD").write_text("".join(f"{f},,\n" for f in files))
    (d / "INSTALLER").write_text(installer + "\n")


def torch_venv(root: Path, *, cuda: str | None = "13.0", version: str = "2.14.1+cu130") -> Path:
    """A pip venv laid out like `pip install torch` (CUDA 13): torch, nvidia/cu13, nvshmem."""
    env = root / "venv"
    sp = env / PY
    (env / "pyvenv.cfg").parent.mkdir(parents=True, exist_ok=True)
    (env / "pyvenv.cfg").write_text("home = /usr/bin\n")
    os.symlink("lib", env / "lib64")
    cu13 = sp / "nvidia/cu13/lib"
    cudart = build_lib(cu13 / "libcudart.so.13")
    cublas = add_section(build_lib(cu13 / "libcublas.so.13"), ".nv_fatbin", fatbin_for(75, 90))
    tl = sp / "torch/lib"
    torch_cuda = add_section(
        build_lib(
            tl / "libtorch_cuda.so", deps=(cudart, cublas), runpath="$ORIGIN/../../nvidia/cu13/lib"
        ),
        ".nv_fatbin",
        fatbin_for(75, 80, 86, 90, 100, 120),
    )
    build_lib(sp / f"torch/_C.{EXT}", deps=(torch_cuda,), runpath="$ORIGIN/lib")
    (sp / "torch/version.py").write_text(
        "from typing import Optional\n"
        f"__version__ = '{version}'\n"
        + (f"cuda: Optional[str] = '{cuda}'\n" if cuda else "cuda: Optional[str] = None\n")
    )
    dist(sp, "torch", version, ["torch/version.py"])
    dist(sp, "nvidia_cuda_runtime", "13.0.96", ["nvidia/cu13/lib/libcudart.so.13"])
    dist(sp, "nvidia_cublas", "13.1.1.3", ["nvidia/cu13/lib/libcublas.so.13"])
    dist(sp, "nvidia_cufft", "12.0.0.61", ["nvidia/cu13/lib/libcufft.so.12"])
    # dlopen-only: NVSHMEM's MPI bootstrap needs an MPI the env does not have.
    gone = build_lib(root / "build/libmpi.so.40")
    build_lib(sp / "nvidia/nvshmem/lib/nvshmem_bootstrap_mpi.so.3", deps=(gone,))
    gone.unlink()
    return env


def doctor(prefix: Path, **kw: object):  # type: ignore[no-untyped-def]
    kw.setdefault("environ", {})
    return run_doctor(DoctorOptions(prefix=prefix, cache=None, **kw))  # type: ignore[arg-type]


def ids(report) -> list[str]:  # type: ignore[no-untyped-def]
    return [f.id for f in report.findings]


def test_dlopen_only_plugins_are_optional_not_errors(tmp_path: Path) -> None:
    env = torch_venv(tmp_path)
    report = doctor(env, driver="580.95.05", gpu="sm_90")
    assert not report.failed, [(f.id, f.message) for f in report.findings if f.severity == "error"]
    opt = [f for f in report.findings if f.id == "lib.optional-missing"]
    assert len(opt) == 1 and opt[0].subject == "nvshmem" and "libmpi.so.40" in opt[0].message
    assert "multi-node NVSHMEM" in opt[0].message and opt[0].severity == "info"
    # The same missing library under an extension module is an error again.
    gone = build_lib(tmp_path / "build/libgone.so")
    build_lib(env / PY / f"ext.{EXT}", deps=(gone,))
    gone.unlink()
    bad = doctor(env, driver="580.95.05", gpu="sm_90")
    assert bad.failed and "lib.missing" in ids(bad)


def test_verdict_first_with_load_map_and_one_driver_finding(tmp_path: Path) -> None:
    env = torch_venv(tmp_path)
    ok = doctor(env, driver="580.95.05", gpu="sm_90")
    v = ok.verdicts[0]
    assert v.status == "ok" and v.framework == "torch"
    assert "needs driver >= 580.65.06 and a GPU in sm_75…sm_121" in v.text
    loads = {lib.component: lib for lib in v.loads}
    assert loads["cudart"].version == "13.0.96" and loads["cublas"].version == "13.1.1.3"
    assert loads["cudart"].path.endswith("nvidia/cu13/lib/libcudart.so.13")
    old = doctor(env, driver="535.104.05", gpu="sm_90")
    assert old.verdicts[0].status == "fails"
    assert old.verdicts[0].text.endswith(
        "the target driver 535.104.05 → torch.cuda.is_available() will be False"
    )
    too_old = [f for f in old.findings if f.id == "cuda.driver-too-old"]
    assert len(too_old) == 1 and old.findings[0] is too_old[0]  # one cause, first
    hint = too_old[0].hint or ""
    assert ">= 580.65.06" in hint
    assert "pip install torch --index-url https://download.pytorch.org/whl/cu129" in hint


def test_conda_env_remedy_is_cuda_version(tmp_path: Path) -> None:
    env = tmp_path / "env"
    (env / "conda-meta").mkdir(parents=True)
    (env / "conda-meta/cuda-cudart-12.8.90-0.json").write_text(
        '{"name": "cuda-cudart", "version": "12.8.90", "build": "0"}'
    )
    build_lib(env / "lib/libcudart.so.12")
    report = doctor(env, driver="470.82.01", gpu="sm_80")
    f = next(f for f in report.findings if f.id == "cuda.driver-too-old")
    assert "cuda-version<=11.4" in (f.hint or "") and ">= 570.26" in (f.hint or "")


def test_gpu_dropped_by_cuda_13_is_one_finding(tmp_path: Path) -> None:
    env = torch_venv(tmp_path)
    report = doctor(env, driver="580.95.05", gpu="sm_61")
    assert ids(report).count("gpu.unsupported-by-stack") == 1
    assert "gpu.no-kernel-image" not in ids(report)  # not one per library
    f = next(f for f in report.findings if f.id == "gpu.unsupported-by-stack")
    assert "CUDA 13 dropped Maxwell, Pascal and Volta" in f.message
    assert "whl/cu126" in (f.hint or "")  # the last PyTorch builds for Pascal
    assert report.verdicts[0].status == "fails"


def test_fatbins_in_ldata_are_found(tmp_path: Path) -> None:
    lib = build_lib(tmp_path / "libcufft.so.12")
    add_section(lib, ".nv_fatbin", fatbin_for(75))
    lto = fatbin_container([fatbin_entry(8, 75, b"lto-ir", header_size=128)])  # callbacks
    blob = fatbin_for(75, 80, 86, 90, 100, 120) + lto + b"\0" * 4096
    add_section(lib, ".ldata", blob)
    info = read_elf(lib)
    assert isinstance(info, ElfInfo) and info.fatbin is not None
    fb = read_fatbin(str(lib), info.fatbin)
    assert fb.sass == ("75", "80", "86", "90", "100", "120") and fb.ptx == ()
    assert fb.outside == 7 and fb.containers == 8  # the LTO-IR container counts, as no code
    assert coverage(fb, (9, 0)) == "sass" and not fb.stub


def test_stub_nv_fatbin_is_coverage_unknown_not_an_error(tmp_path: Path) -> None:
    env = tmp_path / "env"
    (env / "conda-meta").mkdir(parents=True)
    lib = build_lib(env / "lib/libbig.so")
    add_section(lib, ".nv_fatbin", fatbin_for(75))
    add_section(lib, ".lrodata", b"\1" * (33 * 1024 * 1024))  # big, with code we cannot see
    report = doctor(env, driver="580.95.05", gpu="sm_90")
    assert "gpu.coverage-unknown" in ids(report) and not report.failed


def test_arch_and_family_specific_cubins(tmp_path: Path) -> None:
    lib = build_lib(tmp_path / "libarch.so")
    add_section(
        lib,
        ".nv_fatbin",
        fatbin_for(90, flags=FLAG_ARCH_SPECIFIC)
        + fatbin_for(100, flags=FLAG_ARCH_SPECIFIC)
        + fatbin_for(120, flags=FLAG_FAMILY_SPECIFIC),
    )
    info = read_elf(lib)
    assert isinstance(info, ElfInfo) and info.fatbin is not None
    fb = read_fatbin(str(lib), info.fatbin)
    assert fb.sass == ("90a", "100a", "120f")
    assert coverage(fb, (9, 0)) == "sass" and coverage(fb, (10, 0)) == "sass"
    assert coverage(fb, (10, 3)) == "none"  # an sm_100a cubin does not run on sm_103
    assert coverage(fb, (12, 1)) == "sass"  # sm_120f runs on the 12.x family
    only_90a = FatbinInfo(("90a",), (), 1)
    assert (
        coverage(only_90a, (10, 0)) == "none"
        and coverage(FatbinInfo(("100f",), (), 1), (10, 3)) == "sass"
    )


def test_cpu_only_torch(tmp_path: Path) -> None:
    env = torch_venv(tmp_path, cuda=None, version="2.9.1+cpu")
    report = doctor(env, driver="580.95.05", gpu="sm_90")
    assert report.verdicts[0].status == "cpu-only"
    f = next(f for f in report.findings if f.id == "framework.cpu-only")
    assert f.severity == "error" and report.findings[0] is f
    quiet = doctor(env, root=str(tmp_path / "nogpu"), nvml=FakeNvml(fail=True))
    assert next(f for f in quiet.findings if f.id == "framework.cpu-only").severity == "info"


def test_suffixless_cuda13_wheels_and_lib64_listed_once(tmp_path: Path) -> None:
    env = torch_venv(tmp_path)
    report = doctor(env, driver="580.95.05", gpu="sm_90")
    by = {r.package: r for r in report.runtimes}
    assert by["nvidia_cublas"].component == "cublas" and by["nvidia_cublas"].cuda == "13.1"
    cufft = by["nvidia_cufft"]  # cuFFT 12.0 is a library version: it is a CUDA 13 library
    assert cufft.component == "cufft" and cufft.cuda == "13.0" and cufft.major_only
    assert by["nvidia_cuda_runtime"].cuda == "13.0"
    assert [r.component for r in report.runtimes].count("torch") == 1
    assert len(report.verdicts) == 1


def test_nvml_mismatch_is_an_error_even_when_proc_answers(tmp_path: Path) -> None:
    class MismatchNvml(FakeNvml):
        def nvmlInit(self) -> None:
            raise RuntimeError("Driver/library version mismatch")

    root = fake_proc(tmp_path / "root", "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14")
    d = detect_driver(str(root), nvml=MismatchNvml(), libcuda=False)
    assert d.source == "proc" and d.version == "550.54.14"
    assert d.nvml_error and "mismatch" in d.nvml_error
    found = machine_findings(d, {}, wants_gpu=True)
    assert [f.id for f in found] == ["driver.nvml-mismatch"] and found[0].severity == "error"


def test_libcuda_file_version_differs_from_kernel_module(tmp_path: Path) -> None:
    root = fake_proc(tmp_path / "root", "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14")
    libdir = tmp_path / "root/usr/lib"
    real = build_lib(libdir / "libcuda.so.535.104.05")
    os.symlink(real.name, libdir / "libcuda.so.1")
    ld_cache(root, {"libcuda.so.1": str(libdir / "libcuda.so.1")})
    d = detect_driver(str(root), nvml=FakeNvml(fail=True), libcuda=False)
    assert d.libcuda_version == "535.104.05"
    assert "driver.libcuda-mismatch" in [f.id for f in machine_findings(d, {}, True)]


def test_cuda_visible_devices_and_branch_floors(tmp_path: Path) -> None:
    env = torch_venv(tmp_path)
    hidden = doctor(env, driver="580.95.05", gpu="sm_90", environ={"CUDA_VISIBLE_DEVICES": "-1"})
    assert "env.cuda-visible-devices" in ids(hidden) and hidden.verdicts[0].status == "fails"
    blackwell = doctor(env, driver="565.57.01", gpu="sm_100")
    assert "driver.too-old-for-gpu" in ids(blackwell)
    pascal = doctor(env, driver="590.44.01", gpu="sm_61")
    assert "driver.too-new-for-gpu" in ids(pascal)


def test_container_without_gpu_hint() -> None:
    d = DriverInfo(None, None, (), "none", in_container=True)
    f = machine_findings(d, {}, wants_gpu=True)
    assert [x.id for x in f] == ["driver.container-without-gpu"] and "--gpus" in (f[0].hint or "")


def test_driver_table_is_current_and_never_unknown() -> None:
    assert min_driver_for("13.2") == "595.45.04" and max_cuda_for_driver("595.45.04") == "13.2"
    for cuda in [*MIN_DRIVER_GA, "12.7", "13.4", "13.5", "14.0"]:
        text = driver_requirement(cuda)
        assert "?" not in text and text.startswith((">=", ">"))


CHROMIUM = next(
    (p for p in ("chromium", "chromium-browser", "google-chrome") if shutil.which(p)), None
)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)")
def test_html_overview_in_a_real_browser(tmp_path: Path) -> None:
    env = torch_venv(tmp_path)
    report = doctor(env, driver="535.104.05", gpu="sm_90")
    page = tmp_path / "report.html"
    report.to_html(page)
    shot = tmp_path / "report.png"
    home = tmp_path / "home"
    home.mkdir()
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={home}"]
    subprocess.run(
        [*args, f"--screenshot={shot}", "--window-size=1400,2400", page.as_uri()],
        check=True,
        capture_output=True,
        timeout=120,
        env={**os.environ, "HOME": str(home)},
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    dom = subprocess.run(
        [*args, "--dump-dom", page.as_uri()],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(home)},
    ).stdout
    # The browser parsed the overview: banner, driver table, GPU matrix and the graph.
    assert 'id="verdict-torch"' in dom and "torch.cuda.is_available() will be False" in dom
    assert 'id="driver-table"' in dom and "595.45.04" in dom
    assert 'id="gpu-matrix"' in dom and "libtorch_cuda.so" in dom and "✓" in dom
    assert dom.count('class="node"') == 3  # libtorch_cuda, cudart, cublas: once each
    assert "libc.so.6" not in dom.split('id="graph"', 1)[1]  # glibc hidden
    assert "/../" not in dom.split('id="graph"', 1)[1]  # real paths: one node per file


def test_cli_shows_the_verdict_first(tmp_path: Path) -> None:
    from clirun import hermetic

    env = torch_venv(tmp_path)
    cache = {"HERMETIC_CACHE_DIR": str(tmp_path / "cache"), "CUDA_VISIBLE_DEVICES": "0"}
    args = ("doctor", "--prefix", str(env), "--gpu", "sm_90")
    bad = hermetic(*args, "--driver", "535.104.05", cwd=tmp_path, env=cache, check=1)
    out = bad.stdout
    assert out.index("Verdict") < out.index("Driver") < out.index("Findings")
    assert "FAILS" in out and "torch.cuda.is_available() will be False" in out
    assert "cudart     13.0.96" in out  # the load map, with the wheel's version
    good = hermetic(*args, "--driver", "580.95.05", "--json", cwd=tmp_path, env=cache, check=0)
    data = json.loads(good.stdout)
    assert data["verdicts"][0]["status"] == "ok" and data["failed"] is False
    assert all(f["severity"] != "error" for f in data["findings"])


def test_jax_with_its_cuda_plugin(tmp_path: Path) -> None:
    env = tmp_path / "venv"
    sp = env / PY
    (sp / "jaxlib").mkdir(parents=True)
    (env / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (sp / "jaxlib/version.py").write_text('_version = "0.7.2"\n')
    dist(sp, "jaxlib", "0.7.2", ["jaxlib/version.py"])
    dist(sp, "jax_cuda12_plugin", "0.7.2", [])
    dist(sp, "nvidia_cuda_runtime_cu12", "12.9.79", ["nvidia/cuda_runtime/lib/libcudart.so.12"])
    cudart = build_lib(sp / "nvidia/cuda_runtime/lib/libcudart.so.12")
    plugin = build_lib(
        sp / "jax_plugins/xla_cuda12/xla_cuda_plugin.so",
        deps=(cudart,),
        runpath="$ORIGIN/../../nvidia/cuda_runtime/lib",
    )
    add_section(plugin, ".nv_fatbin", fatbin_for(80, 90))
    build_lib(
        sp / f"jaxlib/_jax.{EXT}", deps=(plugin,), runpath="$ORIGIN/../jax_plugins/xla_cuda12"
    )
    report = doctor(env, driver="470.82.01", gpu="sm_80")
    v = report.verdicts[0]
    assert v.framework == "jax" and v.status == "fails"
    assert "jax.devices('gpu') will raise" in v.text and "a GPU in sm_80…sm_90" in v.text
    assert [lib.component for lib in v.loads] == ["cudart"]
    assert doctor(env, driver="575.51.03", gpu="sm_90").verdicts[0].status == "ok"


def test_cuda_package_names_and_pip_twins() -> None:
    from hermetic.cuda import component_for_pip, pip_twin, pytorch_index_for_driver
    from hermetic.policy.native import conda_equivalents

    assert pip_twin("libcublas", 12) == "nvidia-cublas-cu12"
    assert pip_twin("libcublas", 13) == "nvidia-cublas"  # CUDA 13 wheels have no suffix
    assert pip_twin("cudnn", 13) == "nvidia-cudnn-cu13"
    hit = component_for_pip("nvidia_cufft")
    assert hit is not None and hit[0].key == "cufft" and hit[1] is None
    assert conda_equivalents("nvidia-cublas", {"libcublas", "cudatoolkit"}) == (
        "libcublas",
        "cudatoolkit",
    )
    assert conda_equivalents("nvidia-nccl-cu13", {"nccl"}) == ("nccl",)
    assert pytorch_index_for_driver("580.95.05") == "cu130"
    assert pytorch_index_for_driver("535.104.05") == "cu129"  # minor version compatibility
    assert pytorch_index_for_driver("580.95.05", 61) == "cu126"  # the last for Pascal
    assert pytorch_index_for_driver("450.80.02") == "cu118"  # the CUDA 11 floor
    assert pytorch_index_for_driver("450.51.06") is None


def test_tensorflow_and_cupy_are_found(tmp_path: Path) -> None:
    env = tmp_path / "venv"
    sp = env / PY
    (sp / "tensorflow/python/platform").mkdir(parents=True)
    (env / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (sp / "tensorflow/python/platform/build_info.py").write_text(
        "build_info = {'cuda_version': '12.5.1', 'cudnn_version': '9', 'is_cuda_build': True}\n"
    )
    dist(sp, "tensorflow", "2.20.0", [])
    dist(sp, "cupy_cuda12x", "13.6.0", [])
    report = doctor(env, driver="550.54.14", gpu="sm_80")  # CUDA 12.4's driver
    by = {v.framework: v for v in report.verdicts}
    assert by["tensorflow"].cuda == "12.5" and by["tensorflow"].status == "ok"
    assert "through minor version compatibility" in by["tensorflow"].text
    assert by["cupy"].cuda == "12.0" and by["cupy"].status == "ok"
    old = {v.framework: v for v in doctor(env, driver="470.82.01", gpu="sm_80").verdicts}
    assert old["tensorflow"].status == "fails" and old["cupy"].status == "fails"
    assert "tf.config.list_physical_devices('GPU') will be empty" in old["tensorflow"].text
