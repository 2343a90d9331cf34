"""A Spec written as hermetic's TOML keys: what `hermetic init` puts in [tool.hermetic].

The writer is the reader's inverse: whatever it writes reads back (with `toml_source`) as
the same Spec, which `init` checks before writing anything. Comments from the source file
are passed in by the caller, keyed by the line of the dependency they annotate.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hermetic.channel import is_url
from hermetic.manifest.fields import DEFAULTS_CHANNELS, local_to_manifest
from hermetic.manifest.model import (
    DEFAULT,
    Activation,
    CondaDependency,
    EnvironmentDecl,
    Feature,
    Policy,
    PypiDependency,
    PypiOptions,
    Spec,
    SystemRequirements,
    Task,
)
from hermetic.manifest.policy_table import POLICY_ATTRS, PRESETS
from hermetic.manifest.requirements import split_conda_spec, split_pypi_requirement
from hermetic.manifest.yaml_nodes import Comments

# The comments of a dependency (and whether it sits in a per-platform target) -> Comments.
CommentsOf = Callable[[CondaDependency | PypiDependency, bool], Comments | None]


def _no_comments(dep: CondaDependency | PypiDependency, in_target: bool) -> Comments | None:
    return None


class SpecWriter:
    def __init__(self, spec: Spec, manifest_dir: Path, comments_of: CommentsOf = _no_comments):
        self.spec = spec
        self.dir = Path(manifest_dir).absolute()
        self.comments_of = comments_of
        self.pypi_heading: Comments | None = None  # above the top-level pypi-dependencies
        self.tail: Comments | None = None  # after the last top-level dependency

    def write(self, t: Any, *, project_name: str | None = None) -> None:
        """The spec's keys into the tomlkit table or document `t`."""
        import tomlkit

        spec = self.spec
        t.add(tomlkit.comment(f"converted from {Path(spec.manifest).name} by `hermetic init`"))
        if spec.name is not None and spec.name != project_name:
            t.add("name", spec.name)
        self.feature(t, spec.default_feature, top=True)
        if spec.pypi_options != PypiOptions():
            t.add("pypi-options", self.pypi_options(spec.pypi_options))
        if len(spec.features) > 1:
            feats = tomlkit.table(is_super_table=True)
            for f in spec.features[1:]:
                body = tomlkit.table()
                self.feature(body, f, top=False)
                feats.add(f.name, body)
            t.add("feature", feats)
        envs = [e for e in spec.environments if not (e.name == DEFAULT and _plain(e))]
        if envs:
            table = tomlkit.table()
            for e in envs:
                table.add(e.name, self.environment(e))
            t.add("environments", table)
        if spec.policy != Policy():
            t.add("policy", self.policy(spec.policy))
        if spec.pypi_mapping:
            m = tomlkit.table()
            for conda, pypi in spec.pypi_mapping:
                m.add(conda, pypi or False)
            t.add("pypi-mapping", m)

    # -- a feature --

    def feature(self, t: Any, f: Feature, *, top: bool) -> None:
        import tomlkit

        if f.channels or top:
            t.add("channels", self.array(self.channels(f.channels)))
        if top:
            t.add("platforms", self.array(list(self.spec.platforms)))
        elif f.platforms is not None:
            t.add("platforms", self.array(list(f.platforms)))
        if f.dependencies or top:
            deps = self.conda(f.dependencies, in_target=False)
            if top and self.tail is not None and not f.pypi_dependencies:
                write_comments(deps, self.tail)
            t.add("dependencies", deps)
        if f.pypi_dependencies:
            pdeps = tomlkit.table()
            if top and self.pypi_heading is not None:
                write_comments(pdeps, self.pypi_heading)
            self.pypi(pdeps, f.pypi_dependencies, in_target=False)
            if top and self.tail is not None:
                write_comments(pdeps, self.tail)
            t.add("pypi-dependencies", pdeps)
        if f.system_requirements != SystemRequirements():
            s = tomlkit.table()
            for k, v in vars(f.system_requirements).items():
                if v is not None:
                    s.add(k, v)
            t.add("system-requirements", s)
        if f.pypi_options is not None:
            t.add("pypi-options", self.pypi_options(f.pypi_options))
        if f.activation != Activation():
            t.add("activation", self.activation(f.activation))
        if f.tasks:
            t.add("tasks", self.tasks(f.tasks))
        if f.targets:
            targets = tomlkit.table(is_super_table=True)
            for target in f.targets:
                body = tomlkit.table()
                if target.dependencies:
                    body.add("dependencies", self.conda(target.dependencies, in_target=True))
                if target.pypi_dependencies:
                    pdeps = self.pypi(tomlkit.table(), target.pypi_dependencies, in_target=True)
                    body.add("pypi-dependencies", pdeps)
                if target.activation != Activation():
                    body.add("activation", self.activation(target.activation))
                if target.tasks:
                    body.add("tasks", self.tasks(target.tasks))
                targets.add(target.platform, body)
            t.add("target", targets)

    def conda(self, deps: tuple[CondaDependency, ...], *, in_target: bool) -> Any:
        import tomlkit

        table = tomlkit.table()
        for dep in deps:
            channel, _, version, build = split_conda_spec(dep.spec)
            value: Any
            if channel is None and build is None:
                value = tomlkit.item(version or "*")
            else:
                value = tomlkit.inline_table()
                value["version"] = version or "*"
                if build is not None:
                    value["build"] = build
                if channel is not None:
                    value["channel"] = self.path(channel)
            add(table, dep.name, value, self.comments_of(dep, in_target))
        return table

    def pypi(self, table: Any, deps: tuple[PypiDependency, ...], *, in_target: bool) -> Any:
        import tomlkit

        for dep in deps:
            parts = split_pypi_requirement(dep.requirement)
            value: Any
            if set(parts) <= {"version"}:
                value = tomlkit.item(parts.get("version") or "*")
            else:
                value = tomlkit.inline_table()
                for k in ("version", "extras", "url", "markers"):
                    if k in parts:
                        value[k] = parts[k]
                url = parts.get("url")
                if isinstance(url, str) and url.startswith("file://") and "#" not in url:
                    del value["url"]
                    value["path"] = self.path(_file_path(url))
                if dep.editable:
                    value["editable"] = True
            add(table, dep.name, value, self.comments_of(dep, in_target))
        return table

    def pypi_options(self, opts: PypiOptions) -> Any:
        import tomlkit

        o = tomlkit.table()
        if opts.index_url:
            o.add("index-url", opts.index_url)
        if opts.extra_index_urls:
            o.add("extra-index-urls", self.array(list(opts.extra_index_urls)))
        if opts.find_links:
            o.add("find-links", self.array([self.path(x) for x in opts.find_links]))
        if opts.no_build:
            o.add("no-build", True)
        if opts.no_index:
            o.add("no-index", True)
        return o

    def activation(self, act: Activation) -> Any:
        import tomlkit

        a = tomlkit.table()
        if act.env:
            e = tomlkit.inline_table()
            expand = set(act.expand)  # `{ value = ..., expand = true }` survives a rewrite
            e.update({k: {"value": v, "expand": True} if k in expand else v for k, v in act.env})
            a.add("env", e)
        if act.scripts:
            a.add("scripts", self.array(list(act.scripts)))
        return a

    def tasks(self, tasks: tuple[Task, ...]) -> Any:
        import tomlkit

        table = tomlkit.table()
        for task in tasks:
            plain = not (task.depends_on or task.cwd or task.env or task.description)
            if plain and task.cmd is not None:
                table.add(task.name, task.cmd)
                continue
            value = tomlkit.inline_table()
            if task.cmd is not None:
                value["cmd"] = task.cmd
            if task.depends_on:
                value["depends-on"] = [
                    d.task
                    if d.environment is None
                    else {"task": d.task, "environment": d.environment}
                    for d in task.depends_on
                ]
            if task.cwd is not None:
                value["cwd"] = self.path(task.cwd)
            if task.env:
                env = tomlkit.inline_table()
                env.update(dict(task.env))
                value["env"] = env
            if task.description is not None:
                value["description"] = task.description
            table.add(task.name, value)
        return table

    def environment(self, e: EnvironmentDecl) -> Any:
        import tomlkit

        if e.solve_group is None and not e.no_default_feature:
            return self.array(list(e.features))
        value = tomlkit.inline_table()
        value["features"] = list(e.features)
        if e.solve_group is not None:
            value["solve-group"] = e.solve_group
        if e.no_default_feature:
            value["no-default-feature"] = True
        return value

    def policy(self, policy: Policy) -> Any:
        import tomlkit

        table = tomlkit.table()
        default = Policy()
        for key in POLICY_ATTRS:
            value = getattr(policy, key)
            if value != getattr(default, key):
                preset = next((n for n, c in PRESETS.items() if c == value), None)
                if key == "allowed_channels" and preset is not None:
                    table.add("preset", preset)
                else:
                    table.add(
                        key.replace("_", "-"), list(value) if isinstance(value, tuple) else value
                    )
        return table

    # -- small values --

    def channels(self, channels: tuple[str, ...]) -> list[str]:
        """As the user wrote them: local paths relative, Anaconda's main and r as `defaults`."""
        out = [self.path(c) for c in channels]
        if all(c in out for c in DEFAULTS_CHANNELS):
            at = out.index(DEFAULTS_CHANNELS[0])
            out = [c for c in out if c not in DEFAULTS_CHANNELS]
            out.insert(at, "defaults")
        return out

    def path(self, text: str) -> str:
        """An absolute local path under the project, written relative to the manifest."""
        return local_to_manifest(text, self.dir)

    def array(self, items: list[str]) -> Any:
        import tomlkit

        arr = tomlkit.array()
        arr.extend(items)
        if sum(len(x) + 4 for x in items) > 80:
            arr.multiline(True)
        return arr


def _plain(e: EnvironmentDecl) -> bool:
    return not e.features and e.solve_group is None and not e.no_default_feature


def _file_path(url: str) -> str:
    from urllib.parse import unquote, urlparse

    path = unquote(urlparse(url).path)
    return os.path.normpath(path) if not is_url(path) else path


def write_comments(table: Any, comments: Comments) -> None:
    import tomlkit

    if comments.above:
        if comments.blank_before and len(table):
            table.add(tomlkit.nl())
        for line in comments.above:
            table.add(tomlkit.comment(line) if line else tomlkit.nl())


def add(table: Any, key: str, value: Any, comments: Comments | None) -> None:
    if comments is not None:
        write_comments(table, comments)
        if comments.after:
            value.comment(comments.after)
            value.trivia.comment_ws = "  "
    table.add(key, value)
