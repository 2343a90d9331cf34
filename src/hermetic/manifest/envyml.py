"""Reading a conda environment.yml as conda-lock users write it.

`name`, `channels` (`nodefaults` dropped: hermetic never adds channels of its own; `defaults`
is Anaconda's `main` and `r`), `dependencies` in conda's syntax (`numpy=1.26` is conda's fuzzy
`1.26.*`, `numpy 1.26` and `numpy==1.26` are exact) with a `pip:` list, and conda-build
selectors (`- pywin32  # [win]`) that make a line a dependency of some platforms only.
`channel::pkg` adds its channel, as conda does. conda-lock's `platforms:`, conda's
`variables:`, and hermetic's `system-requirements:` and `policy:` (which conda ignores) are
read too; conda-lock's `category:` and other keys are warnings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from hermetic.errors import Location, SpecError, did_you_mean
from hermetic.manifest.envyml_pip import PipLines
from hermetic.manifest.fields import (
    ENV_VAR_NAME,
    Where,
    check_platform,
    describe,
    expand_channels,
    read_text,
    resolve_channel,
    sysreq_value,
)
from hermetic.manifest.model import (
    DEFAULT,
    Activation,
    CondaDependency,
    EnvironmentDecl,
    Feature,
    Policy,
    PypiDependency,
    Spec,
    SpecWarning,
    SystemRequirements,
    Target,
)
from hermetic.manifest.policy_table import policy_from_mapping
from hermetic.manifest.requirements import conda_from_string
from hermetic.manifest.selectors import evaluate, selector_of
from hermetic.manifest.yaml_nodes import Comments, YamlNodes, compose, end_line
from hermetic.platform import default_platforms

if TYPE_CHECKING:
    import yaml

ENV_KEYS = (
    "name",
    "channels",
    "dependencies",
    "platforms",
    "variables",
    "prefix",
    "system-requirements",
    "policy",
)
# other tools' keys: read past with a warning that names the tool
FOREIGN_KEYS = {"category": "conda-lock", "pip-repositories": "conda-lock"}
SYSREQ_KEYS = ("cuda", "glibc", "linux", "macos", "archspec")


@dataclass(frozen=True)
class Entry:
    """One dependency line: what it asks for, and the platforms its selector keeps it on."""

    dependency: CondaDependency | PypiDependency
    platforms: tuple[str, ...] | None  # None: every platform (no selector)
    selector: str | None = None


@dataclass
class EnvYml:
    spec: Spec
    nodefaults: bool = False  # the file listed `nodefaults`
    comments: dict[int, Comments] = field(default_factory=dict)  # by a dependency's line
    pip_comments: Comments | None = None  # those of the `pip:` entry
    tail_comments: Comments | None = None  # comment lines after the last dependency
    selectors: dict[int, str] = field(default_factory=dict)  # line -> selector expression
    notes: list[str] = field(default_factory=list)  # for `hermetic init` to say


def read_environment_yml(path: Path, text: str | None = None) -> Spec:
    """Read an environment.yml into a validated Spec (one `default` environment)."""
    return parse_environment_yml(path, text).spec


def parse_environment_yml(path: Path, text: str | None = None) -> EnvYml:
    path = Path(path)
    if text is None:
        text = read_text(path)
    root, loader = compose(text, str(path))
    try:
        return _EnvReader(path, text, loader).read(root)
    finally:
        loader.dispose()


class _EnvReader(YamlNodes):
    def __init__(self, path: Path, text: str, loader: yaml.SafeLoader):
        super().__init__(path, text, loader)
        self.out = EnvYml(spec=None)  # type: ignore[arg-type]  # set at the end of read()
        self.warnings: list[SpecWarning] = []
        self.pip = PipLines()
        self.channel_locations: dict[str, Location] = {}

    def read(self, root: yaml.Node | None) -> EnvYml:
        if root is None:
            raise SpecError(
                "empty environment file",
                location=Location(self.path, 1),
                hint="an environment.yml has channels: and dependencies:",
            )
        items = self.mapping(root, "top level")
        self.check_keys(items)
        by_key = {k: (knode, vnode) for k, knode, vnode in items}
        name = self.string(by_key["name"][1], "name") if "name" in by_key else None
        channels = self.channels(root, by_key)
        platforms = self.platforms(by_key)
        entries = self.dependencies(by_key, platforms)
        check_twice(entries, platforms)
        channels = self.package_channels(channels, entries)
        default = Feature(
            name=DEFAULT,
            channels=channels,
            dependencies=tuple(
                e.dependency
                for e in entries
                if e.platforms is None and isinstance(e.dependency, CondaDependency)
            ),
            pypi_dependencies=tuple(
                e.dependency
                for e in entries
                if e.platforms is None and isinstance(e.dependency, PypiDependency)
            ),
            system_requirements=self.system_requirements(by_key),
            activation=Activation(env=self.variables(by_key)),
            targets=targets(entries, platforms),
            location=Location(self.path, 1),
            channel_locations=tuple(
                (c, self.channel_locations[c]) for c in channels if c in self.channel_locations
            ),
        )
        self.out.spec = Spec(
            manifest=self.path,
            kind="environment-yml",
            name=name,
            platforms=platforms,
            pypi_options=self.pip.options.build(),
            features=(default,),
            environments=(EnvironmentDecl(DEFAULT, (), location=Location(self.path, 1)),),
            policy=self.policy(by_key),
            warnings=(*self.warnings, *self.pip.warnings),
        )
        return self.out

    def check_keys(self, items: list[tuple[str, yaml.Node, yaml.Node]]) -> None:
        for k, knode, _ in items:
            if k in ENV_KEYS:
                continue
            w = self.at(knode, k)
            tool = FOREIGN_KEYS.get(k)
            if tool is not None:
                self.warnings.append(
                    w.warning(f"{tool}'s {k!r} is not supported by hermetic yet and ignored")
                )
                continue
            guess = did_you_mean(k, ENV_KEYS)
            if guess is not None:  # a misspelt key of ours would lose what it holds
                raise w.error(
                    f"unknown key {k!r} in the environment file",
                    hint=f"did you mean {guess!r}? known keys: " + ", ".join(ENV_KEYS),
                )
            self.warnings.append(
                w.warning(
                    f"unknown key {k!r} in the environment file, ignored",
                    hint="known keys: " + ", ".join(ENV_KEYS),
                )
            )

    def channels(
        self, root: yaml.Node, by_key: dict[str, tuple[yaml.Node, yaml.Node]]
    ) -> tuple[str, ...]:
        channels: list[str] = []
        if "channels" in by_key:
            for cnode in self.sequence(by_key["channels"][1], "channels"):
                ch = self.string(cnode, "channels")
                if ch.strip() == "nodefaults":
                    self.out.nodefaults = True
                    continue
                w = self.at(cnode, "channels")
                channel = resolve_channel(ch, self.base, w)
                channels.append(channel)
                for c in expand_channels([channel]):
                    self.channel_locations.setdefault(c, w.location)
        if not channels:
            node = by_key.get("channels", (root, root))[0]
            raise self.at(node, "channels").error(
                "channels: none listed; conda would fall back to the channels of your .condarc, "
                "which makes the environment depend on the machine",
                hint="name them, e.g. `channels: [conda-forge]`",
            )
        return expand_channels(channels)

    def platforms(self, by_key: dict[str, tuple[yaml.Node, yaml.Node]]) -> tuple[str, ...]:
        if "platforms" not in by_key:
            return default_platforms()
        pnodes = self.sequence(by_key["platforms"][1], "platforms")
        if not pnodes:
            raise self.at(by_key["platforms"][0], "platforms").error("platforms: none listed")
        return tuple(
            dict.fromkeys(check_platform(self.value(p), self.at(p, "platforms")) for p in pnodes)
        )

    def variables(
        self, by_key: dict[str, tuple[yaml.Node, yaml.Node]]
    ) -> tuple[tuple[str, str], ...]:
        env: list[tuple[str, str]] = []
        if "variables" in by_key:
            for k, knode, vnode in self.mapping(by_key["variables"][1], "variables"):
                v = self.value(vnode)
                if isinstance(v, bool) or not isinstance(v, (str, int, float)):
                    raise self.at(vnode, f"variables.{k}").error(
                        f"variables.{k}: expected a string, got {describe(v)}"
                    )
                if not ENV_VAR_NAME.fullmatch(k):
                    raise self.at(knode, "variables").error(
                        f"variables: {k!r} is no environment variable name"
                    )
                env.append((k, str(v)))
        return tuple(env)

    def system_requirements(
        self, by_key: dict[str, tuple[yaml.Node, yaml.Node]]
    ) -> SystemRequirements:
        if "system-requirements" not in by_key:
            return SystemRequirements()
        vals: dict[str, str] = {}
        for k, knode, vnode in self.mapping(
            by_key["system-requirements"][1], "system-requirements"
        ):
            key = f"system-requirements.{k}"
            if k not in SYSREQ_KEYS:
                guess = did_you_mean(k, SYSREQ_KEYS)
                raise self.at(knode, key).error(
                    f"unknown key {k!r} in system-requirements",
                    hint=(f"did you mean {guess!r}? " if guess else "")
                    + "known keys: "
                    + ", ".join(SYSREQ_KEYS),
                )
            value = self.value(vnode)
            if isinstance(value, float):
                raise self.at(vnode, key).error(
                    f"{key}: {value!r} is a number; quote it",
                    hint=f'write {k}: "{value}" (as a number, 12.10 would read as 12.1)',
                )
            vals[k] = sysreq_value(k, value, self.at(vnode, key))
        return SystemRequirements(**vals)

    def policy(self, by_key: dict[str, tuple[yaml.Node, yaml.Node]]) -> Policy:
        if "policy" not in by_key:
            return Policy()
        knode, vnode = by_key["policy"]
        items = self.mapping(vnode, "policy")
        nodes = {k: kn for k, kn, _ in items}
        return policy_from_mapping(
            {k: self.value(v) for k, _, v in items},
            lambda k: self.at(nodes[k], f"policy.{k}") if k else self.at(knode, "policy"),
            path=self.path,
            table_name="policy:",
        )

    # -- dependencies --

    def dependencies(
        self, by_key: dict[str, tuple[yaml.Node, yaml.Node]], platforms: tuple[str, ...]
    ) -> list[Entry]:
        import yaml

        if "dependencies" not in by_key:
            return []
        dkey, dnode = by_key["dependencies"]
        entries: list[Entry] = []
        prev_end = dkey.start_mark.line + 1
        for item in self.sequence(dnode, "dependencies"):
            comments = self.comments_of(item, prev_end)
            prev_end = end_line(item)
            if isinstance(item, yaml.MappingNode):
                self.out.pip_comments = comments
                entries += self.pip_entry(item, platforms)
                continue
            w = self.at(item, "dependencies")
            text = self.value(item)
            if not isinstance(item, yaml.ScalarNode) or not isinstance(text, str):
                raise w.error(
                    f"dependencies: expected a conda requirement string or a `pip:` list, "
                    f"got {describe(text)}",
                    hint="quote it if it is a requirement YAML reads as a number",
                )
            entry = self.selected(conda_from_string(text, w, self.base), comments, w, platforms)
            if entry is not None:
                entries.append(entry)
        self.out.tail_comments = self.tail_after(prev_end, dnode)
        return entries

    def selected(
        self,
        dep: CondaDependency | PypiDependency,
        comments: Comments,
        where: Where,
        platforms: tuple[str, ...],
    ) -> Entry | None:
        """The line as an entry for the platforms its selector keeps (None: for none)."""
        line = where.line or 0
        self.out.comments[line] = comments
        expression = selector_of("#" + comments.after) if comments.after else None
        if expression is None:
            return Entry(dep, None)
        self.out.selectors[line] = expression
        sel = evaluate(expression, platforms)
        if sel.platforms is None:
            self.warnings.append(
                where.warning(
                    f"{dep.name}: the selector [{expression}] is no platform condition; "
                    "the line is left out on every platform (as conda-lock does)",
                    hint="selectors name platforms: linux, osx, win, unix, linux64, aarch64, "
                    "arm64, ppc64le, x86_64, combined with not, and, or",
                )
            )
            return None
        if not sel.platforms:
            self.out.notes.append(
                f"{dep.name} (line {line}, [{expression}]) is for none of the platforms "
                f"{', '.join(platforms)}: left out"
            )
            return None
        return Entry(dep, sel.platforms, expression)

    def pip_entry(self, node: yaml.Node, platforms: tuple[str, ...]) -> list[Entry]:
        import yaml

        out: list[Entry] = []
        for k, knode, vnode in self.mapping(node, "dependencies"):
            if k != "pip":
                raise self.at(knode, k).error(
                    f"dependencies: unknown entry {k!r}",
                    hint="the only mapping allowed in dependencies is a `pip:` list",
                )
            prev_end = knode.start_mark.line + 1
            for item in self.sequence(vnode, "pip"):
                c = self.comments_of(item, prev_end)
                prev_end = end_line(item)
                w = self.at(item, "pip")
                if isinstance(item, yaml.MappingNode):
                    raise w.error(
                        "pip: YAML reads this line as a mapping (a ':' ends it)",
                        hint='quote the line, e.g. - "--only-binary :all:"',
                    )
                for dep in self.pip.line(self.string(item, "pip"), w, self.base, seen=set()):
                    entry = self.selected(dep, c, w, platforms)
                    if entry is not None:
                        out.append(entry)
        return out

    def package_channels(self, channels: tuple[str, ...], entries: list[Entry]) -> tuple[str, ...]:
        """`channel::pkg` adds its channel after the listed ones, as conda and conda-lock do."""
        added: list[str] = []
        for e in entries:
            dep = e.dependency
            if isinstance(dep, CondaDependency) and "::" in dep.spec:
                channel = dep.spec.rsplit("::", 1)[0]
                if channel not in channels and channel not in added:
                    added.append(channel)
                    if dep.location is not None:
                        self.channel_locations[channel] = dep.location
                    self.out.notes.append(
                        f"channel {channel!r} added for {dep.name} "
                        f"(line {dep.location.line if dep.location else '?'}), as conda does"
                    )
        return (*channels, *added)


def check_twice(entries: list[Entry], platforms: tuple[str, ...]) -> None:
    """A name may appear twice only behind selectors that share no platform."""
    seen: dict[tuple[str, str], Entry] = {}
    for e in entries:
        dep = e.dependency
        kind = "conda" if isinstance(dep, CondaDependency) else "pip"
        first = seen.get((kind, dep.name))
        if first is None:
            seen[(kind, dep.name)] = e
            continue
        mine = set(e.platforms if e.platforms is not None else platforms)
        theirs = set(first.platforms if first.platforms is not None else platforms)
        both = [p for p in platforms if p in mine & theirs]
        if both:
            line = first.dependency.location.line if first.dependency.location else "?"
            prefix = "dependencies" if kind == "conda" else "pip"
            raise SpecError(
                f"{prefix}: {dep.name!r} is listed twice (first on line {line})"
                + (f", both for {', '.join(both)}" if e.platforms or first.platforms else ""),
                location=dep.location,
                hint="combine the constraints into one line, e.g. numpy>=1.26,<2, or give the "
                "lines selectors that do not overlap, e.g. # [linux] and # [osx]",
            )
        seen[(kind, dep.name)] = e


def targets(entries: list[Entry], platforms: tuple[str, ...]) -> tuple[Target, ...]:
    """The lines with selectors as per-platform additions, in the order of the platforms."""
    out = []
    for p in platforms:
        mine = [e.dependency for e in entries if e.platforms is not None and p in e.platforms]
        conda = tuple(d for d in mine if isinstance(d, CondaDependency))
        pypi = tuple(d for d in mine if isinstance(d, PypiDependency))
        if conda or pypi:
            out.append(Target(platform=p, dependencies=conda, pypi_dependencies=pypi))
    return tuple(out)


def strip_selector(comment: str | None) -> str | None:
    """A line's comment without its selector (init writes the selector as a target)."""
    if comment is None:
        return None
    text = re.sub(r"\s*\[[^\[\]]+\]\s*$", "", comment).strip()
    return text or None
