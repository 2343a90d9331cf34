"""Reading a TOML spec: `[tool.hermetic]` in pyproject.toml, or the same keys in hermetic.toml.

tomllib gives values without lines, so `TomlLocator` scans the text once and records the
line of every key path (table headers, dotted keys, inline tables, array items). Every error
names the file and the line of the key it is about.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

from hermetic.errors import Location, SpecError, UsageError, did_you_mean
from hermetic.manifest.load import (
    PYPROJECT,
    Where,
    check_platform,
    conda_from_parts,
    default_platforms,
    describe,
    pypi_from_parts,
    pypi_from_string,
    read_text,
    resolve_channel,
    resolve_path,
    toml_loads,
)
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
    Target,
)

Key = tuple  # of str (table keys) and int (array indexes)

TOP_KEYS = (
    "name",
    "channels",
    "platforms",
    "dependencies",
    "pypi-dependencies",
    "pypi-options",
    "system-requirements",
    "activation",
    "target",
    "feature",
    "environments",
    "policy",
    "pypi-mapping",
    "devcontainer",  # devcontainer.json keys, read by hermetic.deploy.devcontainer
)
FEATURE_KEYS = (
    "channels",
    "platforms",
    "dependencies",
    "pypi-dependencies",
    "system-requirements",
    "activation",
    "target",
)
TARGET_KEYS = ("dependencies", "pypi-dependencies", "activation")
CONDA_TABLE_KEYS = ("version", "build", "channel")
PYPI_TABLE_KEYS = ("version", "extras", "url", "path", "markers")
PYPI_OPTION_KEYS = ("index-url", "extra-index-urls", "find-links", "no-build", "no-index")
SYSREQ_KEYS = ("cuda", "glibc", "linux", "macos", "archspec")
ACTIVATION_KEYS = ("env", "scripts")
ENVIRONMENT_KEYS = ("features",)
POLICY_KEYS = {
    "allowed-channels": "list",
    "forbidden-channels": "list",
    "strict-channel-priority": "bool",
    "require-python-pin": "bool",
    "allow-conda-pypi-duplicates": "bool",
    "warn-bundled-native-libs": "bool",
    "ignore": "list",
}
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def read_toml_manifest(
    path: Path, text: str | None = None, *, project_dependencies: bool = True
) -> Spec:
    """Read a pyproject.toml or hermetic.toml into a validated Spec.

    A `.toml` file other than pyproject.toml is in the hermetic.toml form (keys at top level)
    unless all it has is a `[tool.hermetic]` table. With `project_dependencies=False` the
    PEP 621 `project.dependencies` of a pyproject are left out (`hermetic init` compares with it).
    """
    path = Path(path)
    if text is None:
        text = read_text(path)
    data = parse_toml(text, str(path))
    tool = data.get("tool")
    in_tool = isinstance(tool, dict) and "hermetic" in tool
    if path.name == PYPROJECT or (in_tool and not set(data) - {"tool", "project"}):
        if not in_tool:
            raise SpecError(
                f"{path.name} has no [tool.hermetic] table",
                location=Location(str(path)),
                hint="add one, or create it from a conda file: `hermetic init --from environment.yml`",
            )
        reader = _Reader(path, text, ("tool", "hermetic"))
        project = data.get("project")
        return reader.read(
            data["tool"]["hermetic"],
            kind="pyproject",
            project=project if isinstance(project, dict) else None,
            project_dependencies=project_dependencies,
        )
    return _Reader(path, text, ()).read(data, kind="hermetic-toml", project=None)


def parse_toml(text: str, display: str) -> dict:
    """tomllib's parse, its syntax errors turned into a SpecError at file:line."""
    try:
        return toml_loads(text)
    except ValueError as exc:  # tomllib.TOMLDecodeError is a ValueError
        msg = str(exc)
        m = re.search(r"\s*\(at line (\d+), column (\d+)\)", msg)
        line = int(m.group(1)) if m else None
        if m:
            msg = msg[: m.start()] + msg[m.end() :]
        msg = msg.replace(" (at end of document)", "").strip()
        raise SpecError(
            f"invalid TOML: {msg}",
            location=Location(display, line),
            hint="see https://toml.io for the syntax",
        ) from None


# ---- the locator ----


class TomlLocator:
    """The line of each key path in a TOML text, for messages: `line(("tool", "hermetic"))`.

    It scans text tomllib has already accepted, so it only has to be right on valid TOML.
    """

    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.lineno = 1
        self.lines: dict[Key, int] = {}
        self._aot: dict[Key, int] = {}
        # an end of text the scanner did not expect: keep what it found
        with contextlib.suppress(IndexError, ValueError):
            self._document()

    def line(self, key: Key) -> int | None:
        """The line of `key`, or of its nearest enclosing table when it has none of its own."""
        key = tuple(key)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return None

    # -- scanning --

    def _peek(self, n: int = 1) -> str:
        return self.text[self.pos : self.pos + n]

    def _advance(self, n: int = 1) -> None:
        chunk = self.text[self.pos : self.pos + n]
        self.lineno += chunk.count("\n")
        self.pos += n

    def _record(self, key: Key, line: int) -> None:
        self.lines.setdefault(key, line)

    def _skip_space(self, newlines: bool) -> None:
        while self.pos < len(self.text):
            c = self.text[self.pos]
            if c in " \t\r" or (newlines and c == "\n"):
                self._advance()
            elif c == "#":
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end
            else:
                return

    def _document(self) -> None:
        current: Key = ()
        while True:
            self._skip_space(newlines=True)
            if self.pos >= len(self.text):
                return
            line = self.lineno
            if self._peek(2) == "[[":
                self._advance(2)
                key = self._key()
                self._skip_space(newlines=False)
                self._advance(2)  # ]]
                index = self._aot.get(key, -1) + 1
                self._aot[key] = index
                self._record(key, line)
                current = (*key, index)
                self._record(current, line)
            elif self._peek() == "[":
                self._advance()
                current = self._key()
                self._skip_space(newlines=False)
                self._advance()  # ]
                for i in range(1, len(current) + 1):
                    self._record(current[:i], line)
            else:
                start = self.pos
                key = self._key()
                self._skip_space(newlines=False)
                if self._peek() != "=":  # not a key/value: skip the line
                    if self.pos == start:
                        self._advance()
                    continue
                self._advance()
                for i in range(1, len(key) + 1):
                    self._record((*current, *key[:i]), line)
                self._skip_space(newlines=False)
                self._value((*current, *key))

    def _key(self) -> Key:
        parts: list[str] = []
        while True:
            self._skip_space(newlines=False)
            c = self._peek()
            if c == '"':
                parts.append(self._basic_string())
            elif c == "'":
                parts.append(self._literal_string())
            else:
                m = re.compile(r"[A-Za-z0-9_-]+").match(self.text, self.pos)
                if not m:
                    return tuple(parts)
                parts.append(m.group(0))
                self._advance(m.end() - self.pos)
            self._skip_space(newlines=False)
            if self._peek() == ".":
                self._advance()
                continue
            return tuple(parts)

    def _basic_string(self) -> str:
        if self._peek(3) == '"""':
            self._advance(3)
            end = self.pos
            while True:
                end = self.text.index('"""', end)
                backslashes = len(self.text[:end]) - len(self.text[:end].rstrip("\\"))
                if backslashes % 2 == 0:
                    break
                end += 1
            while self.text[end + 3 : end + 4] == '"':  # up to two quotes end the content
                end += 1
            value = self.text[self.pos : end]
            self._advance(end + 3 - self.pos)
            return value
        self._advance()
        out = []
        while self._peek() != '"':
            if self._peek() == "\\":
                out.append(self._peek(2))
                self._advance(2)
            else:
                out.append(self._peek())
                self._advance()
        self._advance()
        raw = "".join(out)
        try:
            return raw.encode("latin-1", "backslashreplace").decode("unicode_escape")
        except UnicodeDecodeError:
            return raw

    def _literal_string(self) -> str:
        if self._peek(3) == "'''":
            self._advance(3)
            end = self.text.index("'''", self.pos)
            while self.text[end + 3 : end + 4] == "'":
                end += 1
            value = self.text[self.pos : end]
            self._advance(end + 3 - self.pos)
            return value
        self._advance()
        end = self.text.index("'", self.pos)
        value = self.text[self.pos : end]
        self._advance(end + 1 - self.pos)
        return value

    def _value(self, key: Key) -> None:
        c = self._peek()
        if c == '"':
            self._basic_string()
        elif c == "'":
            self._literal_string()
        elif c == "[":
            self._advance()
            index = 0
            while True:
                self._skip_space(newlines=True)
                if self._peek() in ("]", ""):
                    self._advance()
                    return
                self._record((*key, index), self.lineno)
                self._value((*key, index))
                index += 1
                self._skip_space(newlines=True)
                if self._peek() == ",":
                    self._advance()
        elif c == "{":
            self._advance()
            while True:
                self._skip_space(newlines=True)
                if self._peek() in ("}", ""):
                    self._advance()
                    return
                line = self.lineno
                sub = self._key()
                self._skip_space(newlines=False)
                self._advance()  # =
                for i in range(1, len(sub) + 1):
                    self._record((*key, *sub[:i]), line)
                self._skip_space(newlines=False)
                self._value((*key, *sub))
                self._skip_space(newlines=True)
                if self._peek() == ",":
                    self._advance()
        else:
            m = re.compile(r"[^,\]}\s#]+(?:[ T][0-9:.+\-Z]+)?").match(self.text, self.pos)
            self._advance(max(1, m.end() - self.pos) if m else 1)


# ---- the reader ----


def _fmt_key(keys: Key) -> str:
    out = ""
    for k in keys:
        if isinstance(k, int):
            out += f"[{k}]"
        else:
            part = k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else f'"{k}"'
            out += ("." if out else "") + part
    return out


class _Reader:
    def __init__(self, path: Path, text: str, prefix: Key):
        self.path = str(path)
        self.base = Path(path).absolute().parent
        self.locator = TomlLocator(text)
        self.prefix = prefix

    # -- places and errors --

    def at(self, *keys: str | int, absolute: bool = False) -> Where:
        full = tuple(keys) if absolute else (*self.prefix, *keys)
        return Where(self.path, self.locator.line(full), _fmt_key(full) or "(top level)")

    def table(self, value: object, keys: Key, what: str = "a table") -> dict:
        if not isinstance(value, dict):
            w = self.at(*keys)
            raise w.error(f"{w.key}: expected {what}, got {describe(value)}")
        return value

    def string(self, value: object, keys: Key, what: str = "a string") -> str:
        if not isinstance(value, str):
            w = self.at(*keys)
            raise w.error(f"{w.key}: expected {what}, got {describe(value)}")
        return value

    def boolean(self, value: object, keys: Key) -> bool:
        if not isinstance(value, bool):
            w = self.at(*keys)
            raise w.error(f"{w.key}: expected true or false, got {describe(value)}")
        return value

    def strings(self, value: object, keys: Key) -> list[str]:
        if not isinstance(value, list):
            w = self.at(*keys)
            raise w.error(f"{w.key}: expected a list of strings, got {describe(value)}")
        for i, item in enumerate(value):
            if not isinstance(item, str):
                w = self.at(*keys, i)
                raise w.error(
                    f"{_fmt_key((*self.prefix, *keys))}: expected a list of strings, "
                    f"item {i + 1} is {describe(item)}"
                )
        return value

    def known_keys(
        self, table: dict, keys: Key, allowed: tuple[str, ...] | dict, elsewhere: str = ""
    ) -> None:
        for k in table:
            if k in allowed:
                continue
            w = self.at(*keys, k)
            where = (
                f"[{_fmt_key((*self.prefix, *keys))}]" if (self.prefix or keys) else "the top level"
            )
            guess = did_you_mean(k, tuple(allowed))
            hint = f"did you mean {guess!r}? " if guess else ""
            if elsewhere and k in TOP_KEYS:
                hint += f"{k!r} {elsewhere}; "
            hint += "known keys: " + ", ".join(allowed)
            raise w.error(f"unknown key {k!r} in {where}", hint=hint)

    # -- the whole spec --

    def read(
        self,
        root: dict,
        *,
        kind: str,
        project: dict | None,
        project_dependencies: bool = True,
    ) -> Spec:
        root = self.table(root, ())
        self.known_keys(root, (), TOP_KEYS)
        name = None
        if "name" in root:
            name = self.string(root["name"], ("name",))
        elif project is not None and isinstance(project.get("name"), str):
            name = project["name"]

        platforms = (
            self.platforms(root["platforms"], ("platforms",))
            if "platforms" in root
            else default_platforms()
        )
        pypi_extra: tuple[PypiDependency, ...] = ()
        if project is not None and project_dependencies and "dependencies" in project:
            pypi_extra = self.project_dependencies(project["dependencies"])
        default = self.feature_body(DEFAULT, root, (), top=True, pypi_first=pypi_extra)
        pypi_options = (
            self.pypi_options(root["pypi-options"], ("pypi-options",))
            if "pypi-options" in root
            else PypiOptions()
        )
        features = [default]
        feats = self.table(root.get("feature", {}), ("feature",))
        for fname, body in feats.items():
            keys = ("feature", fname)
            w = self.at(*keys)
            if fname == DEFAULT:
                raise w.error(
                    "a feature cannot be named 'default'",
                    hint="the default feature is the top level of the spec; give this one another name",
                )
            if not NAME_RE.match(fname):
                raise w.error(
                    f"invalid feature name {fname!r}",
                    hint="use letters, digits, '-', '_' and '.'",
                )
            features.append(self.feature_body(fname, self.table(body, keys), keys, top=False))

        environments = self.environments(
            root.get("environments", {}), tuple(f.name for f in features[1:])
        )
        policy = self.policy(root["policy"]) if "policy" in root else Policy()
        mapping = self.pypi_mapping(root["pypi-mapping"]) if "pypi-mapping" in root else ()
        spec = Spec(
            manifest=self.path,
            kind=kind,
            name=name,
            platforms=platforms,
            pypi_options=pypi_options,
            features=tuple(features),
            environments=environments,
            policy=policy,
            pypi_mapping=mapping,
        )
        for env in spec.environment_names:  # features' platforms must leave some platform
            try:
                spec.environment(env)
            except SpecError:
                raise
            except UsageError as exc:
                raise SpecError(exc.message, location=exc.location, hint=exc.hint) from None
        return spec

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
        items = self.strings(value, keys)
        return tuple(
            dict.fromkeys(
                resolve_channel(c, self.base, self.at(*keys, i)) for i, c in enumerate(items)
            )
        )

    def feature_body(
        self,
        name: str,
        body: dict,
        keys: Key,
        *,
        top: bool,
        pypi_first: tuple[PypiDependency, ...] = (),
    ) -> Feature:
        if not top:
            self.known_keys(body, keys, FEATURE_KEYS, elsewhere="is only allowed at the top level")
        channels = self.channels(body.get("channels", []), (*keys, "channels"))
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
        targets = []
        for plat, tbody in self.table(body.get("target", {}), (*keys, "target")).items():
            tkeys = (*keys, "target", plat)
            check_platform(plat, self.at(*tkeys))
            tbody = self.table(tbody, tkeys)
            self.known_keys(tbody, tkeys, TARGET_KEYS)
            targets.append(
                Target(
                    platform=plat,
                    dependencies=self.conda_deps(
                        tbody.get("dependencies", {}), (*tkeys, "dependencies")
                    ),
                    pypi_dependencies=self.pypi_deps(
                        tbody.get("pypi-dependencies", {}), (*tkeys, "pypi-dependencies")
                    ),
                    activation=self.activation(tbody["activation"], (*tkeys, "activation"))
                    if "activation" in tbody
                    else Activation(),
                )
            )
        return Feature(
            name=name,
            channels=channels,
            platforms=platforms,
            dependencies=deps,
            pypi_dependencies=pdeps,
            system_requirements=sysreq,
            activation=activation,
            targets=tuple(targets),
            location=self.at(*keys).location,
        )

    def conda_deps(self, value: object, keys: Key) -> tuple[CondaDependency, ...]:
        table = self.table(value, keys, "a table of conda package names and version specs")
        out: dict[str, CondaDependency] = {}
        for name, spec in table.items():
            k = (*keys, name)
            w = self.at(*k)
            if isinstance(spec, str):
                dep = conda_from_parts(name, spec, None, None, w, self.base)
            elif isinstance(spec, dict):
                self.known_keys(spec, k, CONDA_TABLE_KEYS)
                parts = {
                    key: self.string(spec[key], (*k, key)) if key in spec else None
                    for key in CONDA_TABLE_KEYS
                }
                dep = conda_from_parts(
                    name, parts["version"], parts["build"], parts["channel"], w, self.base
                )
            else:
                raise w.error(
                    f"{w.key}: expected a version spec string or a table "
                    f"{{version, build, channel}}, got {describe(spec)}",
                    hint=f'e.g. {name} = ">=1.2" or {name} = {{ version = "1.2.*", channel = "conda-forge" }}',
                )
            if dep.name in out:
                raise w.error(f"{w.key}: {dep.name!r} is listed twice (names are case-insensitive)")
            out[dep.name] = dep
        return tuple(out.values())

    def pypi_deps(self, value: object, keys: Key) -> tuple[PypiDependency, ...]:
        table = self.table(value, keys, "a table of PyPI names and requirement specs")
        out: dict[str, PypiDependency] = {}
        for name, spec in table.items():
            k = (*keys, name)
            w = self.at(*k)
            if isinstance(spec, str):
                dep = pypi_from_parts(name, w, self.base, version=spec)
            elif isinstance(spec, dict):
                self.known_keys(spec, k, PYPI_TABLE_KEYS)
                if "editable" in spec:
                    raise w.error(f"{w.key}: editable installs are not supported")
                strs = {
                    key: self.string(spec[key], (*k, key))
                    for key in ("version", "url", "path", "markers")
                    if key in spec
                }
                extras = self.strings(spec["extras"], (*k, "extras")) if "extras" in spec else []
                dep = pypi_from_parts(name, w, self.base, extras=extras, **strs)
            else:
                raise w.error(
                    f"{w.key}: expected a requirement spec string or a table "
                    f"{{version, extras, url, path, markers}}, got {describe(spec)}",
                    hint=f'e.g. {name} = ">=2.3" or {name} = {{ version = ">=2.3", extras = ["cli"] }}',
                )
            if dep.name in out:
                raise w.error(f"{w.key}: {dep.name!r} is listed twice (names are normalized)")
            out[dep.name] = dep
        return tuple(out.values())

    def project_dependencies(self, value: object) -> tuple[PypiDependency, ...]:
        keys = ("project", "dependencies")
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            w = self.at(*keys, absolute=True)
            raise w.error(f"{w.key}: expected a list of strings, got {describe(value)}")
        out: dict[str, PypiDependency] = {}
        for i, line in enumerate(value):
            dep = pypi_from_string(line, self.at(*keys, i, absolute=True))
            out.pop(dep.name, None)
            out[dep.name] = dep
        return tuple(out.values())

    def pypi_options(self, value: object, keys: Key) -> PypiOptions:
        table = self.table(value, keys)
        self.known_keys(table, keys, PYPI_OPTION_KEYS)
        index_url = (
            self.string(table["index-url"], (*keys, "index-url")) if "index-url" in table else None
        )
        extra = self.strings(table.get("extra-index-urls", []), (*keys, "extra-index-urls"))
        links = self.strings(table.get("find-links", []), (*keys, "find-links"))
        return PypiOptions(
            index_url=index_url,
            extra_index_urls=tuple(dict.fromkeys(extra)),
            find_links=tuple(dict.fromkeys(_link(x, self.base) for x in links)),
            no_build=self.boolean(table.get("no-build", False), (*keys, "no-build")),
            no_index=self.boolean(table.get("no-index", False), (*keys, "no-index")),
        )

    def system_requirements(self, value: object, keys: Key) -> SystemRequirements:
        table = self.table(value, keys)
        self.known_keys(table, keys, SYSREQ_KEYS)
        vals: dict[str, str] = {}
        for k, v in table.items():
            w = self.at(*keys, k)
            vals[k] = sysreq_value(k, v, w)
        return SystemRequirements(**vals)

    def activation(self, value: object, keys: Key) -> Activation:
        table = self.table(value, keys)
        self.known_keys(table, keys, ACTIVATION_KEYS)
        env = self.table(table.get("env", {}), (*keys, "env"), "a table of variable = value")
        for k, v in env.items():
            self.string(v, (*keys, "env", k))
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k):
                w = self.at(*keys, "env", k)
                raise w.error(f"{w.key}: {k!r} is no environment variable name")
        scripts = self.strings(table.get("scripts", []), (*keys, "scripts"))
        return Activation(env=tuple(env.items()), scripts=tuple(dict.fromkeys(scripts)))

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
            if isinstance(body, dict):
                self.known_keys(body, k, ENVIRONMENT_KEYS)
                fk = (*k, "features")
                listed = self.strings(body.get("features", []), fk)
            elif isinstance(body, list):
                fk = k
                listed = self.strings(body, k)
            else:
                raise w.error(
                    f"{w.key}: expected a list of feature names or a table {{features = [...]}}, "
                    f"got {describe(body)}",
                    hint=f'e.g. {name} = ["gpu"]',
                )
            for i, f in enumerate(listed):
                if f != DEFAULT and f not in features:
                    guess = did_you_mean(f, features)
                    known = ", ".join(features) if features else "none defined"
                    raise self.at(*fk, i).error(
                        f"environment {name!r} uses unknown feature {f!r}",
                        hint=(f"did you mean {guess!r}? " if guess else "") + f"features: {known}",
                    )
            feats = tuple(dict.fromkeys(f for f in listed if f != DEFAULT))
            decls[name] = EnvironmentDecl(name, feats, location=w.location)
        return tuple(decls.values())

    def policy(self, value: object) -> Policy:
        keys: Key = ("policy",)
        table = self.table(value, keys)
        self.known_keys(table, keys, POLICY_KEYS)
        vals: dict[str, object] = {}
        for k, v in table.items():
            attr = k.replace("-", "_")
            if POLICY_KEYS[k] == "bool":
                vals[attr] = self.boolean(v, (*keys, k))
            else:
                vals[attr] = tuple(self.strings(v, (*keys, k)))
        return Policy(**vals)  # type: ignore[arg-type]

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


def _link(text: str, base: Path) -> str:
    from hermetic.manifest.load import is_url

    return text if is_url(text) else resolve_path(text, base)


def sysreq_value(key: str, value: object, where: Where) -> str:
    """A system requirement as a string: strings and integers taken, floats refused."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise where.error(f"{where.key}: expected a version string, got {describe(value)}")
    if isinstance(value, float):
        raise where.error(
            f"{where.key}: {value!r} is a number; quote it",
            hint=f'write {key} = "{value}" (as a number, 12.10 would read as 12.1)',
        )
    text = str(value).strip()
    if key == "archspec":
        if not re.fullmatch(r"[A-Za-z0-9_.\-]+", text):
            raise where.error(f"{where.key}: {text!r} is no microarchitecture name")
    elif not re.fullmatch(r"[0-9]+(\.[0-9]+)*", text):
        raise where.error(
            f"{where.key}: {text!r} is no version",
            hint=f'expected dotted numbers, e.g. {key} = "{ {"cuda": "12.4", "glibc": "2.28", "linux": "5.10", "macos": "13.0"}[key] }"',
        )
    return text
