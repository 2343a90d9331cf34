"""What a feature holds, in any TOML form: channels, platforms, dependencies, system
requirements, activation, per-platform targets and tasks, and how environments list features.

hermetic's keys are pixi's, so `FeatureReader` serves both hermetic's TOML forms
(`manifest.toml_source`) and pixi's manifests (`manifest.pixi`).
"""

from __future__ import annotations

from hermetic.channel import is_url
from hermetic.errors import Location, SpecError, UsageError, did_you_mean
from hermetic.manifest.dependency_table import DependencyReader
from hermetic.manifest.fields import (
    ENV_VAR_NAME,
    NAME_RE,
    check_platform,
    describe,
    expand_channels,
    platforms_of_target,
    resolve_channel,
    resolve_path,
    sysreq_value,
)
from hermetic.manifest.model import (
    DEFAULT,
    Activation,
    EnvironmentDecl,
    Feature,
    PypiDependency,
    PypiOptions,
    Spec,
    SystemRequirements,
    Target,
)
from hermetic.manifest.task_table import read_tasks
from hermetic.manifest.toml_locator import Key
from hermetic.manifest.toml_values import Table

FEATURE_KEYS = (
    "channels",
    "platforms",
    "dependencies",
    "pypi-dependencies",
    "pypi-options",
    "system-requirements",
    "activation",
    "target",
    "tasks",
)
# The top level is the default feature plus what only the whole manifest has.
TOP_KEYS = (
    "name",
    *FEATURE_KEYS,
    "feature",
    "environments",
    "policy",
    "pypi-mapping",
    "devcontainer",  # devcontainer.json keys, read by hermetic.deploy.devcontainer
    "image",  # image build settings, read by manifest/image.py
)
TARGET_KEYS = ("dependencies", "pypi-dependencies", "activation", "tasks")
PYPI_OPTION_KEYS = ("index-url", "extra-index-urls", "find-links", "no-build", "no-index")
SYSREQ_KEYS = ("cuda", "glibc", "linux", "macos", "archspec")
ACTIVATION_KEYS = ("env", "scripts")
ENVIRONMENT_KEYS = ("features", "solve-group", "no-default-feature")


class FeatureReader(DependencyReader):
    """The keys a feature holds, and hermetic's top level around them."""

    platforms_in_scope: tuple[str, ...] = ()  # the spec's platforms, for platform-group targets

    def features(self, value: object, keys: Key = ("feature",)) -> list[Feature]:
        out = []
        for fname, body in self.table(value, keys).items():
            fkeys = (*keys, fname)
            w = self.at(*fkeys)
            if fname == DEFAULT:
                raise w.error(
                    "a feature cannot be named 'default'",
                    hint="the default feature is the top level of the spec; give this one another name",
                )
            if not NAME_RE.match(fname):
                raise w.error(
                    f"invalid feature name {fname!r}", hint="use letters, digits, '-', '_' and '.'"
                )
            out.append(self.feature_body(fname, self.table(body, fkeys), fkeys, top=False))
        return out

    def feature_keys(self, body: Table, keys: Key) -> None:
        self.known_keys(
            body,
            keys,
            FEATURE_KEYS,
            elsewhere="is only allowed at the top level",
            top_keys=TOP_KEYS,
        )

    def platforms(self, value: object, keys: Key) -> tuple[str, ...]:
        items = self.strings(value, keys)
        if not items:
            w = self.at(*keys)
            raise w.error(
                f"{w.key}: no platforms", hint='list some, e.g. ["linux-64", "osx-arm64"]'
            )
        return tuple(
            dict.fromkeys(check_platform(p, self.at(*keys, i)) for i, p in enumerate(items))
        )

    def channels(self, value: object, keys: Key) -> tuple[str, ...]:
        out = []
        self.channel_locations: dict[str, Location] = {}
        for i, item in enumerate(self.array(value, keys, "a list of strings")):
            if isinstance(item, dict):  # pixi's { channel = "…", priority = N }
                item = self.channel_table(item, (*keys, i))
            elif not isinstance(item, str):
                self.strings(value, keys)  # raises: item i is no string
            w = self.at(*keys, i)
            channel = resolve_channel(item, self.base, w)
            out.append(channel)
            for c in expand_channels([channel]):
                self.channel_locations.setdefault(c, w.location)
        return expand_channels(out)

    def channel_table(self, item: Table, keys: Key) -> str:
        self.known_keys(item, keys, ("channel", "priority"))
        if "priority" in item:
            self.note_unsupported((*keys, "priority"), "channel `priority`")
        return self.string(item.get("channel"), (*keys, "channel"), "a channel name")

    def feature_body(
        self,
        name: str,
        body: Table,
        keys: Key,
        *,
        top: bool,
        pypi_first: tuple[PypiDependency, ...] = (),
        channels_key: Key | None = None,
    ) -> Feature:
        if not top:
            self.feature_keys(body, keys)
        channels = self.channels(body.get("channels", []), channels_key or (*keys, "channels"))
        platforms = None
        if not top and "platforms" in body:
            platforms = self.platforms(body["platforms"], (*keys, "platforms"))
        deps = self.conda_deps(body.get("dependencies", {}), (*keys, "dependencies"))
        pdeps = self.pypi_deps(body.get("pypi-dependencies", {}), (*keys, "pypi-dependencies"))
        if pypi_first:
            names = {d.name for d in pdeps}
            pdeps = tuple(d for d in pypi_first if d.name not in names) + pdeps
        sysreq = (
            self.system_requirements(body["system-requirements"], (*keys, "system-requirements"))
            if "system-requirements" in body
            else SystemRequirements()
        )
        activation = (
            self.activation(body["activation"], (*keys, "activation"))
            if "activation" in body
            else Activation()
        )
        tasks = read_tasks(self, body["tasks"], (*keys, "tasks")) if "tasks" in body else ()
        return Feature(
            name=name,
            channels=channels,
            platforms=platforms,
            dependencies=deps,
            pypi_dependencies=pdeps,
            system_requirements=sysreq,
            activation=activation,
            targets=self.targets(body.get("target", {}), (*keys, "target")),
            location=self.at(*keys).location,
            tasks=tasks,
            pypi_options=None if top else self.feature_pypi_options(body, keys),
            channel_locations=tuple(
                (c, self.channel_locations[c]) for c in channels if c in self.channel_locations
            ),
        )

    def feature_pypi_options(self, body: Table, keys: Key) -> PypiOptions | None:
        """A feature's own PyPI options (an extra index for its CUDA wheels), as in pixi."""
        if "pypi-options" not in body:
            return None
        return self.pypi_options(body["pypi-options"], (*keys, "pypi-options"))

    def target_keys(self, body: Table, keys: Key) -> None:
        self.known_keys(body, keys, TARGET_KEYS)

    def targets(self, value: object, keys: Key) -> tuple[Target, ...]:
        """`[target.<platform>]` and pixi's groups `[target.linux]`, `unix`, `osx`, `win`: a
        group becomes one target per platform of the spec in it, ahead of the exact ones so a
        platform's own entry wins."""
        groups: list[Target] = []
        exact: list[Target] = []
        for plat, body in self.table(value, keys).items():
            tkeys = (*keys, plat)
            platforms = platforms_of_target(plat, self.platforms_in_scope, self.at(*tkeys))
            tbody = self.table(body, tkeys)
            self.target_keys(tbody, tkeys)
            fields = {
                "dependencies": self.conda_deps(
                    tbody.get("dependencies", {}), (*tkeys, "dependencies")
                ),
                "pypi_dependencies": self.pypi_deps(
                    tbody.get("pypi-dependencies", {}), (*tkeys, "pypi-dependencies")
                ),
                "activation": self.activation(tbody["activation"], (*tkeys, "activation"))
                if "activation" in tbody
                else Activation(),
                "tasks": read_tasks(self, tbody["tasks"], (*tkeys, "tasks"))
                if "tasks" in tbody
                else (),
            }
            made = [Target(platform=p, **fields) for p in platforms]  # type: ignore[arg-type]
            (exact if platforms == (plat,) else groups).extend(made)
        return tuple(groups + exact)

    def pypi_options(self, value: object, keys: Key) -> PypiOptions:
        table = self.table(value, keys)
        self.known_keys(table, keys, PYPI_OPTION_KEYS)
        index_url = self.optional_string(table, keys, "index-url")
        extra = self.strings(table.get("extra-index-urls", []), (*keys, "extra-index-urls"))
        links = self.find_links(table.get("find-links", []), (*keys, "find-links"))
        return PypiOptions(
            index_url=index_url,
            extra_index_urls=tuple(dict.fromkeys(extra)),
            find_links=links,
            no_build=self.boolean(table.get("no-build", False), (*keys, "no-build")),
            no_index=self.boolean(table.get("no-index", False), (*keys, "no-index")),
        )

    def find_links(self, value: object, keys: Key) -> tuple[str, ...]:
        """Strings (hermetic), or pixi's `{ path = "…" }` / `{ url = "…" }` tables."""

        out = []
        for i, item in enumerate(self.array(value, keys, "a list of strings")):
            if isinstance(item, dict):
                self.known_keys(item, (*keys, i), ("path", "url"))
                if len(item) != 1:
                    raise self.at(*keys, i).error(f"{self.at(*keys, i).key}: give path or url")
                key = next(iter(item))
                item = self.string(item[key], (*keys, i, key))
            text = self.string(item, (*keys, i))
            out.append(text if is_url(text) else resolve_path(text, self.base))
        return tuple(dict.fromkeys(out))

    def system_requirements(self, value: object, keys: Key) -> SystemRequirements:
        table = self.table(value, keys)
        self.known_keys(table, keys, SYSREQ_KEYS)
        vals = {k: sysreq_value(k, v, self.at(*keys, k)) for k, v in table.items()}
        return SystemRequirements(**vals)

    def activation(self, value: object, keys: Key) -> Activation:
        table = self.table(value, keys)
        self.known_keys(table, keys, ACTIVATION_KEYS)
        env = self.table(table.get("env", {}), (*keys, "env"), "a table of variable = value")
        values: dict[str, str] = {}
        expand: list[str] = []
        for k, v in env.items():
            if not ENV_VAR_NAME.fullmatch(k):
                w = self.at(*keys, "env", k)
                raise w.error(f"{w.key}: {k!r} is no environment variable name")
            if isinstance(v, dict):  # { value = "...", expand = true }: the shell expands it
                self.known_keys(v, (*keys, "env", k), ("value", "expand"))
                values[k] = self.string(v.get("value"), (*keys, "env", k, "value"))
                if "expand" in v and self.boolean(v["expand"], (*keys, "env", k, "expand")):
                    expand.append(k)
            else:
                what = 'a string, or { value = "...", expand = true }'
                values[k] = self.string(v, (*keys, "env", k), what)
        scripts = self.strings(table.get("scripts", []), (*keys, "scripts"))
        return Activation(
            env=tuple(values.items()), scripts=tuple(dict.fromkeys(scripts)), expand=tuple(expand)
        )

    def environment_body(
        self, name: str, body: object, k: Key
    ) -> tuple[list[str], Key, dict[str, object]]:
        """(features, key of the list, extra EnvironmentDecl fields) of one environment."""
        if isinstance(body, list):
            return self.strings(body, k), k, {}
        if not isinstance(body, dict):
            w = self.at(*k)
            raise w.error(
                f"{w.key}: expected a list of feature names or a table {{features = [...]}}, "
                f"got {describe(body)}",
                hint=f'e.g. {name} = ["gpu"]',
            )
        self.known_keys(body, k, ENVIRONMENT_KEYS)
        fk = (*k, "features")
        extra: dict[str, object] = {}
        if "solve-group" in body:
            extra["solve_group"] = self.string(body["solve-group"], (*k, "solve-group"))
        if "no-default-feature" in body:
            extra["no_default_feature"] = self.boolean(
                body["no-default-feature"], (*k, "no-default-feature")
            )
        return self.strings(body.get("features", []), fk), fk, extra

    def environments(self, value: object, features: tuple[str, ...]) -> tuple[EnvironmentDecl, ...]:
        keys: Key = ("environments",)
        table = self.table(value, keys)
        decls: dict[str, EnvironmentDecl] = {
            DEFAULT: EnvironmentDecl(DEFAULT, (), location=self.at().location)
        }
        for name, body in table.items():
            k = (*keys, name)
            w = self.at(*k)
            if not NAME_RE.match(name):
                raise w.error(
                    f"invalid environment name {name!r}",
                    hint="use letters, digits, '-', '_' and '.'",
                )
            listed, fk, extra = self.environment_body(name, body, k)
            for i, f in enumerate(listed):
                if f != DEFAULT and f not in features:
                    guess = did_you_mean(f, features)
                    known = ", ".join(features) if features else "none defined"
                    raise self.at(*fk, i).error(
                        f"environment {name!r} uses unknown feature {f!r}",
                        hint=(f"did you mean {guess!r}? " if guess else "") + f"features: {known}",
                    )
            feats = tuple(dict.fromkeys(f for f in listed if f != DEFAULT))
            decls[name] = EnvironmentDecl(name, feats, location=w.location, **extra)  # type: ignore[arg-type]
        return tuple(decls.values())

    def pypi_mapping(self, value: object) -> tuple[tuple[str, str], ...]:
        from packaging.utils import canonicalize_name

        keys: Key = ("pypi-mapping",)
        table = self.table(value, keys, "a table of conda name = PyPI name (or false)")
        out: dict[str, str] = {}
        for k, v in table.items():
            w = self.at(*keys, k)
            if v is False:
                out[k.lower()] = ""
            elif isinstance(v, str) and v.strip():
                out[k.lower()] = canonicalize_name(v.strip())
            else:
                raise w.error(
                    f"{w.key}: expected a PyPI distribution name, or false for a conda package "
                    f"that is no Python distribution; got {describe(v)}"
                )
        return tuple(out.items())


def check_environments(spec: Spec) -> None:
    """Every environment composes: its features' platforms leave some platform."""
    for env in spec.environment_names:
        try:
            spec.environment(env)
        except SpecError:
            raise
        except UsageError as exc:
            raise SpecError(exc.message, location=exc.location, hint=exc.hint) from None
