"""`hermetic check`: the policy lint of spec and lock."""

from __future__ import annotations

import json
from pathlib import Path

import click

from hermetic.cli.common import exit_with
from hermetic.cli.options import manifest_option
from hermetic.cli.render import render_findings, show_warning
from hermetic.project import Project
from hermetic.project.query import check_policy


@click.command(
    "check", help="Lint the spec and the lock against the policy ([tool.hermetic.policy])."
)
@manifest_option
@click.option("--json", "as_json", is_flag=True, help="Findings as JSON on stdout.")
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1).")
def command(manifest: Path | None, as_json: bool, strict: bool) -> None:
    project = Project.open(manifest, warn=show_warning)
    report = check_policy(project)
    failing = {"error", "warning"} if strict else {"error"}
    code = 1 if any(f.severity in failing for f in report.findings) else 0
    if as_json:
        doc = {
            "manifest": str(project.manifest_path),
            "lock": str(project.lock_path) if report.lock_checked else None,
            "findings": [f.to_dict() for f in report.findings],
            "ok": code == 0,
        }
        click.echo(json.dumps(doc, indent=2))
    else:
        render_findings(report.findings, lock_checked=report.lock_checked)
    exit_with(code)
