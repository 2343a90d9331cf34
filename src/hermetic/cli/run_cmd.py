"""`hermetic run`: run a command, or a task of the manifest, inside an environment
(installing it first if needed)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from hermetic.cli.options import environment_option, frozen_option, locked_option, manifest_option
from hermetic.cli.render import render_sync, say, show_warning
from hermetic.manifest.model import Activation
from hermetic.project import Project
from hermetic.project.run import activation, prepare_run
from hermetic.project.sync import Mode, sync
from hermetic.project.tasks import is_task, plan_tasks, run_steps


@click.command(
    "run",
    help="Run CMD ARGS... with the environment activated (installed first when needed). "
    "When CMD names a task of the manifest's [tasks], run that task (its depends-on first).",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@manifest_option
@environment_option
@frozen_option
@locked_option
@click.argument("command", nargs=-1, type=click.UNPROCESSED, required=True)
@click.pass_context
def command(
    ctx: click.Context,
    manifest: Path | None,
    environment: str,
    frozen: bool,
    locked: bool,
    command: tuple[str, ...],
) -> None:
    mode = Mode(frozen=frozen, locked=locked)
    project = Project.open(manifest, warn=show_warning)
    if is_task(project.spec, command[0]):
        given = ctx.get_parameter_source("environment") != click.core.ParameterSource.DEFAULT
        ctx.exit(_run_task(project, environment if given else None, mode, command))
    prepared = prepare_run(project, environment, command, mode=mode, reporter=say)
    render_sync(prepared.sync, quiet_when_done=True)
    plan = prepared.plan
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(plan.executable, list(plan.argv), dict(plan.env))


def _run_task(
    project: Project, environment: str | None, mode: Mode, command: tuple[str, ...]
) -> int:
    """Run task `command[0]` (its dependencies first), each environment synced once."""
    steps = plan_tasks(project.spec, command[0], environment, command[1:])

    def prepare(env: str) -> tuple[Path, Activation]:
        synced = sync(project, env, mode=mode, reporter=say)
        render_sync(synced, quiet_when_done=True)
        installed = synced.install
        return installed.prefix, activation(project, env, installed.platform)

    return run_steps(steps, prepare, project.root, say=say)
