"""Click options more than one command takes, defined once so they read the same everywhere."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

FC = TypeVar("FC", bound=Callable[..., object])

manifest_option = click.option(
    "--manifest",
    "-m",
    "manifest",
    type=click.Path(path_type=Path, dir_okay=True),
    default=None,
    help="pyproject.toml, hermetic.toml or environment.yml (default: found from the current dir).",
)
environment_option = click.option(
    "--environment",
    "-e",
    "environment",
    default="default",
    show_default=True,
    help="The environment to use.",
)
platform_option = click.option(
    "--platform", "-p", "platform", default=None, help="Default: this machine's."
)
target_platform_option = click.option(
    "--platform",
    "-p",
    "platform",
    default=None,
    help="The platform to write for (default: this machine's); nothing of it runs here.",
)
frozen_option = click.option(
    "--frozen", is_flag=True, help="Use the lock as it is: never check it against the spec."
)
locked_option = click.option(
    "--locked", is_flag=True, help="Fail (exit 1) if the lock is stale instead of re-locking."
)


def output_option(help: str, *, directory: bool) -> Callable[[FC], FC]:
    """`-o/--output`, required: a file (pack) or a directory (bundle) to write."""
    return click.option(
        "-o",
        "--output",
        "output",
        required=True,
        type=click.Path(file_okay=not directory, dir_okay=directory, path_type=Path),
        help=help,
    )
