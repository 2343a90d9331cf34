"""`hermetic run`: run a command inside an environment (installing it first if needed)."""

from __future__ import annotations

import click

from hermetic.cli.common import manifest_option
from hermetic.cli.install_cmd import environment_option, frozen_option, locked_option


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
def command(manifest, environment: str, frozen: bool, locked: bool, command) -> None:
    import os
    import sys

    from hermetic.cli.install_cmd import ensure
    from hermetic.env.run import plan_run

    project, spec, result = ensure(manifest, environment, frozen, locked)
    activation = _activation(spec, environment, result.platform)
    plan = plan_run(result.prefix, environment, activation, project.root, list(command))
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(plan.executable, list(plan.argv), dict(plan.env))


def _activation(spec, environment: str, platform: str):
    from hermetic.manifest.model import Activation

    try:
        return spec.environment(environment).activation(platform)
    except Exception:  # --frozen with an environment the spec no longer has
        return Activation()
