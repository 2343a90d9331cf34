"""The NVIDIA driver and GPUs of this machine: NVML first, then /proc, then libcuda.

Every probe catches every failure: a machine without a GPU is a normal answer, not an error.
`what_if` replaces what was detected with what the user asked about (--driver, --gpu).
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass, replace
from typing import Any

from hermetic.cuda import cuda_int_to_str, max_cuda_for_driver

# Names of GPUs that support CUDA forward compatibility (cuda-compat): data-center parts.
_DATA_CENTER = re.compile(
    r"\b(tesla|[abhlt]\d{1,3}[a-z]?\b|gh200|gb200|b200|b300|a800|h800|h20|quadro gv100|dgx)",
    re.IGNORECASE,
)
_PROC_VERSION = re.compile(r"Kernel Module(?: for \S+)?\s+(\d+\.\d+(?:\.\d+)?)")


@dataclass(frozen=True)
class Gpu:
    index: int
    name: str
    compute_capability: tuple[int, int] | None
    data_center: bool | None  # None: not known (a what-if GPU)

    @property
    def sm(self) -> str | None:
        cc = self.compute_capability
        return f"sm_{cc[0]}{cc[1]}" if cc else None


@dataclass(frozen=True)
class DriverInfo:
    version: str | None  # e.g. "535.104.05"; None: no NVIDIA driver found
    cuda: str | None  # highest CUDA the driver supports, e.g. "12.2"
    gpus: tuple[Gpu, ...]
    source: str  # "nvml", "proc", "libcuda", "what-if", "none"
    notes: tuple[str, ...] = ()  # why probes failed, for the report
    nvml_error: str | None = None  # NVML's own words when it failed (kept when /proc answers)
    libcuda_version: str | None = None  # from the name of the system's libcuda.so.<version>
    in_container: bool = False

    @property
    def present(self) -> bool:
        return self.version is not None or self.cuda is not None


def detect_driver(
    root: str = "/", *, nvml: object | None = None, libcuda: bool = True
) -> DriverInfo:
    """`nvml` is the pynvml module (tests pass a stand-in); None imports the real one."""
    notes: list[str] = []
    found = _from_nvml(nvml, notes)
    if found is None:
        found = _from_proc(root, notes)
    if found is None and libcuda:
        found = _from_libcuda(root, notes)
    if found is None:
        found = DriverInfo(None, None, (), "none")
    nvml_error = next((n.split(": ", 1)[1] for n in notes if n.startswith("NVML")), None)
    return replace(
        found,
        notes=tuple(notes),
        nvml_error=nvml_error,
        libcuda_version=_libcuda_file_version(root),
        in_container=in_container(root),
    )


def in_container(root: str = "/") -> bool:
    """Docker, Podman and Kubernetes leave one of these behind."""
    if any(os.path.exists(os.path.join(root, m)) for m in (".dockerenv", "run/.containerenv")):
        return True
    with contextlib.suppress(OSError):
        with open(os.path.join(root, "proc/1/cgroup"), encoding="utf-8") as fh:
            text = fh.read()
        return any(k in text for k in ("docker", "kubepods", "containerd", "libpod"))
    return False


def _libcuda_file_version(root: str) -> str | None:
    """'libcuda.so.535.104.05' behind the system's libcuda.so.1, without loading it."""
    from hermetic.doctor.ldcache import LdCache, read_ld_cache

    with contextlib.suppress(Exception):
        path = LdCache(read_ld_cache(root), ()).lookup("libcuda.so.1", 64, 62)
        if path is not None:
            m = re.search(r"libcuda\.so\.(\d+\.\d+(?:\.\d+)?)$", os.path.realpath(path))
            return m.group(1) if m else None
    return None


def what_if(detected: DriverInfo, driver: str | None, gpu: tuple[int, int] | None) -> DriverInfo:
    out = detected
    if driver is not None:
        out = replace(out, version=driver, cuda=max_cuda_for_driver(driver), source="what-if")
    if gpu is not None:
        out = replace(
            out, gpus=(Gpu(0, f"sm_{gpu[0]}{gpu[1]} (what-if)", gpu, None),), source="what-if"
        )
    return out


def _from_nvml(nvml: object | None, notes: list[str]) -> DriverInfo | None:
    nv: Any = nvml  # the pynvml module, or a stand-in with the same functions
    try:
        if nv is None:
            import importlib

            nv = importlib.import_module("pynvml")
        nv.nvmlInit()
    except Exception as exc:  # no library, no driver, no permission: all mean "ask elsewhere"
        notes.append(f"NVML unavailable: {exc}")
        return None
    try:
        version = _text(nv.nvmlSystemGetDriverVersion())
        cuda: str | None = None
        with contextlib.suppress(Exception):
            cuda = cuda_int_to_str(int(nv.nvmlSystemGetCudaDriverVersion()))
        gpus: list[Gpu] = []
        for i in range(int(nv.nvmlDeviceGetCount())):
            handle = nv.nvmlDeviceGetHandleByIndex(i)
            name = _text(nv.nvmlDeviceGetName(handle))
            cc: tuple[int, int] | None = None
            with contextlib.suppress(Exception):
                major, minor = nv.nvmlDeviceGetCudaComputeCapability(handle)
                cc = (int(major), int(minor))
            gpus.append(Gpu(i, name, cc, is_data_center(name)))
        return DriverInfo(version, cuda or max_cuda_for_driver(version), tuple(gpus), "nvml")
    except Exception as exc:
        notes.append(f"NVML query failed: {exc}")
        return None
    finally:
        with contextlib.suppress(Exception):
            nv.nvmlShutdown()


def _from_proc(root: str, notes: list[str]) -> DriverInfo | None:
    try:
        with open(os.path.join(root, "proc/driver/nvidia/version"), encoding="utf-8") as fh:
            text = fh.read()
    except OSError:
        notes.append("no /proc/driver/nvidia/version (the nvidia kernel module is not loaded)")
        return None
    m = _PROC_VERSION.search(text)
    if not m:
        notes.append("/proc/driver/nvidia/version has no driver version")
        return None
    version = m.group(1)
    return DriverInfo(version, max_cuda_for_driver(version), _proc_gpus(root), "proc")


def _proc_gpus(root: str) -> tuple[Gpu, ...]:
    # /proc/driver/nvidia/gpus/<bus id>/information names the GPU but not its architecture.
    base = os.path.join(root, "proc/driver/nvidia/gpus")
    gpus: list[Gpu] = []
    with contextlib.suppress(OSError):
        for i, bus in enumerate(sorted(os.listdir(base))):
            name = "unknown NVIDIA GPU"
            with (
                contextlib.suppress(OSError),
                open(os.path.join(base, bus, "information"), encoding="utf-8") as fh,
            ):
                for line in fh:
                    if line.startswith("Model:"):
                        name = line.split(":", 1)[1].strip()
            gpus.append(Gpu(i, name, None, is_data_center(name)))
    return tuple(gpus)


def _from_libcuda(root: str, notes: list[str]) -> DriverInfo | None:
    """cuDriverGetVersion from the system's libcuda, found without LD_LIBRARY_PATH.

    Loading by absolute path from the system dirs keeps an env's cuda-compat libcuda (code
    from the inspected env) out of this process.
    """
    import ctypes

    from hermetic.doctor.ldcache import LdCache, read_ld_cache

    path = LdCache(read_ld_cache(root), ()).lookup("libcuda.so.1", 64, 62)
    if path is None:
        notes.append("no libcuda.so.1 in the system library cache")
        return None
    try:
        lib = ctypes.CDLL(path)
        value = ctypes.c_int(0)
        if lib.cuDriverGetVersion(ctypes.byref(value)) != 0 or value.value <= 0:
            notes.append("cuDriverGetVersion failed")
            return None
    except Exception as exc:
        notes.append(f"cannot use {path}: {exc}")
        return None
    # libcuda knows the CUDA version it supports, not the driver's own version number.
    return DriverInfo(None, cuda_int_to_str(value.value), (), "libcuda", tuple(notes))


def is_data_center(name: str) -> bool:
    return bool(_DATA_CENTER.search(name.replace("NVIDIA", "")))


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
