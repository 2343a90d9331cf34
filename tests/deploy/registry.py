"""A real OCI registry (Debian's docker-registry) on 127.0.0.1, and a tiny image pushed to it
with the distribution API by hand: the boundary `hermetic k8s` resolves tags against."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_registry(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    exe = shutil.which("docker-registry")
    assert exe, "docker-registry is not installed (see .ci/run)"
    port = free_port()
    root.mkdir(parents=True, exist_ok=True)
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log: {level: error}\n"
        f"storage: {{filesystem: {{rootdirectory: {root / 'data'}}}, delete: {{enabled: true}}}}\n"
        f"http: {{addr: 127.0.0.1:{port}}}\n"
    )
    proc = subprocess.Popen(
        [exe, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    host = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://{host}/v2/", timeout=1).status_code == 200:
                return proc, host
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("docker-registry did not start")


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def push_blob(host: str, repo: str, data: bytes) -> str:
    digest = _digest(data)
    r = httpx.post(f"http://{host}/v2/{repo}/blobs/uploads/")
    assert r.status_code == 202, r.text
    location = r.headers["location"]
    if location.startswith("/"):
        location = f"http://{host}{location}"
    sep = "&" if "?" in location else "?"
    r = httpx.put(
        f"{location}{sep}digest={digest}",
        content=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert r.status_code == 201, r.text
    return digest


def push_manifest(host: str, repo: str, tag: str, layer: bytes, config: dict) -> str:
    """Push an image manifest (one layer) under `tag`; return the manifest digest."""
    cfg = json.dumps(config).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": push_blob(host, repo, cfg),
            "size": len(cfg),
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": push_blob(host, repo, layer),
                "size": len(layer),
            }
        ],
    }
    body = json.dumps(manifest).encode()
    r = httpx.put(
        f"http://{host}/v2/{repo}/manifests/{tag}",
        content=body,
        headers={"Content-Type": manifest["mediaType"]},
    )
    assert r.status_code == 201, r.text
    return _digest(body)
