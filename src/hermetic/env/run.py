"""`hermetic run`: a command inside an activated environment.

The plan is `bash -c '<activation>; exec "$@"' hermetic CMD ARGS...`, which the CLI runs
with `os.execve`: hermetic's process becomes bash, which becomes the command, so the exit
code and signals are the command's own, and nothing stays in between.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from hermetic.env.activate import activation_script, package_script
from hermetic.errors import HermeticError, UsageError
from hermetic.layout import ACTIVATION_SCRIPT
from hermetic.manifest.model import Activation

EXIT_NOT_FOUND = 127


class CommandNotFound(HermeticError):
    exit_code = EXIT_NOT_FOUND


@dataclass(frozen=True)
class RunPlan:
    executable: str  # the shell that sources the activation and execs the command
    argv: tuple[str, ...]
    env: Mapping[str, str]
    command: str  # the resolved command


def package_part(prefix: Path, platform: str | None = None) -> str:
    """The cached package activation script (written by install), or a fresh one."""
    try:
        return (Path(prefix) / ACTIVATION_SCRIPT).read_text()
    except OSError:
        return package_script(prefix, "bash", platform)


def plan_run(
    prefix: Path,
    environment: str,
    activation: Activation,
    root: Path,
    command: Sequence[str],
    environ: Mapping[str, str] | None = None,
) -> RunPlan:
    if not command:
        raise UsageError("no command given", hint="hermetic run [-e ENV] CMD [ARGS]...")
    environ = dict(os.environ if environ is None else environ)
    prefix = Path(prefix)
    cmd = command[0]
    search = os.pathsep.join([str(prefix / "bin"), environ.get("PATH", os.defpath)])
    if "/" in cmd:
        found = cmd if os.path.isfile(cmd) and os.access(cmd, os.X_OK) else None
    else:
        found = shutil.which(cmd, path=search)
    if found is None:
        raise CommandNotFound(
            f"command not found: {cmd!r} is neither in environment {environment!r} "
            f"({prefix / 'bin'}) nor on PATH",
            hint="is the package that provides it in the spec? `hermetic list` shows what is installed",
        )
    shell = shutil.which("bash") or "/bin/sh"
    script = activation_script(
        prefix, activation, "bash", root, environment, package_part=package_part(prefix)
    )
    script += 'exec "$@"\n'
    return RunPlan(
        executable=shell,
        argv=(shell, "--noprofile", "--norc", "-c", script, "hermetic", *command)
        if shell.endswith("bash")
        else (shell, "-c", script, "hermetic", *command),
        env=environ,
        command=found,
    )
