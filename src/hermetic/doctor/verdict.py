"""The first answer: will each framework of the env use the GPU on the target, and if not, why.

Example: "torch 2.14.1+cu130 needs driver >= 580.65.06 and a GPU in sm_75…sm_121; the target
driver 535.104.05 → torch.cuda.is_available() will be False".
"""

from __future__ import annotations

from dataclasses import dataclass

from hermetic.cuda import driver_requirement, runs_on_driver, sm_name
from hermetic.doctor.driver import DriverInfo
from hermetic.doctor.fatbin import FatbinInfo, coverage
from hermetic.doctor.frameworks import Framework, LoadedLib, range_text, runnable_range
from hermetic.findings import Finding


@dataclass(frozen=True)
class Verdict:
    framework: str
    version: str
    cuda: str | None
    status: str  # "ok", "fails", "cpu-only", "unknown"
    needs_driver: str | None  # ">= 580.65.06"
    gpu_range: str | None  # "sm_75…sm_121"
    target: str  # "driver 535.104.05, sm_90 (what-if)"
    text: str  # the one-line answer
    loads: tuple[LoadedLib, ...]


def target_text(driver: DriverInfo) -> str:
    if not driver.present:
        return "this machine (no NVIDIA driver)"
    gpus = ", ".join(g.sm or g.name for g in driver.gpus) or "no GPU"
    return f"driver {driver.version or driver.cuda or '?'}, {gpus}" + (
        " (what-if)" if driver.source == "what-if" else ""
    )


def decide(
    fw: Framework,
    driver: DriverInfo,
    fatbin: FatbinInfo | None,
    machine: list[Finding],
    loads: tuple[LoadedLib, ...],
) -> Verdict:
    target = target_text(driver)
    if fw.cpu_only:
        return Verdict(
            fw.name,
            fw.version,
            None,
            "cpu-only",
            None,
            None,
            target,
            f"{fw.label} is a CPU-only build: {fw.probe} is always False/empty, whatever the "
            "machine",
            loads,
        )
    assert fw.cuda is not None
    need = driver_requirement(fw.cuda)
    ccs = runnable_range(fatbin)
    rng = range_text(ccs, fatbin)
    head = f"{fw.label} needs driver {need}" + (f" and a GPU in {rng}" if rng else "")
    blockers = [f.message.split(":")[0] for f in machine if f.severity == "error"]
    if blockers:
        return Verdict(
            fw.name, fw.version, fw.cuda, "fails", need, rng, target,
            f"{head}; on {target}: {blockers[0]} → {fw.fails_as}", loads,
        )  # fmt: skip
    if not driver.present:
        return Verdict(
            fw.name, fw.version, fw.cuda, "unknown", need, rng, target,
            f"{head}; this machine has no NVIDIA driver (check a target with --driver and --gpu)",
            loads,
        )  # fmt: skip
    fit = runs_on_driver(fw.cuda, driver.version) if driver.version else "ok"
    if driver.version and fit == "too-old":
        return Verdict(
            fw.name, fw.version, fw.cuda, "fails", need, rng, target,
            f"{head}; the target driver {driver.version} → {fw.fails_as}", loads,
        )  # fmt: skip
    for g in driver.gpus:
        if g.compute_capability is None or fatbin is None:
            continue
        cov = coverage(fatbin, g.compute_capability)
        if cov == "none":
            return Verdict(
                fw.name, fw.version, fw.cuda, "fails", need, rng, target,
                f"{head}; the target GPU is {sm_name(g.compute_capability)} → {fw.label} "
                "has no kernels for it (\"no kernel image is available\")", loads,
            )  # fmt: skip
    gpus = [g.sm for g in driver.gpus if g.sm]
    return Verdict(
        fw.name, fw.version, fw.cuda, "ok", need, rng, target,
        f"{head}; {target} → {fw.name} will use the GPU"
        + (" (through minor version compatibility)" if fit == "minor-compat" else "")
        + ("" if gpus else " (GPU architecture not known: give --gpu to check it)"),
        loads,
    )  # fmt: skip
