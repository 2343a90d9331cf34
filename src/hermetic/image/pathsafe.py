"""Path checks for what the image layer writer lays out (until the ground module lands)."""

from __future__ import annotations

import os
import posixpath

from hermetic.errors import HermeticError


class UnsafePathError(HermeticError):
    """A package path that would land outside the env prefix."""


def check_member(path: str, where: str) -> str:
    """`path` when it is relative, normalized and inside; refuse it otherwise."""
    if not path or "\0" in path or path.startswith("/") or "\\" in path:
        raise UnsafePathError(f"refusing {where}: unsafe path {path!r}")
    for part in path.split("/"):
        if part in ("", ".", ".."):
            raise UnsafePathError(f"refusing {where}: path {path!r} leaves the prefix")
    return path


def check_symlink(rel: str, target: str, prefix: str, where: str) -> None:
    """A symlink at `rel` (in the env at `prefix`) must resolve inside the prefix."""
    base = posixpath.dirname(posixpath.join(prefix, rel))
    resolved = posixpath.normpath(posixpath.join(base, target))
    if resolved != prefix and not resolved.startswith(prefix.rstrip("/") + "/"):
        raise UnsafePathError(
            f"refusing {where}: symlink {rel!r} points outside the env ({target!r})"
        )


def within(root: str, path: str) -> bool:
    root = os.path.normpath(root)
    return os.path.normpath(path).startswith(root + os.sep)
