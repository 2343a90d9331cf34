"""Mechanisms for the tour's image step (composed in `hermetic.project.image.tour_step`).

Offline: the base is this machine's own C library and dynamic loader (what the env's
programs need from a base) plus /bin/sh, written as a one-layer OCI layout; the program
runs in the unpacked image with bwrap when it is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from hermetic.errors import HermeticError


def local_base(directory: Path, needs: list[Path], prefix: Path) -> str:
    """`oci:DIR:base` holding the host libraries `needs` link against (those outside the
    env at `prefix`), and /bin/sh."""
    from hermetic.image.build import oci_platform
    from hermetic.image.rootfs import base_from_rootfs
    from hermetic.platform import current_platform

    rootfs = directory / "rootfs"
    shutil.rmtree(rootfs, ignore_errors=True)
    sh = Path(os.path.realpath("/bin/sh"))
    libs: set[str] = set()
    for exe in [sh, *needs]:
        proc = subprocess.run(["ldd", str(exe)], capture_output=True, text=True, check=False)
        for line in proc.stdout.splitlines():
            parts = line.split()
            for p in parts:
                if p.startswith("/") and os.path.exists(p) and not p.startswith(f"{prefix}/"):
                    libs.add(p)
    for lib in sorted(libs):
        dest = rootfs / lib.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.realpath(lib), dest)
    (rootfs / "bin").mkdir(parents=True, exist_ok=True)
    shutil.copy2(sh, rootfs / "bin" / "sh")
    (rootfs / "etc").mkdir(exist_ok=True)
    (rootfs / "etc" / "passwd").write_text(
        "root:x:0:0::/root:/bin/sh\nnonroot:x:65532:65532::/tmp:/bin/sh\n"
    )
    (rootfs / "etc" / "group").write_text("root:x:0:\nnonroot:x:65532:\n")
    for d in ("tmp", "proc", "dev"):
        (rootfs / d).mkdir(exist_ok=True)
    layout = directory / "layout"
    shutil.rmtree(layout, ignore_errors=True)
    ref = base_from_rootfs(rootfs, layout, "base", oci_platform(current_platform()))
    shutil.rmtree(rootfs, ignore_errors=True)
    return ref


def bwrap_command(
    rootfs: Path, env: Mapping[str, str], argv: Sequence[str], *, bwrap: str = "bwrap"
) -> list[str]:
    """The argv that runs `argv` in an unpacked image: its rootfs as /, only `env` set."""
    return [
        bwrap,
        *("--bind", str(rootfs), "/", "--proc", "/proc", "--dev", "/dev", "--clearenv"),
        *(a for k, v in env.items() for a in ("--setenv", k, v)),
        *argv,
    ]


def run_in_rootfs(rootfs: Path, config: bytes, argv: list[str]) -> list[str]:
    """Run `argv` in an unpacked image with bwrap and the image's Env; the lines to show."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return [f"unpacked to {rootfs}; install bubblewrap (bwrap) to run the program in it"]
    proc = subprocess.run(
        bwrap_command(rootfs, _config_env(config), argv, bwrap=bwrap),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if proc.returncode != 0:
        raise HermeticError(f"{argv[0]} failed in the image:\n{proc.stderr.strip()}")
    return [
        f"$ bwrap --bind rootfs / --proc /proc --dev /dev {' '.join(argv)}",
        *proc.stdout.rstrip("\n").splitlines(),
    ]


def _config_env(config: bytes) -> dict[str, str]:
    import json

    env = json.loads(config).get("config", {}).get("Env") or []
    return dict(e.split("=", 1) for e in env if "=" in e)
