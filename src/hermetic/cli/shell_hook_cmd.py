"""`hermetic shell-hook`: print the activation script, for `eval "$(hermetic shell-hook)"`."""

from __future__ import annotations

from pathlib import Path

import click

from hermetic.cli.options import environment_option, frozen_option, locked_option, manifest_option
from hermetic.cli.render import render_sync, say, show_warning
from hermetic.project import Project
from hermetic.project.run import shell_hook
from hermetic.project.sync import Mode


@click.command("shell-hook", help='Print the activation script: eval "$(hermetic shell-hook)".')
@manifest_option
@environment_option
@frozen_option
@locked_option
@click.option(
    "--shell",
    "shell",
    type=click.Choice(["bash", "zsh", "fish"]),
    default="bash",
    show_default=True,
)
def command(
    manifest: Path | None, environment: str, frozen: bool, locked: bool, shell: str
) -> None:
    mode = Mode(frozen=frozen, locked=locked)
    project = Project.open(manifest, warn=show_warning)
    hook = shell_hook(project, environment, shell, mode=mode, reporter=say)
    render_sync(hook.sync, quiet_when_done=True)
    click.echo(hook.script, nl=False)
