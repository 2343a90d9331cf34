"""`hermetic lock`: solve the spec into the lock, or check that the lock is fresh."""

from __future__ import annotations

from collections.abc import Callable

from hermetic.lock.check import CheckResult, check_lock
from hermetic.lock.update import LockResult, lock_spec
from hermetic.project.project import Project

Reporter = Callable[[str], None]


def check(project: Project) -> CheckResult:
    """Whether the lock satisfies the spec: a hash compare first, a parse only when they differ."""
    return check_lock(project.spec, project.lock_path)


def lock(
    project: Project,
    *,
    update: frozenset[str] = frozenset(),
    update_all: bool = False,
    reporter: Reporter | None = None,
) -> LockResult:
    """Solve every environment x platform and write the lock (kept pins where the spec allows)."""
    result = lock_spec(
        project.spec,
        project.lock_path,
        update=update,
        update_all=update_all,
        reporter=reporter,
        mirrors=project.mirrors,
    )
    project.lock_changed()
    return result
