"""Podman configured the way ../shared/notes/containers-probe.md says (runc, cgroupfs, file
events, ulimits), with its storage and run dirs under a test's tmp dir; and a tiny
busybox-based image made from Debian's busybox-static package at test time."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import tarfile
from pathlib import Path

from registry import push_manifest

from fixtures.podman import podman_env  # noqa: F401  (re-exported for the deploy tests)


def busybox_rootfs(work: Path) -> Path | None:
    """A rootfs with busybox-static and a 1777 /tmp. Like hermetic's images, the user that
    runs it (65532) has no /etc/passwd entry and no home but HOME=/tmp."""
    debs = sorted(Path("/var/cache/apt/archives").glob("busybox-static_*.deb"))
    if not debs:
        work.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            ["apt-get", "download", "busybox-static"], cwd=work, capture_output=True, timeout=120
        )
        debs = sorted(work.glob("busybox-static_*.deb"))
        if proc.returncode != 0 or not debs:
            return None
    rootfs = work / "rootfs"
    subprocess.run(["dpkg", "-x", str(debs[-1]), str(rootfs)], check=True)
    for d in ("etc", "tmp"):
        (rootfs / d).mkdir(parents=True, exist_ok=True)
    (rootfs / "tmp").chmod(0o1777)
    (rootfs / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (rootfs / "etc/group").write_text("root:x:0:\n")
    for applet in ("sh", "echo", "id", "touch", "httpd", "wget", "sleep", "cat"):
        (rootfs / "bin" / applet).symlink_to("busybox")
    return rootfs


def push_rootfs(registry: str, repo: str, tag: str, rootfs: Path) -> str:
    buf = io.BytesIO()

    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(rootfs, arcname=".")
    layer = buf.getvalue()
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Cmd": ["sh"],
            "User": "65532:65532",
            "Env": ["PATH=/usr/bin:/bin", "HOME=/tmp"],
        },
        "history": [{"created_by": "busybox-static rootfs (hermetic tests)"}],  # buildah needs it
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]},
    }
    return push_manifest(registry, repo, tag, layer, config)


def have_podman() -> bool:
    return all(shutil.which(t) for t in ("podman", "runc", "dpkg"))


def podman(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["podman", *args], env=env, capture_output=True, text=True, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)}: {proc.returncode}\n{proc.stderr}")
    return proc
