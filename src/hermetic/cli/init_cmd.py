"""`hermetic init --from environment.yml`: write the spec as [tool.hermetic]."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import click


@click.command(
    "init",
    help="Convert a conda environment.yml or a pixi manifest into [tool.hermetic] of "
    "pyproject.toml (or hermetic.toml when there is no pyproject.toml).",
)
@click.option(
    "--from",
    "source",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The file to convert: environment.yml, pixi.toml or a pyproject.toml with [tool.pixi] "
    "(default: ./environment.yml, else ./pixi.toml).",
)
@click.option(
    "--manifest",
    "-m",
    "manifest",
    type=click.Path(path_type=Path),
    default=None,
    help="Where to write: pyproject.toml or hermetic.toml "
    "(default: ./pyproject.toml if it exists, else ./hermetic.toml).",
)
@click.option("--force", is_flag=True, help="Replace an existing [tool.hermetic] or hermetic.toml.")
@click.option(
    "--template",
    type=click.Choice(["cpu", "pytorch-cuda", "jax-cuda"]),
    default=None,
    help="Scaffold a project that uses every layer: spec, lock, devcontainer and CI.",
)
@click.option("--no-lock", is_flag=True, help="With --template: do not try to lock.")
def command(
    source: Path | None, manifest: Path | None, force: bool, template: str | None, no_lock: bool
) -> None:
    if template is not None:
        _scaffold(template, source, manifest, force=force, lock=not no_lock)
        return
    from hermetic.manifest.convert import default_source, init_from_environment_yml

    cwd = Path.cwd()
    if source is None:
        source = default_source(cwd)
    result = init_from_environment_yml(source, manifest, force=force, cwd=cwd)
    feat = result.spec.default_feature
    where = result.manifest
    with contextlib.suppress(ValueError):
        where = where.relative_to(cwd)
    shown = source
    with contextlib.suppress(ValueError):
        shown = source.absolute().relative_to(cwd)
    verb = "replaced" if result.replaced else ("created" if result.created else "updated")
    table = "[tool.hermetic] in " if where.name == "pyproject.toml" else ""
    per_platform = sum(len(t.dependencies) + len(t.pypi_dependencies) for t in feat.targets)
    envs = len(result.spec.environments)
    click.echo(
        f"{verb} {table}{where} from {shown}: {len(feat.dependencies)} conda and "
        f"{len(feat.pypi_dependencies)} PyPI dependencies"
        + (f", {per_platform} per-platform" if per_platform else "")
        + (f", {envs} environments" if envs > 1 else "")
        + f", platforms {', '.join(result.spec.platforms)}"
    )
    for note in result.notes:
        click.echo(f"note: {note}")
    for warning in result.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    click.echo("next: hermetic lock")


def _scaffold(
    template: str, source: Path | None, manifest: Path | None, *, force: bool, lock: bool
) -> None:
    from hermetic.cli.render import render_generated
    from hermetic.errors import UsageError
    from hermetic.project.deploy import Generated
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
