"""`hermetic run`: run a command inside an environment (installing it first if needed)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from hermetic.cli.options import environment_option, frozen_option, locked_option, manifest_option
from hermetic.cli.render import render_sync, say, show_warning
from hermetic.project import Project
from hermetic.project.run import prepare_run
from hermetic.project.sync import Mode


@click.command(
    "run",
    help="Run CMD ARGS... with the environment activated (installed first when needed).",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@manifest_option
@environment_option
@frozen_option
@locked_option
@click.argument("command", nargs=-1, type=click.UNPROCESSED, required=True)
def command(
    manifest: Path | None, environment: str, frozen: bool, locked: bool, command: tuple[str, ...]
) -> None:
    mode = Mode(frozen=frozen, locked=locked)
    project = Project.open(manifest, warn=show_warning)
    prepared = prepare_run(project, environment, command, mode=mode, reporter=say)
    render_sync(prepared.sync, quiet_when_done=True)
    plan = prepared.plan
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(plan.executable, list(plan.argv), dict(plan.env))
