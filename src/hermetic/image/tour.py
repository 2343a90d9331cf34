"""The tour's image step: a base made locally, the image built from the tour's lock, and the
tour's program run from the unpacked image (with bwrap when it is installed).

Offline: the base is this machine's own C library and dynamic loader (what the env's
programs need from a base) plus /bin/sh, written as a one-layer OCI layout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Protocol

from hermetic.errors import HermeticError


class TourLike(Protocol):
    directory: Path
    manifest: Path
    prefix: Path


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


def image_step(ctx: TourLike) -> tuple[tuple[str, ...], str]:
    """(lines to show, the image reference by digest for the later steps)."""
    from hermetic.image.rootfs import unpack
    from hermetic.image.usecase import BuildRequest, build

    work = ctx.directory / "image"
    base = local_base(work / "base", [ctx.prefix / "bin" / "python"], ctx.prefix)
    out = f"oci:{work / 'oci'}:tour"
    result = build(
        BuildRequest(manifest=ctx.manifest, base=base, output=out, platforms=("linux-64",))
    )
    image = result.image
    one = image.images[0]
    ours = [layer for layer in one.layers if not layer.from_base]
    lines = [
        f"base made locally from this machine's C library: {base}",
        f"built {out}@{image.root.digest} in {image.seconds:.2f}s, no daemon, nothing from "
        "the env ran",
        f"{len(one.layers)} layers: {len(one.layers) - len(ours)} base, "
        + ", ".join(f"{layer.name} ({layer.descriptor.size / 1e6:.1f} MB)" for layer in ours),
        f"SBOM: {result.sbom_path}",
    ]
    rootfs = work / "rootfs"
    shutil.rmtree(rootfs, ignore_errors=True)
    unpack(out, rootfs)
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        lines.append(f"unpacked to {rootfs}; install bubblewrap (bwrap) to run the program in it")
    else:
        env = [a for k, v in _config_env(one.config).items() for a in ("--setenv", k, v)]
        proc = subprocess.run(
            [
                bwrap,
                "--bind",
                str(rootfs),
                "/",
                "--proc",
                "/proc",
                "--dev",
                "/dev",
                "--clearenv",
                *env,
                "/opt/env/bin/tour-demo",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if proc.returncode != 0:
            raise HermeticError(f"the tour's program failed in the image:\n{proc.stderr.strip()}")
        lines.append("$ bwrap --bind rootfs / --proc /proc --dev /dev /opt/env/bin/tour-demo")
        lines += proc.stdout.rstrip("\n").splitlines()
    return tuple(lines), f"localhost/hermetic-tour@{image.root.digest}"


def _config_env(config: bytes) -> dict[str, str]:
    import json

    env = json.loads(config).get("config", {}).get("Env") or []
    return dict(e.split("=", 1) for e in env if "=" in e)
