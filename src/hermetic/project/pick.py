"""Which environment and which platform a command means.

Commands that read the lock (`list`, `tree`, `export`) default to this machine's platform
when the lock has it, else to the only one it has; `install` and `run` need this machine's
platform exactly (the installer checks). An unknown environment is named together with the
ones that exist, from the spec when the command has it, else from the lock.
"""

from __future__ import annotations

from hermetic.lock.export import pick_platform as _pick_locked_platform
from hermetic.project.project import Project

DEFAULT_ENVIRONMENT = "default"


def pick_environment(project: Project, name: str, *, from_lock: bool = False) -> str:
    """`name`, checked against the spec (or, `from_lock`, the lock): the error lists the known."""
    if from_lock:
        project.lock.require_environment(name)
    else:
        project.environment(name)
    return name


def pick_platform(project: Project, environment: str, platform: str | None) -> str:
    """The locked platform to read: the one asked for, else this machine's, else the only one."""
    return _pick_locked_platform(project.lock, environment, platform)
