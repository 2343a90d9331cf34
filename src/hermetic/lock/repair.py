"""A damaged lock keeps its pins: what `hermetic lock` can still read from it.

The lock is rattler's body (every pin) plus hermetic's `hermetic:` block (the inputs each
environment was locked from). A damaged line in the block, or a git merge conflict, made
`hermetic lock` solve from scratch and lose every pin although the body was intact. Here:

* a damaged `hermetic:` block: the body without the block is read, and its pins are kept;
* merge conflict markers: each side is read on its own; the first side that parses is the
  previous lock, and the other side's pins count for packages the first does not pin.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from hermetic.errors import HermeticError
from hermetic.lock.format import META_KEY
from hermetic.lock.read import Lock
from hermetic.textinput import conflict_marker_line, conflict_sides, read_input_text


@dataclass(frozen=True)
class Salvaged:
    lock: Lock  # what re-locking takes its pins from
    others: tuple[Lock, ...]  # further pins (the other side of a merge conflict)
    repaired: str  # what was wrong and what was kept, for the user


def salvage(path: Path, work: Path) -> Salvaged | None:
    """The pins of the lock at `path` that cannot be read whole, or None if none survive.

    Parseable parts are written under `work` (rattler reads lock files by path)."""
    try:
        text = read_input_text(path, what="lock file", max_bytes=64 << 20)
    except (HermeticError, OSError):
        return None
    line = conflict_marker_line(text)
    if line is not None:
        locks = [
            lock
            for i, side in enumerate(conflict_sides(text))
            if (lock := _body_lock(side, work / f"side{i}.lock")) is not None
        ]
        if not locks:
            return None
        return Salvaged(
            locks[0],
            tuple(locks[1:]),
            f"the lock had git merge conflict markers (line {line}); re-locked keeping the "
            f"pins of {'both sides' if len(locks) == 2 else 'the side that could be read'}",
        )
    lock = _body_lock(text, work / "body.lock")
    if lock is None:
        return None
    return Salvaged(
        lock, (), f"the lock's `{META_KEY}:` block was damaged; re-locked keeping its pins"
    )


def _body_lock(text: str, where: Path) -> Lock | None:
    """A Lock of `text` without its `hermetic:` block, if rattler can read the rest."""
    at = text.find(f"\n{META_KEY}:")
    body = text if at < 0 else text[: at + 1]
    where.parent.mkdir(parents=True, exist_ok=True)
    where.write_text(body, encoding="utf-8")
    try:
        lock = Lock(where, body)
        names = lock.environment_names()
        for name in names:  # read everything now: the file is removed after `salvage`
            for platform in lock.platforms(name):
                lock.conda_records(name, platform)
                lock.pypi_packages(name, platform)
    except HermeticError:
        return None
    return lock


def salvage_lock(path: Path) -> Salvaged | None:
    """`salvage` with a temporary working folder of its own."""
    with tempfile.TemporaryDirectory(prefix="hermetic-lock-repair-") as work:
        return salvage(path, Path(work))
