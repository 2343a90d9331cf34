"""Real runners: the generated Job and Deployment played by `podman kube play`, running an
image pushed to a real registry and referenced by the digest `hermetic k8s` resolved."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
import yaml
from containers import have_podman, podman
from registry import free_port

from clirun import hermetic

pytestmark = pytest.mark.skipif(not have_podman(), reason="podman/runc not installed (.ci/run)")


def project(tmp_path: Path) -> Path:
    (tmp_path / "hermetic.toml").write_text(
        'name = "tiny"\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n'
    )
    return tmp_path


def test_job_runs_hardened_in_podman(tiny_image, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    registry, digest, env = tiny_image
    script = (
        "echo uid=$(id -u); touch /tmp/ok && echo tmp-writable; "
        "touch /not-here 2>/dev/null || echo root-read-only"
    )
    out = hermetic(
        "k8s", "--image", f"{registry}/tiny:1", "--", "sh", "-c", script, cwd=project(tmp_path)
    )
    assert f"@{digest}" in out.stdout  # the tag was resolved against the registry
    job = yaml.safe_load((tmp_path / "k8s/default/job.yaml").read_text())
    # podman 4.3 plays Pods and Deployments, not Jobs: play the Job's pod template, which is
    # exactly what the Job controller would create
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "tiny-job", "labels": job["spec"]["template"]["metadata"]["labels"]},
        "spec": job["spec"]["template"]["spec"],
    }
    (tmp_path / "pod.yaml").write_text(yaml.safe_dump(pod))
    podman(env, "kube", "play", str(tmp_path / "pod.yaml"))
    try:
        container = "tiny-job-main"
        deadline = time.monotonic() + 60
        status = ""
        while status not in ("exited", "stopped"):
            status = podman(
                env, "inspect", container, "--format", "{{.State.Status}}"
            ).stdout.strip()
            assert time.monotonic() < deadline, (
                f"the Job's container is {status}: "
                + podman(env, "logs", container, check=False).stderr
            )
            time.sleep(0.2)
        state = podman(
            env,
            "inspect",
            container,
            "--format",
            "{{.State.ExitCode}} {{.HostConfig.ReadonlyRootfs}}",
        )
        assert state.stdout.split() == ["0", "true"]
        logs = podman(env, "logs", container).stdout
        assert logs.splitlines() == ["uid=65532", "tmp-writable", "root-read-only"]
        image = podman(env, "inspect", container, "--format", "{{.ImageName}}").stdout
        assert digest in image
    finally:
        podman(env, "kube", "down", str(tmp_path / "pod.yaml"), check=False)


def test_deployment_serves_on_its_port(tiny_image, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    registry, digest, env = tiny_image
    port = free_port()
    serve = f"echo hello-from-the-deployment > /tmp/index.html && exec httpd -f -p {port} -h /tmp"
    hermetic(
        "k8s",
        "--image",
        f"{registry}/tiny@{digest}",
        "--kind",
        "deployment",
        "--port",
        str(port),
        "--",
        "sh",
        "-c",
        serve,
        cwd=project(tmp_path),
    )
    manifest = tmp_path / "k8s/default/deployment.yaml"
    podman(env, "kube", "play", str(manifest))
    try:
        deadline = time.monotonic() + 60
        body = ""
        while time.monotonic() < deadline:
            try:
                body = httpx.get(f"http://127.0.0.1:{port}/index.html", timeout=2).text
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert body == "hello-from-the-deployment\n"
    finally:
        podman(env, "kube", "down", str(manifest), check=False)
