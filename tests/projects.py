"""Helpers that write a test project (spec, channel, wheelhouse) and run hermetic in it.

Shared by the tests of every layer, so no test module imports another."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from clirun import hermetic
from hermetic.lock.read import load_lock


def write_spec(root: Path, body: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / "hermetic.toml"
    path.write_text(textwrap.dedent(body))
    return path


def base_spec(
    channel: Path, deps: str = "", extra: str = "", platforms: str = '["linux-64"]'
) -> str:
    return f"""
channels = [{json.dumps(str(channel))}]
platforms = {platforms}
{extra}
[dependencies]
{deps}
"""


def locked(root: Path, env: str = "default", platform: str = "linux-64") -> dict[str, str]:
    lock = load_lock(root / "hermetic.lock")
    return {r.name.normalized: f"{r.version}={r.build}" for r in lock.conda_records(env, platform)}


def write_project(
    root: Path,
    channel: Path,
    wheelhouse: Path | None = None,
    deps: str = 'python = "*"\ntinytool = "*"\npyhello = "*"',
    pypi: str = 'hellowheel = "*"',
    extra: str = "",
    platforms: str = '["linux-64"]',
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    body = f"""
channels = [{json.dumps(str(channel))}]
platforms = {platforms}
{extra}
[dependencies]
{deps}
"""
    if wheelhouse is not None and pypi:
        body += f"""
[pypi-dependencies]
{pypi}

[pypi-options]
find-links = [{json.dumps(str(wheelhouse))}]
no-index = true
"""
    (root / "hermetic.toml").write_text(textwrap.dedent(body))
    return root


def h(*args: str, cwd: Path, cache: Path, check: int | None = 0, **env: str):
    return hermetic(*args, cwd=cwd, env={"HERMETIC_CACHE_DIR": str(cache), **env}, check=check)
