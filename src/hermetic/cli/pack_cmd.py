"""`hermetic pack`, `hermetic unpack`, `hermetic bundle`: portable environments."""

from __future__ import annotations

import os
from pathlib import Path

import click

from hermetic.cli.common import manifest_option

_environment = click.option(
    "--environment",
    "-e",
    "environment",
    default="default",
    show_default=True,
    help="The environment to pack.",
)
_platform = click.option(
    "--platform",
    "-p",
    "platform",
    default=None,
    help="The platform to pack for (default: this machine's); nothing runs at pack time.",
)


def _lock_path(manifest: Path | None) -> Path:
    from hermetic.errors import LockError
    from hermetic.layout import find_project

    lock = find_project(manifest).lock_path
    if not lock.is_file():
        raise LockError(f"no lock file at {lock}", hint="run `hermetic lock` first")
    return lock


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


@click.command("pack", help="Write a relocatable archive of an environment from the lock.")
@manifest_option
@_environment
@_platform
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The archive to write: .tar.gz, .tar.zst or .tar.",
)
def command(manifest: Path | None, environment: str, platform: str | None, output: Path) -> None:
    from hermetic.project.pack import pack

    r = pack(_lock_path(manifest), environment, output, platform=platform)
    click.echo(
        f"{r.environment} ({r.platform}): {r.conda} conda + {r.pypi} PyPI package(s), "
        f"{r.packed.members} members, {_size(r.packed.size)} "
        f"({_size(r.packed.tar_size)} unpacked) in {r.seconds:.2f}s -> {os.path.relpath(output)}"
    )
    click.echo(f"unpack: tar -xf {output.name} -C DEST && DEST/bin/hermetic-unpack")


@click.command("unpack", help="Check a pack archive, extract it into DEST and relocate it.")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
def unpack_command(archive: Path, dest: Path) -> None:
    from hermetic.project.pack import unpack_archive

    r = unpack_archive(archive, dest)
    click.echo(f"{r.members} members checked and extracted in {r.seconds:.2f}s")
    click.echo(r.message)
    click.echo(f"activate: . {r.dest}/bin/activate")


@click.command("bundle", help="Write a self-contained offline channel of an environment.")
@manifest_option
@_environment
@_platform
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The directory to write (new or empty).",
)
def bundle_command(
    manifest: Path | None, environment: str, platform: str | None, output: Path
) -> None:
    from hermetic.project.pack import bundle

    b = bundle(_lock_path(manifest), environment, output, platform=platform)
    click.echo(
        f"{environment} ({b.platform}): {b.conda} conda package(s) and {b.pypi} wheel(s), "
        f"{_size(b.bytes)} -> {os.path.relpath(b.path)}"
    )
    click.echo(f"install offline: hermetic install --bundle {os.path.relpath(b.path)}")
