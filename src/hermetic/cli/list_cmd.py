"""`hermetic list`: the locked packages of an environment."""

from __future__ import annotations

import click

from hermetic.cli.common import manifest_option
from hermetic.cli.install_cmd import environment_option


def load(manifest, environment: str, platform: str | None):
    """(project, spec or None, lock, platform) for the read-only commands."""
    from hermetic.cli.common import load_spec
    from hermetic.layout import find_project
    from hermetic.lock.export import pick_platform
    from hermetic.lock.read import load_lock

    project = find_project(manifest)
    spec = load_spec(project.manifest)
    lock = load_lock(project.lock_path)
    lock.require_environment(environment)  # an unknown name: the error lists them
    return project, spec, lock, pick_platform(lock, environment, platform)


def human_size(n: int | None) -> str:
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


@click.command("list", help="List the locked packages of an environment.")
@manifest_option
@environment_option
@click.option("--platform", "-p", "platform", default=None, help="Default: this machine's.")
def command(manifest, environment: str, platform: str | None) -> None:
    from rich.table import Table

    from hermetic.cli.render import console
    from hermetic.lock.query import list_packages, requested_names

    _, spec, lock, plat = load(manifest, environment, platform)
    requested = (
        requested_names(spec, environment, plat) if environment in spec.environment_names else {}
    )
    listing = list_packages(lock, environment, plat, frozenset(requested))
    table = Table(box=None, pad_edge=False)
    for col, justify in (
        ("name", "left"),
        ("version", "left"),
        ("build", "left"),
        ("source", "left"),
        ("size", "right"),
    ):
        table.add_column(col, justify=justify)
    for p in listing.packages:
        name = f"[bold]{p.name}[/bold]" if p.requested else p.name
        table.add_row(name, p.version, p.build, p.source, human_size(p.size))
    out = console()
    out.print(table)
    total = sum(p.size or 0 for p in listing.packages)
    out.print(
        f"\n{len(listing.packages)} package(s) in {environment} ({plat}), {human_size(total)}; "
        "bold: requested by the spec"
    )
