"""The completion marker: `<env>/conda-meta/hermetic-complete`.

An install removes it before it changes anything and writes it, atomically, after
everything else; so an environment with a marker that names the current lock is complete,
whatever happened to earlier installs (SIGKILL included). Reading it imports nothing heavy.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from hermetic.fs import atomic_write_text
from hermetic.layout import MARKER
from hermetic.lock.model import content_hash as content_hash  # moved to the lock

FORMAT = 1


@dataclass(frozen=True)
class Marker:
    environment: str
    platform: str
    lock_digest: str  # sha256 of the whole lock file's bytes
    content_hash: str  # sha256 of this environment x platform's locked artifacts


def lock_digest(lock_path: Path) -> str | None:
    try:
        return hashlib.sha256(Path(lock_path).read_bytes()).hexdigest()
    except OSError:
        return None


def read_marker(prefix: Path) -> Marker | None:
    try:
        data = json.loads((Path(prefix) / MARKER).read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            return None
        return Marker(
            environment=str(data["environment"]),
            platform=str(data["platform"]),
            lock_digest=str(data["lock-digest"]),
            content_hash=str(data["content-hash"]),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def write_marker(prefix: Path, marker: Marker) -> None:
    data = {
        "format": FORMAT,
        "environment": marker.environment,
        "platform": marker.platform,
        "lock-digest": marker.lock_digest,
        "content-hash": marker.content_hash,
    }
    atomic_write_text(Path(prefix) / MARKER, json.dumps(data, indent=2, sort_keys=True) + "\n")


def remove_marker(prefix: Path) -> None:
    """Remove the marker and make the removal durable before anything else changes."""
    path = Path(prefix) / MARKER
    try:
        os.unlink(path)
    except FileNotFoundError:
        return
    with contextlib.suppress(OSError):
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def is_complete(prefix: Path, lock_path: Path, environment: str, platform: str) -> bool:
    """True when the environment was fully installed from exactly this lock file."""
    marker = read_marker(prefix)
    if marker is None or marker.environment != environment or marker.platform != platform:
        return False
    return marker.lock_digest == lock_digest(lock_path)
