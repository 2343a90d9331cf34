"""`hermetic lock`: solve the spec into the lock, or check that the lock is fresh."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from hermetic.lock.check import CheckResult, check_lock
from hermetic.project.project import Project

if TYPE_CHECKING:
    from hermetic.lock.update import LockResult

Reporter = Callable[[str], None]


def check(project: Project, platform: str | None = None) -> CheckResult:
    """Whether the lock satisfies the spec: a hash compare first, a parse only when they differ.

    Without -p, a lock made with `lock -p` is checked for the platforms it recorded (when they
    cover `platform`, the one about to install, if given).
    """
    project.use_recorded_platforms(platform)
    return check_lock(project.spec, project.lock_path)


def lock(
    project: Project,
    *,
    update: frozenset[str] = frozenset(),
    update_all: bool = False,
    reporter: Reporter | None = None,
) -> LockResult:
    """Solve every environment x platform and write the lock (kept pins where the spec allows)."""
    # imported here: the resolvers cost a noticeable import, and `sync` on a fresh lock (the
    # common case of `install` and `run`) never re-locks
    from hermetic.lock.update import lock_spec

    result = lock_spec(
        project.spec,
        project.lock_path,
        update=update,
        update_all=update_all,
        reporter=reporter,
        mirrors=project.mirrors,
        platform_override=project.platform_override,
    )
    project.lock_changed()
    return result
