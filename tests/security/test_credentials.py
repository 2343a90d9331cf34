"""Credentials work, and never leave memory.

A local server on 127.0.0.1 requires basic auth for a conda channel and a PyPI simple
index. The manifest writes the credentials into the channel and index URLs, as a user
would. lock, export (every format), check, install, list and run must work, and the secret
must appear in no file written (project, cache, HOME), no output, and no process's argv
(`/proc/*/cmdline`, sampled every few milliseconds while the commands run)."""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from fixtures.wheels import build_wheel
from hermetic.condapkg import PackageSpec, build_channel

USER = "alice"
SECRET = "s3cr3t-T0KEN-4711"


class _AuthHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        want = "Basic " + base64.b64encode(f"{USER}:{SECRET}".encode()).decode()
        if self.headers.get("Authorization") != want:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="private"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()

    do_HEAD = do_GET


@contextlib.contextmanager
def _serve(root: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_AuthHandler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _ArgvWatch:
    """Samples every process's command line while commands run."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = str(os.getpid())
        while not self._stop.is_set():
            for entry in os.listdir("/proc"):
                if not entry.isdigit() or entry == me:
                    continue
                with contextlib.suppress(OSError):
                    argv = Path(f"/proc/{entry}/cmdline").read_bytes()
                    if SECRET.encode() in argv:
                        self.hits.append(argv.replace(b"\0", b" ").decode(errors="replace"))
            self.samples += 1
            time.sleep(0.005)

    def __enter__(self) -> _ArgvWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture(scope="module")
def private_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("private-www")
    build_channel(
        root / "channel",
        [
            PackageSpec(
                "privpkg",
                "1.0",
                subdir="noarch",
                noarch="generic",
                files={"share/priv.txt": b"p\n"},
            )
        ],
    )
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
    with _serve(root) as hostport:
        yield hostport


def _run(root: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("HERMETIC_", "UV_", "RATTLER_"))
    }
    env.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(home / ".cache"),
        HERMETIC_CACHE_DIR=str(home / "hcache"),
        UV_CACHE_DIR=str(home / "uvcache"),
        NO_COLOR="1",
    )
    return subprocess.run(
        [sys.executable, "-m", "hermetic", *args], cwd=root, env=env, capture_output=True, text=True
    )


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
    with _ArgvWatch() as watch:
        for args in commands:
            proc = _run(root, home, *args)
            outputs.append(proc.stdout + proc.stderr)
            assert proc.returncode == 0 or args == ("check",), (args, proc.stdout, proc.stderr)
    assert "privwheel 42" in outputs[-1]
    assert (root / ".hermetic/envs/default/share/priv.txt").read_text() == "p\n"
    assert watch.samples > 10
    assert watch.hits == [], f"the secret was on a command line: {watch.hits[:3]}"
    for args, out in zip(commands, outputs, strict=True):
        assert SECRET not in out, (args, out)
    leaked = [
        str(p)
        for top in (root, home)
        for p in top.rglob("*")
        if p.is_file()
        and not p.is_symlink()
        and p != root / "hermetic.toml"  # the user's own manifest, as they wrote it
        and SECRET.encode() in p.read_bytes()
    ]
    assert leaked == [], f"the secret was written to {leaked}"
    lock = (root / "hermetic.lock").read_text()
    assert f"http://{private_server}/channel" in lock and USER not in lock
