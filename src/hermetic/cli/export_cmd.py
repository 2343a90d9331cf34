"""`hermetic export`: write the lock in another tool's format."""

from __future__ import annotations

from pathlib import Path

import click

from hermetic.cli.options import environment_option, manifest_option, platform_option
from hermetic.cli.render import show_warning
from hermetic.errors import HermeticError
from hermetic.fs import atomic_write_text
from hermetic.lock.export import FORMATS
from hermetic.project import Project
from hermetic.project.query import export_lock


@click.command("export", help="Write an environment of the lock in another tool's format.")
@manifest_option
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), required=True)
@environment_option
@platform_option
@click.option(
    "--output",
    "-o",
    "output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write to FILE (atomically) instead of stdout.",
)
def command(
    manifest: Path | None, fmt: str, environment: str, platform: str | None, output: Path | None
) -> None:
    result = export_lock(Project.open(manifest, warn=show_warning), fmt, environment, platform)
    for note in result.notes:
        click.secho(f"note: {note}", err=True, fg="yellow")
    if output is None:
        click.echo(result.text, nl=False)
        return
    try:
        atomic_write_text(output, result.text)
    except OSError as exc:
        raise HermeticError(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"wrote {output} ({fmt}, {environment}, {', '.join(result.platforms)})", err=True)
