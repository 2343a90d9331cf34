"""Finding the manifest and reading it into a `Spec`, whatever form it has.

Three forms hold a spec: `hermetic.toml` (the keys at top level), `pyproject.toml` with a
`[tool.hermetic]` table, and a plain conda `environment.yml`. `find_manifest` looks for them
from a directory upwards; `load_spec` reads one. The helpers below the loaders are what the
readers share: platform, channel, conda and PyPI requirement validation, each error pointing
at the file and line it came from.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from hermetic.errors import Location, SpecError, UsageError, did_you_mean

# re-exported: the readers, `init` and tests use these names from here
from hermetic.layout import (  # noqa: F401
    ENV_YML,
    HERMETIC_TOML,
    LOOKED_FOR,
    PYPROJECT,
    find_manifest,
    has_tool_hermetic,
    toml_loads,
)
from hermetic.manifest.model import CondaDependency, PypiDependency, Spec
from hermetic.platform import default_platforms, known_platforms  # noqa: F401

# ---- finding and loading ----


def load_spec(path: Path | None = None) -> Spec:
    """Read and validate the spec in `path` (a manifest, or a directory to search from)."""
    if path is None:
        path = find_manifest(Path.cwd())
    path = Path(path)
    if path.is_dir():
        path = find_manifest(path)
    if not path.exists():
        raise UsageError(f"no such manifest: {path}", hint=f"a manifest is one of {LOOKED_FOR}")
    name = path.name.lower()
    if name.endswith((".yml", ".yaml")):
        from hermetic.manifest.envyml import read_environment_yml

        return read_environment_yml(path)
    if name.endswith(".toml"):
        from hermetic.manifest.toml_source import read_toml_manifest

        return read_toml_manifest(path)
    raise SpecError(
        f"cannot tell what kind of manifest {path.name!r} is",
        location=Location(str(path)),
        hint=f"name it {HERMETIC_TOML} or {PYPROJECT} (a TOML spec), or environment.yml",
    )


def read_text(path: Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"not UTF-8 text: {exc}", location=Location(str(path))) from None
    except FileNotFoundError:
        raise UsageError(f"no such file: {path}") from None


# ---- shared validation: where a value is, and what it must be ----


@dataclass(frozen=True)
class Where:
    """A value's place: the file, its line, and its key as the user would write it."""

    path: str
    line: int | None
    key: str

    @property
    def location(self) -> Location:
        return Location(self.path, self.line)

    def error(self, message: str, hint: str | None = None) -> SpecError:
        return SpecError(message, location=self.location, hint=hint)


def describe(value: object) -> str:
    """A value and its type, for "expected X, got Y" messages."""
    kinds = {
        bool: "a boolean",
        int: "an integer",
        float: "a float",
        str: "a string",
        list: "a list",
        dict: "a table",
    }
    kind = next((v for t, v in kinds.items() if type(value) is t), type(value).__name__)
    shown = repr(value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return f"{shown} ({kind})"


def check_platform(value: object, where: Where) -> str:
    if not isinstance(value, str):
        raise where.error(f"{where.key}: expected a platform name, got {describe(value)}")
    known = known_platforms()
    if value not in known:
        guess = did_you_mean(value, known)
        raise where.error(
            f"{where.key}: unknown platform {value!r}",
            hint=(f"did you mean {guess!r}? " if guess else "") + "valid: " + ", ".join(known),
        )
    return value


def is_url(text: str) -> bool:
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text) is not None


def resolve_path(text: str, base: Path) -> str:
    """A local path as an absolute path, relative ones taken from `base` (the manifest's dir)."""
    p = Path(os.path.expanduser(text))
    if not p.is_absolute():
        p = Path(base) / p
    return os.path.normpath(str(p))


def resolve_channel(text: str, base: Path, where: Where) -> str:
    """A channel as the spec keeps it: names and URLs as written, local paths made absolute."""
    if not isinstance(text, str):
        raise where.error(
            f"{where.key}: expected a channel name, URL or path, got {describe(text)}"
        )
    ch = text.strip()
    if not ch:
        raise where.error(f"{where.key}: empty channel")
    if is_url(ch):
        return ch
    if (
        ch.startswith(("/", "~", "./", "../"))
        or ch in (".", "..")
        or (("/" in ch or os.sep in ch) and (Path(base) / ch).is_dir())
    ):
        return resolve_path(ch, base)
    if re.search(r"\s|::", ch):
        raise where.error(f"{where.key}: {ch!r} is no channel name, URL or path")
    return ch


def local_to_manifest(path: str, manifest_dir: Path) -> str:
    """How a converter writes an absolute path: relative when it is under the manifest's dir."""
    if is_url(path) or not os.path.isabs(path):
        return path
    try:
        rel = Path(path).relative_to(Path(manifest_dir).absolute())
    except ValueError:
        return path
    return "./" + rel.as_posix() if str(rel) != "." else "."


# ---- conda requirements ----

_UNSUPPORTED_MATCHSPEC = (
    "build_number",
    "file_name",
    "md5",
    "sha256",
    "subdir",
    "namespace",
    "extras",
    "condition",
)


def conda_spec_string(
    name: str, version: str | None, build: str | None, channel: str | None
) -> str:
    """The one spelling of a conda requirement the spec keeps: `[channel::]name [version [build]]`."""
    out = f"{channel}::{name}" if channel else name
    if build:
        return f"{out} {version or '*'} {build}"
    if version and version != "*":
        return f"{out} {version}"
    return out


def _parse_matchspec(text: str, where: Where, what: str):  # -> rattler.MatchSpec
    from rattler import MatchSpec

    try:
        m = MatchSpec(text, strict=False)
    except Exception as exc:  # rattler raises its own InvalidMatchSpecError
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise where.error(
            f"{where.key}: invalid conda requirement {what!r}: {detail}",
            hint='expected a conda match spec, e.g. "numpy >=1.26", "python 3.11.*" or '
            '"pytorch::pytorch ==2.3.1"',
        ) from None
    for attr in _UNSUPPORTED_MATCHSPEC:
        if getattr(m, attr, None) not in (None, [], ()):
            raise where.error(
                f"{where.key}: {what!r} sets {attr!r}, which a spec cannot",
                hint="a conda requirement has a name, a version, a build and a channel",
            )
    if m.build is not None and re.search(r"\s", m.build):
        raise where.error(
            f"{where.key}: invalid conda requirement {what!r}: too many parts",
            hint="expected 'name [version [build]]'",
        )
    return m


def _finish_conda(m, channel: str | None, where: Where) -> CondaDependency:  # type: ignore[no-untyped-def]
    name = m.name.normalized
    version = str(m.version) if m.version is not None else None
    build = str(m.build) if m.build is not None else None
    spec = conda_spec_string(name, version, build, channel)
    _parse_matchspec(spec, where, spec)  # what we keep must parse too
    return CondaDependency(name=name, spec=spec, location=where.location)


def conda_from_string(text: str, where: Where, base: Path) -> CondaDependency:
    """A full conda requirement as environment.yml writes it: `numpy=1.26`, `pytorch::pytorch`.

    `name=1.26` is conda's fuzzy `1.26.*`, `name 1.26` and `name==1.26` are exact.
    """
    raw = text.split("#", 1)[0].strip()
    if not raw:
        raise where.error(f"{where.key}: empty conda requirement")
    channel = None
    rest = raw
    if "::" in raw:
        channel, rest = raw.rsplit("::", 1)
        channel = resolve_channel(channel, base, where)
    m = _parse_matchspec(rest, where, raw)
    if m.channel is not None:
        raise where.error(
            f"{where.key}: {raw!r} names its channel in brackets",
            hint="write it as channel::name, e.g. pytorch::pytorch",
        )
    return _finish_conda(m, channel, where)


def conda_from_parts(
    name: str,
    version: str | None,
    build: str | None,
    channel: str | None,
    where: Where,
    base: Path,
) -> CondaDependency:
    """A conda requirement from a TOML key and value: `numpy = ">=1.26"`, `{version, build, channel}`.

    A bare version is exact (`"1.26"` is `==1.26`); `"*"` is any version.
    """
    if "::" in name or not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
        hint = 'name the channel in a table: pytorch = { version = "*", channel = "pytorch" }'
        raise where.error(
            f"{where.key}: {name!r} is no conda package name",
            hint=hint if "::" in name else "package names have letters, digits, '-', '_' and '.'",
        )
    version = (version or "*").strip() or "*"
    if re.match(rf"{re.escape(name)}\s*([<>=!~ ]|$)", version, re.I):
        raise where.error(
            f"{where.key}: the version spec {version!r} repeats the package name",
            hint=f'the key is the name, the value only the version: {name} = "{version[len(name) :].strip() or "*"}"',
        )
    text = f"{name} {version}" + (f" {build.strip()}" if build and build.strip() else "")
    what = version if not build else f"{version} {build}"
    m = _parse_matchspec(text, where, what)
    if channel is not None:
        channel = resolve_channel(channel, base, where)
    return _finish_conda(m, channel, where)


def split_conda_spec(spec: str) -> tuple[str | None, str, str | None, str | None]:
    """(channel, name, version, build) of a spec kept by the readers."""
    from rattler import MatchSpec

    channel = None
    rest = spec
    if "::" in spec:
        channel, rest = spec.rsplit("::", 1)
    m = MatchSpec(rest, strict=False)
    return (
        channel,
        m.name.normalized,
        str(m.version) if m.version is not None else None,
        str(m.build) if m.build is not None else None,
    )


# ---- PyPI requirements ----


def _requirement(text: str, where: Where):  # -> packaging.requirements.Requirement
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        detail = str(exc).splitlines()[0]
        raise where.error(
            f"{where.key}: invalid PyPI requirement {text!r}: {detail}",
            hint='expected a PEP 508 requirement, e.g. "torch>=2.3" or "pkg @ https://host/pkg.whl"',
        ) from None


def _finish_pypi(req, where: Where) -> PypiDependency:  # type: ignore[no-untyped-def]
    from packaging.utils import canonicalize_name

    req.name = canonicalize_name(req.name)
    return PypiDependency(name=req.name, requirement=str(req), location=where.location)


def pypi_from_string(text: str, where: Where) -> PypiDependency:
    """A PEP 508 line: `torch>=2.3`, `pkg[extra]==1.0; sys_platform == "linux"`."""
    return _finish_pypi(_requirement(text.strip(), where), where)


def pypi_from_parts(
    name: str,
    where: Where,
    base: Path,
    *,
    version: str | None = None,
    extras: list[str] | tuple[str, ...] = (),
    url: str | None = None,
    path: str | None = None,
    markers: str | None = None,
) -> PypiDependency:
    """A PyPI requirement from a TOML key and value. A bare version is exact (`"2.3"` is `==2.3`)."""
    from packaging.utils import InvalidName, canonicalize_name

    try:
        canonicalize_name(name, validate=True)
    except InvalidName:
        raise where.error(
            f"{where.key}: {name!r} is no valid PyPI distribution name",
            hint="names have letters, digits, '-', '_' and '.'",
        ) from None
    if url is not None and path is not None:
        raise where.error(f"{where.key}: give either url or path, not both")
    text = name
    if extras:
        text += "[" + ",".join(extras) + "]"
    version = (version or "*").strip() or "*"
    if url is not None or path is not None:
        if version != "*":
            raise where.error(
                f"{where.key}: a version cannot go with a url or path",
                hint="the file at the url or path is the version",
            )
        if path is not None:
            url = Path(resolve_path(path, base)).as_uri()
        text += f" @ {url}"
        if markers:
            text += " "
    elif version != "*":
        text += ("==" + version) if re.match(r"^[0-9]", version) else version
    if markers:
        text += f"; {markers}"
    return _finish_pypi(_requirement(text, where), where)


def split_pypi_requirement(requirement: str) -> dict:
    """A kept requirement as the TOML table keys that write it back (version, extras, url, markers)."""
    from packaging.requirements import Requirement

    req = Requirement(requirement)
    out: dict = {}
    if req.url:
        out["url"] = req.url
    elif str(req.specifier):
        out["version"] = str(req.specifier)
    if req.extras:
        out["extras"] = sorted(req.extras)
    if req.marker is not None:
        out["markers"] = str(req.marker)
    return out
