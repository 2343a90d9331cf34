"""`hermetic lock`: solve the spec into the lock, or check that the lock is fresh."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from hermetic.errors import HermeticError
from hermetic.lock.check import CheckResult, check_lock
from hermetic.project.project import Project

if TYPE_CHECKING:
    from hermetic.lock.update import LockResult

Reporter = Callable[[str], None]

KEPT_NOTE = (
    "the lock already satisfies the spec: nothing was re-solved "
    "(`hermetic lock --update` re-solves everything)"
)


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
    """Solve every environment x platform and write the lock (kept pins where the spec allows).

    A lock that already satisfies the spec is kept as it is, unsolved, as pixi does: a
    re-solve would keep every pin anyway. `update` and `update_all` always re-solve."""
    if not update and not update_all and (kept := _already_fresh(project)) is not None:
        return kept
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


def _already_fresh(project: Project) -> LockResult | None:
    """The lock as it is, when it satisfies the spec, every local source tree it locks is in
    the state it was locked in (a tree's own dependencies are not in the spec) and it locks no
    git source (each lock fetches those again, at their kept commit); else None."""
    if not project.has_lock:
        return None
    from hermetic.lock.update import EnvironmentSummary, LockResult

    try:
        if not check_lock(project.spec, project.lock_path).fresh:
            return None
        lock = project.lock  # parsed once per command, as everywhere else
        summaries = []
        for env in sorted(lock.environment_names()):
            for platform in sorted(lock.platforms(env)):
                pypi = lock.pypi_packages(env, platform)
                for q in pypi:
                    if q.is_git:
                        return None  # re-fetched on each lock: a vanished repository shows now
                    if q.is_directory:
                        from hermetic.resolve.pypi_metadata import current_tree_metadata

                        now = current_tree_metadata(q.url)
                        if now is None or (now.version, _reqs(now.requires_dist)) != (
                            q.version,
                            _reqs(q.requires_dist),
                        ):
                            return None
                n = len(lock.conda_records(env, platform))
                summaries.append(EnvironmentSummary(env, platform, n, len(pypi)))
    except HermeticError:
        return None  # a lock that cannot be read whole: the full path reports or repairs it
    return LockResult(
        path=project.lock_path,
        written=False,
        environments=tuple(summaries),
        changes=(),
        notes=(KEPT_NOTE,),
    )


def _reqs(requires_dist: tuple[str, ...]) -> frozenset[str]:
    """Requires-Dist entries as packaging writes them (the lock stores rattler's spelling)."""
    from packaging.requirements import InvalidRequirement, Requirement

    out = set()
    for r in requires_dist:
        try:
            out.add(str(Requirement(r)))
        except InvalidRequirement:
            out.add(r)
    return frozenset(out)
