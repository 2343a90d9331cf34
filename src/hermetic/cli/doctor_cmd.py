"""`hermetic doctor`: render a DoctorReport for people (rich), scripts (--json) or a browser."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from hermetic.cli.common import exit_with
from hermetic.doctor import DoctorOptions, run_doctor
from hermetic.errors import EXIT_FAILED, EXIT_OK, UsageError
from hermetic.findings import render_text
from hermetic.project.doctor import find_target, project_lock

if TYPE_CHECKING:
    from rich.console import Console

    from hermetic.doctor.report import DoctorReport

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_STATUS = {
    "ok": "[green]ok[/]",
    "minor-compat": "[yellow]minor-version compatibility[/]",
    "forward-compat": "[yellow]forward compatibility (cuda-compat)[/]",
    "too-new": "[bold red]too new for the driver[/]",
    "no-driver": "[dim]no driver to check against[/]",
}


@click.command("doctor")
@click.option("-e", "--env", "env", default=None, help="An installed environment of the project.")
@click.option(
    "--prefix", type=click.Path(path_type=Path), default=None, help="An environment directory."
)
@click.option(
    "--module",
    type=click.Path(path_type=Path),
    default=None,
    help="Resolve one ELF file (e.g. an extension module) instead of the whole env.",
)
@click.option(
    "--driver", "driver", default=None, help="What-if: check against this driver, e.g. 535.104.05."
)
@click.option(
    "--gpu", default=None, help="What-if: check against this GPU architecture, e.g. sm_80."
)
@click.option(
    "--lock",
    "lock",
    is_flag=False,
    flag_value="hermetic.lock",
    default=None,
    type=click.Path(path_type=Path),
    help="Check a locked env from package metadata, without installing it.",
)
@click.option(
    "-p", "--platform", default=None, help="With --lock: the platform (default: this one)."
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the report as JSON (schema: docs/doctor.md)."
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write a self-contained HTML report with the library graph.",
)
def command(
    env: str | None,
    prefix: Path | None,
    module: Path | None,
    driver: str | None,
    gpu: str | None,
    lock: Path | None,
    platform: str | None,
    as_json: bool,
    html_path: Path | None,
) -> None:
    """Inspect the GPU and native-library stack of an environment, from its files alone."""

    if env is not None and prefix is not None:
        raise UsageError("use -e ENV or --prefix PATH, not both")
    if lock is not None:
        lock = project_lock(lock, Path.cwd())  # a bare --lock: the project's, from anywhere in it
        opts = DoctorOptions(lock=lock, lock_env=env, platform=platform, driver=driver, gpu=gpu)
    else:
        target = find_target(env, prefix, Path.cwd())
        opts = DoctorOptions(
            prefix=target.prefix,
            env=target.env,
            how=target.how,
            module=module,
            driver=driver,
            gpu=gpu,
            project_lock=target.lock,
        )
    report = run_doctor(opts)
    if html_path is not None:
        report.to_html(html_path)
    if as_json:
        click.echo(report.to_json())
    else:
        render(report, html_path)
    exit_with(EXIT_FAILED if report.failed else EXIT_OK)


_VERDICT_STYLE = {
    "ok": "bold green",
    "fails": "bold red",
    "cpu-only": "bold red",
    "unknown": "yellow",
}


def _verdicts(con: Console, report: DoctorReport) -> None:
    """The first screen: will each framework use the GPU on the target, and what it loads."""
    from rich.markup import escape

    if not report.verdicts:
        return
    con.rule("Verdict")
    for v in report.verdicts:
        style = _VERDICT_STYLE.get(v.status, "bold")
        con.print(f"[{style}]{v.status.upper():8}[/] {escape(v.text)}")
        base = report.target.prefix or ""
        for lib in v.loads:
            path = (
                os.path.relpath(lib.path, base) if lib.path.startswith(base + os.sep) else lib.path
            )
            con.print(
                f"           {lib.component:10} {escape(lib.version or '?'):12} "
                f"[dim]{escape(path)}[/]"
            )


def render(report: DoctorReport, html_path: Path | None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    con = Console(highlight=False)
    t = report.target
    where = t.lock if t.kind == "lock" else t.module or t.prefix
    con.print(
        f"[bold]hermetic doctor[/] · {t.kind} [bold]{escape(str(where))}[/]"
        + (f" (env {t.env})" if t.env else "")
        + (f" · {t.platform}" if t.platform else "")
    )

    _verdicts(con, report)

    con.rule("Driver")
    d = report.driver
    if not d.present:
        con.print("No NVIDIA driver on this machine (no NVML, no /proc/driver/nvidia, no libcuda).")
        for note in d.notes:
            con.print(f"  [dim]{escape(note)}[/]")
    else:
        con.print(
            f"driver {d.version or 'version unknown'} · supports CUDA ≤ {d.cuda or '?'} "
            f"· from {d.source}"
        )
        if d.nvml_error and d.source != "what-if":
            con.print(f"  NVML: {escape(d.nvml_error)}")
        if d.libcuda_version and d.source != "what-if":
            con.print(f"  system libcuda.so.{escape(d.libcuda_version)}")
    for g in d.gpus:
        cc = (
            f"compute capability {g.compute_capability[0]}.{g.compute_capability[1]} ({g.sm})"
            if g.compute_capability
            else "compute capability unknown"
        )
        con.print(f"  GPU {g.index}: {escape(g.name)} · {cc}")
    if d.present and not d.gpus:
        con.print("  no GPU listed")

    con.rule("CUDA runtimes")
    if not report.runtimes:
        con.print("none found")
    else:
        table = Table(box=None, pad_edge=False)
        for col in ("component", "CUDA", "package", "version", "from"):
            table.add_column(col)
        for r in report.runtimes:
            table.add_row(
                r.component,
                (r.cuda or "?") + (".x" if r.major_only else ""),
                escape(r.package),
                escape(r.version),
                r.source,
            )
        con.print(table)
        for c in report.runtime_checks:
            con.print(f"  CUDA {c.cuda}: {_STATUS.get(c.status, c.status)}")
    if report.declared_cuda:
        con.print(f"  lock declares system-requirements.cuda = {report.declared_cuda}")

    if t.kind != "lock":
        con.rule("Libraries")
        st = report.stats
        con.print(
            f"{st.elf_files} ELF files · {st.edges} dependencies resolved as ld.so would"
            + (f" · {st.outside_env} direct ones outside the env" if t.kind == "env" else "")
        )
        if t.ld_library_path:
            con.print(f"  LD_LIBRARY_PATH: {escape(':'.join(t.ld_library_path))}")
        if t.kind == "module":
            # The whole closure, in load order, grouped by the object that needs each library.
            source = None
            for e in report.graph:
                if e.source != source:
                    source = e.source
                    con.print(f"  [bold]{escape(source)}[/]")
                dest = escape(e.target) if e.target else "[bold red]not found[/]"
                con.print(f"    {escape(e.name)} => {dest} [dim]({e.via})[/]")
        gpu_libs = [o for o in report.objects if o.fatbin]
        if gpu_libs:
            con.print(f"  {len(gpu_libs)} files carry GPU code")

    con.rule(f"Findings ({len(report.findings)})")
    if not report.findings:
        con.print("[green]nothing to report[/]")

    render_text(report.findings, con)
    if html_path is not None:
        con.print(f"HTML report: {html_path}")
    con.print(f"[dim]{report.stats.seconds:.2f} s[/]")
