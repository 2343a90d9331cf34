"""What to inspect: a hermetic env of the project, a prefix, or the active environment."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hermetic.errors import UsageError

LOCK_NAME = "hermetic.lock"
ENVS_DIR = Path(".hermetic") / "envs"


@dataclass(frozen=True)
class Target:
    prefix: Path
    env: str | None  # the project's env name, when it is one
    project: Path | None
    lock: Path | None  # the project's lock file, when there is one
    how: str  # "-e", "--prefix", "project", "CONDA_PREFIX", "VIRTUAL_ENV", "sys.prefix"


def find_project(start: Path) -> Path | None:
    for d in (start, *start.parents):
        if (d / LOCK_NAME).is_file() or (d / "hermetic.toml").is_file():
            return d
        pyproject = d / "pyproject.toml"
        if pyproject.is_file():
            try:
                if "[tool.hermetic" in pyproject.read_text(encoding="utf-8"):
                    return d
            except OSError:
                continue
    return None


def find_target(
    env: str | None, prefix: Path | None, cwd: Path, environ: Mapping[str, str] = os.environ
) -> Target:
    project = find_project(cwd)
    lock = project / LOCK_NAME if project and (project / LOCK_NAME).is_file() else None
    if prefix is not None:
        return Target(prefix.absolute(), None, project, lock, "--prefix")
    if env is not None:
        if project is None:
            raise UsageError(
                f"-e {env}: not inside a hermetic project",
                hint="run from the project directory, or name the env's directory with --prefix",
            )
        path = project / ENVS_DIR / env
        if not path.is_dir():
            raise UsageError(
                f"environment {env!r} is not installed (no {path})",
                hint=f"run `hermetic install -e {env}`",
            )
        return Target(path, env, project, lock, "-e")
    if project is not None and (project / ENVS_DIR / "default").is_dir():
        return Target(project / ENVS_DIR / "default", "default", project, lock, "project")
    for var in ("CONDA_PREFIX", "VIRTUAL_ENV"):
        if environ.get(var):
            return Target(Path(environ[var]), None, project, lock, var)
    return Target(Path(sys.prefix), None, project, lock, "sys.prefix")
