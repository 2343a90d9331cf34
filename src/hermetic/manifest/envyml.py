"""Reading a conda environment.yml as is.

`name`, `channels` (`nodefaults` dropped: hermetic never adds channels of its own, so the
spec always means "no defaults"), `dependencies` in conda's syntax (`numpy=1.26` is conda's
fuzzy `1.26.*`, `numpy 1.26` and `numpy==1.26` are exact) with a `pip:` list of PEP 508 lines
and pip options. conda-lock's `platforms:` and conda's `variables:` are read too.

YAML is composed into nodes, not loaded, so each value keeps its line for messages; the
comments next to each dependency are kept for `hermetic init` to carry over.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from hermetic.errors import Location, SpecError, did_you_mean
from hermetic.manifest.fields import (
    Where,
    check_platform,
    describe,
    is_url,
    read_text,
    resolve_channel,
    resolve_path,
)
from hermetic.manifest.model import (
    DEFAULT,
    Activation,
    CondaDependency,
    EnvironmentDecl,
    Feature,
    PypiDependency,
    PypiOptions,
    Spec,
)
from hermetic.manifest.requirements import conda_from_string, pypi_from_string
from hermetic.platform import default_platforms

ENV_KEYS = ("name", "channels", "dependencies", "platforms", "variables", "prefix")


@dataclass(frozen=True)
class Comments:
    """The comments around one dependency line: whole lines above it, and one after it."""

    above: tuple[str, ...] = ()
    blank_before: bool = False
    after: str | None = None


@dataclass
class EnvYml:
    spec: Spec
    nodefaults: bool = False  # the file listed `nodefaults`
    # "conda:<name>" / "pypi:<name>" -> its comments; "pip" -> those of the `pip:` entry
    comments: dict[str, Comments] = field(default_factory=dict)
    tail_comments: Comments | None = None  # comment lines after the last dependency


def read_environment_yml(path: Path, text: str | None = None) -> Spec:
    """Read an environment.yml into a validated Spec (one `default` environment)."""
    return parse_environment_yml(path, text).spec


def parse_environment_yml(path: Path, text: str | None = None) -> EnvYml:
    import yaml

    path = Path(path)
    if text is None:
        text = read_text(path)
    display = str(path)
    loader = yaml.SafeLoader(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            problem = exc.problem or "invalid YAML"
            raise SpecError(
                f"invalid YAML: {problem}" + (f" ({exc.context})" if exc.context else ""),
                location=Location(display, mark.line + 1 if mark else None),
            ) from None
        except yaml.YAMLError as exc:
            raise SpecError(f"invalid YAML: {exc}", location=Location(display)) from None
        return _EnvReader(path, text, loader).read(root)
    finally:
        loader.dispose()


class _EnvReader:
    def __init__(self, path: Path, text: str, loader):  # type: ignore[no-untyped-def]
        self.path = str(path)
        self.base = Path(path).absolute().parent
        self.lines = text.splitlines()
        self.loader = loader
        self.comments: dict[str, Comments] = {}
        self.tail: Comments | None = None

    # -- nodes --

    def at(self, node, key: str, path: str | None = None) -> Where:  # type: ignore[no-untyped-def]
        line = node.start_mark.line + 1 if node is not None else None
        return Where(path or self.path, line, key)

    def value(self, node):  # type: ignore[no-untyped-def]
        try:
            return self.loader.construct_object(node, deep=True)
        except Exception as exc:
            raise self.at(node, "value").error(f"invalid YAML value: {exc}") from None

    def mapping(self, node, key: str) -> list:  # type: ignore[no-untyped-def]
        import yaml

        if not isinstance(node, yaml.MappingNode):
            what = describe(self.value(node)) if node is not None else "nothing"
            raise self.at(node, key).error(f"{key}: expected a mapping, got {what}")
        seen: dict[str, int] = {}
        out = []
        for knode, vnode in node.value:
            k = self.value(knode)
            if not isinstance(k, str):
                raise self.at(knode, key).error(f"{key}: keys must be strings, got {describe(k)}")
            if k in seen:
                raise self.at(knode, k).error(
                    f"{k!r} appears twice (first on line {seen[k]})",
                    hint="YAML would keep only the last one",
                )
            seen[k] = knode.start_mark.line + 1
            out.append((k, knode, vnode))
        return out

    def sequence(self, node, key: str) -> list:  # type: ignore[no-untyped-def]
        import yaml

        if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
            return []
        if not isinstance(node, yaml.SequenceNode):
            raise self.at(node, key).error(
                f"{key}: expected a list, got {describe(self.value(node))}"
            )
        return list(node.value)

    def string(self, node, key: str) -> str:  # type: ignore[no-untyped-def]
        import yaml

        v = self.value(node)
        if not isinstance(node, yaml.ScalarNode) or not isinstance(v, str):
            raise self.at(node, key).error(f"{key}: expected a string, got {describe(v)}")
        return v

    def comments_of(self, node, prev_end: int) -> Comments:  # type: ignore[no-untyped-def]
        """Comment lines between the line `prev_end` (0-based, exclusive) and the node's line."""
        start = node.start_mark.line
        above: list[str] = []
        blank = False
        for raw in self.lines[prev_end:start]:
            s = raw.strip()
            if s.startswith("#"):
                above.append(s[1:].strip() if s[1:2] == " " or s == "#" else s[1:])
            elif not s:
                if not above:
                    blank = True
                else:
                    above.append("")
        while above and above[-1] == "":
            above.pop()
        after = None
        line = self.lines[node.end_mark.line] if node.end_mark.line < len(self.lines) else ""
        rest = line[node.end_mark.column :] if node.end_mark.line == start else ""
        m = re.search(r"(^|\s)#\s?(.*)$", rest)
        if m and m.group(2).strip():
            after = m.group(2).rstrip()
        return Comments(tuple(above), blank, after)

    # -- the file --

    def read(self, root) -> EnvYml:  # type: ignore[no-untyped-def]
        if root is None:
            raise SpecError(
                "empty environment file",
                location=Location(self.path, 1),
                hint="an environment.yml has channels: and dependencies:",
            )
        items = self.mapping(root, "top level")
        for k, knode, _ in items:
            if k not in ENV_KEYS:
                guess = did_you_mean(k, ENV_KEYS)
                raise self.at(knode, k).error(
                    f"unknown key {k!r} in the environment file",
                    hint=(f"did you mean {guess!r}? " if guess else "")
                    + "known keys: "
                    + ", ".join(ENV_KEYS),
                )
        by_key = {k: (knode, vnode) for k, knode, vnode in items}

        name = None
        if "name" in by_key:
            name = self.string(by_key["name"][1], "name")

        channels: list[str] = []
        nodefaults = False
        if "channels" in by_key:
            for cnode in self.sequence(by_key["channels"][1], "channels"):
                w = self.at(cnode, "channels")
                ch = self.string(cnode, "channels")
                if ch.strip() == "nodefaults":
                    nodefaults = True
                    continue
                channels.append(resolve_channel(ch, self.base, w))
        if not channels:
            node = by_key.get("channels", (root, root))[0]
            raise self.at(node, "channels").error(
                "channels: none listed; conda would fall back to the channels of your .condarc, "
                "which makes the environment depend on the machine",
                hint="name them, e.g. `channels: [conda-forge]`",
            )

        platforms = default_platforms()
        if "platforms" in by_key:
            pnodes = self.sequence(by_key["platforms"][1], "platforms")
            if not pnodes:
                raise self.at(by_key["platforms"][0], "platforms").error("platforms: none listed")
            platforms = tuple(
                dict.fromkeys(
                    check_platform(self.value(p), self.at(p, "platforms")) for p in pnodes
                )
            )

        env: list[tuple[str, str]] = []
        if "variables" in by_key:
            for k, knode, vnode in self.mapping(by_key["variables"][1], "variables"):
                v = self.value(vnode)
                if isinstance(v, bool) or not isinstance(v, (str, int, float)):
                    raise self.at(vnode, f"variables.{k}").error(
                        f"variables.{k}: expected a string, got {describe(v)}"
                    )
                if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k):
                    raise self.at(knode, "variables").error(
                        f"variables: {k!r} is no environment variable name"
                    )
                env.append((k, str(v)))

        conda: dict[str, CondaDependency] = {}
        pypi: dict[str, PypiDependency] = {}
        options = _PipOptions()
        if "dependencies" in by_key:
            dkey, dnode = by_key["dependencies"]
            prev_end = dkey.start_mark.line + 1
            for item in self.sequence(dnode, "dependencies"):
                import yaml

                comments = self.comments_of(item, prev_end)
                prev_end = item.end_mark.line + (1 if item.end_mark.column > 0 else 0)
                if isinstance(item, yaml.MappingNode):
                    self.pip_entry(item, pypi, options, comments)
                    prev_end = item.end_mark.line + (1 if item.end_mark.column > 0 else 0)
                    continue
                w = self.at(item, "dependencies")
                text = self.value(item)
                if not isinstance(item, yaml.ScalarNode) or not isinstance(text, str):
                    raise w.error(
                        f"dependencies: expected a conda requirement string or a `pip:` list, "
                        f"got {describe(text)}",
                        hint="quote it if it is a requirement YAML reads as a number",
                    )
                dep = conda_from_string(text, w, self.base)
                if dep.name in conda:
                    raise w.error(
                        f"dependencies: {dep.name!r} is listed twice "
                        f"(first on line {conda[dep.name].location.line})",  # type: ignore[union-attr]
                        hint="combine the constraints into one line, e.g. numpy>=1.26,<2",
                    )
                conda[dep.name] = dep
                self.comments[f"conda:{dep.name}"] = comments
            tail = self.tail_after(prev_end, dnode)
            if tail is not None:
                self.tail = tail

        default = Feature(
            name=DEFAULT,
            channels=tuple(dict.fromkeys(channels)),
            dependencies=tuple(conda.values()),
            pypi_dependencies=tuple(pypi.values()),
            activation=Activation(env=tuple(env)),
            location=Location(self.path, 1),
        )
        spec = Spec(
            manifest=self.path,
            kind="environment-yml",
            name=name,
            platforms=platforms,
            pypi_options=options.build(),
            features=(default,),
            environments=(EnvironmentDecl(DEFAULT, (), location=Location(self.path, 1)),),
        )
        return EnvYml(
            spec=spec, nodefaults=nodefaults, comments=self.comments, tail_comments=self.tail
        )

    def tail_after(self, prev_end: int, dnode) -> Comments | None:  # type: ignore[no-untyped-def]
        """Comment lines after the last dependency, still indented under `dependencies:`."""
        indent = None
        above: list[str] = []
        for raw in self.lines[prev_end:]:
            s = raw.strip()
            if not s:
                continue
            if not s.startswith("#"):
                break
            col = len(raw) - len(raw.lstrip())
            if indent is None:
                indent = col
            if col == 0 and dnode.start_mark.column > 0:
                break
            above.append(s[1:].strip())
        return Comments(tuple(above), True) if above else None

    def pip_entry(self, node, pypi, options, comments: Comments) -> None:  # type: ignore[no-untyped-def]
        import yaml

        entries = self.mapping(node, "dependencies")
        for k, knode, vnode in entries:
            if k != "pip":
                raise self.at(knode, k).error(
                    f"dependencies: unknown entry {k!r}",
                    hint="the only mapping allowed in dependencies is a `pip:` list",
                )
            self.comments["pip"] = comments
            prev_end = knode.start_mark.line + 1
            for item in self.sequence(vnode, "pip"):
                c = self.comments_of(item, prev_end)
                prev_end = item.end_mark.line + (1 if item.end_mark.column > 0 else 0)
                w = self.at(item, "pip")
                if isinstance(item, yaml.MappingNode):
                    raise w.error(
                        "pip: YAML reads this line as a mapping (a ':' ends it)",
                        hint='quote the line, e.g. - "--only-binary :all:"',
                    )
                line = self.string(item, "pip")
                dep = self.pip_line(line, w, options, self.base, seen=set())
                for d in dep:
                    self.add_pypi(pypi, d)
                    self.comments[f"pypi:{d.name}"] = c

    def add_pypi(self, pypi: dict[str, PypiDependency], dep: PypiDependency) -> None:
        if dep.name in pypi:
            first = pypi[dep.name].location
            raise SpecError(
                f"pip: {dep.name!r} is listed twice (first at {first})",
                location=dep.location,
                hint="combine the constraints into one requirement",
            )
        pypi[dep.name] = dep

    def pip_line(
        self, line: str, where: Where, options: _PipOptions, base: Path, seen: set[Path]
    ) -> list[PypiDependency]:
        """One line of a pip list or requirements file: a requirement or an option."""
        text = re.sub(r"(^|\s)#.*$", "", line).strip()
        if not text:
            return []
        if not text.startswith("-"):
            if re.match(r"^(\.{0,2}/|~|[A-Za-z][A-Za-z0-9+.-]*://)", text):
                raise where.error(
                    f"pip: {text!r} is a bare path or URL",
                    hint="name the distribution: 'name @ https://host/file.whl' or "
                    "'name @ file:///abs/path'",
                )
            return [pypi_from_string(text, where)]
        try:
            words = shlex.split(text)
        except ValueError as exc:
            raise where.error(f"pip: cannot split {text!r}: {exc}") from None
        flag, _, value = words[0].partition("=")
        if not value and len(words) > 1:
            value = words[1]
            rest = words[2:]
        else:
            rest = words[1:]
        if re.fullmatch(r"-[irfec][^-=].*", flag):  # -rfile, -ihttps://...
            flag, value, rest = flag[:2], flag[2:], words[1:]
        if rest:
            raise where.error(f"pip: unexpected {' '.join(rest)!r} in {text!r}")
        if flag in ("-e", "--editable"):
            raise where.error(
                f"pip: editable installs cannot be locked: {text!r}",
                hint="install your own project with `pip install -e .` inside the environment",
            )
        if flag in ("--no-index",):
            if value:
                raise where.error(f"pip: --no-index takes no value: {text!r}")
            options.no_index = True
            return []
        if flag == "--only-binary" and value == ":all:":
            options.no_build = True
            return []
        takes_value = {
            "-r": "requirement",
            "--requirement": "requirement",
            "-i": "index",
            "--index-url": "index",
            "--extra-index-url": "extra",
            "-f": "links",
            "--find-links": "links",
        }
        what = takes_value.get(flag)
        if what is None:
            raise where.error(
                f"pip: unsupported option {flag!r} in {text!r}",
                hint="supported: -r/--requirement, -i/--index-url, --extra-index-url, "
                "-f/--find-links, --no-index, --only-binary :all:",
            )
        if not value:
            raise where.error(f"pip: {flag} needs a value")
        if what == "index":
            if options.index_url and options.index_url != value:
                raise where.error(
                    f"pip: a second index URL {value!r} (the first is {options.index_url!r})",
                    hint="use --extra-index-url for more indexes",
                )
            options.index_url = value
        elif what == "extra":
            options.extra.append(value)
        elif what == "links":
            options.links.append(value if is_url(value) else resolve_path(value, base))
        else:
            return self.requirements_file(Path(resolve_path(value, base)), where, options, seen)
        return []

    def requirements_file(
        self, path: Path, where: Where, options: _PipOptions, seen: set[Path]
    ) -> list[PypiDependency]:
        if path in seen:
            raise where.error(f"pip: {path} includes itself")
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise where.error(
                f"pip: cannot read requirements file {path}: {exc.strerror}"
            ) from None
        out: list[PypiDependency] = []
        lines = text.splitlines()
        i = 0
        while i < len(lines):
            start = i
            line = lines[i]
            while line.endswith("\\") and i + 1 < len(lines):  # line continuations
                i += 1
                line = line[:-1] + lines[i]
            i += 1
            w = Where(str(path), start + 1, "requirement")
            out += self.pip_line(line, w, options, path.parent, seen | {path})
        return out


@dataclass
class _PipOptions:
    index_url: str | None = None
    extra: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    no_build: bool = False
    no_index: bool = False

    def build(self) -> PypiOptions:
        return PypiOptions(
            index_url=self.index_url,
            extra_index_urls=tuple(dict.fromkeys(self.extra)),
            find_links=tuple(dict.fromkeys(self.links)),
            no_build=self.no_build,
            no_index=self.no_index,
        )
