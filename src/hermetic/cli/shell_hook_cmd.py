"""`hermetic shell-hook`: print the activation script, for `eval "$(hermetic shell-hook)"`."""

from __future__ import annotations

import click

from hermetic.cli.common import manifest_option
from hermetic.cli.install_cmd import environment_option, frozen_option, locked_option


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
def command(manifest, environment: str, frozen: bool, locked: bool, shell: str) -> None:
    from hermetic.cli.install_cmd import ensure
    from hermetic.cli.run_cmd import _activation
    from hermetic.env.activate import activation_script

    project, spec, result = ensure(manifest, environment, frozen, locked)
    activation = _activation(spec, environment, result.platform)
    script = activation_script(result.prefix, activation, shell, project.root, environment)
    click.echo(script, nl=False)
