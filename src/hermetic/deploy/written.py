"""Writing generated files without clobbering a user's edits.

hermetic records the sha256 of every file it generates in `.hermetic/generated.json` at the
project root. Regenerating a file nobody touched is silent; a file that differs from what
hermetic last wrote (edited, or never written by hermetic) is refused unless `force`.
All files of one command are checked before any is written, and each write is atomic.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from hermetic.errors import UsageError
from hermetic.fs import atomic_write_bytes, sha256_file
from hermetic.layout import STATE_DIR

RECORD = STATE_DIR / "generated.json"

Outcome = Literal["created", "updated", "unchanged", "replaced"]


@dataclass(frozen=True)
class GeneratedFile:
    """A file a command wants to write: where, and its bytes."""

    path: Path  # absolute
    data: bytes
    what: str = ""  # a few words for the report: "Kubernetes Job"


@dataclass(frozen=True)
class Written:
    path: Path
    outcome: Outcome
    what: str


class EditedFileError(UsageError):
    """A generated file was changed since hermetic wrote it."""


def _key(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _load_record(root: Path) -> dict[str, str]:
    try:
        data = json.loads((root / RECORD).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        return {}
    return {str(k): str(v) for k, v in files.items()}


def write_generated(root: Path, files: Sequence[GeneratedFile], *, force: bool) -> list[Written]:
    """Write `files`, refusing (before writing anything) to replace a user-edited one."""
    root = Path(root).absolute()
    record = _load_record(root)
    plan: list[tuple[GeneratedFile, Outcome]] = []
    edited: list[str] = []
    for f in files:
        new_hash = hashlib.sha256(f.data).hexdigest()
        if not f.path.exists():
            plan.append((f, "created"))
            continue
        if f.path.is_dir():
            raise UsageError(f"{f.path} is a directory, not a file hermetic can write")
        have = sha256_file(f.path)
        if have == new_hash:
            plan.append((f, "unchanged"))
        elif record.get(_key(root, f.path)) == have:
            plan.append((f, "updated"))
        elif force:
            plan.append((f, "replaced"))
        else:
            edited.append(_shown(root, f.path))
    if edited:
        listed = ", ".join(edited)
        raise EditedFileError(
            f"{listed} {'was' if len(edited) == 1 else 'were'} changed since hermetic wrote "
            f"{'it' if len(edited) == 1 else 'them'} (or hermetic did not write "
            f"{'it' if len(edited) == 1 else 'them'}); nothing was written",
            hint="pass --force to overwrite, or keep your changes in a kustomize overlay or "
            "[tool.hermetic.devcontainer] so regenerating keeps them",
        )
    out: list[Written] = []
    for f, outcome in plan:
        if outcome != "unchanged":
            atomic_write_bytes(f.path, f.data)
        record[_key(root, f.path)] = hashlib.sha256(f.data).hexdigest()
        out.append(Written(f.path, outcome, f.what))
    body = {"comment": "files hermetic generated, and their sha256 (do not edit)", "files": {}}
    body["files"] = dict(sorted(record.items()))
    atomic_write_bytes(root / RECORD, (json.dumps(body, indent=2) + "\n").encode())
    return out


def _shown(root: Path, path: Path) -> str:
    rel = os.path.relpath(path, Path.cwd())
    return rel if not rel.startswith("..") else _key(root, path)
