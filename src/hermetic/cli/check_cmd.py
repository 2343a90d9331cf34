"""`hermetic check`: the policy lint of spec and lock."""

from __future__ import annotations

import click

from hermetic.cli.common import exit_with, manifest_option


@click.command(
    "check", help="Lint the spec and the lock against the policy ([tool.hermetic.policy])."
)
@manifest_option
@click.option("--json", "as_json", is_flag=True, help="Findings as JSON on stdout.")
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1).")
def command(manifest, as_json: bool, strict: bool) -> None:
    from hermetic.cli.common import load_spec
    from hermetic.layout import find_project
    from hermetic.policy import lint

    project = find_project(manifest)
    spec = load_spec(project.manifest)
    lock = None
    if project.lock_path.exists():
        from hermetic.lock.read import load_lock

        lock = load_lock(project.lock_path)
    findings = lint(spec, lock)
    failing = {"error", "warning"} if strict else {"error"}
    code = 1 if any(f.severity in failing for f in findings) else 0
    if as_json:
        import json

        doc = {
            "manifest": str(project.manifest),
            "lock": str(project.lock_path) if lock else None,
            "findings": [f.to_dict() for f in findings],
            "ok": code == 0,
        }
        click.echo(json.dumps(doc, indent=2))
    else:
        from hermetic.cli.render import render_findings

        render_findings(findings, lock_checked=lock is not None)
    exit_with(code)
