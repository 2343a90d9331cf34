"""What every command shares: turning errors into messages and exit codes."""

from __future__ import annotations

import os
import sys

import click

from hermetic.errors import EXIT_FAILED, EXIT_USAGE, HermeticError


def run_cli(group: click.Group) -> int:
    """Run the click group; a HermeticError becomes one message and an exit code."""
    try:
        # Without standalone mode click returns the code of a command's `ctx.exit(n)`.
        rc = group.main(standalone_mode=False, prog_name="hermetic")
    except HermeticError as exc:
        print_error(exc)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    except BrokenPipeError:
        # e.g. `hermetic list | head`: the reader went away, which is not an error.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as exc:
        name = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        click.secho(f"error: {exc.strerror or exc}{':' if name else ''}{name}", fg="red", err=True)
        return EXIT_FAILED
    return rc if isinstance(rc, int) else 0


def print_error(exc: HermeticError) -> None:
    from hermetic.credentials import redact_text

    # every URL in a message is shown without its credentials, whoever built the message
    head = f"{exc.location}: " if exc.location else ""
    click.secho(redact_text(f"error: {head}{exc.message}"), fg="red", err=True)
    if exc.hint:
        click.echo(redact_text(f"  hint: {exc.hint}"), err=True)


def exit_with(code: int) -> None:
    """Leave a command with a code (click's way, which run_cli passes through)."""
    raise click.exceptions.Exit(code)
