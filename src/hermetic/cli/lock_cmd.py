"""`hermetic lock`: solve the spec into hermetic.lock, or check that it is fresh."""

from __future__ import annotations

from pathlib import Path

import click

from hermetic.cli.common import exit_with
from hermetic.cli.options import manifest_option
from hermetic.cli.render import progress, render_check, render_lock_result, show_warning
from hermetic.project import Project
from hermetic.project import lock as lock_use_case


@click.command("lock", help="Solve every environment x platform and write hermetic.lock.")
@manifest_option
@click.option(
    "--check", is_flag=True, help="Exit 1 if the lock does not satisfy the spec; change nothing."
)
@click.option(
    "--update",
    "update",
    is_flag=True,
    help="Allow newer versions: of the PACKAGES named, or of everything when none are named.",
)
@click.option(
    "--platform",
    "-p",
    "platforms",
    multiple=True,
    metavar="PLATFORM",
    help="Lock for PLATFORM instead of the manifest's platforms (repeatable), as conda-lock -p.",
)
@click.argument("packages", nargs=-1)
def command(
    manifest: Path | None,
    check: bool,
    update: bool,
    platforms: tuple[str, ...],
    packages: tuple[str, ...],
) -> None:
    project = Project.open(manifest, warn=show_warning, platforms=platforms)
    project.spec  # noqa: B018  (a broken manifest is reported before the usage error below)
    if packages and not update:
        raise click.UsageError("package names are only taken with --update")
    if check:
        result = lock_use_case.check(project)
        render_check(result)
        exit_with(0 if result.fresh else 1)

    with progress() as say:
        locked = lock_use_case.lock(
            project,
            update=frozenset(p.lower() for p in packages),
            update_all=update and not packages,
            reporter=say,
        )
    render_lock_result(locked)
