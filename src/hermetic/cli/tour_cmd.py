"""`hermetic tour`: the whole pipeline on a bundled example, offline."""

from __future__ import annotations

from pathlib import Path

import click

from hermetic.cli.common import exit_with
from hermetic.cli.render import say
from hermetic.tour import run_tour


@click.command("tour", help="Build a local channel, lock, install and run a bundled example.")
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("hermetic-tour"),
    show_default=True,
    help="Where the tour writes its channel, spec, lock and environment.",
)
def command(directory: Path) -> None:
    result = run_tour(directory, reporter=lambda title: say(f"... {title}"))
    for i, step in enumerate(result.steps, 1):
        click.secho(f"\n{i}. {step.title}", bold=True)
        for line in step.lines:
            click.echo(f"   {line}")
    click.secho("\nWhere everything is:", bold=True)
    width = max(len(a.label) for a in result.artifacts)
    for a in result.artifacts:
        click.echo(f"   {a.label.ljust(width)}  {a.path}")
    if result.ok:
        click.secho(
            "\nThe program's native library and Python package came from the environment.",
            fg="green",
        )
        click.echo(f"Try: cd {directory} && hermetic run tour-demo")
        return
    click.secho("\nThe program did not load its parts from the environment.", fg="red")
    exit_with(1)
