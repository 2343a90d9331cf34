"""What of a local source directory decides what the lock holds for it.

A path or editable dependency is locked with its version and Requires-Dist, read from its
metadata. When the project edits that metadata (a new dependency in `[project]`, another
build backend), the lock no longer describes it: the inputs record a digest of exactly those
parts, so `lock --check` says so and `install` re-locks, as pixi does for its path
dependencies. Other edits of the same pyproject.toml (its `[tool.*]` tables, a pixi
manifest's tasks) leave the digest as it is.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from hermetic.layout import toml_loads

_SETUPTOOLS_FILES = ("setup.py", "setup.cfg")


def source_digest(directory: Path) -> str | None:
    """A digest of the directory's metadata sources: pyproject.toml's `[project]` and
    `[build-system]` tables, setup.py and setup.cfg; None when it has none of them (or is
    not there: the lock then fails on it with a clear message)."""
    parts: dict[str, object] = {}
    try:
        text = (directory / "pyproject.toml").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = None
    if text is not None:
        try:
            data = toml_loads(text)
            parts["pyproject"] = {k: data.get(k) for k in ("project", "build-system")}
        except ValueError:  # not TOML: any change of the file counts
            parts["pyproject"] = hashlib.sha256(text.encode()).hexdigest()
    for name in _SETUPTOOLS_FILES:
        try:
            parts[name] = hashlib.sha256((directory / name).read_bytes()).hexdigest()
        except OSError:
            continue
    if not parts:
        return None
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()
