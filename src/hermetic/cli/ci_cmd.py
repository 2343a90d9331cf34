"""`hermetic ci`: write a CI workflow that checks the lock, tests, builds and pushes the image."""

from __future__ import annotations

import click

from hermetic.cli.options import manifest_option
from hermetic.cli.render import render_generated, show_warning
from hermetic.project.deploy import generate_ci
from hermetic.project.project import Project


@click.command("ci")
@click.option("--provider", type=click.Choice(["github"]), default="github", show_default=True)
@click.option("--test-env", default=None, help="Environment the tests run in (default: cpu).")
@click.option("--image-env", default=None, help="Environment of the image (default: gpu).")
@click.option(
    "--test-command", default="python -m pytest -q", show_default=True, help="Run by hermetic run."
)
@click.option("--gpus", type=int, default=None, help="GPUs for the rendered k8s Job.")
@click.option("--force", is_flag=True, help="Overwrite a generated file that was edited.")
@manifest_option
def command(provider, test_env, image_env, test_command, gpus, force, manifest) -> None:  # type: ignore[no-untyped-def]
    project = Project.open(manifest, warn=show_warning)
    render_generated(
        generate_ci(
            project,
            provider=provider,
            test_env=test_env,
            image_env=image_env,
            test_command=test_command,
            gpus=gpus,
            force=force,
        )
    )
