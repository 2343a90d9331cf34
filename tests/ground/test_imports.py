"""The CLI starts fast: importing it, and `hermetic --help`, load neither rattler nor rich."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("rattler", "rich", "yaml", "tomlkit", "elftools", "pynvml", "httpx")

_PROBE = """
import sys
{body}
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})
print(",".join(heavy))
"""


def _loaded(body: str) -> list[str]:
    code = _PROBE.format(body=body, heavy=HEAVY)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    return [m for m in out.split(",") if m]


def test_importing_the_cli_loads_no_heavy_library():
    assert _loaded("import hermetic.cli, hermetic.cli.common, hermetic.cli.options") == []


def test_help_loads_no_heavy_library():
    body = (
        "import contextlib, io\n"
        "from hermetic.cli import cli\n"
        "buf = io.StringIO()\n"
        "with contextlib.redirect_stdout(buf):\n"
        "    try:\n"
        "        cli.main(['--help'], standalone_mode=False, prog_name='hermetic')\n"
        "    except SystemExit:\n"
        "        pass\n"
        "assert 'Commands' in buf.getvalue(), buf.getvalue()\n"
    )
    assert _loaded(body) == []


def test_ground_modules_load_no_heavy_library():
    mods = "platform, channel, layout, settings, errors, fs, cuda, findings"
    assert _loaded(f"from hermetic import {mods}") == []
