"""`hermetic bundle`: a self-contained offline channel of an environment."""

from __future__ import annotations

import os
from pathlib import Path

import click

from hermetic.cli.options import (
    environment_option,
    manifest_option,
    output_option,
    target_platform_option,
)
from hermetic.cli.render import human_size
from hermetic.project.pack import bundle
from hermetic.project.project import Project


@click.command("bundle", help="Write a self-contained offline channel of an environment.")
@manifest_option
@environment_option
@target_platform_option
@output_option("The directory to write (new or empty).", directory=True)
def command(manifest: Path | None, environment: str, platform: str | None, output: Path) -> None:
    b = bundle(Project.open(manifest), environment, output, platform=platform)
    click.echo(
        f"{environment} ({b.platform}): {b.conda} conda package(s) and {b.pypi} wheel(s), "
        f"{human_size(b.bytes)} -> {os.path.relpath(b.path)}"
    )
    click.echo(f"install offline: hermetic install --bundle {os.path.relpath(b.path)}")
