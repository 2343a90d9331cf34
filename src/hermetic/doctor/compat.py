"""CUDA runtimes and GPU code against the driver and the GPUs: one finding per cause.

The rules (NVIDIA CUDA Compatibility guide):
- a runtime runs on a driver at least as new as its GA driver (hermetic.cuda.MIN_DRIVER_GA);
- within one major, an older driver down to the major's floor still runs it ("minor version
  compatibility"), but PTX from the newer toolkit cannot be JIT-compiled there;
- below that, only forward compatibility helps: the cuda-compat package's libcuda, on
  data-center GPUs only (elsewhere: error 804, CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE).

Only what decides whether CUDA initialises counts for the driver verdict: the CUDA runtime
(cudart), the framework builds and cuda-version. cuFFT 12.0 or nvJitLink 13.5 are library
versions of CUDA 13 components; they are listed, never judged as CUDA versions.
"""

from __future__ import annotations

from dataclasses import dataclass

from hermetic.cuda import (
    MIN_SM_FOR_CUDA_MAJOR,
    PYTORCH_INDEXES,
    driver_requirement,
    max_cuda_for_driver,
    min_driver_for,
    minor_compat_floor,
    pytorch_index_for_driver,
    pytorch_index_url,
    sm_name,
    version_tuple,
)
from hermetic.doctor.driver import DriverInfo
from hermetic.doctor.fatbin import FatbinInfo, coverage, describe
from hermetic.doctor.frameworks import Framework
from hermetic.doctor.runtimes import Runtime
from hermetic.findings import Finding

# Components whose CUDA version the driver must support for CUDA to initialise at all.
DECIDING = frozenset({"cudart", "cuda-version", "torch", "jax", "tensorflow", "cupy"})


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
    runtimes: tuple[Runtime, ...], driver: DriverInfo, installer: str = "conda"
) -> tuple[tuple[RuntimeCheck, ...], list[Finding]]:
    needs: dict[str, list[str]] = {}
    for r in runtimes:
        if r.cuda and r.component in DECIDING and not r.major_only:
            label = r.component if r.source == "file" else r.package
            needs.setdefault(r.cuda, []).append(f"{label} {r.version}")
    compat = [r for r in runtimes if r.component == "cuda-compat" and r.cuda]
    checks: list[RuntimeCheck] = []
    findings: list[Finding] = []

    majors = sorted({version_tuple(r.cuda)[0] for r in runtimes if r.cuda})
    if len(majors) > 1:
        per = {
            m: sorted({r.package for r in runtimes if r.cuda and version_tuple(r.cuda)[0] == m})
            for m in majors
        }
        findings.append(
            Finding(
                "cuda.mixed-majors",
                "warning",
                "the env carries CUDA libraries of several majors: "
                + "; ".join(f"CUDA {m}: {', '.join(p[:5])}" for m, p in per.items()),
                hint="keep one CUDA major: pin `cuda-version` and use wheels built for it",
                subject="cuda",
            )
        )

    have = driver_cuda(driver)
    for cuda, comps in sorted(needs.items(), key=lambda kv: version_tuple(kv[0])):
        checks.append(RuntimeCheck(cuda, _status(cuda, driver, have, compat), tuple(comps)))
    finding = _driver_finding(checks, driver, have, installer)
    if finding is not None:
        findings.append(finding)
    if not driver.present and needs:
        findings.append(
            Finding(
                "driver.none",
                "info",
                "no NVIDIA driver on this machine: the env's CUDA runtimes cannot run here",
                hint="check against a target machine with `hermetic doctor --driver VERSION --gpu sm_XY`",
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


def remedy_for_driver(cuda: str, driver: DriverInfo, installer: str) -> str:
    """What to change so the env fits the driver, in the installer's words."""
    need = driver_requirement(cuda)
    have = driver_cuda(driver) or "?"
    if installer in ("pip", "uv"):
        archs = [g.compute_capability for g in driver.gpus if g.compute_capability]
        arch = min(c[0] * 10 + c[1] for c in archs) if archs else None
        index = pytorch_index_for_driver(driver.version or "0", arch)
        fit = (
            f"run `pip install torch --index-url {pytorch_index_url(index)}` (CUDA "
            f"{PYTORCH_INDEXES[index]}, the newest PyTorch build driver {driver.version} runs)"
            if index
            else "install a build for an older CUDA"
        )
    else:
        return (
            f"upgrade the driver to {need}, or pin `cuda-version<={have}` in the spec and re-lock"
        )
    return f"upgrade the driver to {need}, or {fit}"


def _driver_finding(
    checks: list[RuntimeCheck], driver: DriverInfo, have: str | None, installer: str
) -> Finding | None:
    """One finding for the driver, about the newest CUDA the env needs."""
    too_new = [c for c in checks if c.status in ("too-new", "forward-compat")]
    if too_new:
        worst = too_new[-1]
        who = _who([p for c in too_new for p in c.components])
        if worst.status == "forward-compat":
            dc = [g for g in driver.gpus if g.data_center is False]
            if dc:
                return Finding(
                    "cuda.forward-compat-unsupported",
                    "error",
                    f"CUDA {worst.cuda} ({who}) needs forward compatibility (cuda-compat) but "
                    f"{dc[0].name} is not a data-center GPU: cuInit fails with error 804",
                    hint=remedy_for_driver(worst.cuda, driver, installer),
                    subject=f"CUDA {worst.cuda}",
                )
            return Finding(
                "cuda.forward-compat",
                "warning",
                f"CUDA {worst.cuda} ({who}) is newer than driver {driver.version} (CUDA {have}) "
                "and relies on cuda-compat's libcuda: data-center GPUs only, and it must come "
                "first in the loader path",
                hint=f"upgrade the driver to {driver_requirement(worst.cuda)} to drop cuda-compat",
                subject=f"CUDA {worst.cuda}",
            )
        hint = remedy_for_driver(worst.cuda, driver, installer)
        if not any(g.data_center is False for g in driver.gpus):
            hint += (
                f"; on a data-center GPU, forward compatibility also works: add `cuda-compat` "
                f"{worst.cuda}.* to the env (conda) or NVIDIA's cuda-compat package"
            )
        return Finding(
            "cuda.driver-too-old",
            "error",
            f"CUDA {worst.cuda} ({who}) needs driver {driver_requirement(worst.cuda)}; driver "
            f'{driver.version or "?"} supports CUDA {have or "?"}: "CUDA driver version is '
            'insufficient for CUDA runtime version"',
            hint=hint,
            subject=f"CUDA {worst.cuda}",
        )
    minor = [c for c in checks if c.status == "minor-compat"]
    if minor:
        worst = minor[-1]
        return Finding(
            "cuda.minor-compat",
            "info",
            f"CUDA {worst.cuda} ({_who(list(worst.components))}) runs on driver "
            f"{driver.version} (CUDA {have}) through minor version compatibility: it works, but "
            "PTX from the newer toolkit cannot be JIT-compiled",
            hint=f"upgrade the driver to {driver_requirement(worst.cuda)} for full support",
            subject=f"CUDA {worst.cuda}",
        )
    return None


def _who(comps: list[str]) -> str:
    uniq = list(dict.fromkeys(comps))
    return ", ".join(uniq[:3]) + (f" and {len(uniq) - 3} more" if len(uniq) > 3 else "")


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
                hint=f"upgrade the driver to {driver_requirement(declared)}, or lower "
                f"system-requirements.cuda to {have} and re-lock",
                subject=declared,
            )
        )
    for r in runtimes:
        if (
            r.cuda
            and r.component in DECIDING
            and not r.major_only
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


def stack_unsupported(
    frameworks: tuple[Framework, ...],
    fatbins: dict[str, FatbinInfo],
    runtimes: tuple[Runtime, ...],
    cc: tuple[int, int],
    driver: DriverInfo,
) -> Finding | None:
    """A GPU the env's CUDA major (or its framework build) dropped: one finding, not one per
    library."""
    majors = sorted({version_tuple(r.cuda)[0] for r in runtimes if r.cuda})
    sm = sm_name(cc)
    arch = cc[0] * 10 + cc[1]
    for major in reversed(majors):
        floor = MIN_SM_FOR_CUDA_MAJOR.get(major)
        fw = next((f for f in frameworks if f.cuda and f.cuda.startswith(f"{major}.")), None)
        fw_code = fatbins.get(fw.gpu_library or "") if fw else None
        dropped = floor is not None and arch < floor
        if not dropped and not (fw_code is not None and coverage(fw_code, cc) == "none"):
            continue
        names = {60: "Pascal", 61: "Pascal", 50: "Maxwell", 52: "Maxwell", 70: "Volta"}
        why = (
            f"CUDA {major} dropped Maxwell, Pascal and Volta (it builds for sm_{floor} and newer)"
            if dropped and major >= 13
            else f"CUDA {major} builds for sm_{floor} and newer"
            if dropped
            else f"{fw.label if fw else 'the framework'} has no code for {sm} "
            f"({describe(fw_code) if fw_code else 'no GPU code'})"
        )
        last = pytorch_index_for_driver(driver.version or "999", arch) if dropped else None
        hint = (
            f"the last builds for {sm} ({names.get(arch, sm)}) use CUDA {major - 1}: "
            + (
                f"`pip install torch --index-url {pytorch_index_url(last)}`, or "
                if last and fw and fw.name == "torch"
                else ""
            )
            + f"`cuda-version <{major}` in the spec (conda)"
            if dropped
            else f"install a {fw.name if fw else 'framework'} build that includes {sm}"
        )
        return Finding(
            "gpu.unsupported-by-stack",
            "error",
            f"{why}: this env cannot run on {sm}" + (f"; {fw.fails_as}" if fw else ""),
            hint=hint,
            subject=sm,
        )
    return None


def check_gpu_code(
    fatbins: dict[str, FatbinInfo],
    driver: DriverInfo,
    checks: tuple[RuntimeCheck, ...],
    reachable: set[str],
    realpath: dict[str, str],
    skip_ccs: set[tuple[int, int]],
) -> list[Finding]:
    """Predict "no kernel image is available for execution on the device" per library x GPU.

    Uncertainty is never an error: a stub `.nv_fatbin` is "coverage unknown" (info), and a
    library nothing loads is info.
    """
    out: list[Finding] = []
    minor_compat = any(c.status == "minor-compat" for c in checks)
    unknown: list[str] = []
    for path, fb in sorted(fatbins.items()):
        loaded = realpath.get(path, path) in reachable
        if fb.problem:
            out.append(
                Finding(
                    "gpu.fatbin-damaged",
                    "warning" if loaded else "info",
                    f"{path}: {fb.problem}",
                    hint="reinstall the package that owns the file",
                    subject=path,
                )
            )
        for cc in sorted({g.compute_capability for g in driver.gpus if g.compute_capability}):
            if cc in skip_ccs:
                continue
            sm = sm_name(cc)
            cov = coverage(fb, cc)
            if cov == "unknown":
                unknown.append(path)
            elif cov == "none":
                out.append(
                    Finding(
                        "gpu.no-kernel-image",
                        "error" if loaded else "info",
                        f'{path} has no code for {sm} ({describe(fb)}): "no kernel image is '
                        'available for execution on the device"'
                        + ("" if loaded else " -- but nothing in the env loads this file"),
                        hint=f"install a build that includes {sm} (or PTX for compute_{cc[0]}{cc[1]} or lower)",
                        subject=path,
                    )
                )
            elif cov == "ptx" and loaded:
                out.append(
                    Finding(
                        "gpu.ptx-jit-blocked" if minor_compat else "gpu.ptx-jit",
                        "warning" if minor_compat else "info",
                        f"{path} has no machine code for {sm} ({describe(fb)}); the driver must "
                        "JIT-compile PTX"
                        + (
                            ", which minor version compatibility forbids: its kernels fail"
                            if minor_compat
                            else " (a slow first start)"
                        ),
                        hint=f"install a build with {sm} machine code"
                        + (" or upgrade the driver" if minor_compat else ""),
                        subject=path,
                    )
                )
    if unknown:
        out.append(
            Finding(
                "gpu.coverage-unknown",
                "info",
                f"{len(unknown)} librar{'y' if len(unknown) == 1 else 'ies'} keep(s) only a stub "
                "in .nv_fatbin and their GPU code somewhere hermetic cannot read: "
                + ", ".join(sorted(unknown)[:3]),
                hint="nothing to do; run on the target GPU to be sure",
                subject="gpu",
            )
        )
    return out


def min_driver(cuda: str) -> str | None:
    return min_driver_for(cuda)
