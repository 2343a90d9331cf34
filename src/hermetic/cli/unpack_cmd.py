"""`hermetic unpack`: check, extract and relocate a pack archive."""

from __future__ import annotations

from pathlib import Path

import click

from hermetic.project.pack import unpack_archive


@click.command("unpack", help="Check a pack archive, extract it into DEST and relocate it.")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
def command(archive: Path, dest: Path) -> None:
    r = unpack_archive(archive, dest)
    click.echo(f"{r.members} members checked and extracted in {r.seconds:.2f}s")
    click.echo(r.message)
    click.echo(f"activate: . {r.dest}/bin/activate")
