"""Why CUDA would not start on this machine, whatever the env holds.

The usual reasons `torch.cuda.is_available()` is False besides the env itself: NVML's own
error (a driver upgraded without a reboot: "Driver/library version mismatch"), a user-space
libcuda of another version than the kernel module, CUDA_VISIBLE_DEVICES hiding every GPU, a
driver branch too old (or too new) for the GPU generation, and a container started without
GPUs.
"""

from __future__ import annotations

from collections.abc import Mapping

from hermetic.cuda import branch, generation_of, sm_name
from hermetic.doctor.driver import DriverInfo
from hermetic.findings import Finding


def machine_findings(
    driver: DriverInfo, environ: Mapping[str, str], wants_gpu: bool
) -> list[Finding]:
    """`wants_gpu`: the env holds a CUDA build (otherwise a missing GPU is no problem)."""
    out: list[Finding] = []
    what_if = driver.source == "what-if"
    err = driver.nvml_error or ""
    if not what_if and "mismatch" in err.lower():
        out.append(
            Finding(
                "driver.nvml-mismatch",
                "error",
                f"NVML: {err}: the kernel module and the user-space driver libraries differ "
                "(usually a driver upgraded without a reboot); CUDA cannot initialise",
                hint="reboot, or reload the nvidia kernel modules, so both are the same version",
                subject="driver",
            )
        )
    elif not what_if and driver.present and err and driver.source != "nvml":
        out.append(
            Finding(
                "driver.nvml-error",
                "warning",
                f"NVML failed ({err}); the driver version comes from {driver.source}",
                hint="`nvidia-smi` shows the same error; check the driver installation",
                subject="driver",
            )
        )
    if (
        not what_if
        and driver.version
        and driver.libcuda_version
        and driver.libcuda_version != driver.version
    ):
        out.append(
            Finding(
                "driver.libcuda-mismatch",
                "error",
                f"the system's libcuda.so is {driver.libcuda_version} but the kernel module is "
                f"{driver.version}: cuInit fails with CUDA_ERROR_SYSTEM_DRIVER_MISMATCH",
                hint="install the user-space driver libraries of the running kernel module "
                "(or reboot into the new one)",
                subject="driver",
            )
        )
    cvd = environ.get("CUDA_VISIBLE_DEVICES")
    if wants_gpu and cvd is not None and cvd.strip() in ("", "-1", "none", "NoDevFiles"):
        out.append(
            Finding(
                "env.cuda-visible-devices",
                "error",
                f"CUDA_VISIBLE_DEVICES={cvd!r} hides every GPU from CUDA",
                hint="unset CUDA_VISIBLE_DEVICES, or set it to the GPU indices or UUIDs to use",
                subject="CUDA_VISIBLE_DEVICES",
            )
        )
    if wants_gpu and not driver.present and driver.in_container:
        out.append(
            Finding(
                "driver.container-without-gpu",
                "warning",
                "this is a container without NVIDIA driver libraries or devices: CUDA cannot "
                "start here",
                hint="start it with GPUs: `docker run --gpus all ...` / `podman run --device "
                "nvidia.com/gpu=all ...` with the NVIDIA Container Toolkit installed on the host",
                subject="driver",
            )
        )
    out += branch_findings(driver)
    return out


def branch_findings(driver: DriverInfo) -> list[Finding]:
    """Driver branch floors and ceilings per GPU generation."""
    out: list[Finding] = []
    b = branch(driver.version) if driver.version else None
    if b is None:
        return out
    for g in driver.gpus:
        if g.compute_capability is None:
            continue
        gen = generation_of(g.compute_capability)
        if gen is None:
            continue
        sm = sm_name(g.compute_capability)
        what = sm if g.name.startswith("sm_") else f"{g.name}, {sm}"  # a what-if GPU is its arch
        if b < gen.min_branch:
            out.append(
                Finding(
                    "driver.too-old-for-gpu",
                    "error",
                    f"driver {driver.version} (R{b}) predates {gen.name} GPUs ({what}): "
                    f"{gen.name} needs R{gen.min_branch} or newer",
                    hint=f"install a driver of branch R{gen.min_branch} or newer",
                    subject=sm,
                )
            )
        elif gen.last_branch is not None and b > gen.last_branch:
            out.append(
                Finding(
                    "driver.too-new-for-gpu",
                    "error",
                    f"driver {driver.version} (R{b}) no longer supports {gen.name} GPUs "
                    f"({what}): R{gen.last_branch} is the last branch for them",
                    hint=f"install an R{gen.last_branch} driver (a long-term support branch)",
                    subject=sm,
                )
            )
    return out
