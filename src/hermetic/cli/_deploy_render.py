"""Rendering what a deploy command wrote (shared by devcontainer, k8s and ci)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from hermetic.project.deploy import Generated


def render_generated(result: Generated) -> None:
    cwd = Path.cwd()
    for w in result.written:
        shown = os.path.relpath(w.path, cwd)
        shown = str(w.path) if shown.startswith("../..") else shown
        click.echo(f"{w.outcome:9} {shown}" + (f"  ({w.what})" if w.what else ""))
    if result.image:
        click.echo(f"image     {result.image}")
    for note in result.notes:
        click.echo(f"note: {note}")
    for warning in result.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)


def scaffold_command(
    template: str, source: Path | None, manifest: Path | None, *, force: bool, lock: bool
) -> None:
    from hermetic.errors import UsageError
    from hermetic.project.scaffold import scaffold

    if source is not None or manifest is not None:
        raise UsageError(
            "--template writes its own spec: use it without --from and -m",
            hint="convert an environment.yml with `hermetic init --from FILE`, then run "
            "`hermetic devcontainer` and `hermetic ci`",
        )
    result = scaffold(Path.cwd(), template, force=force, lock=lock)
    click.echo(f"{result.template.name}: {result.template.summary}")
    click.echo(f"created   {os.path.relpath(result.manifest, Path.cwd())}  (spec)")
    render_generated(Generated(result.written, result.warnings, result.notes))
    if result.locked:
        click.echo("locked    hermetic.lock")
