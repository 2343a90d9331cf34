"""Typed access to a parsed TOML document, each value checked against its key's line.

`TomlValues` is what every TOML reader (hermetic's keys, pixi's keys) stands on: it asks the
`TomlLocator` for a key's line, turns a wrong type into one error at file:line with the key,
and gathers another tool's keys that hermetic reads but does not support yet into one warning.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path
from typing import Any

from hermetic.errors import did_you_mean
from hermetic.manifest.fields import Where, describe
from hermetic.manifest.model import SpecWarning
from hermetic.manifest.toml_locator import Key, TomlLocator

Table = dict[str, Any]


def fmt_key(keys: Key) -> str:
    """A key path as TOML writes it: `feature.gpu.dependencies`, `"my key"`, `[0]`."""
    out = ""
    for k in keys:
        if isinstance(k, int):
            out += f"[{k}]"
        else:
            part = k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else f'"{k}"'
            out += ("." if out else "") + part
    return out


class TomlValues:
    """A TOML document's values, read with the lines they came from.

    `prefix` is where the spec's keys live (`("tool", "hermetic")` in a pyproject.toml), so
    keys are given relative to it and messages show them in full.
    """

    tool = "hermetic"  # whose keys these are, for warnings about another tool's keys

    def __init__(self, path: Path, text: str, prefix: Key):
        self.path = str(path)
        self.base = Path(path).absolute().parent
        self.locator = TomlLocator(text)
        self.prefix = prefix
        self.unsupported: list[tuple[Where, str]] = []

    # -- places and errors --

    def at(self, *keys: str | int, absolute: bool = False) -> Where:
        full = tuple(keys) if absolute else (*self.prefix, *keys)
        return Where(self.path, self.locator.line(full), fmt_key(full) or "(top level)")

    def table_name(self, keys: Key) -> str:
        full = (*self.prefix, *keys)
        return f"[{fmt_key(full)}]" if full else "the top level"

    def table(self, value: object, keys: Key, what: str = "a table") -> Table:
        if not isinstance(value, dict):
            w = self.at(*keys)
            raise w.error(f"{w.key}: expected {what}, got {describe(value)}")
        return value

    def string(self, value: object, keys: Key, what: str = "a string") -> str:
        if not isinstance(value, str):
            w = self.at(*keys)
            raise w.error(f"{w.key}: expected {what}, got {describe(value)}")
        return value

    def optional_string(self, table: Table, keys: Key, key: str) -> str | None:
        return self.string(table[key], (*keys, key)) if key in table else None

    def boolean(self, value: object, keys: Key) -> bool:
        if not isinstance(value, bool):
            w = self.at(*keys)
            raise w.error(f"{w.key}: expected true or false, got {describe(value)}")
        return value

    def array(self, value: object, keys: Key, what: str = "a list") -> list[object]:
        if not isinstance(value, list):
            w = self.at(*keys)
            raise w.error(f"{w.key}: expected {what}, got {describe(value)}")
        return value

    def strings(self, value: object, keys: Key) -> list[str]:
        if not isinstance(value, list):
            w = self.at(*keys)
            raise w.error(f"{w.key}: expected a list of strings, got {describe(value)}")
        for i, item in enumerate(value):
            if not isinstance(item, str):
                w = self.at(*keys, i)
                raise w.error(
                    f"{fmt_key((*self.prefix, *keys))}: expected a list of strings, "
                    f"item {i + 1} is {describe(item)}"
                )
        return value

    def known_keys(
        self,
        table: Table,
        keys: Key,
        allowed: Collection[str],
        *,
        elsewhere: str = "",
        top_keys: Collection[str] = (),
        foreign: Collection[str] = (),
    ) -> None:
        """Every key of `table` is one of `allowed`; one of `foreign` (another tool's key that
        hermetic does not support yet) is noted for the one warning; anything else is an error."""
        for k in table:
            if k in allowed:
                continue
            if k in foreign:
                self.note_unsupported((*keys, k))
                continue
            w = self.at(*keys, k)
            guess = did_you_mean(k, tuple(allowed))
            hint = f"did you mean {guess!r}? " if guess else ""
            if elsewhere and k in top_keys:
                hint += f"{k!r} {elsewhere}; "
            hint += "known keys: " + ", ".join(allowed)
            raise w.error(f"unknown key {k!r} in {self.table_name(keys)}", hint=hint)

    # -- another tool's keys --

    def note_unsupported(self, keys: Key, what: str | None = None) -> None:
        """A key hermetic reads past: it goes into the one warning `unsupported_warning` makes."""
        w = self.at(*keys)
        self.unsupported.append((w, what or f"`[{w.key}]`"))

    def unsupported_warning(self) -> tuple[SpecWarning, ...]:
        """One warning naming every key of another tool this file uses that is not supported."""
        if not self.unsupported:
            return ()
        in_order = sorted(self.unsupported, key=lambda item: item[0].line or 0)
        first = in_order[0][0]
        named = list(dict.fromkeys(what for _, what in in_order))
        shown = ", ".join(named[:8]) + (f" and {len(named) - 8} more" if len(named) > 8 else "")
        lines = sorted({w.line for w, _ in self.unsupported if w.line})
        return (
            first.warning(
                f"{self.tool}'s {shown} {'is' if len(named) == 1 else 'are'} not supported by "
                "hermetic yet and ignored",
                hint="on lines " + ", ".join(map(str, lines[:12])) if lines else None,
            ),
        )
