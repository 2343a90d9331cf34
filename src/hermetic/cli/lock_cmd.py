"""`hermetic lock`: solve the spec into hermetic.lock, or check that it is fresh."""

from __future__ import annotations

import click

from hermetic.cli.common import exit_with, manifest_option


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
@click.argument("packages", nargs=-1)
def command(manifest, check: bool, update: bool, packages: tuple[str, ...]) -> None:
    from hermetic.cli.common import load_spec
    from hermetic.layout import find_project

    project = find_project(manifest)
    spec = load_spec(project.manifest)
    if packages and not update:
        raise click.UsageError("package names are only taken with --update")
    if check:
        from hermetic.cli.render import render_check
        from hermetic.lock.check import check_lock

        result = check_lock(spec, project.lock_path)
        render_check(result)
        exit_with(0 if result.fresh else 1)

    from hermetic.cli.render import progress, render_lock_result
    from hermetic.lock.update import lock_spec

    with progress() as say:
        result = lock_spec(
            spec,
            project.lock_path,
            update=frozenset(p.lower() for p in packages),
            update_all=update and not packages,
            reporter=say,
        )
    render_lock_result(result)
