"""Conda and PyPI requirements: every spelling a manifest allows, into the one the spec keeps.

A conda requirement is kept as `[channel::]name [version [build]]` and checked with rattler's
match-spec parser; a PyPI one as a PEP 508 string checked with `packaging`. TOML keys and
values (`numpy = ">=1.26"`), environment.yml lines (`numpy=1.26`) and pixi tables
(`{ git = …, rev = … }`) all end here, so the same requirement is kept the same way.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from hermetic.manifest.fields import DEFAULTS_CHANNELS, Where, resolve_channel, resolve_path
from hermetic.manifest.model import CondaDependency, PypiDependency

if TYPE_CHECKING:
    from packaging.requirements import Requirement
    from rattler import MatchSpec

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


def _parse_matchspec(text: str, where: Where, what: str) -> MatchSpec:
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
    if m.build is not None and re.search(r"\s", str(m.build)):
        raise where.error(
            f"{where.key}: invalid conda requirement {what!r}: too many parts",
            hint="expected 'name [version [build]]'",
        )
    return m


def _finish_conda(m: MatchSpec, channel: str | None, where: Where) -> CondaDependency:
    if m.name is None:
        raise where.error(f"{where.key}: a conda requirement needs a package name")
    name = m.name.normalized
    version = str(m.version) if m.version is not None else None
    build = str(m.build) if m.build is not None else None
    spec = conda_spec_string(name, version, build, channel)
    _parse_matchspec(spec, where, spec)  # what we keep must parse too
    return CondaDependency(name=name, spec=spec, location=where.location)


def conda_channel(text: str, base: Path, where: Where) -> str:
    """The channel of a `channel::name`: `defaults` stands for Anaconda's `main`."""
    if text.strip() == "defaults":
        return DEFAULTS_CHANNELS[0]
    return resolve_channel(text, base, where)


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
        channel_text, rest = raw.rsplit("::", 1)
        channel = conda_channel(channel_text, base, where)
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
        shown = version[len(name) :].strip() or "*"
        raise where.error(
            f"{where.key}: the version spec {version!r} repeats the package name",
            hint=f'the key is the name, the value only the version: {name} = "{shown}"',
        )
    text = f"{name} {version}" + (f" {build.strip()}" if build and build.strip() else "")
    what = version if not build else f"{version} {build}"
    m = _parse_matchspec(text, where, what)
    if channel is not None:
        channel = conda_channel(channel, base, where)
    return _finish_conda(m, channel, where)


def split_conda_spec(spec: str) -> tuple[str | None, str, str | None, str | None]:
    """(channel, name, version, build) of a spec kept by the readers."""
    from rattler import MatchSpec

    channel = None
    rest = spec
    if "::" in spec:
        channel, rest = spec.rsplit("::", 1)
    m = MatchSpec(rest, strict=False)
    assert m.name is not None  # the readers never keep a spec without a name
    return (
        channel,
        m.name.normalized,
        str(m.version) if m.version is not None else None,
        str(m.build) if m.build is not None else None,
    )


# ---- PyPI ----


def _requirement(text: str, where: Where) -> Requirement:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        detail = str(exc).splitlines()[0]
        raise where.error(
            f"{where.key}: invalid PyPI requirement {text!r}: {detail}",
            hint='expected a PEP 508 requirement, e.g. "torch>=2.3" or "pkg @ https://host/pkg.whl"',
        ) from None


def _finish_pypi(req: Requirement, where: Where, *, editable: bool = False) -> PypiDependency:
    from packaging.utils import canonicalize_name

    req.name = canonicalize_name(req.name)
    return PypiDependency(
        name=req.name, requirement=str(req), location=where.location, editable=editable
    )


def pypi_from_string(text: str, where: Where) -> PypiDependency:
    """A PEP 508 line: `torch>=2.3`, `pkg[extra]==1.0; sys_platform == "linux"`."""
    return _finish_pypi(_requirement(text.strip(), where), where)


def git_url(url: str, rev: str | None, subdirectory: str | None) -> str:
    """A git source as a PEP 508 direct URL: `git+https://host/repo@rev#subdirectory=sub`."""
    out = url if url.startswith("git+") else f"git+{url}"
    if rev:
        out += f"@{rev}"
    if subdirectory:
        out += f"#subdirectory={subdirectory}"
    return out


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
    editable: bool = False,
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
    if editable and path is None:
        raise where.error(
            f"{where.key}: only a local path can be editable",
            hint=f'e.g. {name} = {{ path = ".", editable = true }}',
        )
    text = name
    if extras:
        text += "[" + ",".join(extras) + "]"
    version = (version or "*").strip() or "*"
    if url is not None or path is not None:
        if version != "*":
            raise where.error(
                f"{where.key}: a version cannot go with a url, path or git source",
                hint="the file, folder or commit it names is the version",
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
    return _finish_pypi(_requirement(text, where), where, editable=editable)


def editable_project(text: str, where: Where, base: Path) -> PypiDependency | str:
    """pip's `-e PATH` as an editable path dependency, named by the project's static
    `[project] name` in PATH/pyproject.toml; else why it cannot be (a VCS URL, no static name)."""
    from hermetic.channel import is_url
    from hermetic.errors import HermeticError
    from hermetic.manifest.fields import parse_toml
    from hermetic.textinput import read_input_text

    if is_url(text) or text.startswith(("git+", "hg+", "svn+", "bzr+")):
        return "an editable VCS checkout is not supported"
    folder = Path(resolve_path(text, base))
    pyproject = folder / "pyproject.toml"
    try:
        project = parse_toml(read_input_text(pyproject, what="pyproject"), str(pyproject))
        name = project.get("project", {}).get("name")
    except (OSError, HermeticError, AttributeError):
        name = None
    if not isinstance(name, str):
        return f"{pyproject} declares no [project] name to lock it by"
    return pypi_from_parts(name, where, base, path=text, editable=True)


def split_pypi_requirement(requirement: str) -> dict[str, str | list[str]]:
    """A kept requirement as the TOML table keys that write it back (version, extras, url, markers)."""
    from packaging.requirements import Requirement

    req = Requirement(requirement)
    out: dict[str, str | list[str]] = {}
    if req.url:
        out["url"] = req.url
    elif str(req.specifier):
        out["version"] = str(req.specifier)
    if req.extras:
        out["extras"] = sorted(req.extras)
    if req.marker is not None:
        out["markers"] = str(req.marker)
    return out
