"""A finding: one thing the doctor noticed, with how bad it is and what to do about it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "info"]

SEVERITY_ORDER: dict[str, int] = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Finding:
    """`id` is stable (documented in docs/doctor.md) so scripts can filter on it."""

    id: str
    severity: Severity
    message: str
    remedy: str | None = None
    subject: str | None = None  # the file, package or GPU the finding is about


def sort_findings(findings: list[Finding] | tuple[Finding, ...]) -> tuple[Finding, ...]:
    return tuple(
        sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.id, f.subject or ""))
    )


def has_error(findings: tuple[Finding, ...]) -> bool:
    return any(f.severity == "error" for f in findings)
