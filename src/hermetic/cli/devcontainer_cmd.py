"""`hermetic devcontainer`: write .devcontainer/devcontainer.json for an environment."""

from __future__ import annotations

import click

from hermetic.cli.options import manifest_option
from hermetic.cli.render import render_generated, show_warning
from hermetic.project.deploy import generate_devcontainer
from hermetic.project.project import Project


@click.command("devcontainer")
@click.option(
    "-e", "--env", "env", default=None, help="The environment (default: cpu, else default)."
)
@click.option(
    "--image",
    default=None,
    help="Use this built image (REF@sha256:…; a tag is resolved to its digest). "
    "Default: build from .devcontainer/Dockerfile.",
)
@click.option(
    "--gpu",
    type=click.Choice(["none", "optional", "required"]),
    default=None,
    help="GPU need (default: optional for a CUDA environment, so laptops without one work).",
)
@click.option(
    "--dockerfile",
    is_flag=True,
    help="Also write .devcontainer/Dockerfile from the lock (`hermetic image dockerfile`).",
)
@click.option("--force", is_flag=True, help="Overwrite a generated file that was edited.")
@manifest_option
def command(env, image, gpu, dockerfile, force, manifest) -> None:  # type: ignore[no-untyped-def]
    project = Project.open(manifest, warn=show_warning)
    render_generated(
        generate_devcontainer(
            project, env, image=image, gpu=gpu, dockerfile=dockerfile, force=force
        )
    )
