"""One finding type for every layer that judges something, and its one renderer.

Policy (`hermetic check`), the doctor, image lint and deploy validation all report the same
shape: a stable `id` scripts can filter on, a severity, what is wrong, how to fix it, and where
(a file:line `location`) or what (a package, library or GPU: `subject`) it is about. Layers
return findings as data; only the CLI renders them, with `render_text` (rich, imported lazily
so that importing this module stays cheap) or `to_json`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import KW_ONLY, dataclass
from typing import TYPE_CHECKING, Final, Literal

from hermetic.errors import Location

if TYPE_CHECKING:
    from rich.console import Console

Severity = Literal["error", "warning", "info"]
ERROR: Final = "error"
WARNING: Final = "warning"
INFO: Final = "info"
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
SEVERITY_ORDER: dict[str, int] = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Finding:
    """`id` is stable within a tool (documented next to it) so scripts can filter on it."""

    id: str
    severity: Severity
    message: str
    _: KW_ONLY
    hint: str | None = None
    location: Location | None = None  # a file (and line) the finding points into
    subject: str | None = None  # what it is about when there is no file: package, GPU, library
    environment: str | None = None  # the project environment it concerns, when there are many

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
            "location": str(self.location) if self.location else None,
            "subject": self.subject,
            "environment": self.environment,
        }


def sort_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Errors first, then by id; duplicates dropped (two rules may notice the same thing)."""
    unique = dict.fromkeys(findings)
    return tuple(
        sorted(
            unique,
            key=lambda f: (
                SEVERITY_ORDER[f.severity],
                f.id,
                f.environment or "",
                f.subject or "",
                f.message,
            ),
        )
    )


def has_error(findings: Iterable[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)


def fails(findings: Iterable[Finding], strict: bool = False) -> bool:
    """Whether these findings make a command exit 1: errors, and warnings too when strict."""
    failing = {"error", "warning"} if strict else {"error"}
    return any(f.severity in failing for f in findings)


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    out: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
    for f in findings:
        out[f.severity] += 1
    return out


def summary_line(findings: Sequence[Finding]) -> str:
    c = counts(findings)
    return f"{c['error']} error(s), {c['warning']} warning(s), {c['info']} note(s)"


def to_json_list(findings: Iterable[Finding]) -> list[dict[str, object]]:
    return [f.to_dict() for f in findings]


def to_json(findings: Iterable[Finding]) -> str:
    return json.dumps(to_json_list(findings), indent=2)


_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def render_text(findings: Sequence[Finding], console: Console | None = None) -> None:
    """Print findings for people: severity, where, message, id; the hint on its own line."""
    from rich.console import Console
    from rich.markup import escape

    con = console or Console(highlight=False)
    for f in findings:
        where = f"{escape(str(f.location))}: " if f.location else ""
        env = f"[{escape(f.environment)}] " if f.environment else ""
        con.print(
            f"[{_STYLE[f.severity]}]{f.severity:7}[/] {where}{env}{escape(f.message)} "
            f"[dim]({escape(f.id)})[/]"
        )
        if f.hint:
            con.print(f"        [dim]→[/] {escape(f.hint)}")
