"""`hermetic list`: the locked packages of an environment."""

from __future__ import annotations

from pathlib import Path

import click

from hermetic.cli.options import environment_option, manifest_option, platform_option
from hermetic.cli.render import render_listing, show_warning
from hermetic.project import Project
from hermetic.project.query import listing


@click.command("list", help="List the locked packages of an environment.")
@manifest_option
@environment_option
@platform_option
def command(manifest: Path | None, environment: str, platform: str | None) -> None:
    render_listing(listing(Project.open(manifest, warn=show_warning), environment, platform))
