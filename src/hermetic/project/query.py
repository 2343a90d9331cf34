"""The read-only commands: `list`, `tree`, `export` and `check` read the spec and the lock.

None of them changes anything or needs the environment installed; they share how the
environment and the platform are picked (`pick.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

from hermetic.findings import Finding
from hermetic.lock.export import Export, export
from hermetic.lock.query import Listing, Why, list_packages, requested_names, why
from hermetic.policy import lint
from hermetic.project.pick import pick_environment, pick_platform
from hermetic.project.project import Project


def _requested(project: Project, environment: str, platform: str) -> dict[str, str]:
    """What the spec asks for (bold in `list`, roots in `tree`); {} for a lock-only env."""
    if environment not in project.spec.environment_names:
        return {}
    return requested_names(project.spec, environment, platform)


def listing(project: Project, environment: str, platform: str | None) -> Listing:
    """The locked packages of an environment x platform, requested ones marked."""
    pick_environment(project, environment, from_lock=True)
    plat = pick_platform(project, environment, platform)
    requested = _requested(project, environment, plat)
    return list_packages(project.lock, environment, plat, frozenset(requested))


@dataclass(frozen=True)
class Explained:
    why: Why
    requested: dict[str, str]  # name -> the spec's requirement string


def explain(project: Project, environment: str, platform: str | None, package: str) -> Explained:
    """Why `package` is in the environment: its chains of dependents up to the spec."""
    pick_environment(project, environment, from_lock=True)
    plat = pick_platform(project, environment, platform)
    requested = _requested(project, environment, plat)
    result = why(project.lock, environment, plat, package, requested)
    return Explained(result, requested)


def export_lock(project: Project, fmt: str, environment: str, platform: str | None) -> Export:
    """An environment of the lock in another tool's format (the spec is not read)."""
    return export(project.lock, fmt, environment, platform)


@dataclass(frozen=True)
class PolicyReport:
    findings: tuple[Finding, ...]
    lock_checked: bool  # there was a lock to check too


def check_policy(project: Project) -> PolicyReport:
    """`hermetic check`: the policy findings for the spec and, when there is one, the lock."""
    lock = project.lock if project.has_lock else None
    return PolicyReport(lint(project.spec, lock), lock is not None)
