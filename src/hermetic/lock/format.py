"""Rendering and parsing `hermetic.lock` (rattler's lock format plus a `hermetic:` block)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hermetic.channel import Channel, strip_url
from hermetic.lock.inputs import FORMAT, EnvironmentInputs
from hermetic.lock.model import PypiArtifact, lock_location

if TYPE_CHECKING:
    from rattler import RepoDataRecord

META_KEY = "hermetic"
_META_MARK = f"\n{META_KEY}:\n"


@dataclass(frozen=True)
class LockedEnvironment:
    """What one environment locked to: records and PyPI packages per platform."""

    name: str
    inputs: EnvironmentInputs
    conda: Mapping[str, Sequence[RepoDataRecord]]
    pypi: Mapping[str, tuple[PypiArtifact, ...]]


def render(
    environments: Sequence[LockedEnvironment],
    platform_override: Sequence[str] = (),
    base: Path | None = None,
) -> str:
    """The lock file's text. Same inputs, same bytes.

    `platform_override`: the platforms `lock -p` locked for instead of the manifest's; it is
    recorded so that `install` and `lock --check` do not take the lock for a stale one.
    `base`: the lock's directory; source directories inside it are recorded relative to it.
    """
    import tempfile

    from rattler import LockChannel, LockFile, LockPlatform

    platforms = sorted({p for e in environments for p in e.inputs.platforms})
    lf = LockFile([LockPlatform(p) for p in platforms])
    by_name = {str(p.name): p for p in lf.platforms()}
    artifacts: dict[str, PypiArtifact] = {}
    for env in sorted(environments, key=lambda e: e.name):
        lf.set_channels(
            env.name, [LockChannel(Channel.parse(c).lock_url) for c in env.inputs.channels]
        )
        for plat in env.inputs.platforms:
            lp = by_name[plat]
            for rec in env.conda.get(plat, ()):
                lf.add_conda_package(env.name, lp, _without_credentials(rec))
            for pkg in env.pypi.get(plat, ()):
                url = strip_url(pkg.url)  # the lock is committed: no credentials in it
                if base is not None:
                    url = lock_location(url, base)
                lf.add_pypi_package(env.name, lp, pkg.name, pkg.version, url)
                artifacts[url] = pkg
    with tempfile.TemporaryDirectory(prefix="hermetic-lock-") as tmp:
        path = Path(tmp) / "lock"
        lf.to_path(path)
        text = path.read_text()
    text = _add_pypi_fields(text, artifacts)
    return text + _render_meta(environments, platform_override)


def _without_credentials(rec: RepoDataRecord) -> RepoDataRecord:
    """The record with its URL and channel stripped of credentials (user:pass@, /t/<token>)."""
    url, channel = str(rec.url), str(rec.channel) if rec.channel is not None else None
    if strip_url(url) != url:
        rec.url = strip_url(url)
    if channel is not None and strip_url(channel) != channel:
        rec.channel = strip_url(channel)
    return rec


def _add_pypi_fields(text: str, artifacts: Mapping[str, PypiArtifact]) -> str:
    """Add the sha256, requires_* and editable fields rattler's API cannot set to each PyPI entry."""
    if not artifacts:
        return text
    lines = text.split("\n")
    out: list[str] = []
    in_packages = False
    current: PypiArtifact | None = None
    for line in lines:
        if line == "packages:":
            in_packages = True
        elif in_packages and line.startswith("- "):
            current = None
            if line.startswith("- pypi: "):
                current = artifacts.get(_unquote(line[len("- pypi: ") :]))
        out.append(line)
        if current is not None and line.startswith("  version: "):
            if current.sha256:
                out.append(f"  sha256: {_scalar(current.sha256)}")
            if current.requires_dist:
                out.append("  requires_dist:")
                out.extend(f"  - {_scalar(r)}" for r in current.requires_dist)
            if current.requires_python:
                out.append(f"  requires_python: {_scalar(current.requires_python)}")
            if current.editable:  # pixi.lock v6's spelling; rattler 0.28 reads past it
                out.append("  editable: true")
            current = None
    return "\n".join(out)


def editable_locations(text: str) -> frozenset[str]:
    """The `- pypi:` locations of the `packages:` entries marked `editable: true` (rattler
    0.28 parses the field but drops it)."""
    if "\n  editable: true" not in text:
        return frozenset()
    out: set[str] = set()
    in_packages = False
    current: str | None = None
    for line in text.split("\n"):
        if line == "packages:":
            in_packages = True
        elif not in_packages:
            continue
        elif line.startswith("- "):
            current = _unquote(line[len("- pypi: ") :]) if line.startswith("- pypi: ") else None
        elif line and not line.startswith(" "):
            in_packages = False  # the next top-level key (`hermetic:`)
        elif current is not None and line.rstrip() == "  editable: true":
            out.add(current)
    return frozenset(out)


def _unquote(s: str) -> str:
    return s[1:-1].replace("''", "'") if s.startswith("'") and s.endswith("'") else s


_PLAIN_UNSAFE = re.compile(
    r"""^[-?:,\[\]{}#&*!|>'"%@`\s]|\s$|: | #|^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$|^(true|false|null|yes|no|on|off|~)$""",
    re.I,
)


def _scalar(value: str) -> str:
    """A YAML scalar written the way rattler writes it: plain when safe, else single-quoted."""
    if value and not _PLAIN_UNSAFE.search(value):
        return value
    return "'" + value.replace("'", "''") + "'"


def _render_meta(
    environments: Sequence[LockedEnvironment], platform_override: Sequence[str] = ()
) -> str:
    meta: dict[str, object] = {
        "format": FORMAT,
        "environments": {
            e.name: {"inputs-hash": e.inputs.digest, **e.inputs.to_dict()}
            for e in sorted(environments, key=lambda e: e.name)
        },
    }
    if platform_override:  # absent otherwise: a lock made without -p keeps its bytes
        meta["platform-override"] = sorted(set(platform_override))
    return "".join(_yaml_lines({META_KEY: meta}, 0))


def _yaml_lines(value: object, indent: int) -> list[str]:
    """Block YAML for dicts of lists of strings (sorted keys), without loading PyYAML."""
    pad = " " * indent
    out: list[str] = []
    assert isinstance(value, dict)
    for key in sorted(value):
        item = value[key]
        k = _scalar(str(key))
        if isinstance(item, dict):
            out += (
                [f"{pad}{k}: {{}}\n"]
                if not item
                else [f"{pad}{k}:\n", *_yaml_lines(item, indent + 2)]
            )
        elif isinstance(item, (list, tuple)):
            out += (
                [f"{pad}{k}: []\n"]
                if not item
                else [f"{pad}{k}:\n", *(f"{pad}- {_leaf(v)}\n" for v in item)]
            )
        else:
            out.append(f"{pad}{k}: {_leaf(item)}\n")
    return out


def _leaf(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return _scalar(str(v))


@dataclass(frozen=True)
class LockMeta:
    format: int
    inputs: Mapping[str, EnvironmentInputs]  # environment -> inputs
    digests: Mapping[str, str]  # environment -> stored inputs hash
    platform_override: tuple[str, ...] = ()  # `lock -p`: locked for these, not the manifest's


def read_meta(text: str, path: str = "hermetic.lock") -> LockMeta | None:
    """The `hermetic:` block alone, without parsing the (large) rest of the file."""
    at = text.rfind(_META_MARK)
    if at < 0:
        return None
    import yaml

    from hermetic import safeyaml

    try:
        data = safeyaml.load(text[at + 1 :]).get(META_KEY) or {}
        envs = data.get("environments") or {}
        return LockMeta(
            format=int(data.get("format", 0)),
            inputs={name: EnvironmentInputs.from_dict(d) for name, d in envs.items()},
            digests={name: str(d.get("inputs-hash", "")) for name, d in envs.items()},
            platform_override=tuple(str(p) for p in data.get("platform-override") or ()),
        )
    except (yaml.YAMLError, AttributeError, TypeError, ValueError) as exc:
        from hermetic.errors import Location, LockError

        line = text.count("\n", 0, at + 1) + 1
        raise LockError(
            f"the `hermetic:` block is damaged: {str(exc).splitlines()[0]}",
            location=Location(path, line),
            hint="re-create the lock with `hermetic lock` (it keeps your pins where it can read them)",
        ) from None
