"""`hermetic install` (and `run`, `shell-hook` before they start): check → re-lock → install.

The installer (`env/install.py`) installs a lock as it is; deciding that the lock is stale
and re-solving first is this use case's job, so `env` never imports the lock writer. The
fast path, when everything is in place, costs a hash compare and a marker read.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from hermetic.env.install import InstallResult, install_environment
from hermetic.errors import HermeticError, LockError, UsageError
from hermetic.platform import current_platform
from hermetic.project.lock import check, lock
from hermetic.project.project import Project

Reporter = Callable[[str], None]


@dataclass(frozen=True)
class Mode:
    """`--frozen`: the lock as it is, never checked; `--locked`: fail if stale."""

    frozen: bool = False
    locked: bool = False

    def __post_init__(self) -> None:
        if self.frozen and self.locked:
            raise UsageError("--frozen and --locked exclude each other")


@dataclass(frozen=True)
class SyncResult:
    install: InstallResult
    relocked: bool  # the lock was stale and was re-locked first
    stale_reasons: tuple[str, ...]
    seconds: float


def sync(
    project: Project,
    environment: str,
    *,
    mode: Mode = Mode(),
    platform: str | None = None,
    reporter: Reporter | None = None,
) -> SyncResult:
    """Install `environment` from the lock, re-locking first when the lock is stale."""
    start = time.monotonic()
    relocked = False
    reasons: tuple[str, ...] = ()
    if not mode.frozen:
        project.environment(environment)  # an unknown name: the error lists the known ones
        # a lock made with `lock -p` for the platform installing here is not stale
        result = check(project, platform or current_platform())
        if not result.fresh:
            reasons = tuple(
                (f"{s.environment}: " if s.environment else "") + s.reason for s in result.stale
            )
            if mode.locked:
                raise LockError(
                    f"{project.lock_path} is stale: " + "; ".join(reasons),
                    hint="run `hermetic lock`, or drop --locked to re-lock automatically",
                )
            if reporter:
                reporter("the lock is stale: " + "; ".join(reasons))
                reporter("re-locking")
            lock(project, reporter=reporter)
            relocked = True
    elif not project.has_lock:
        raise LockError(f"no lock file at {project.lock_path}", hint="run `hermetic lock` first")
    else:
        # --frozen never checks the manifest, but credentials written in its channel and
        # index URLs are still needed to fetch (read in memory only; a broken one is ignored)
        with contextlib.suppress(HermeticError):
            _ = project.spec
    installed = install_environment(
        project.lock_path,
        project.root,
        environment,
        platform=platform,
        reporter=reporter,
        mirrors=project.mirrors,
    )
    return SyncResult(installed, relocked, reasons, time.monotonic() - start)
