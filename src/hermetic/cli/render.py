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
    err = console(stderr=True)
    start = time.monotonic()
    if not sys.stderr.isatty():
        yield lambda msg: err.print(f"[dim]{msg}[/dim]")
        return
    with err.status("working") as status:

        def say(msg: str) -> None:
            err.log(f"{msg}")
            status.update(f"{msg} ({time.monotonic() - start:.1f}s)")

        yield say


def render_lock_result(result) -> None:  # hermetic.lock.update.LockResult
    from rich.table import Table

    out = console()
    for note in result.notes:
        out.print(f"[yellow]note:[/yellow] {note}")
    table = Table(title=None, box=None, pad_edge=False)
    table.add_column("environment")
    table.add_column("platform")
    table.add_column("conda", justify="right")
    table.add_column("pypi", justify="right")
    for s in result.environments:
        table.add_row(s.environment, s.platform, str(s.conda), str(s.pypi))
    out.print(table)
    if result.changes:
        out.print(f"\n{len(result.changes)} change(s) since the previous lock:")
        for c in result.changes:
            if c.old is None:
                what = f"[green]+ {c.name} {c.new}[/green]"
            elif c.new is None:
                what = f"[red]- {c.name} {c.old}[/red]"
            else:
                what = f"[yellow]~ {c.name} {c.old} -> {c.new}[/yellow]"
            out.print(f"  {c.environment}/{c.platform} ({c.source}) {what}")
    verb = "wrote" if result.written else "unchanged:"
    out.print(f"\n{verb} {result.path}")


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


def render_findings(findings, lock_checked: bool) -> None:  # tuple[hermetic.policy.Finding]
    out = console()
    colors = {"error": "red", "warning": "yellow", "info": "blue"}
    for f in findings:
        where = f"{f.location}: " if f.location else ""
        env = f"[{f.environment}] " if f.environment else ""
        c = colors[f.severity]
        out.print(f"[{c}]{f.severity}[/{c}] {where}{env}{f.message} [dim]({f.rule})[/dim]")
        if f.hint:
            out.print(f"    hint: {f.hint}")
    counts = {s: sum(1 for f in findings if f.severity == s) for s in ("error", "warning", "info")}
    scope = "spec and lock" if lock_checked else "spec (no lock yet)"
    out.print(
        f"checked {scope}: {counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} note(s)"
    )
