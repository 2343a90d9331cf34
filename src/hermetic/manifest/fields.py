"""What every manifest reader shares: where a value is, and what a platform, channel or path is.

Each reader (TOML, pixi, environment.yml) turns its own syntax into calls on these, so a
platform is checked one way and an error names its file and line one way, whatever the form.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hermetic.channel import is_url, url_problem
from hermetic.errors import Location, SpecError, UsageError, did_you_mean
from hermetic.layout import toml_loads
from hermetic.manifest.model import SpecWarning
from hermetic.platform import known_platforms
from hermetic.textinput import read_input_text


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

    def warning(self, message: str, hint: str | None = None) -> SpecWarning:
        return SpecWarning(message, location=self.location, hint=hint)


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


def read_text(path: Path, what: str = "manifest") -> str:
    """A manifest's (or requirements file's) text: a regular UTF-8 file without NUL
    characters, at most 8 MiB (a FIFO or /dev/zero is refused, never read)."""
    if Path(path).is_dir():
        raise UsageError(f"{path} is a directory, not a {what}")
    try:
        return read_input_text(Path(path), what=what)
    except FileNotFoundError:
        raise UsageError(f"no such file: {path}") from None


def parse_toml(text: str, display: str) -> dict[str, Any]:
    """tomllib's parse, its syntax errors turned into a SpecError at file:line."""
    try:
        data = toml_loads(text)
    except RecursionError:
        raise SpecError(
            "invalid TOML: arrays or tables nested too deeply", location=Location(display)
        ) from None
    except ValueError as exc:  # tomllib.TOMLDecodeError is a ValueError
        msg = str(exc)
        m = re.search(r"\s*\(at line (\d+), column (\d+)\)", msg)
        line = int(m.group(1)) if m else None
        if m:
            msg = msg[: m.start()] + msg[m.end() :]
        if " (at end of document)" in msg:  # the last line: where the reader gave up
            line = max(1, len(text.splitlines()))
        msg = msg.replace(" (at end of document)", "").strip()
        raise SpecError(
            f"invalid TOML: {msg}",
            location=Location(display, line),
            hint="see https://toml.io for the syntax",
        ) from None
    _refuse_nul(data, text, display)
    return data


def _refuse_nul(data: dict[str, Any], text: str, display: str) -> None:
    """No key or value may hold a NUL character (an escape `\\u0000` makes one)."""
    stack: list[object] = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and "\0" in item:
            found = [i for i in (text.find("\\u0000"), text.find("\\U00000000")) if i >= 0]
            at = min(found) if found else -1
            raise SpecError(
                "a NUL character in a key or value",
                location=Location(display, text.count("\n", 0, at) + 1 if at >= 0 else None),
            )


# ---- platforms ----


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


# ---- channels and paths ----

# conda's `defaults` is not a channel on conda.anaconda.org: it stands for Anaconda's own
# repositories. These are what conda itself expands it to on linux and macOS.
DEFAULTS_CHANNELS = ("https://repo.anaconda.com/pkgs/main", "https://repo.anaconda.com/pkgs/r")


def resolve_path(text: str, base: Path) -> str:
    """A local path as an absolute path, relative ones taken from `base` (the manifest's dir)."""
    p = Path(os.path.expanduser(text))
    if not p.is_absolute():
        p = Path(base) / p
    return os.path.normpath(str(p))


def resolve_channel(text: object, base: Path, where: Where) -> str:
    """A channel as the spec keeps it: names and URLs as written, local paths made absolute."""
    if not isinstance(text, str):
        raise where.error(
            f"{where.key}: expected a channel name, URL or path, got {describe(text)}"
        )
    ch = text.strip()
    if not ch:
        raise where.error(f"{where.key}: empty channel")
    if is_url(ch):
        if problem := url_problem(ch):
            raise where.error(
                f"{where.key}: a channel URL is not valid: {problem}",
                hint="write channels as https://host/path, a name or a local folder",
            )
        return ch
    if (
        ch.startswith(("/", "~", "./", "../"))
        or ch in (".", "..")
        or (("/" in ch or os.sep in ch) and _is_dir(Path(base) / ch))
    ):
        return resolve_path(ch, base)
    if re.search(r"\s|::", ch):
        raise where.error(f"{where.key}: {ch!r} is no channel name, URL or path")
    return ch


def expand_channels(channels: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The channels, `defaults` replaced by the repositories it stands for, each once."""
    out: list[str] = []
    for ch in channels:
        out.extend(DEFAULTS_CHANNELS if ch == "defaults" else (ch,))
    return tuple(dict.fromkeys(out))


def local_to_manifest(path: str, manifest_dir: Path) -> str:
    """How a converter writes an absolute path: relative when it is under the manifest's dir."""
    if is_url(path) or not os.path.isabs(path):
        return path
    try:
        rel = Path(path).relative_to(Path(manifest_dir).absolute())
    except ValueError:
        return path
    return "./" + rel.as_posix() if str(rel) != "." else "."


# ---- small values ----

SYSREQ_EXAMPLES = {"cuda": "12.4", "glibc": "2.28", "linux": "5.10", "macos": "13.0"}


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
            hint=f'expected dotted numbers, e.g. {key} = "{SYSREQ_EXAMPLES.get(key, "1.0")}"',
        )
    return text


ENV_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


# pixi's platform groups for `[target.<group>]`: the platforms whose name starts so
PLATFORM_GROUPS = {
    "linux": ("linux-",),
    "osx": ("osx-",),
    "win": ("win-",),
    "unix": ("linux-", "osx-"),
}


def platforms_of_target(name: str, in_scope: tuple[str, ...], where: Where) -> tuple[str, ...]:
    """The platforms `[target.<name>]` applies to: one platform, or a group's among `in_scope`."""
    prefixes = PLATFORM_GROUPS.get(name)
    if prefixes is not None:
        return tuple(p for p in in_scope if p.startswith(prefixes))
    known = known_platforms()
    if name not in known:
        guess = did_you_mean(name, (*known, *PLATFORM_GROUPS))
        raise where.error(
            f"{where.key}: unknown platform {name!r}",
            hint=(f"did you mean {guess!r}? " if guess else "")
            + "a target is a platform ("
            + ", ".join(known)
            + ") or a group ("
            + ", ".join(PLATFORM_GROUPS)
            + ")",
        )
    return (name,)


def _is_dir(path: Path) -> bool:
    """Whether `path` is a folder; False for what cannot be one (a name too long, a NUL)."""
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False
