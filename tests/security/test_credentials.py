"""Credentials work, and never leave memory.

A local server on 127.0.0.1 requires basic auth for a conda channel and a PyPI simple
index. The manifest writes the credentials into the channel and index URLs, as a user
would. lock, export (every format), check, install, list and run must work, and the secret
must appear in no file written (project, cache, HOME), no output, and no process's argv
(`/proc/*/cmdline`, sampled every few milliseconds while the commands run)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures.secrets import ArgvWatch, files_containing, private_channel, run_isolated
from fixtures.serve import serve_directory
from fixtures.wheels import build_wheel

USER = "alice"
SECRET = "s3cr3t-T0KEN-4711"


@pytest.fixture(scope="module")
def private_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("private-www")
    private_channel(root / "channel")
    wheel = build_wheel(
        root / "files", "privwheel", "1.0", files={"privwheel/__init__.py": "X = 42\n"}
    )
    sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
    (root / "simple" / "privwheel").mkdir(parents=True)
    (root / "simple" / "privwheel" / "index.html").write_text(
        f'<html><body><a href="../../files/{wheel.name}#sha256={sha}">{wheel.name}</a></body></html>'
    )
    (root / "simple" / "index.html").write_text(
        '<html><body><a href="privwheel/">privwheel</a></body></html>'
    )
    with serve_directory(root, auth=(USER, SECRET)) as url:
        yield url.removeprefix("http://").rstrip("/")


def test_credentials_work_and_never_leave_memory(
    tmp_path: Path, private_server: str, conda_channel: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    root = tmp_path / "proj"
    root.mkdir()
    auth = f"http://{USER}:{SECRET}@{private_server}"
    (root / "hermetic.toml").write_text(
        f"channels = [{json.dumps(auth + '/channel')}, {json.dumps(str(conda_channel))}]\n"
        'platforms = ["linux-64"]\n'
        '[dependencies]\npython = "*"\nprivpkg = "*"\n'
        '[pypi-dependencies]\nprivwheel = "*"\n'
        f"[pypi-options]\nindex-url = {json.dumps(auth + '/simple')}\n"
    )
    commands = [
        ("lock",),
        ("export", "-f", "explicit"),
        ("export", "-f", "environment-yml", "-o", "env-export.yml"),
        ("export", "-f", "conda-lock", "-o", "conda-lock.yml"),
        ("export", "-f", "requirements"),
        ("check",),
        ("lock", "--check"),
        ("install", "--frozen"),
        ("list",),
        ("run", "python", "-c", "import privwheel; print('privwheel', privwheel.X)"),
    ]
    outputs: list[str] = []
    with ArgvWatch(SECRET) as watch:
        for args in commands:
            proc = run_isolated(root, home, *args)
            outputs.append(proc.stdout + proc.stderr)
            assert proc.returncode == 0 or args == ("check",), (args, proc.stdout, proc.stderr)
    assert "privwheel 42" in outputs[-1]
    assert (root / ".hermetic/envs/default/share/priv.txt").read_text() == "p\n"
    assert watch.samples > 10
    assert watch.hits == [], f"the secret was on a command line: {watch.hits[:3]}"
    for args, out in zip(commands, outputs, strict=True):
        assert SECRET not in out, (args, out)
    # the user's own manifest keeps what they wrote
    leaked = files_containing(SECRET, [root, home], skip=[root / "hermetic.toml"])
    assert leaked == [], f"the secret was written to {leaked}"
    lock = (root / "hermetic.lock").read_text()
    assert f"http://{private_server}/channel" in lock and USER not in lock
