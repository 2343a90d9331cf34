"""Pushing to and pulling from a real registry (Debian's docker-registry on 127.0.0.1)."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

from imagefix import make_project

from clirun import assert_clean_error
from projects import h


def build(project: Path, cache: Path, *args: str, check: int | None = 0, **env: str):
    proc = h("image", "build", "--json", *args, cwd=project, cache=cache, check=check, **env)
    return json.loads(proc.stdout) if proc.returncode == 0 else proc


def blob_uploads(requests: list[str]) -> int:
    """Blob uploads started (each POST to .../blobs/uploads/ without a mount)."""
    return sum(1 for r in requests if r.startswith("POST ") and "/blobs/uploads/" in r)


def test_push_repush_and_one_package_change(
    tmp_path, registry, base_ref, conda_channel, cli_wheelhouse, image_cache, no_creds
):
    work = make_project(tmp_path / "p", conda_channel, cli_wheelhouse, image_cache)
    tag = f"{registry.host}/team/app:v1"
    first = build(work, image_cache, "--base", base_ref, "--tag", tag, "--push", **no_creds)
    pushed = first["pushed"]
    assert pushed["uploaded"] > 0 and pushed["present"] == 0
    assert pushed["sbom_tag"] == "sha256-" + first["digest"].split(":")[1]

    info = json.loads(
        subprocess.run(
            ["skopeo", "inspect", "--tls-verify=false", f"docker://{tag}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert info["Digest"] == first["digest"]
    back = tmp_path / "back"
    subprocess.run(
        ["skopeo", "copy", "--src-tls-verify=false", f"docker://{tag}", f"oci:{back}:v1"],
        capture_output=True,
        check=True,
    )
    assert (
        json.loads((back / "index.json").read_text())["manifests"][0]["digest"] == first["digest"]
    )
    report = json.loads(h("image", "inspect", "--json", tag, cwd=work, cache=image_cache).stdout)
    assert report["sbom"]["components"]["pypi"] == 2

    before = len(registry.requests())
    again = build(work, image_cache, "--base", base_ref, "--tag", tag, "--push", **no_creds)
    assert again["digest"] == first["digest"]
    assert again["pushed"]["uploaded"] == 0
    assert blob_uploads(registry.requests()[before:]) == 0

    # one package changes (pyhello drops out): only its layer, the config and the SBOM move
    text = (work / "hermetic.toml").read_text().replace('pyhello = "*"\n', "")
    (work / "hermetic.toml").write_text(text)
    h("lock", cwd=work, cache=image_cache)
    before = len(registry.requests())
    third = build(work, image_cache, "--base", base_ref, "--tag", tag, "--push", **no_creds)
    old = {x["digest"] for x in first["platforms"][0]["layers"]}
    new_layers = [x for x in third["platforms"][0]["layers"] if x["digest"] not in old]
    assert len(new_layers) <= 1  # pyhello's bucket (gone entirely when it was alone there)
    uploads = blob_uploads(registry.requests()[before:])
    assert uploads == len(new_layers) + 2  # + the config + the SBOM


def test_base_pulled_from_a_registry_and_cached_by_digest(
    tmp_path, registry, base_ref, project, image_cache, no_creds
):
    ref = f"{registry.host}/library/debbase:1"
    subprocess.run(
        ["skopeo", "copy", "--dest-tls-verify=false", base_ref, f"docker://{ref}"],
        capture_output=True,
        check=True,
    )
    cache = tmp_path / "cache"  # a cold image cache: the base must come from the registry
    a = build(project, cache, "--base", ref, "-o", f"oci:{tmp_path / 'a'}", **no_creds)
    b = build(project, image_cache, "--base", base_ref, "-o", f"oci:{tmp_path / 'b'}")
    layers_a = [x["digest"] for x in a["platforms"][0]["layers"]]
    layers_b = [x["digest"] for x in b["platforms"][0]["layers"]]
    assert layers_a == layers_b  # the same base, whichever way it came
    # pushed to another repository of the same registry: the base layer is mounted, not sent
    tag = f"{registry.host}/team/on-debbase:1"
    pushed = build(project, cache, "--base", ref, "--tag", tag, "--push", **no_creds)["pushed"]
    assert pushed["mounted"] == 1


def test_tls_registry_with_htpasswd_auth(
    tmp_path, auth_registry, project, image_cache, base_ref, no_creds
):
    tag = f"{auth_registry.host}/secure/app:v1"
    env = {**no_creds, "SSL_CERT_FILE": str(auth_registry.cert)}
    # no credentials: refused, and the message says what was tried
    proc = build(project, image_cache, "--base", base_ref, "--tag", tag, "--push", check=1, **env)
    assert_clean_error(proc)
    assert "no credentials" in proc.stderr

    # wrong password in REGISTRY_AUTH_FILE: refused, naming that file, never the password
    auth = tmp_path / "auth.json"
    auth.write_text(
        json.dumps(
            {
                "auths": {
                    auth_registry.host: {"auth": base64.b64encode(b"alice:wrong-pw-xyz").decode()}
                }
            }
        )
    )
    proc = build(
        project,
        image_cache,
        "--base",
        base_ref,
        "--tag",
        tag,
        "--push",
        check=1,
        REGISTRY_AUTH_FILE=str(auth),
        **env,
    )
    assert str(auth) in proc.stderr and "REGISTRY_AUTH_FILE" in proc.stderr
    assert "wrong-pw-xyz" not in proc.stderr + proc.stdout

    # the right one from ~/.docker/config.json
    docker = Path(no_creds["DOCKER_CONFIG"])
    docker.mkdir(parents=True)
    (docker / "config.json").write_text(
        json.dumps(
            {"auths": {auth_registry.host: {"auth": base64.b64encode(b"alice:s3cret").decode()}}}
        )
    )
    result = build(project, image_cache, "--base", base_ref, "--tag", tag, "--push", **env)
    assert result["pushed"]["uploaded"] > 0
    # the registry really required auth and TLS
    log = auth_registry.log.read_text()
    assert "s3cret" not in log


def test_unprivileged_build(tmp_path, base_ref, conda_channel, cli_wheelhouse):
    """CI runs as root: build as nobody (no root, no user namespace, no daemon)."""
    if Path("/usr/bin/setpriv").exists() is False:
        raise AssertionError("setpriv (util-linux) is required")
    import os
    import sys

    shared = Path("/tmp") / f"hermetic-unpriv-{os.getpid()}"
    shutil.rmtree(shared, ignore_errors=True)
    shared.mkdir(mode=0o777)
    try:
        # everything nobody reads must be readable by nobody: channel, wheels, base, project
        channel = shutil.copytree(conda_channel, shared / "channel")
        wheels = shutil.copytree(cli_wheelhouse, shared / "wheels")
        work = make_project(shared / "p", channel, wheels, shared / "root-cache")
        base = shared / "base"
        shutil.copytree(base_ref[4:].rsplit(":", 1)[0], base)
        subprocess.run(["chmod", "-R", "a+rwX", str(shared)], check=True)
        env = {
            "HOME": str(shared / "home"),
            "HERMETIC_CACHE_DIR": str(shared / "cache"),
            "PATH": os.environ["PATH"],
            "NO_COLOR": "1",
        }
        proc = subprocess.run(
            [
                "setpriv",
                "--reuid",
                "65534",
                "--regid",
                "65534",
                "--clear-groups",
                sys.executable,
                "-m",
                "hermetic",
                "image",
                "build",
                "--json",
                "--base",
                f"oci:{base}:base",
                "-o",
                f"oci:{shared / 'out'}",
            ],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["digest"].startswith("sha256:")
        assert (shared / "out" / "index.json").stat().st_uid == 65534
    finally:
        shutil.rmtree(shared, ignore_errors=True)
