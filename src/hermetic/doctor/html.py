"""A self-contained HTML report: findings, driver, runtimes and the library graph as SVG.

The graph is laid out here (columns by load depth, rows in order) so the file needs no
script and no network.
"""

from __future__ import annotations

import html
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hermetic.doctor.report import DoctorReport

from hermetic.doctor.ldso import Edge

MAX_NODES = 400
COL_W = 300
ROW_H = 22
_COLORS = {"error": "#c0392b", "warning": "#d68910", "info": "#2e86c1"}


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
        f"<tr><td>{e(r.component)}</td><td>{e(r.cuda or '?')}</td><td>{e(r.package)}</td>"
        f"<td>{e(r.version)}</td><td>{e(r.source)}</td></tr>"
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
svg text{{font:11px monospace}}
</style></head><body>
<h1>hermetic doctor</h1>
<p>Target: {e(t.kind)} {e(t.prefix or t.lock or "")} {e(t.module or "")}
 &middot; {report.stats.elf_files} ELF files &middot; {report.stats.edges} dependencies
 &middot; {report.stats.seconds:.2f} s</p>
<h2>Findings ({len(report.findings)})</h2>
<table><tr><th>severity</th><th>id</th><th>finding</th><th>hint</th></tr>{rows}</table>
<h2>Driver</h2>
<p>{e(report.driver.version or "no NVIDIA driver")} &middot; CUDA {e(report.driver.cuda or "-")}
 &middot; source: {e(report.driver.source)}</p><ul>{gpus}</ul>
<h2>CUDA runtimes</h2>
<table><tr><th>component</th><th>CUDA</th><th>package</th><th>version</th><th>source</th></tr>{runtimes}</table>
<h2>Library resolution</h2>
<p>green: in the env &middot; grey: outside it &middot; red: not found &middot; orange border: has a finding</p>
{render_svg(report.graph, inside, flagged)}
</body></html>
"""


def render_svg(edges: tuple[Edge, ...], inside: set[str], flagged: set[str]) -> str:
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
    for n, d in keep.items():
        columns.setdefault(d, []).append(n)
    pos: dict[str, tuple[int, int]] = {}
    for d, col in columns.items():
        for i, n in enumerate(sorted(col)):
            pos[n] = (10 + d * COL_W, 20 + i * ROW_H)
    width = 20 + (max(columns) + 1 if columns else 1) * COL_W
    height = 40 + max((len(c) for c in columns.values()), default=1) * ROW_H
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">']
    for x in edges:
        tgt = x.target or f"missing:{x.name}"
        if x.source in pos and tgt in pos:
            (x1, y1), (x2, y2) = pos[x.source], pos[tgt]
            color = "#c0392b" if x.target is None else "#999"
            parts.append(
                f'<path d="M{x1 + 240},{y1} C{x1 + 270},{y1} {x2 - 30},{y2} {x2},{y2}" '
                f'stroke="{color}" fill="none"><title>{html.escape(x.name)} via {x.via}</title></path>'
            )
    for n, (x, y) in pos.items():
        missing = n.startswith("missing:")
        fill = "#f5b7b1" if missing else "#d5f5e3" if n in inside else "#eaeded"
        stroke = "#d68910" if n in flagged else "#666"
        label = n[len("missing:") :] if missing else os.path.basename(n)
        parts.append(
            f'<g><title>{html.escape(n)}</title><rect x="{x}" y="{y - 9}" width="240" height="18" '
            f'rx="4" fill="{fill}" stroke="{stroke}"/><text x="{x + 6}" y="{y + 4}">'
            f"{html.escape(label[:36])}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)
