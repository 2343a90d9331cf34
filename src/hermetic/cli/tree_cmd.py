"""`hermetic tree PKG`: why a package is in an environment."""

from __future__ import annotations

from pathlib import Path

import click

from hermetic.cli.options import environment_option, manifest_option, platform_option
from hermetic.cli.render import render_why, show_warning
from hermetic.project import Project
from hermetic.project.query import explain


@click.command("tree", help="Show why PACKAGE is in an environment: its chains of dependents.")
@manifest_option
@environment_option
@platform_option
@click.argument("package")
def command(manifest: Path | None, environment: str, platform: str | None, package: str) -> None:
    render_why(explain(Project.open(manifest, warn=show_warning), environment, platform, package))
