"""What the doctor inspects: a hermetic env of the project, a prefix, or the active environment.

Choosing the target is a use case (it reads the project's layout and the process
environment); the doctor itself only inspects the prefix or lock it is given.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hermetic.errors import SpecError, UsageError
from hermetic.layout import ENVS_DIR, LOCK_NAME, find_project


@dataclass(frozen=True)
class Target:
    prefix: Path
    env: str | None  # the project's env name, when it is one
    project: Path | None
    lock: Path | None  # the project's lock file, when there is one
    how: str  # "-e", "--prefix", "project", "CONDA_PREFIX", "VIRTUAL_ENV", "sys.prefix"


def project_root(start: Path) -> Path | None:
    """The root of the project `start` is in (`hermetic.layout`'s rule), None outside one."""
    try:
        return find_project(cwd=start).root
    except SpecError:
        return None


def find_target(
    env: str | None, prefix: Path | None, cwd: Path, environ: Mapping[str, str] = os.environ
) -> Target:
    project = project_root(cwd)
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


def project_lock(lock: Path, cwd: Path) -> Path:
    """`--lock` as given; a bare `--lock` (hermetic.lock, absent here) means the project's."""
    if lock == Path(LOCK_NAME) and not (cwd / lock).exists():
        root = project_root(cwd)
        return root / LOCK_NAME if root else lock
    return lock
