"""Running the real `hermetic` command in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def hermetic(
    *args: str, cwd: Path, env: dict | None = None, check: int | None = 0
) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, NO_COLOR="1", COLUMNS="200", TERM="dumb")
    full_env.pop("CONDA_PREFIX", None)
    if env:
        full_env.update(env)
    proc = subprocess.run(
        [sys.executable, "-m", "hermetic", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
    )
    if check is not None and proc.returncode != check:
        raise AssertionError(
            f"hermetic {' '.join(args)} exited {proc.returncode}, expected {check}\n"
            f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
        )
    return proc


def assert_clean_error(proc: subprocess.CompletedProcess) -> None:
    """A user-facing failure: a message, no traceback."""
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    assert proc.stderr.strip(), "an error must say something on stderr"
