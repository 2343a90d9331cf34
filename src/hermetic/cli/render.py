"""Rendering layer results for people (rich). Only the CLI prints."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator


def console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


@contextlib.contextmanager
def progress() -> Iterator:
    """A `say(message)` callable shown as a spinner on stderr (plain lines when not a tty)."""
    start = time.monotonic()
    if not sys.stderr.isatty():
        import click

        yield lambda msg: click.echo(msg, err=True)
        return
    err = console(stderr=True)
    with err.status("working") as status:

        def say(msg: str) -> None:
            err.log(f"{msg}")
            status.update(f"{msg} ({time.monotonic() - start:.1f}s)")

        yield say


def table(headers: list[str], rows: list[list[str]], right: frozenset[int] = frozenset()) -> str:
    """A plain aligned text table (no rich: `hermetic lock` stays quick to start)."""
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        out = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(out).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])


def render_lock_result(result) -> None:  # hermetic.lock.update.LockResult
    import click

    for note in result.notes:
        click.echo(click.style("note: ", fg="yellow") + note)
    rows = [[s.environment, s.platform, str(s.conda), str(s.pypi)] for s in result.environments]
    click.echo(table(["environment", "platform", "conda", "pypi"], rows, right=frozenset({2, 3})))
    if result.changes:
        click.echo(f"\n{len(result.changes)} change(s) since the previous lock:")
        for c in result.changes:
            if c.old is None:
                what = click.style(f"+ {c.name} {c.new}", fg="green")
            elif c.new is None:
                what = click.style(f"- {c.name} {c.old}", fg="red")
            else:
                what = click.style(f"~ {c.name} {c.old} -> {c.new}", fg="yellow")
            click.echo(f"  {c.environment}/{c.platform} ({c.source}) {what}")
    verb = "wrote" if result.written else "unchanged:"
    click.echo(f"\n{verb} {result.path}")


def render_check(result) -> None:  # hermetic.lock.check.CheckResult
    out = console()
    if result.fresh:
        out.print(f"{result.path} is up to date with the spec")
        return
    out.print(f"[red]{result.path} is stale:[/red]")
    for s in result.stale:
        where = f"{s.environment}: " if s.environment else ""
        out.print(f"  - {where}{s.reason}")
    out.print("run `hermetic lock` to update it")


def render_findings(findings, lock_checked: bool) -> None:  # tuple[hermetic.findings.Finding]
    from hermetic.findings import render_text, summary_line

    out = console()
    render_text(findings, out)
    scope = "spec and lock" if lock_checked else "spec (no lock yet)"
    out.print(f"checked {scope}: {summary_line(findings)}")
