"""`hermetic pack`: a relocatable archive of an environment."""

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
from hermetic.project.pack import pack
from hermetic.project.project import Project


@click.command("pack", help="Write a relocatable archive of an environment from the lock.")
@manifest_option
@environment_option
@target_platform_option
@output_option("The archive to write: .tar.gz, .tar.zst or .tar.", directory=False)
def command(manifest: Path | None, environment: str, platform: str | None, output: Path) -> None:
    r = pack(Project.open(manifest), environment, output, platform=platform)
    click.echo(
        f"{r.environment} ({r.platform}): {r.conda} conda + {r.pypi} PyPI package(s), "
        f"{r.packed.members} members, {human_size(r.packed.size)} "
        f"({human_size(r.packed.tar_size)} unpacked) in {r.seconds:.2f}s -> {os.path.relpath(output)}"
    )
    for script in r.scripts_left_out:
        click.echo(
            f"warning: the activation script {script} lives in the project and is not in the "
            "archive; bin/activate sets the manifest's variables only",
            err=True,
        )
    click.echo(f"unpack: tar -xf {output.name} -C DEST && DEST/bin/hermetic-unpack")
