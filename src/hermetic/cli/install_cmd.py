"""`hermetic install`: materialize an environment from the lock."""

from __future__ import annotations

from pathlib import Path

import click

from hermetic.cli.options import environment_option, frozen_option, locked_option, manifest_option
from hermetic.cli.render import render_install, render_sync, say, show_warning
from hermetic.project import Project
from hermetic.project.sync import Mode, sync


@click.command("install", help="Install an environment from hermetic.lock into .hermetic/envs/.")
@manifest_option
@environment_option
@frozen_option
@locked_option
@click.option(
    "--bundle",
    "bundle_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Install from a `hermetic bundle` directory only (offline, sha256-checked).",
)
def command(
    manifest: Path | None, environment: str, frozen: bool, locked: bool, bundle_dir: Path | None
) -> None:
    if bundle_dir is not None:
        # imported here: the pack modules are not needed by (nor slow) the common path
        from hermetic.project.pack import install_from_bundle

        render_install(install_from_bundle(bundle_dir, environment))
        return
    mode = Mode(frozen=frozen, locked=locked)
    project = Project.open(manifest, warn=show_warning)
    result = sync(project, environment, mode=mode, reporter=say)
    render_sync(result)
