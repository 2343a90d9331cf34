"""CUDA runtimes against the driver, the GPUs and the lock's declared system requirements.

The rules (NVIDIA CUDA Compatibility guide):
- a runtime runs on a driver at least as new as its GA driver (hermetic.cuda.MIN_DRIVER_GA);
- within one major, an older driver down to the major's floor still runs it ("minor version
  compatibility"), but PTX from the newer toolkit cannot be JIT-compiled there;
- below that, only forward compatibility helps: the cuda-compat package's libcuda, on
  data-center GPUs only (elsewhere: error 804, CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE).
"""

from __future__ import annotations

from dataclasses import dataclass

from hermetic.cuda import (
    max_cuda_for_driver,
    min_driver_for,
    minor_compat_floor,
    version_tuple,
)
from hermetic.doctor.driver import DriverInfo
from hermetic.doctor.fatbin import FatbinInfo, coverage
from hermetic.doctor.runtimes import Runtime
from hermetic.findings import Finding


@dataclass(frozen=True)
class RuntimeCheck:
    cuda: str
    status: str  # "ok", "minor-compat", "forward-compat", "too-new", "no-driver"
    components: tuple[str, ...]


def driver_cuda(driver: DriverInfo) -> str | None:
    if driver.cuda:
        return driver.cuda
    return max_cuda_for_driver(driver.version) if driver.version else None


def check_runtimes(
    runtimes: tuple[Runtime, ...], driver: DriverInfo
) -> tuple[tuple[RuntimeCheck, ...], list[Finding]]:
    needs: dict[str, list[str]] = {}
    for r in runtimes:
        if r.cuda and r.component != "cuda-compat":
            needs.setdefault(r.cuda, []).append(f"{r.package} {r.version} ({r.source})")
    compat = [r for r in runtimes if r.component == "cuda-compat" and r.cuda]
    checks: list[RuntimeCheck] = []
    findings: list[Finding] = []

    majors = sorted({version_tuple(c)[0] for c in needs})
    if len(majors) > 1:
        findings.append(
            Finding(
                "cuda.mixed-majors",
                "warning",
                "the env carries CUDA runtimes of several majors: "
                + "; ".join(f"{c}: {', '.join(p)}" for c, p in sorted(needs.items())),
                hint="keep one CUDA major: pin `cuda-version` and use pip wheels built for it (cuXX)",
                subject="cuda",
            )
        )

    have = driver_cuda(driver)
    for cuda, comps in sorted(needs.items(), key=lambda kv: version_tuple(kv[0])):
        status = _status(cuda, driver, have, compat)
        checks.append(RuntimeCheck(cuda, status, tuple(comps)))
        finding = _finding(cuda, status, driver, have, comps)
        if finding is not None:
            findings.append(finding)
    if not driver.present and needs:
        findings.append(
            Finding(
                "driver.none",
                "info",
                "no NVIDIA driver on this machine: the env's CUDA runtimes cannot run here",
                hint="check against a target machine with `hermetic doctor --driver VERSION --gpu sm_XY`",
                subject=None,
            )
        )
    return tuple(checks), findings


def _status(cuda: str, driver: DriverInfo, have: str | None, compat: list[Runtime]) -> str:
    if not driver.present or have is None:
        return "no-driver"
    if version_tuple(cuda) <= version_tuple(have):
        return "ok"
    floor = minor_compat_floor(cuda)
    if (
        driver.version
        and floor
        and version_tuple(driver.version) >= version_tuple(floor)
        and version_tuple(have)[0] == version_tuple(cuda)[0]
    ):
        return "minor-compat"
    if any(version_tuple(c.cuda or "0") >= version_tuple(cuda) for c in compat):
        return "forward-compat"
    return "too-new"


def _finding(
    cuda: str, status: str, driver: DriverInfo, have: str | None, comps: list[str]
) -> Finding | None:
    who = ", ".join(comps[:3]) + (f" and {len(comps) - 3} more" if len(comps) > 3 else "")
    upgrade = f"upgrade the driver to >= {min_driver_for(cuda) or '?'}"
    if status == "minor-compat":
        return Finding(
            "cuda.minor-compat",
            "warning",
            f"CUDA {cuda} ({who}) runs on driver {driver.version} (CUDA {have}) only through "
            "minor version compatibility: PTX built by the newer toolkit cannot be JIT-compiled",
            hint=f"{upgrade}, or pin `cuda-version<={have}`",
            subject=cuda,
        )
    if status == "forward-compat":
        dc = [g for g in driver.gpus if g.data_center is False]
        if dc:
            return Finding(
                "cuda.forward-compat-unsupported",
                "error",
                f"CUDA {cuda} ({who}) needs forward compatibility (cuda-compat) but {dc[0].name} "
                "is not a data-center GPU: cuInit fails with error 804",
                hint=f"pin `cuda-version<={have}` or {upgrade}",
                subject=cuda,
            )
        return Finding(
            "cuda.forward-compat",
            "warning",
            f"CUDA {cuda} ({who}) is newer than driver {driver.version} (CUDA {have}) and relies "
            "on cuda-compat's libcuda: data-center GPUs only, and it must be first in the loader path",
            hint=f"{upgrade} to drop the dependency on cuda-compat",
            subject=cuda,
        )
    if status == "too-new":
        return Finding(
            "cuda.driver-too-old",
            "error",
            f"CUDA {cuda} ({who}) needs driver >= {min_driver_for(cuda) or '?'}; driver "
            f'{driver.version or "?"} supports CUDA {have}: "CUDA driver version is '
            'insufficient for CUDA runtime version"',
            hint=f"pin `cuda-version<={have}` or {upgrade}",
            subject=cuda,
        )
    return None


def check_declared(
    declared: str | None, runtimes: tuple[Runtime, ...], driver: DriverInfo
) -> list[Finding]:
    """The lock's system-requirements.cuda: what the solver assumed about the machines."""
    if not declared:
        return []
    out: list[Finding] = []
    have = driver_cuda(driver)
    if driver.present and have and version_tuple(declared) > version_tuple(have):
        out.append(
            Finding(
                "lock.cuda-above-driver",
                "error",
                f"the lock declares system-requirements.cuda = {declared}, but this driver "
                f"({driver.version or '?'}) supports CUDA {have}",
                hint=f"upgrade the driver to >= {min_driver_for(declared) or '?'}, or lower "
                f"system-requirements.cuda to {have} and re-lock",
                subject=declared,
            )
        )
    for r in runtimes:
        if (
            r.cuda
            and r.component != "cuda-compat"
            and version_tuple(r.cuda) > version_tuple(declared)
        ):
            out.append(
                Finding(
                    "lock.runtime-above-declared",
                    "warning",
                    f"{r.package} {r.version} needs CUDA {r.cuda}, above the declared "
                    f"system-requirements.cuda = {declared}",
                    hint=f"raise system-requirements.cuda to {r.cuda}, or pin `cuda-version<={declared}`",
                    subject=r.package,
                )
            )
    return out


def check_gpu_code(
    fatbins: dict[str, FatbinInfo], driver: DriverInfo, checks: tuple[RuntimeCheck, ...]
) -> list[Finding]:
    """Predict "no kernel image is available for execution on the device" per library x GPU."""
    out: list[Finding] = []
    minor_compat = any(c.status == "minor-compat" for c in checks)
    for path, fb in sorted(fatbins.items()):
        if fb.problem:
            out.append(
                Finding(
                    "gpu.fatbin-damaged",
                    "warning",
                    f"{path}: {fb.problem}",
                    hint="reinstall the package that owns the file",
                    subject=path,
                )
            )
        for cc in sorted({g.compute_capability for g in driver.gpus if g.compute_capability}):
            sm = f"sm_{cc[0]}{cc[1]}"
            cov = coverage(fb, cc)
            archs = _archs(fb)
            if cov == "none":
                out.append(
                    Finding(
                        "gpu.no-kernel-image",
                        "error",
                        f'{path} has no code for {sm} ({archs}): "no kernel image is available '
                        'for execution on the device"',
                        hint=f"install a build that includes {sm} (or PTX for compute_{cc[0]}{cc[1]} or lower)",
                        subject=path,
                    )
                )
            elif cov == "ptx":
                out.append(
                    Finding(
                        "gpu.ptx-jit" if not minor_compat else "gpu.ptx-jit-blocked",
                        "warning" if not minor_compat else "error",
                        f"{path} has no machine code for {sm} ({archs}); the driver must JIT-compile PTX"
                        + (
                            ", which minor version compatibility forbids"
                            if minor_compat
                            else " (slow first start)"
                        ),
                        hint=f"install a build with sm_{cc[0]}{cc[1]} machine code"
                        + (" or upgrade the driver" if minor_compat else ""),
                        subject=path,
                    )
                )
    return out


def _archs(fb: FatbinInfo) -> str:
    sass = ", ".join(f"sm_{a}" for a in fb.sass) or "none"
    ptx = ", ".join(f"compute_{a}" for a in fb.ptx) or "none"
    return f"SASS: {sass}; PTX: {ptx}"
