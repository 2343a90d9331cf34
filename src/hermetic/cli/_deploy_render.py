"""Rendering what a deploy command wrote (shared by devcontainer, k8s and ci)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from hermetic.deploy.generate import Generated


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
