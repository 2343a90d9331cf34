"""Where each key of a TOML text is: the positional tokenizer behind every "file:line".

tomllib gives values without positions, so `TomlLocator` scans the text once and records the
line of every key path (table headers, dotted keys, inline tables, array items). It scans text
tomllib has already accepted, so it only has to be right on valid TOML. It is kept apart from
the readers as packaging keeps its `_tokenizer` apart from its `_parser`: the readers ask
"which line is this key on", and never see a character.

Every step is a regex match or a `str.find` from the current position, and lines are counted
with `str.count` over the consumed span, so the scan is linear in the size of the text.
"""

from __future__ import annotations

import contextlib
import re

Key = tuple[str | int, ...]  # table keys (str) and array indexes (int)

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SPACE = re.compile(r"[ \t\r]*")
_SPACE_NL = re.compile(r"[ \t\r\n]*")
# a one-line basic string: anything but a quote, a backslash or a newline, or an escape
_BASIC = re.compile(r'"((?:[^"\\\n]|\\.)*)"', re.S)
_SCALAR = re.compile(r"[^,\]}\s#]+(?:[ T][0-9:.+\-Z]+)?")


class TomlLocator:
    """The line of each key path in a TOML text, for messages: `line(("tool", "hermetic"))`."""

    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.lineno = 1
        self.lines: dict[Key, int] = {}
        self._aot: dict[Key, int] = {}
        # an end of text the scanner did not expect: keep what it found
        with contextlib.suppress(IndexError, ValueError, RecursionError):
            self._document()

    def line(self, key: Key) -> int | None:
        """The line of `key`, or of its nearest enclosing table when it has none of its own."""
        key = tuple(key)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return None

    # -- moving --

    def _peek(self, n: int = 1) -> str:
        return self.text[self.pos : self.pos + n]

    def _move_to(self, end: int) -> None:
        self.lineno += self.text.count("\n", self.pos, end)
        self.pos = end

    def _record(self, key: Key, line: int) -> None:
        self.lines.setdefault(key, line)

    def _skip_space(self, newlines: bool) -> None:
        space = _SPACE_NL if newlines else _SPACE
        while True:
            m = space.match(self.text, self.pos)
            self._move_to(m.end() if m else self.pos)
            if self.pos < len(self.text) and self.text[self.pos] == "#":
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end
                continue
            return

    # -- the grammar --

    def _document(self) -> None:
        current: Key = ()
        while True:
            self._skip_space(newlines=True)
            if self.pos >= len(self.text):
                return
            line = self.lineno
            if self._peek(2) == "[[":
                self._move_to(self.pos + 2)
                key = self._key()
                self._skip_space(newlines=False)
                self._move_to(self.pos + 2)  # ]]
                index = self._aot.get(key, -1) + 1
                self._aot[key] = index
                self._record(key, line)
                current = (*key, index)
                self._record(current, line)
            elif self._peek() == "[":
                self._move_to(self.pos + 1)
                current = self._key()
                self._skip_space(newlines=False)
                self._move_to(self.pos + 1)  # ]
                for i in range(1, len(current) + 1):
                    self._record(current[:i], line)
            else:
                start = self.pos
                key = self._key()
                self._skip_space(newlines=False)
                if self._peek() != "=":  # not a key/value: skip a character
                    if self.pos == start:
                        self._move_to(self.pos + 1)
                    continue
                self._move_to(self.pos + 1)
                for i in range(1, len(key) + 1):
                    self._record((*current, *key[:i]), line)
                self._skip_space(newlines=False)
                self._value((*current, *key))

    def _key(self) -> Key:
        parts: list[str | int] = []
        while True:
            self._skip_space(newlines=False)
            c = self._peek()
            if c == '"':
                parts.append(self._basic_string())
            elif c == "'":
                parts.append(self._literal_string())
            else:
                m = _BARE_KEY.match(self.text, self.pos)
                if not m:
                    return tuple(parts)
                parts.append(m.group(0))
                self._move_to(m.end())
            self._skip_space(newlines=False)
            if self._peek() == ".":
                self._move_to(self.pos + 1)
                continue
            return tuple(parts)

    def _basic_string(self) -> str:
        if self._peek(3) == '"""':
            start = self.pos + 3
            end = start
            while True:
                end = self.text.index('"""', end)
                backslashes = 0  # count only the run just before the quotes
                while end - backslashes - 1 >= start and self.text[end - backslashes - 1] == "\\":
                    backslashes += 1
                if backslashes % 2 == 0:
                    break
                end += 1
            while self.text[end + 3 : end + 4] == '"':  # up to two quotes end the content
                end += 1
            self._move_to(end + 3)
            return self.text[start:end]
        m = _BASIC.match(self.text, self.pos)
        if m is None:
            raise ValueError("unterminated string")
        self._move_to(m.end())
        raw = m.group(1)
        if "\\" not in raw:
            return raw
        try:
            return raw.encode("latin-1", "backslashreplace").decode("unicode_escape")
        except UnicodeDecodeError:
            return raw

    def _literal_string(self) -> str:
        if self._peek(3) == "'''":
            start = self.pos + 3
            end = self.text.index("'''", start)
            while self.text[end + 3 : end + 4] == "'":
                end += 1
            self._move_to(end + 3)
            return self.text[start:end]
        start = self.pos + 1
        end = self.text.index("'", start)
        self._move_to(end + 1)
        return self.text[start:end]

    def _value(self, key: Key) -> None:
        c = self._peek()
        if c == '"':
            self._basic_string()
        elif c == "'":
            self._literal_string()
        elif c == "[":
            self._array(key)
        elif c == "{":
            self._inline_table(key)
        else:
            m = _SCALAR.match(self.text, self.pos)
            self._move_to(self.pos + max(1, m.end() - self.pos) if m else self.pos + 1)

    def _array(self, key: Key) -> None:
        self._move_to(self.pos + 1)
        index = 0
        while True:
            self._skip_space(newlines=True)
            if self._peek() in ("]", ""):
                self._move_to(self.pos + 1)
                return
            self._record((*key, index), self.lineno)
            self._value((*key, index))
            index += 1
            self._skip_space(newlines=True)
            if self._peek() == ",":
                self._move_to(self.pos + 1)

    def _inline_table(self, key: Key) -> None:
        self._move_to(self.pos + 1)
        while True:
            self._skip_space(newlines=True)
            if self._peek() in ("}", ""):
                self._move_to(self.pos + 1)
                return
            line = self.lineno
            sub = self._key()
            self._skip_space(newlines=False)
            self._move_to(self.pos + 1)  # =
            for i in range(1, len(sub) + 1):
                self._record((*key, *sub[:i]), line)
            self._skip_space(newlines=False)
            self._value((*key, *sub))
            self._skip_space(newlines=True)
            if self._peek() == ",":
                self._move_to(self.pos + 1)
