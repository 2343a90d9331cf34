"""`hermetic install`: materialize an environment from the lock."""

from __future__ import annotations

from pathlib import Path

import click

from hermetic.cli.common import manifest_option

environment_option = click.option(
    "--environment",
    "-e",
    "environment",
    default="default",
    show_default=True,
    help="The environment to use.",
)
frozen_option = click.option(
    "--frozen", is_flag=True, help="Use the lock as it is: never check it against the spec."
)
locked_option = click.option(
    "--locked", is_flag=True, help="Fail (exit 1) if the lock is stale instead of re-locking."
)


def say(message: str) -> None:
    click.secho(message, err=True, dim=True)


def ensure(manifest, environment: str, frozen: bool, locked: bool, quiet_when_done: bool = True):
    """Find the project, install the environment if needed; returns (project, spec, result)."""
    from hermetic.cli.common import load_spec
    from hermetic.env.install import Mode, ensure_environment
    from hermetic.layout import find_project

    if frozen and locked:
        raise click.UsageError("--frozen and --locked exclude each other")
    project = find_project(manifest)
    spec = load_spec(project.manifest)
    result = ensure_environment(
        spec,
        project.lock_path,
        project.root,
        environment,
        mode=Mode(frozen=frozen, locked=locked),
        reporter=say,
    )
    if not (quiet_when_done and result.up_to_date and not result.relocked):
        render_install(result, err=quiet_when_done)
    return project, spec, result


def render_install(result, err: bool = False) -> None:  # hermetic.env.install.InstallResult
    import os

    echo = lambda msg, **kw: click.secho(msg, err=err, **kw)  # noqa: E731
    if result.relocked:
        echo("the lock was stale and was re-locked:", fg="yellow")
        for reason in result.stale_reasons:
            echo(f"  - {reason}")
    for r in result.refetched:
        echo(
            f"warning: the cached {r.package} was corrupted ({r.reason}); "
            f"it was extracted again from its channel",
            fg="yellow",
        )
    try:
        where = os.path.relpath(result.prefix)
    except ValueError:
        where = str(result.prefix)
    head = f"{result.environment} ({result.platform})"
    if result.up_to_date:
        echo(f"{head} is up to date: {where}")
        return
    if result.repaired:
        echo(f"{head}: an interrupted install was found and repaired", fg="yellow")
    parts = [f"{len(result.conda_linked)} conda package(s) linked"]
    if result.conda_removed:
        parts.append(f"{len(result.conda_removed)} removed")
    if result.pypi_installed:
        parts.append(f"{len(result.pypi_installed)} PyPI package(s) installed")
    if result.pypi_removed:
        parts.append(f"{len(result.pypi_removed)} PyPI package(s) removed")
    echo(f"{head}: {', '.join(parts)} in {result.seconds:.2f}s -> {where}")


@click.command("install", help="Install an environment from hermetic.lock into .hermetic/envs/.")
@manifest_option
@environment_option
@frozen_option
@locked_option
@click.option(
    "--bundle",
    "bundle_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Install from a `hermetic bundle` directory only (offline, sha256-checked).",
)
def command(manifest, environment: str, frozen: bool, locked: bool, bundle_dir) -> None:
    if bundle_dir is not None:
        from hermetic.pack.run import install_from_bundle

        render_install(install_from_bundle(bundle_dir, environment))
        return
    ensure(manifest, environment, frozen, locked, quiet_when_done=False)
