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
    project = Project.open(manifest, warn=show_warning)
    if output is not None:
        _refuse_project_file(Path(output), (project.lock_path, project.manifest_path))
    result = export_lock(project, fmt, environment, platform)
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


def _refuse_project_file(output: Path, own: tuple[Path, ...]) -> None:
    """`-o hermetic.lock` (or the manifest) would silently replace the project's own file."""
    from hermetic.errors import UsageError

    target = output.resolve()
    for path in own:
        if target == Path(path).resolve():
            raise UsageError(
                f"refusing to overwrite the project's own {Path(path).name} with an export",
                hint="give -o another file name",
            )
