"""Every command is in `hermetic --help`, in the README's command table, and has a docs page."""

from __future__ import annotations

import re
from pathlib import Path

from clirun import hermetic

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = [
    "lock",
    "check",
    "init",
    "install",
    "run",
    "shell-hook",
    "export",
    "list",
    "tree",
    "doctor",
    "tour",
    "image",
    "devcontainer",
    "k8s",
    "ci",
    "pack",
    "unpack",
    "bundle",
]


def test_help_lists_every_command(tmp_path):
    out = hermetic("--help", cwd=tmp_path).stdout
    listed = re.findall(r"^  ([a-z][a-z0-9-]*)\s", out.split("Commands:", 1)[1], re.M)
    assert sorted(listed) == sorted(EXPECTED)


def test_readme_table_names_every_command_with_an_existing_page():
    readme = (ROOT / "README.md").read_text()
    rows = [line for line in readme.splitlines() if line.startswith("| `hermetic ")]
    for name in EXPECTED:
        row = next(
            (r for r in rows if re.search(rf"(`hermetic {name}\b|/ `{name}\b)", r.split("|")[1])),
            None,
        )
        assert row is not None, f"README's command table has no row for {name}"
        pages = re.findall(r"\]\((docs/[^)]+\.md)\)", row)
        assert pages, f"README's row for {name} links no docs page"
        for page in pages:
            assert (ROOT / page).is_file(), page
