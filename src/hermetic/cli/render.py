"""Rendering layer results for people (rich). Only the CLI prints."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hermetic.findings import render_text, summary_line

if TYPE_CHECKING:
    from rich.console import Console

    from hermetic.env.install import InstallResult
    from hermetic.findings import Finding
    from hermetic.lock.check import CheckResult
    from hermetic.lock.query import Listing, Package
    from hermetic.lock.update import LockResult
    from hermetic.manifest.model import SpecWarning
    from hermetic.project.deploy import Generated
    from hermetic.project.query import Explained
    from hermetic.project.sync import SyncResult


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


@contextlib.contextmanager
def progress() -> Iterator[Callable[[str], None]]:
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


def render_lock_result(result: LockResult) -> None:
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


def render_check(result: CheckResult) -> None:
    out = console()
    if result.fresh:
        out.print(f"{result.path} is up to date with the spec")
        return
    out.print(f"[red]{result.path} is stale:[/red]")
    for s in result.stale:
        where = f"{s.environment}: " if s.environment else ""
        out.print(f"  - {where}{s.reason}")
    out.print("run `hermetic lock` to update it")


def render_findings(findings: Sequence[Finding], lock_checked: bool) -> None:
    out = console()
    render_text(findings, out)
    scope = "spec and lock" if lock_checked else "spec (no lock yet)"
    out.print(f"checked {scope}: {summary_line(findings)}")


def say(message: str) -> None:
    """A progress line on stderr (install, run and shell-hook report as they go)."""
    import click

    click.secho(message, err=True, dim=True)


def render_sync(result: SyncResult, quiet_when_done: bool = False) -> None:
    """What `sync` did. `quiet_when_done` (run, shell-hook): stderr, and only if it did something."""
    if quiet_when_done and result.install.up_to_date and not result.relocked:
        return
    render_install(
        result.install,
        relocked=result.relocked,
        stale_reasons=result.stale_reasons,
        seconds=result.seconds,
        err=quiet_when_done,
    )


def render_install(
    install: InstallResult,
    *,
    relocked: bool = False,
    stale_reasons: tuple[str, ...] = (),
    seconds: float | None = None,
    err: bool = False,
) -> None:
    """What an install did (and the re-lock before it, if any)."""
    import click

    def echo(msg: str, fg: str | None = None) -> None:
        click.secho(msg, err=err, fg=fg)

    if relocked:
        echo("the lock was stale and was re-locked:", fg="yellow")
        for reason in stale_reasons:
            echo(f"  - {reason}")
    for r in install.refetched:
        echo(
            f"warning: the cached {r.package} was corrupted ({r.reason}); "
            f"it was extracted again from its channel",
            fg="yellow",
        )
    try:
        where = os.path.relpath(install.prefix)
    except ValueError:
        where = str(install.prefix)
    head = f"{install.environment} ({install.platform})"
    if install.up_to_date:
        echo(f"{head} is up to date: {where}")
        return
    if install.repaired:
        echo(f"{head}: an interrupted install was found and repaired", fg="yellow")
    parts = [f"{len(install.conda_linked)} conda package(s) linked"]
    if install.conda_removed:
        parts.append(f"{len(install.conda_removed)} removed")
    if install.pypi_installed:
        parts.append(f"{len(install.pypi_installed)} PyPI package(s) installed")
    if install.pypi_removed:
        parts.append(f"{len(install.pypi_removed)} PyPI package(s) removed")
    took = install.seconds if seconds is None else seconds
    echo(f"{head}: {', '.join(parts)} in {took:.2f}s -> {where}")


def human_size(n: int | None) -> str:
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def render_listing(listing: Listing) -> None:
    """`hermetic list`: a table of the locked packages, requested ones in bold."""
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for col, justify in (
        ("name", "left"),
        ("version", "left"),
        ("build", "left"),
        ("source", "left"),
        ("size", "right"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]  # rich's Literal
    for p in listing.packages:
        name = f"[bold]{p.name}[/bold]" if p.requested else p.name
        table.add_row(name, p.version, p.build, p.source, human_size(p.size))
    out = console()
    out.print(table)
    total = sum(p.size or 0 for p in listing.packages)
    out.print(
        f"\n{len(listing.packages)} package(s) in {listing.environment} ({listing.platform}), "
        f"{human_size(total)}; bold: requested by the spec"
    )


def render_why(explained: Explained) -> None:
    """`hermetic tree`: the package, then each chain of dependents up to what the spec asks."""
    from rich.markup import escape
    from rich.tree import Tree

    requested = explained.requested
    result = explained.why

    def label(p: Package) -> str:
        text = f"{p.name} {p.version}" + (f" {p.build}" if p.build else "") + f" ({p.source})"
        if p.name in requested:
            text += f"  [green]<- spec: {escape(requested[p.name])}[/green]"
        return text

    out = console()
    root = Tree(label(result.package))
    if not result.chains:
        out.print(root)
        out.print("nothing in the spec leads to it (it is not reachable from a requested package)")
        return
    nodes: dict[tuple[tuple[str, str], ...], Tree] = {}
    for chain in result.chains:
        parent = root
        for i in range(1, len(chain)):
            key = tuple((p.source, p.name) for p in chain[: i + 1])
            if key not in nodes:
                nodes[key] = parent.add(label(chain[i]))
            parent = nodes[key]
    out.print(root)


def show_warning(message: SpecWarning | str) -> None:
    """What a reader accepted but the user should fix (e.g. another tool's unsupported key)."""
    import click

    click.secho(f"warning: {message}", fg="yellow", err=True)


def render_generated(result: Generated) -> None:
    """What a deploy command (devcontainer, k8s, ci, init --template) wrote."""
    import click

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
