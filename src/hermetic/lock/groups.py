"""Solve groups: environments that must agree on every version they share.

As in pixi, the environments of one `solve-group` are solved once, per platform, for their
combined requirements; each environment then takes the part of that solution its own
requirements reach. So `train` and `serve` in one group get the same numpy even when
`serve` alone would have got a newer one. An environment outside any group is its own unit,
solved exactly as before (its lock bytes do not change).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hermetic.lock.model import PypiArtifact
from hermetic.manifest.model import (
    Environment,
    PypiOptions,
    SystemRequirements,
    group_pypi_options,
)
from hermetic.platform import marker_environment

if TYPE_CHECKING:
    from rattler import RepoDataRecord


@dataclass(frozen=True)
class SolveUnit:
    """What is solved together: one environment, or the members of one solve group."""

    label: str  # the environment's name, or "solve-group:<name>" (never an environment name)
    members: tuple[Environment, ...]
    group: str | None

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(sorted({p for e in self.members for p in e.platforms}))

    def members_on(self, platform: str) -> tuple[Environment, ...]:
        return tuple(e for e in self.members if platform in e.platforms)

    def channels(self, platform: str) -> tuple[str, ...]:
        """Every member's channels, in the order they first appear (the first has priority)."""
        return tuple(dict.fromkeys(c for e in self.members_on(platform) for c in e.channels))

    def system_requirements(self, platform: str) -> SystemRequirements:
        """The members' declarations merged (the highest of each wins)."""
        members = self.members_on(platform)
        if len(members) == 1:
            return members[0].system_requirements
        merged = SystemRequirements()
        for e in members:
            merged = merged.merged(e.system_requirements)
        return merged

    def conda_specs(self, platform: str) -> tuple[str, ...]:
        """Every member's match specs; the solver must satisfy them all at once."""
        specs = (d.spec for e in self.members_on(platform) for d in e.conda_dependencies(platform))
        return tuple(dict.fromkeys(specs))

    def pypi_requirements(self, platform: str) -> tuple[str, ...]:
        reqs = (
            d.requirement for e in self.members_on(platform) for d in e.pypi_dependencies(platform)
        )
        return tuple(dict.fromkeys(reqs))

    def pypi_options(self) -> PypiOptions:
        """An environment's own options; a group's, merged as pixi merges them."""
        if self.group is None:
            return self.members[0].pypi_options
        return group_pypi_options(self.group, self.members)

    def describe(self) -> str:
        """What a message calls this unit: `environment 'gpu'`, or `solve group 'prod'
        (environments train, serve)` (never the internal label)."""
        if self.group is None:
            return f"environment {self.members[0].name!r}"
        names = ", ".join(e.name for e in self.members)
        return f"solve group {self.group!r} (environments {names})"


def solve_units(envs: Sequence[Environment]) -> list[SolveUnit]:
    """Environments grouped by solve group, in the spec's order."""
    units: dict[str, list[Environment]] = {}
    groups: dict[str, str | None] = {}
    for env in envs:
        group = env.solve_group
        label = f"solve-group:{group}" if group else env.name
        units.setdefault(label, []).append(env)
        groups[label] = group
    return [SolveUnit(label, tuple(m), groups[label]) for label, m in units.items()]


_DEP_NAME = re.compile(r"^\s*([A-Za-z0-9_.\-]+)")


def conda_subset(records: Sequence[RepoDataRecord], roots: Iterable[str]) -> list[RepoDataRecord]:
    """The records `roots` (package names) reach through `depends`, in the given order.

    A group's solution has one record per name, so following names is exact."""
    by_name = {r.name.normalized: r for r in records}
    keep: set[str] = set()
    todo = [n.lower() for n in roots]
    while todo:
        name = todo.pop()
        if name in keep or name not in by_name:
            continue
        keep.add(name)
        for dep in by_name[name].depends:
            m = _DEP_NAME.match(str(dep))
            if m:
                todo.append(m.group(1).lower())
    return [r for r in records if r.name.normalized in keep]


def pypi_subset(
    artifacts: Sequence[PypiArtifact],
    requirements: Iterable[str],
    platform: str,
    python_version: str,
) -> tuple[tuple[PypiArtifact, ...], frozenset[str]]:
    """The artifacts `requirements` reach through each artifact's Requires-Dist (markers
    evaluated for the target; extras followed), and the distribution names reached that are
    not among them (conda provides those: a path ends there).

    An sdist, directory or git artifact whose metadata is unknown could hide dependencies:
    then the whole set is kept, since a package too many beats one missing."""
    from packaging.markers import UndefinedEnvironmentName
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    marker_env = marker_environment(platform, python_version) or {}
    by_name = {a.name: a for a in artifacts}

    def applies(req: Requirement, extra: str) -> bool:
        if req.marker is None:
            return True
        try:
            return bool(req.marker.evaluate({**marker_env, "extra": extra}))
        except UndefinedEnvironmentName:
            return True  # when in doubt, keep: a package too many beats one missing

    keep: set[str] = set()
    elsewhere: set[str] = set()
    seen: set[tuple[str, str]] = set()
    todo: list[tuple[str, frozenset[str]]] = []
    for raw in requirements:
        try:
            req = Requirement(raw)
        except InvalidRequirement:
            continue
        if applies(req, ""):
            todo.append((str(canonicalize_name(req.name)), frozenset(req.extras)))
    while todo:
        name, extras = todo.pop()
        artifact = by_name.get(name)
        if artifact is None:
            elsewhere.add(name)  # conda provides it (or it is not for this platform)
            continue
        keep.add(name)
        for extra in ("", *sorted(extras)):
            if (name, extra) in seen:
                continue
            seen.add((name, extra))
            for raw in artifact.requires_dist:
                try:
                    dep = Requirement(raw)
                except InvalidRequirement:
                    continue
                if applies(dep, extra) and (extra == "" or "extra" in str(dep.marker)):
                    todo.append((str(canonicalize_name(dep.name)), frozenset(dep.extras)))
    opaque = any(
        not by_name[n].requires_dist and not by_name[n].url.split("#")[0].endswith(".whl")
        for n in keep
    )
    chosen = artifacts if opaque else tuple(a for a in artifacts if a.name in keep)
    return tuple(chosen), frozenset(elsewhere)
