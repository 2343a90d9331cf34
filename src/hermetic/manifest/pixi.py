"""Reading pixi's manifests as they are: `pixi.toml`, or a pyproject.toml with `[tool.pixi]`.

hermetic's keys are pixi's, so the features, targets, tasks and dependency tables go through
the same `FeatureReader` as hermetic's own TOML. What differs is the top level: pixi keeps
`channels` and `platforms` in `[workspace]` (or the older `[project]`), environments carry
`solve-group` and `no-default-feature`, and in a pyproject the PEP 621 `[project]` adds
`dependencies`, `requires-python` (the conda `python` unless `dependencies` names one) and, as
pixi does, `[dependency-groups]` and `optional-dependencies` become features.

pixi keys that do not change what gets installed but that hermetic does not support yet
(`host-dependencies`, task `inputs`, a channel's `priority`, …) are named in one warning.
Keys that would change what gets installed (`channel-priority = "disabled"`, `exclude-newer`,
`dependency-overrides`) are errors that say so. `[tool.hermetic.policy]` and
`[tool.hermetic.pypi-mapping]` give hermetic's own settings in a pixi manifest.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from hermetic.errors import Location, SpecError
from hermetic.manifest.feature_table import (
    FEATURE_KEYS,
    TARGET_KEYS,
    FeatureReader,
    check_environments,
)
from hermetic.manifest.fields import (
    describe,
    parse_toml,
    read_text,
    sysreq_value,
)
from hermetic.manifest.model import (
    DEFAULT,
    Feature,
    Policy,
    PypiDependency,
    PypiOptions,
    Spec,
    SystemRequirements,
)
from hermetic.manifest.policy_table import read_policy
from hermetic.manifest.requirements import conda_from_parts, pypi_from_string
from hermetic.manifest.toml_locator import Key
from hermetic.manifest.toml_values import Table

ROOTS = ("workspace", "project")
# pixi's top level is its default feature, the workspace table, and the tables beside them
TOP_KEYS = (
    *ROOTS,
    *(k for k in FEATURE_KEYS if k not in ("channels", "platforms")),
    *("pypi-options", "feature", "environments", "tool"),
)
TOP_FOREIGN = ("host-dependencies", "build-dependencies", "package", "constraints")
WORKSPACE_KEYS = ("name", "channels", "platforms", "pypi-options", "channel-priority")
# about the project, not its environments: read past without a word
WORKSPACE_INFO = (
    "version",
    "description",
    "authors",
    "license",
    "license-file",
    "readme",
    "homepage",
    "repository",
    "documentation",
    "requires-pixi",
    "preview",
)
WORKSPACE_FOREIGN = (
    "conda-pypi-map",
    "build-variants",
    "build-variants-files",
    "solve-strategy",
    "target",
    "s3-options",
)
PIXI_FEATURE_KEYS = (*FEATURE_KEYS, "channel-priority")
FEATURE_FOREIGN = ("host-dependencies", "build-dependencies")
PYPI_OPTION_KEYS = ("index-url", "extra-index-urls", "find-links", "no-build")
PYPI_OPTION_FOREIGN = ("no-build-isolation", "index-strategy", "prerelease-mode", "no-binary")
SYSREQ_KEYS = ("cuda", "libc", "linux", "macos", "archspec", "unix")
ENV_NAME = re.compile(r"^[a-z\d\-]+$")


def read_pixi_manifest(path: Path, text: str | None = None) -> Spec:
    """Read a pixi.toml, or a pyproject.toml's `[tool.pixi]`, into a validated Spec."""
    path = Path(path)
    if text is None:
        text = read_text(path)
    data = parse_toml(text, str(path))
    if path.name == "pyproject.toml":
        tool = data.get("tool")
        if not isinstance(tool, dict) or not isinstance(tool.get("pixi"), dict):
            raise SpecError(f"{path.name} has no [tool.pixi] table", location=Location(str(path)))
        reader = PixiReader(path, text, ("tool", "pixi"))
        project = data.get("project")
        return reader.read_pixi(
            tool["pixi"], data, project=project if isinstance(project, dict) else None
        )
    return PixiReader(path, text, ()).read_pixi(data, data, project=None)


class PixiReader(FeatureReader):
    tool = "pixi"

    def read_pixi(self, root: Table, document: Table, *, project: Table | None) -> Spec:
        root = self.table(root, ())
        self.known_keys(root, (), TOP_KEYS, foreign=TOP_FOREIGN)
        roots = [k for k in ROOTS if k in root]
        if len(roots) > 1:
            raise self.at("project").error(
                "give [workspace] or [project], not both",
                hint="[project] is pixi's older name for [workspace]",
            )
        if not roots and project is None:
            raise self.at().error(
                "no [workspace] table", hint="pixi needs one: [workspace] channels = [...]"
            )
        ws_key = roots[0] if roots else None
        ws = self.table(root[ws_key], (ws_key,)) if ws_key else {}
        wk: Key = (ws_key,) if ws_key else ()
        if "exclude-newer" in ws:
            raise self.at(*wk, "exclude-newer").error(
                "pixi's 'exclude-newer' is not supported: hermetic would lock newer packages",
                hint="remove exclude-newer, or pin the versions you need in the dependencies",
            )
        self.known_keys(ws, wk, WORKSPACE_KEYS + WORKSPACE_INFO, foreign=WORKSPACE_FOREIGN)
        self.channel_priority(ws, wk)
        name = self.optional_string(ws, wk, "name")
        if name is None and project is not None and isinstance(project.get("name"), str):
            name = project["name"]
        if "channels" not in ws:
            raise self.at(*wk).error(
                f"{self.table_name(wk)} has no channels",
                hint='pixi needs them, e.g. channels = ["conda-forge"]',
            )
        if "platforms" not in ws:
            raise self.at(*wk).error(
                f"{self.table_name(wk)} has no platforms",
                hint='pixi needs them, e.g. platforms = ["linux-64", "osx-arm64"]',
            )
        self.platforms_in_scope = self.platforms(ws["platforms"], (*wk, "platforms"))
        body = dict(root)
        body["channels"] = ws["channels"]
        channels_key = (*wk, "channels")
        default = self.feature_body(
            DEFAULT,
            body,
            (),
            top=True,
            pypi_first=self.pyproject_dependencies(project),
            channels_key=channels_key,
        )
        if project is not None:
            default = self.requires_python(default, project)
        options = PypiOptions()
        for where in (("pypi-options",), (*wk, "pypi-options")):
            if where[-1] in (root if len(where) == 1 else ws):
                table = root["pypi-options"] if len(where) == 1 else ws["pypi-options"]
                options = options.merged(self.pypi_options(table, where))
        features = [default, *self.features(root.get("feature", {}))]
        features += self.pyproject_groups(document, project, {f.name for f in features})
        environments = self.environments(
            root.get("environments", {}), tuple(f.name for f in features[1:])
        )
        policy, mapping = self.hermetic_settings(document)
        spec = Spec(
            manifest=self.path,
            kind="pixi",
            name=name,
            platforms=self.platforms_in_scope,
            pypi_options=options,
            features=tuple(features),
            environments=environments,
            policy=policy,
            pypi_mapping=mapping,
            warnings=self.unsupported_warning(),
        )
        check_environments(spec)
        return spec

    # -- what differs from hermetic's keys --

    def feature_keys(self, body: Table, keys: Key) -> None:
        self.known_keys(body, keys, PIXI_FEATURE_KEYS, foreign=FEATURE_FOREIGN)
        self.channel_priority(body, keys)

    def target_keys(self, body: Table, keys: Key) -> None:
        self.known_keys(body, keys, TARGET_KEYS, foreign=FEATURE_FOREIGN)

    def channel_priority(self, table: Table, keys: Key) -> None:
        if "channel-priority" not in table:
            return
        value = table["channel-priority"]
        if value != "strict":
            w = self.at(*keys, "channel-priority")
            raise w.error(
                f"{w.key}: hermetic solves with strict channel priority only, not {value!r}",
                hint='remove it (or set "strict"); list the channel a package must come from '
                'in its dependency: pkg = { version = "*", channel = "…" }',
            )

    def pypi_options(self, value: object, keys: Key) -> PypiOptions:
        table = self.table(value, keys)
        self.known_keys(
            table,
            keys,
            PYPI_OPTION_KEYS,
            foreign=(*PYPI_OPTION_FOREIGN, "dependency-overrides"),
        )
        if "dependency-overrides" in table:
            w = self.at(*keys, "dependency-overrides")
            raise w.error(
                f"pixi's {w.key} is not supported: it changes what gets installed",
                hint="pin the versions in pypi-dependencies instead",
            )
        no_build = table.get("no-build", False)
        if isinstance(no_build, list):
            self.note_unsupported((*keys, "no-build"), "`no-build` for single packages")
            no_build = False
        return PypiOptions(
            index_url=self.optional_string(table, keys, "index-url"),
            extra_index_urls=tuple(
                dict.fromkeys(
                    self.strings(table.get("extra-index-urls", []), (*keys, "extra-index-urls"))
                )
            ),
            find_links=self.find_links(table.get("find-links", []), (*keys, "find-links")),
            no_build=self.boolean(no_build, (*keys, "no-build")),
        )

    def system_requirements(self, value: object, keys: Key) -> SystemRequirements:
        table = self.table(value, keys)
        self.known_keys(table, keys, SYSREQ_KEYS)
        vals: dict[str, str] = {}
        for k, v in table.items():
            w = self.at(*keys, k)
            if k == "unix":
                continue  # pixi's marker that the project runs on unix: nothing to solve for
            if k == "libc":
                glibc = self.libc(v, (*keys, k))
                if glibc is not None:
                    vals["glibc"] = glibc
                continue
            if isinstance(v, float):  # pixi reads numbers; so does the user who wrote them
                v = repr(v)
            vals[k] = sysreq_value(k, v, w)
        return SystemRequirements(**vals)

    def libc(self, value: object, keys: Key) -> str | None:
        w = self.at(*keys)
        family = "glibc"
        if isinstance(value, dict):
            self.known_keys(value, keys, ("family", "version"))
            family = self.optional_string(value, keys, "family") or "glibc"
            value = value.get("version")
        if isinstance(value, float):
            value = repr(value)
        if family != "glibc":
            self.note_unsupported(keys, f"`[{w.key}]` family {family!r}")
            return None
        return sysreq_value("glibc", value, w)

    def environment_body(
        self, name: str, body: object, k: Key
    ) -> tuple[list[str], Key, dict[str, object]]:
        if not ENV_NAME.match(name):
            raise self.at(*k).error(
                f"invalid environment name {name!r}",
                hint="pixi's environment names have lowercase letters, digits and '-'",
            )
        return super().environment_body(name, body, k)

    # -- pyproject.toml: [project] and [dependency-groups] --

    def pyproject_dependencies(self, project: Table | None) -> tuple[PypiDependency, ...]:
        if project is None or "dependencies" not in project:
            return ()
        return self.project_dependencies(project["dependencies"])

    def requires_python(self, default: Feature, project: Table) -> Feature:
        """`requires-python` is the conda python of the default feature unless it names one."""
        if "requires-python" not in project:
            return default
        keys: Key = ("project", "requires-python")
        spec = self.string(project["requires-python"], keys, "a version specifier")
        if any(d.name == "python" for d in default.dependencies):
            return default
        w = self.at(*keys, absolute=True)
        dep = conda_from_parts("python", spec, None, None, w, self.base)
        return _replace(default, dependencies=(*default.dependencies, dep))

    def pyproject_groups(
        self, document: Table, project: Table | None, taken: set[str]
    ) -> list[Feature]:
        """`[dependency-groups]` and `[project.optional-dependencies]` as features, as in pixi."""
        if project is None:
            return []
        out: list[Feature] = []
        sources: list[tuple[Key, object]] = [
            (("project", "optional-dependencies"), project.get("optional-dependencies")),
            (("dependency-groups",), document.get("dependency-groups")),
        ]
        for keys, tables in sources:
            if tables is None:
                continue
            groups = _check_table(self, tables, keys)
            for group in groups:
                fname = re.sub(r"[-_.]+", "-", group).lower()
                if fname in taken:
                    continue  # a [tool.pixi.feature.<name>] of the same name is the one
                deps = self.group_requirements(groups, group, keys, seen=())
                taken.add(fname)
                out.append(
                    Feature(
                        name=fname,
                        pypi_dependencies=deps,
                        location=self.at(*keys, group, absolute=True).location,
                    )
                )
        return out

    def group_requirements(
        self, groups: Table, group: str, keys: Key, seen: tuple[str, ...]
    ) -> tuple[PypiDependency, ...]:
        gk = (*keys, group)
        w = self.at(*gk, absolute=True)
        if group in seen:
            raise w.error(f"{w.key}: includes itself through {' -> '.join(seen)}")
        if group not in groups:
            raise w.error(f"{w.key}: no such dependency group")
        items = groups[group]
        if not isinstance(items, list):
            raise w.error(f"{w.key}: expected a list of requirements, got {describe(items)}")
        out: dict[str, PypiDependency] = {}
        for i, item in enumerate(items):
            iw = self.at(*gk, i, absolute=True)
            if isinstance(item, dict) and set(item) == {"include-group"}:
                for d in self.group_requirements(
                    groups, str(item["include-group"]), keys, (*seen, group)
                ):
                    out[d.name] = d
            elif isinstance(item, str):
                dep = dataclasses.replace(pypi_from_string(item, iw), from_package_metadata=True)
                out[dep.name] = dep
            else:
                raise iw.error(
                    f"{iw.key}: expected a requirement string or {{include-group = …}}, "
                    f"got {describe(item)}"
                )
        return tuple(out.values())

    def hermetic_settings(self, document: Table) -> tuple[Policy, tuple[tuple[str, str], ...]]:
        """`[tool.hermetic.policy]` and `[tool.hermetic.pypi-mapping]` beside pixi's keys."""
        tool = document.get("tool")
        ours = tool.get("hermetic") if isinstance(tool, dict) else None
        if ours is None:
            return Policy(), ()
        keys: Key = ("tool", "hermetic")
        saved = self.prefix
        self.prefix = keys
        try:
            table = self.table(ours, ())
            self.known_keys(table, (), ("policy", "pypi-mapping"))
            policy = (
                read_policy(self, table["policy"], ("policy",)) if "policy" in table else Policy()
            )
            mapping = self.pypi_mapping(table["pypi-mapping"]) if "pypi-mapping" in table else ()
        finally:
            self.prefix = saved
        return policy, mapping


def _check_table(reader: PixiReader, value: object, keys: Key) -> Table:
    if not isinstance(value, dict):
        w = reader.at(*keys, absolute=True)
        raise w.error(f"{w.key}: expected a table, got {describe(value)}")
    return value


def _replace(feature: Feature, **changes: object) -> Feature:
    import dataclasses

    return dataclasses.replace(feature, **changes)  # type: ignore[arg-type]
