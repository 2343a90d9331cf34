"""`hermetic export`: write the lock in another tool's format."""

from __future__ import annotations

from pathlib import Path

import click

from hermetic.cli.common import manifest_option
from hermetic.cli.install_cmd import environment_option

FORMATS = ("explicit", "environment-yml", "conda-lock", "requirements")


@click.command("export", help="Write an environment of the lock in another tool's format.")
@manifest_option
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), required=True)
@environment_option
@click.option("--platform", "-p", "platform", default=None, help="Default: this machine's.")
@click.option(
    "--output",
    "-o",
    "output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write to FILE (atomically) instead of stdout.",
)
def command(manifest, fmt: str, environment: str, platform: str | None, output) -> None:
    from hermetic.layout import find_project
    from hermetic.lock.export import export
    from hermetic.lock.read import load_lock

    project = find_project(manifest)
    result = export(load_lock(project.lock_path), fmt, environment, platform)
    for note in result.notes:
        click.secho(f"note: {note}", err=True, fg="yellow")
    if output is None:
        click.echo(result.text, nl=False)
        return
    from hermetic.fs import atomic_write_text

    try:
        atomic_write_text(output, result.text)
    except OSError as exc:
        from hermetic.errors import HermeticError

        raise HermeticError(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"wrote {output} ({fmt}, {environment}, {', '.join(result.platforms)})", err=True)
