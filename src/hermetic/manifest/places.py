"""Where a table of the spec is, or would go, in the user's own file: for hints that say
exactly what to write where.

A message that says "declare it in [tool.hermetic.system-requirements]" to someone whose
spec is a pixi.toml or an environment.yml teaches a table they do not have. `table_place`
spells a feature's table as that kind of manifest does (`[feature.gpu.system-requirements]`,
`[tool.pixi.dependencies]`, `system-requirements:`) and finds its line when it is written.
The file is read again only when a message needs it (an error path), never while reading.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from hermetic.errors import HermeticError, Location
from hermetic.manifest.model import DEFAULT, Environment, Spec
from hermetic.manifest.toml_locator import Key, TomlLocator
from hermetic.manifest.toml_values import fmt_key

Style = Literal["toml", "yaml-map", "yaml-list"]

#: how each kind of manifest spells a system requirement hermetic calls `glibc`
_SYSREQ_KEY = {"pixi": {"glibc": "libc"}}


@dataclass(frozen=True)
class Place:
    """One table of one feature, as the user spells it, and where it is (or would go)."""

    table: str  # "[feature.gpu.system-requirements]", "[tool.pixi.dependencies]", "dependencies:"
    location: Location  # the table's line when written; else the feature's first line, or the file
    written: bool  # the file has this table
    style: Style = "toml"

    def entry(self, key: str, value: str) -> str:
        """One setting as this table writes it: `cuda = "12.4"`, `cuda: "12.4"`,
        `- python=3.11`."""
        if self.style == "yaml-list":
            return f"- {key}={value}"
        return f'{key}: "{value}"' if self.style == "yaml-map" else f'{key} = "{value}"'

    def advice(self, key: str, value: str, why: str = "", *, change: bool = False) -> str:
        """What to write where: `add cuda = "12.4" to [system-requirements] at pixi.toml:7`
        (`why`, e.g. "(the version you run)", follows the setting; `change`: the key is
        there, with another value)."""
        setting = self.entry(key, value) + (f" {why}" if why else "")
        if self.written:
            verb, to = ("set", "in") if change else ("add", "to")
            return f"{verb} {setting} {to} {self.table} at {self.location}"
        if self.style == "yaml-map":  # a top-level mapping that conda ignores
            return (
                f"add a top-level key to {self.location}: {self.table} {{{setting}}} "
                "(conda ignores it)"
            )
        near = f" (its feature starts at line {self.location.line})" if self.location.line else ""
        return f"add {self.table} with {setting} to {self.location.path}{near}"


def table_place(spec: Spec, feature: str, table: str) -> Place:
    """Where `table` (a feature key: `dependencies`, `system-requirements`) of `feature` is
    written in `spec`'s manifest, or would be."""
    path = spec.manifest
    if spec.kind == "environment-yml":
        top = _yaml_top_key_line(path, table)
        style: Style = "yaml-list" if table == "dependencies" else "yaml-map"
        return Place(f"{table}:", Location(path, top), written=top is not None, style=style)
    prefix = _prefix(spec)
    keys: Key = (*prefix, table) if feature == DEFAULT else (*prefix, "feature", feature, table)
    name = f"[{fmt_key(keys)}]"
    locator = _locator(path)
    if locator is None:
        return Place(name, Location(path), written=False)
    line = locator.lines.get(keys)
    if line is not None:
        return Place(name, Location(path, line), written=True)
    start = keys[:-1] if feature != DEFAULT else None
    first = min(
        (n for k, n in locator.lines.items() if start and k[: len(start)] == start), default=None
    )
    return Place(name, Location(path, first), written=False)


def sysreq_key(spec: Spec, key: str) -> str:
    """hermetic's system-requirement key as this manifest spells it (pixi: `libc`)."""
    return _SYSREQ_KEY.get(spec.kind, {}).get(key, key)


def dependencies_place(spec: Spec, env: Environment) -> Place:
    """Where the environment's first feature (the default one, unless it has
    no-default-feature) lists its conda dependencies: where a `python` pin goes."""
    return table_place(spec, env.features[0] if env.features else DEFAULT, "dependencies")


def _prefix(spec: Spec) -> Key:
    if Path(spec.manifest).name == "pyproject.toml":
        return ("tool", "pixi") if spec.kind == "pixi" else ("tool", "hermetic")
    return ()


def _locator(path: str) -> TomlLocator | None:
    from hermetic.manifest.fields import read_text

    with contextlib.suppress(HermeticError, OSError):
        return TomlLocator(read_text(Path(path)))
    return None


def _yaml_top_key_line(path: str, key: str) -> int | None:
    from hermetic.manifest.fields import read_text
    from hermetic.manifest.yaml_nodes import compose

    with contextlib.suppress(HermeticError, OSError):
        root, loader = compose(read_text(Path(path)), path)
        loader.dispose()
        for knode, _ in getattr(root, "value", None) or ():
            if getattr(knode, "value", None) == key:
                return int(knode.start_mark.line) + 1
    return None


@dataclass(frozen=True)
class SystemRequirementsSites:
    """Where the environments of one solve can declare system requirements: the solver's hint
    for a missing `__cuda` names the table of the user's own file, not hermetic's."""

    spec: Spec = field(compare=False)
    # the environments' features, in order, each with the conda packages it asks for
    features: tuple[tuple[str, frozenset[str]], ...] = ()
    # the system-requirements keys those features declare (the others take defaults)
    declared: frozenset[str] = frozenset()

    @classmethod
    def of(cls, spec: Spec, envs: Sequence[Environment], platform: str) -> SystemRequirementsSites:
        names: dict[str, frozenset[str]] = {}
        for env in envs:
            for fname in env.features:
                if fname not in names:
                    deps = spec.feature(fname).dependencies + tuple(
                        d
                        for t in spec.feature(fname).targets
                        if t.platform == platform
                        for d in t.dependencies
                    )
                    names[fname] = frozenset(d.name for d in deps)
        declared = frozenset(
            k for f in names for k, v in vars(spec.feature(f).system_requirements).items() if v
        )
        return cls(spec, tuple(names.items()), declared)

    def spelled(self, key: str) -> str:
        """hermetic's key as this manifest spells it (pixi: `libc` for `glibc`)."""
        return sysreq_key(self.spec, key)

    def advice(self, key: str, version: str, solver_text: str, *, change: bool = False) -> str:
        """`add [feature.gpu.system-requirements] with cuda = "12.4" to pixi.toml`: in the
        feature that asks for a package the solver named, else the default one."""
        named = [f for f, pkgs in self.features if any(_mentions(solver_text, p) for p in pkgs)]
        order = [f for f, _ in self.features]
        feature = named[-1] if named else (DEFAULT if DEFAULT in order or not order else order[-1])
        place = table_place(self.spec, feature, "system-requirements")
        return place.advice(sysreq_key(self.spec, key), version, change=change)


def _mentions(text: str, name: str) -> bool:
    return re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", text) is not None
