"""`devcontainer up --docker-path podman` (npm @devcontainers/cli) on the generated file."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from containers import podman

from clirun import hermetic


@pytest.fixture(scope="session")
def devcontainer_cli(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    root = tmp_path_factory.mktemp("devcontainers-cli")
    proc = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(root), "@devcontainers/cli"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    exe = root / "node_modules" / ".bin" / "devcontainer"
    if proc.returncode != 0 or not exe.exists():
        pytest.skip(f"@devcontainers/cli did not install from npm: {proc.stderr[-300:]}")
    return exe


@pytest.fixture
def workspace(tmp_path: Path, tiny_image) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    yield tmp_path
    _, _, env = tiny_image
    ids = podman(
        env, "ps", "-aq", "--filter", f"label=devcontainer.local_folder={tmp_path}", check=False
    ).stdout.split()
    if ids:
        podman(env, "rm", "-f", *ids, check=False)


def test_devcontainer_up_runs_post_create_as_the_remote_user(
    devcontainer_cli: Path,
    tiny_image,  # type: ignore[no-untyped-def]
    workspace: Path,
) -> None:
    registry, digest, env = tiny_image
    (workspace / "hermetic.toml").write_text(
        'name = "tiny"\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n'
        "[devcontainer]\n"
        'postCreateCommand = "id -u > /tmp/post-create-ran"\n'
        # rootful podman (CI runs as root) refuses the CLI's --userns=keep-id for a non-root
        # remoteUser; an explicit identity mapping is what it accepts instead
        'runArgs = ["--uidmap=0:0:65536", "--gidmap=0:0:65536"]\n'
    )
    out = hermetic("devcontainer", "--image", f"{registry}/tiny:1", cwd=workspace)
    assert f"@{digest}" in out.stdout
    cli = [str(devcontainer_cli)]
    where = ["--workspace-folder", str(workspace), "--docker-path", "podman"]
    up = subprocess.run([*cli, "up", *where], env=env, capture_output=True, text=True, timeout=300)
    result = json.loads(up.stdout.strip().splitlines()[-1])
    assert result["outcome"] == "success", up.stderr[-2000:]
    assert result["remoteUser"] == "65532"
    run = subprocess.run(
        [*cli, "exec", *where, "sh", "-c", "cat /tmp/post-create-ran; id -u; echo $HERMETIC_ENV"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.stdout.split() == ["65532", "65532", "default"], run.stderr[-2000:]
