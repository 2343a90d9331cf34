"""Test helpers for images: a Debian base from .deb files, a real registry, unpacking.

* `debian_base(debs, out)`: `dpkg -x` of libc6, libgcc-s1, zlib1g and busybox-static into a
  rootfs (+ /bin/sh, busybox applets, /etc/passwd and /etc/group, since no maintainer
  script runs), written as a one-layer OCI layout (`hermetic.image.rootfs`).
* `Registry`: Debian's `docker-registry` on 127.0.0.1 (random port), optionally with
  htpasswd auth over TLS with a self-signed certificate made at test time; its access log
  is kept so tests can count requests.
* `unpack(layout_ref, dest)`: `umoci unpack --rootless`; `bwrap_run(rootfs, argv)`.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx

from hermetic.image import oci
from hermetic.image.rootfs import base_from_rootfs
from hermetic.image.tour import bwrap_command
from projects import h, write_project

DEBS = ("libc6", "libgcc-s1", "zlib1g", "busybox-static")


def download_debs(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    if len(list(dest.glob("*.deb"))) < len(DEBS):
        subprocess.run(["apt-get", "download", *DEBS], cwd=dest, check=True, capture_output=True)
    return dest


def debian_rootfs(debs: Path, rootfs: Path) -> Path:
    rootfs.mkdir(parents=True)
    for deb in sorted(debs.glob("*.deb")):
        subprocess.run(["dpkg", "-x", str(deb), str(rootfs)], check=True)
    busybox = rootfs / "bin" / "busybox"
    applets = subprocess.run(
        [str(busybox), "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    for name in applets:
        link = rootfs / "bin" / name
        if not link.exists() and not link.is_symlink():
            link.symlink_to("busybox")
    (rootfs / "etc").mkdir(exist_ok=True)
    (rootfs / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532:nonroot:/tmp:/bin/sh\n"
    )
    (rootfs / "etc" / "group").write_text("root:x:0:\nnonroot:x:65532:\n")
    for d in ("tmp", "proc", "dev", "root"):
        (rootfs / d).mkdir(exist_ok=True)
    return rootfs


def debian_base(debs: Path, work: Path, out: Path, tag: str = "base") -> str:
    """An OCI layout at `out` holding the Debian base; returns `oci:OUT:TAG`."""
    rootfs = debian_rootfs(debs, work / "rootfs")
    return base_from_rootfs(
        rootfs,
        out,
        tag,
        oci.Platform("linux", "amd64"),
        env=("PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"),
        skip=("usr/share/doc",),
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Registry:
    """A running docker-registry; `.host` is `127.0.0.1:PORT`."""

    def __init__(self, root: Path, *, tls: bool = False, users: dict[str, str] | None = None):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.log = root / "registry.log"
        self.cert: Path | None = None
        cfg = [
            "version: 0.1",
            "log:",
            "  level: info",
            "  accesslog:",
            "    disabled: false",
            "storage:",
            "  filesystem:",
            f"    rootdirectory: {root / 'data'}",
            "  delete:",
            "    enabled: true",
            "http:",
            f"  addr: 127.0.0.1:{self.port}",
        ]
        if tls:
            self.cert, key = root / "cert.pem", root / "key.pem"
            subprocess.run(
                [
                    "openssl",
                    "req",
                    "-x509",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-days",
                    "1",
                    "-keyout",
                    str(key),
                    "-out",
                    str(self.cert),
                    "-subj",
                    "/CN=127.0.0.1",
                    "-addext",
                    "subjectAltName=IP:127.0.0.1,DNS:localhost",
                ],
                check=True,
                capture_output=True,
            )
            cfg += ["  tls:", f"    certificate: {self.cert}", f"    key: {key}"]
        if users:
            import bcrypt

            htpasswd = root / "htpasswd"
            htpasswd.write_text(
                "".join(
                    f"{u}:{bcrypt.hashpw(p.encode(), bcrypt.gensalt(rounds=4)).decode()}\n"
                    for u, p in users.items()
                )
            )
            cfg += ["auth:", "  htpasswd:", "    realm: test", f"    path: {htpasswd}"]
        (root / "config.yml").write_text("\n".join(cfg) + "\n")
        self._log_fh = open(self.log, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            ["docker-registry", "serve", str(root / "config.yml")],
            stdout=self._log_fh,
            stderr=subprocess.STDOUT,
        )
        scheme = "https" if tls else "http"
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{scheme}://{self.host}/v2/", verify=False, timeout=1)
                break
            except httpx.HTTPError as exc:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "docker-registry did not start:\n" + self.log.read_text()
                    ) from exc
                time.sleep(0.05)

    def requests(self) -> list[str]:
        """`METHOD PATH` of every request logged so far."""
        out = []
        for line in self.log.read_text(errors="replace").splitlines():
            if '"' not in line or "HTTP/" not in line:
                continue
            req = line.split('"')[1]
            parts = req.split()
            if len(parts) >= 2:
                out.append(f"{parts[0]} {parts[1]}")
        return out

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log_fh.close()


def unpack(ref: str, dest: Path) -> Path:
    """`umoci unpack --rootless` of an `oci:DIR:TAG` into `dest`; returns the rootfs."""
    layout = ref[len("oci:") :]
    subprocess.run(
        ["umoci", "unpack", "--rootless", "--image", layout, str(dest)],
        check=True,
        capture_output=True,
    )
    return dest / "rootfs"


def bwrap_run(rootfs: Path, argv: list[str], env: dict[str, str] | None = None) -> str:
    base_env = {"PATH": "/opt/env/bin:/usr/bin:/bin", "HOME": "/tmp"}
    proc = subprocess.run(
        bwrap_command(rootfs, {**base_env, **(env or {})}, argv),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc.stdout


def image_config(ref: str) -> dict:  # type: ignore[type-arg]
    out = subprocess.run(
        ["skopeo", "inspect", "--config", ref], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out)  # type: ignore[no-any-return]


def have(tool: str) -> bool:
    return shutil.which(tool) is not None


def env_without_registry_creds(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["HOME"] = str(tmp)
    env.pop("REGISTRY_AUTH_FILE", None)
    env.pop("DOCKER_CONFIG", None)
    return env


IMAGE_SETTINGS = """
[image]
app = ["app.py"]
cmd = ["python", "/app/app.py"]
env = { GREETING = "hi" }
labels = { team = "ml" }
ports = ["8080"]

[activation.env]
LITERAL_VALUE = 'pa$$word $(id)'
DATA_DIR = { value = "${HOME}/data", expand = true }
"""


def make_project(root: Path, channel: Path, wheelhouse: Path, cache: Path, **kw: str) -> Path:
    write_project(
        root,
        channel,
        wheelhouse,
        deps=kw.pop("deps", 'python = "*"\ntinytool = "*"\npyhello = "*"'),
        pypi=kw.pop("pypi", 'hellowheel = "*"\nhellocli = "*"'),
        extra=kw.pop("extra", 'system-requirements = { cuda = "12.4" }'),
    )
    with open(root / "hermetic.toml", "a") as fh:
        fh.write(IMAGE_SETTINGS)
    (root / "app.py").write_text('import hellowheel\nhellowheel.main()\nprint("app ok")\n')
    h("lock", cwd=root, cache=cache)
    return root
