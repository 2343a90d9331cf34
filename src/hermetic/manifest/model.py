"""The validated spec: one model, whatever manifest it came from.

A spec is a set of features (the unnamed `default` feature plus named ones) and a set of
environments, each the default feature plus the features it lists. Each environment is
composed once, when the `Spec` is built, with pixi's semantics: dependencies and system
requirements add to the default's, a feature's `platforms` narrows the environment's
platforms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar

from hermetic.channel import redact_url
from hermetic.errors import Location, SpecError, UsageError, did_you_mean

DEFAULT = "default"


@dataclass(frozen=True)
class CondaDependency:
    """One conda requirement, kept as a conda match spec string (`numpy >=1.26`)."""

    name: str
    spec: str  # full match spec, name included: "pytorch::pytorch ==2.0.1", "numpy 1.26.*"
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True)
class PypiDependency:
    """One PyPI requirement, kept as a PEP 508 string (`torch>=2.3`)."""

    name: str  # normalized (PEP 503)
    requirement: str
    location: Location | None = field(default=None, compare=False)
    editable: bool = False  # a local path installed in development mode (pixi's `editable`)
    #: declared by the project's own package metadata (`[project] dependencies`,
    #: `optional-dependencies`, `[dependency-groups]`): what the package needs, which a conda
    #: dependency of the same name satisfies (pixi's pyproject layout), not a second request
    from_package_metadata: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class SystemRequirements:
    """What the machines that run the environment are declared to have.

    They become the solver's virtual packages; nothing is detected at lock time.
    """

    cuda: str | None = None  # the driver supports CUDA >= this (sets __cuda)
    glibc: str | None = None  # __glibc on linux
    linux: str | None = None  # kernel, __linux
    macos: str | None = None  # __osx
    archspec: str | None = None  # __archspec microarchitecture, e.g. x86_64_v3

    def merged(self, other: SystemRequirements) -> SystemRequirements:
        """Combine two sets: for each key the higher declared version wins."""
        from packaging.version import InvalidVersion, Version

        def pick(a: str | None, b: str | None) -> str | None:
            if a is None or b is None:
                return a if b is None else b
            try:
                return a if Version(a) >= Version(b) else b
            except InvalidVersion:
                return b

        return SystemRequirements(
            cuda=pick(self.cuda, other.cuda),
            glibc=pick(self.glibc, other.glibc),
            linux=pick(self.linux, other.linux),
            macos=pick(self.macos, other.macos),
            archspec=other.archspec or self.archspec,
        )


@dataclass(frozen=True)
class PypiOptions:
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()  # URLs or absolute paths (relative paths are resolved on read)
    no_build: bool = False
    no_index: bool = False  # only find-links, e.g. an offline wheelhouse

    def merged(self, other: PypiOptions) -> PypiOptions:
        return PypiOptions(
            index_url=other.index_url or self.index_url,
            extra_index_urls=_unique(self.extra_index_urls + other.extra_index_urls),
            find_links=_unique(self.find_links + other.find_links),
            no_build=self.no_build or other.no_build,
            no_index=self.no_index or other.no_index,
        )


@dataclass(frozen=True)
class Activation:
    env: tuple[tuple[str, str], ...] = ()  # in declaration order; exported literally
    scripts: tuple[str, ...] = ()
    #: the variables whose value the shell expands (`{ value = "$HOME/x", expand = true }`)
    expand: tuple[str, ...] = ()

    def literal_env(self) -> tuple[tuple[str, str], ...]:
        """The variables exported exactly as written."""
        return tuple(kv for kv in self.env if kv[0] not in self.expand)

    def expanded_env(self) -> tuple[tuple[str, str], ...]:
        """The variables whose value a shell expands when the environment is activated."""
        return tuple(kv for kv in self.env if kv[0] in self.expand)

    def merged(self, other: Activation) -> Activation:
        env = dict(self.env)
        env.update(dict(other.env))
        overridden = {k for k, _ in other.env}
        expand = [k for k in self.expand if k not in overridden] + list(other.expand)
        return Activation(
            env=tuple(env.items()),
            scripts=_unique(self.scripts + other.scripts),
            expand=_unique(tuple(expand)),
        )


@dataclass(frozen=True)
class SpecWarning:
    """Something a reader accepted but the user should know: a key of another tool not yet
    supported, a pip line that cannot be locked. Readers collect these; the CLI shows them."""

    message: str
    location: Location | None = None
    hint: str | None = None

    def __str__(self) -> str:
        head = f"{self.location}: {self.message}" if self.location else self.message
        return f"{head}\n  hint: {self.hint}" if self.hint else head


@dataclass(frozen=True)
class TaskDependency:
    """One entry of a task's `depends-on`: another task, maybe in another environment."""

    task: str
    environment: str | None = None


@dataclass(frozen=True)
class Task:
    """A named command, pixi's `[tasks]`: `hermetic run NAME` runs its dependencies, then it.

    `cmd` is run by the shell (`sh -c`, `cmd /c` on Windows) so pipes and `&&` work as in
    pixi; a task without `cmd` is an alias that only runs its `depends-on`.
    """

    name: str
    cmd: str | None = None
    depends_on: tuple[TaskDependency, ...] = ()
    cwd: str | None = None  # absolute (relative ones are taken from the manifest's dir)
    env: tuple[tuple[str, str], ...] = ()
    description: str | None = None
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Target:
    """Per-platform additions: `[target.<platform>]`."""

    platform: str
    dependencies: tuple[CondaDependency, ...] = ()
    pypi_dependencies: tuple[PypiDependency, ...] = ()
    activation: Activation = Activation()
    tasks: tuple[Task, ...] = ()


@dataclass(frozen=True)
class Feature:
    name: str
    channels: tuple[str, ...] = ()
    platforms: tuple[str, ...] | None = None  # None: does not narrow
    dependencies: tuple[CondaDependency, ...] = ()
    pypi_dependencies: tuple[PypiDependency, ...] = ()
    system_requirements: SystemRequirements = SystemRequirements()
    activation: Activation = Activation()
    targets: tuple[Target, ...] = ()
    location: Location | None = field(default=None, compare=False)
    tasks: tuple[Task, ...] = ()
    pypi_options: PypiOptions | None = None  # pixi's per-feature [feature.x.pypi-options]
    # where each channel was written (or which `channel::pkg` added it), for messages
    channel_locations: tuple[tuple[str, Location], ...] = field(default=(), compare=False)

    def channel_location(self, channel: str) -> Location | None:
        return dict(self.channel_locations).get(channel)


@dataclass(frozen=True)
class Policy:
    """`[tool.hermetic.policy]`: what `hermetic check` enforces."""

    allowed_channels: tuple[str, ...] = ("conda-forge",)
    forbidden_channels: tuple[str, ...] = ("defaults", "anaconda", "main", "r", "msys2", "free")
    strict_channel_priority: bool = True
    require_python_pin: bool = True  # python-not-pinned is a warning; this turns it off
    allow_conda_pypi_duplicates: bool = False
    warn_bundled_native_libs: bool = True
    ignore: tuple[str, ...] = ()  # rule ids to skip
    # where the policy was written: (file, line of the table, how its keys are spelled there)
    source: PolicySource | None = field(default=None, compare=False)


@dataclass(frozen=True)
class PolicySource:
    """Where a policy's keys live, so a finding can name the exact key to change."""

    path: str
    table: str  # "[tool.hermetic.policy]", "[policy]", "policy:" (environment.yml)
    lines: tuple[tuple[str, int], ...] = ()  # key -> line ("" for the table itself)
    keys: tuple[str, ...] = ()  # the keys the table sets

    @property
    def where(self) -> str:
        """The table and where it is: `[tool.hermetic.policy] (pyproject.toml:12)`."""
        line = self.line("")
        return f"{self.table} ({self.path}{f':{line}' if line else ''})"

    def line(self, key: str) -> int | None:
        return dict(self.lines).get(key)


@dataclass(frozen=True)
class EnvironmentDecl:
    name: str
    features: tuple[str, ...]
    location: Location | None = field(default=None, compare=False)
    solve_group: str | None = None  # environments of one group are solved together
    no_default_feature: bool = False  # the default feature is left out


@dataclass(frozen=True)
class Environment:
    """One composed environment: what the resolver solves for each platform."""

    name: str
    features: tuple[str, ...]
    channels: tuple[str, ...]
    platforms: tuple[str, ...]
    system_requirements: SystemRequirements
    pypi_options: PypiOptions
    _dependencies: tuple[CondaDependency, ...]
    _pypi_dependencies: tuple[PypiDependency, ...]
    _activation: Activation
    _targets: tuple[Target, ...]
    solve_group: str | None = None

    def conda_dependencies(self, platform: str) -> tuple[CondaDependency, ...]:
        deps = self._dependencies + tuple(
            d for t in self._targets if t.platform == platform for d in t.dependencies
        )
        return _last_wins(deps)

    def pypi_dependencies(self, platform: str) -> tuple[PypiDependency, ...]:
        deps = self._pypi_dependencies + tuple(
            d for t in self._targets if t.platform == platform for d in t.pypi_dependencies
        )
        return _last_wins(deps)

    def activation(self, platform: str) -> Activation:
        act = self._activation
        for t in self._targets:
            if t.platform == platform:
                act = act.merged(t.activation)
        return act


@dataclass(frozen=True)
class Spec:
    """The whole validated spec of one project."""

    manifest: str  # path of the file it was read from
    kind: str  # "pyproject" | "hermetic-toml" | "environment-yml"
    name: str | None
    platforms: tuple[str, ...]
    pypi_options: PypiOptions
    features: tuple[Feature, ...]  # features[0] is the default feature
    environments: tuple[EnvironmentDecl, ...]  # always includes "default"
    policy: Policy = Policy()
    # conda name -> PyPI name, or "" when the conda package is no Python distribution
    pypi_mapping: tuple[tuple[str, str], ...] = ()
    # what the reader accepted with a warning; not part of what the spec means
    warnings: tuple[SpecWarning, ...] = field(default=(), compare=False)
    # Every environment, composed once when the spec is built: a command asks for the same
    # environment several times (check, lock, install, activation), and the answer is fixed.
    _composed: Mapping[str, Environment] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        composed = {decl.name: compose(self, decl) for decl in self.environments}
        object.__setattr__(self, "_composed", MappingProxyType(composed))
        for decl in self.environments:  # refused when read, as pixi does, not at lock time
            if decl.solve_group is not None:
                members = [
                    composed[d.name] for d in self.environments if d.solve_group == decl.solve_group
                ]
                group_pypi_options(decl.solve_group, members, self.environments)

    @property
    def default_feature(self) -> Feature:
        return self.features[0]

    def feature(self, name: str) -> Feature:
        for f in self.features:
            if f.name == name:
                return f
        raise UsageError(f"unknown feature {name!r}")

    @property
    def environment_names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.environments)

    def environment(self, name: str = DEFAULT) -> Environment:
        env = self._composed.get(name)
        if env is None:
            known = ", ".join(self.environment_names)
            guess = did_you_mean(name, self.environment_names)
            raise UsageError(
                f"no environment named {name!r} in {self.manifest}",
                hint=(f"did you mean {guess!r}? " if guess else "") + f"environments: {known}",
            )
        return env


def compose(spec: Spec, decl: EnvironmentDecl) -> Environment:
    feats = ([] if decl.no_default_feature else [spec.default_feature]) + [
        spec.feature(n) for n in decl.features if n != DEFAULT
    ]
    channels: tuple[str, ...] = ()
    platforms = spec.platforms
    sysreq = SystemRequirements()
    deps: tuple[CondaDependency, ...] = ()
    pdeps: tuple[PypiDependency, ...] = ()
    act = Activation()
    targets: tuple[Target, ...] = ()
    # Features listed later take precedence for channels, like pixi: their channels come first.
    for f in feats:
        channels = _unique(f.channels + channels) if f is not feats[0] else f.channels
    if not channels:  # no-default-feature with features that name no channels: the workspace's
        channels = spec.default_feature.channels
    pypi_options = spec.pypi_options
    for f in feats:
        if f.pypi_options is not None:
            pypi_options = pypi_options.merged(f.pypi_options)
        if f.platforms is not None:
            platforms = tuple(p for p in platforms if p in f.platforms)
        sysreq = sysreq.merged(f.system_requirements)
        deps += f.dependencies
        pdeps += f.pypi_dependencies
        act = act.merged(f.activation)
        targets += f.targets
    if not platforms:
        raise SpecError(
            f"environment {decl.name!r} has no platform left: its features' platforms do not overlap",
            location=decl.location,
            hint="give the features platforms in common, or drop one from the environment",
        )
    return Environment(
        name=decl.name,
        features=tuple(f.name for f in feats),
        channels=channels,
        platforms=platforms,
        system_requirements=sysreq,
        pypi_options=pypi_options,
        _dependencies=deps,
        _pypi_dependencies=pdeps,
        _activation=act,
        _targets=targets,
        solve_group=decl.solve_group,
    )


def group_pypi_options(
    group: str, members: Sequence[Environment], decls: Sequence[EnvironmentDecl] = ()
) -> PypiOptions:
    """The PyPI options a solve group is resolved with, as pixi makes them: every member's
    extra-index-urls and find-links (in order, each once), no-build if any asks for it, and
    the one index-url they agree on. Members that name different index-urls, or disagree
    on no-index, cannot be resolved as one: that is refused with both names."""
    where = {d.name: d.location for d in decls}
    out = PypiOptions()
    index_from = ""  # the member whose index-url the group takes
    for env in members:
        opts = env.pypi_options
        if opts.index_url and out.index_url and opts.index_url != out.index_url:
            raise SpecError(
                f"solve group {group!r}: environment {index_from!r} uses index-url "
                f"{redact_url(out.index_url)} and {env.name!r} uses "
                f"{redact_url(opts.index_url)}; a solve group is resolved with one index-url",
                location=where.get(env.name),
                hint="give them the same index-url (in a feature both have, or the "
                "workspace's pypi-options), make one an extra-index-urls entry, or put the "
                "environments in different solve groups",
            )
        if opts.no_index != members[0].pypi_options.no_index:
            only, reads = (env, members[0]) if opts.no_index else (members[0], env)
            raise SpecError(
                f"solve group {group!r}: environment {only.name!r} sets no-index (find-links "
                f"only) and {reads.name!r} reads package indexes; a solve group is resolved "
                "with one set of sources",
                location=where.get(env.name),
                hint="set no-index for both, or for neither, or put the environments in "
                "different solve groups",
            )
        if opts.index_url and not index_from:
            index_from = env.name
        out = PypiOptions(
            index_url=out.index_url or opts.index_url,
            extra_index_urls=_unique(out.extra_index_urls + opts.extra_index_urls),
            find_links=_unique(out.find_links + opts.find_links),
            no_build=out.no_build or opts.no_build,
            no_index=opts.no_index,
        )
    return out


def _unique(items: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


_Dep = TypeVar("_Dep", CondaDependency, PypiDependency)


def _last_wins(deps: tuple[_Dep, ...]) -> tuple[_Dep, ...]:
    """Later declarations of a name replace earlier ones (a feature overriding the default)."""
    by_name: dict[str, _Dep] = {}
    for d in deps:
        by_name.pop(d.name, None)
        by_name[d.name] = d
    return tuple(by_name.values())
