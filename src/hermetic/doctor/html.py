"""A self-contained HTML overview: verdict banner, driver table, GPU-code matrix, graph.

The graph is laid out here (columns by load depth) so the file needs no script and no
network. It is rooted at the framework's GPU library, with glibc hidden, every path made real
(one node per file, whatever `../..` or symlink led to it) and missing libraries as nodes of
their own.
"""

from __future__ import annotations

import html
import os
from typing import TYPE_CHECKING

from hermetic.cuda import KNOWN_CCS, MIN_DRIVER_GA, runs_on_driver, sm_name, version_tuple
from hermetic.doctor.fatbin import FatbinInfo, coverage
from hermetic.doctor.ldso import Edge
from hermetic.doctor.libcheck import GLIBC_LIBS

if TYPE_CHECKING:
    from hermetic.doctor.report import DoctorReport

MAX_NODES = 400
COL_W = 300
ROW_H = 22
_COLORS = {"error": "#c0392b", "warning": "#d68910", "info": "#2e86c1"}
_BANNER = {"ok": "#1e8449", "fails": "#c0392b", "cpu-only": "#c0392b", "unknown": "#b9770e"}
_MARK = {"sass": ("✓", "sass"), "ptx": ("~", "ptx"), "none": ("✗", "none"), "unknown": ("?", "unk")}


def render_html(report: DoctorReport) -> str:
    e = html.escape
    t = report.target
    rows = "".join(
        f"<tr><td class='{f.severity}'>{e(f.severity)}</td><td>{e(f.id)}</td>"
        f"<td>{e(f.message)}</td><td>{e(f.hint or '')}</td></tr>"
        for f in report.findings
    )
    gpus = (
        "".join(f"<li>{e(g.name)} ({e(g.sm or 'arch unknown')})</li>" for g in report.driver.gpus)
        or "<li>none</li>"
    )
    runtimes = "".join(
        f"<tr><td>{e(r.component)}</td><td>{e(r.cuda or '?')}{'.x' if r.major_only else ''}</td>"
        f"<td>{e(r.package)}</td><td>{e(r.version)}</td><td>{e(r.source)}</td></tr>"
        for r in report.runtimes
    )
    inside = {o.path for o in report.objects if o.inside_env}
    flagged = {f.subject for f in report.findings if f.subject and f.severity != "info"}
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>hermetic doctor</title>
<style>
body{{font:14px system-ui,sans-serif;margin:2em;color:#222}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 8px;vertical-align:top}}
.error{{color:#fff;background:{_COLORS["error"]}}}.warning{{background:#f9e79f}}.info{{background:#d6eaf8}}
.banner{{color:#fff;padding:12px 16px;border-radius:6px;margin:6px 0;font-size:16px}}
.sass{{background:#d5f5e3;text-align:center}}.ptx{{background:#fcf3cf;text-align:center}}
.none{{background:#f5b7b1;text-align:center}}.unk{{background:#eaeded;text-align:center}}
.here{{font-weight:bold;outline:2px solid #222}}
svg text{{font:11px monospace}}
</style></head><body>
<h1>hermetic doctor</h1>
<p>Target: {e(t.kind)} {e(t.prefix or t.lock or "")} {e(t.module or "")}
 &middot; {report.stats.elf_files} ELF files ({report.stats.reachable} loaded by the env's modules
 and programs) &middot; {report.stats.edges} dependencies &middot; {report.stats.seconds:.2f} s</p>
{_banners(report)}
<h2>Findings ({len(report.findings)})</h2>
<table><tr><th>severity</th><th>id</th><th>finding</th><th>hint</th></tr>{rows}</table>
<h2>Driver</h2>
<p>{e(report.driver.version or "no NVIDIA driver")} &middot; CUDA {e(report.driver.cuda or "-")}
 &middot; source: {e(report.driver.source)}</p><ul>{gpus}</ul>
{_driver_table(report)}
<h2>CUDA runtimes</h2>
<table><tr><th>component</th><th>CUDA</th><th>package</th><th>version</th><th>source</th></tr>{runtimes}</table>
<h2>GPU code: library × GPU architecture</h2>
<p>✓ machine code (SASS) &middot; ~ PTX only (JIT-compiled by the driver) &middot; ✗ none
 &middot; ? unknown (a stub .nv_fatbin)</p>
{_matrix(report)}
<h2>What the framework loads</h2>
<p>green: in the env &middot; grey: outside it &middot; red: not found &middot; orange border:
 has a finding &middot; glibc hidden</p>
{render_svg(_graph_edges(report), inside, flagged)}
</body></html>
"""


def _banners(report: DoctorReport) -> str:
    if not report.verdicts:
        return ""
    out = []
    for v in report.verdicts:
        color = _BANNER.get(v.status, "#555")
        loads = "".join(
            f"<tr><td>{html.escape(lib.component)}</td><td>{html.escape(lib.version or '?')}</td>"
            f"<td>{html.escape(lib.path)}</td></tr>"
            for lib in v.loads
        )
        out.append(
            f"<div class='banner' id='verdict-{html.escape(v.framework)}' style='background:"
            f"{color}'><b>{html.escape(v.status.upper())}</b> &middot; {html.escape(v.text)}</div>"
            + (
                f"<table><tr><th>loads</th><th>version</th><th>path</th></tr>{loads}</table>"
                if loads
                else ""
            )
        )
    return "".join(out)


def _driver_table(report: DoctorReport) -> str:
    drv = report.driver.version
    needed = {c.cuda for c in report.runtime_checks}
    rows = []
    for cuda, minimum in sorted(MIN_DRIVER_GA.items(), key=lambda kv: version_tuple(kv[0])):
        status = runs_on_driver(cuda, drv) if drv else "-"
        cls = {"ok": "sass", "minor-compat": "ptx", "too-old": "none"}.get(status, "unk")
        mark = " class='here'" if cuda in needed else ""
        rows.append(
            f"<tr{mark}><td>CUDA {cuda}</td><td>&ge; {minimum}</td><td class='{cls}'>"
            f"{html.escape(status)}</td></tr>"
        )
    return (
        "<table id='driver-table'><tr><th>CUDA</th><th>minimum driver</th>"
        f"<th>on {html.escape(drv or 'no driver')}</th></tr>{''.join(rows)}</table>"
    )


def _matrix(report: DoctorReport) -> str:
    libs: list[tuple[str, FatbinInfo]] = [
        (o.path, o.fatbin) for o in report.objects if o.fatbin is not None
    ]
    if not libs:
        return "<p>no file of this env carries GPU code</p>"
    ccs = [cc for cc in KNOWN_CCS if cc >= (5, 0)]
    targets = {g.compute_capability for g in report.driver.gpus if g.compute_capability}
    head = "".join(f"<th{' class=here' if cc in targets else ''}>{sm_name(cc)}</th>" for cc in ccs)
    rows = []
    for path, fb in sorted(libs, key=lambda x: os.path.basename(x[0])):
        cells = "".join(
            f"<td class='{_MARK[coverage(fb, cc)][1]}'>{_MARK[coverage(fb, cc)][0]}</td>"
            for cc in ccs
        )
        rows.append(
            f"<tr><td title='{html.escape(path)}'>{html.escape(os.path.basename(path))}</td>{cells}</tr>"
        )
    return f"<table id='gpu-matrix'><tr><th>library</th>{head}</tr>{''.join(rows)}</table>"


def _graph_edges(report: DoctorReport) -> tuple[Edge, ...]:
    """Real paths, one node per file, glibc hidden."""
    out: dict[tuple[str, str, str | None], Edge] = {}
    for x in report.graph:
        if GLIBC_LIBS.match(x.name) or x.via == "interpreter":
            continue
        src = os.path.realpath(x.source)
        tgt = os.path.realpath(x.target) if x.target else None
        out.setdefault((src, x.name, tgt), Edge(src, x.name, tgt, x.via))
    return tuple(out.values())


def render_svg(edges: tuple[Edge, ...], inside: set[str], flagged: set[str]) -> str:
    inside = inside | {os.path.realpath(p) for p in inside}
    nodes: dict[str, int] = {}  # node -> depth
    targets = {x.target or f"missing:{x.name}" for x in edges}
    roots = [x.source for x in edges if x.source not in targets]
    for r in dict.fromkeys(roots):
        nodes.setdefault(r, 0)
    # Longest-path-ish depth by relaxing a few times: enough for a readable left-to-right flow.
    for _ in range(8):
        changed = False
        for x in edges:
            tgt = x.target or f"missing:{x.name}"
            d = nodes.setdefault(x.source, 0) + 1
            if nodes.get(tgt, -1) < d and d < 8:
                nodes[tgt] = d
                changed = True
        if not changed or len(nodes) > MAX_NODES:
            break
    keep = dict(list(nodes.items())[:MAX_NODES])
    columns: dict[int, list[str]] = {}
    for n, depth in keep.items():
        columns.setdefault(depth, []).append(n)
    pos: dict[str, tuple[int, int]] = {}
    for depth, col in columns.items():
        for i, n in enumerate(sorted(col)):
            pos[n] = (10 + depth * COL_W, 20 + i * ROW_H)
    width = 20 + (max(columns) + 1 if columns else 1) * COL_W
    height = 40 + max((len(c) for c in columns.values()), default=1) * ROW_H
    parts = [
        f'<svg id="graph" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
    ]
    for x in edges:
        tgt = x.target or f"missing:{x.name}"
        if x.source in pos and tgt in pos:
            (x1, y1), (x2, y2) = pos[x.source], pos[tgt]
            color = "#c0392b" if x.target is None else "#999"
            parts.append(
                f'<path d="M{x1 + 240},{y1} C{x1 + 270},{y1} {x2 - 30},{y2} {x2},{y2}" '
                f'stroke="{color}" fill="none"><title>{html.escape(x.name)} via {x.via}</title></path>'
            )
    for n, (px, py) in pos.items():
        missing = n.startswith("missing:")
        fill = "#f5b7b1" if missing else "#d5f5e3" if n in inside else "#eaeded"
        stroke = "#d68910" if n in flagged else "#666"
        label = n[len("missing:") :] + " (not found)" if missing else os.path.basename(n)
        parts.append(
            f'<g class="node"><title>{html.escape(n)}</title><rect x="{px}" y="{py - 9}" '
            f'width="240" height="18" rx="4" fill="{fill}" stroke="{stroke}"/>'
            f'<text x="{px + 6}" y="{py + 4}">{html.escape(label[:36])}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
