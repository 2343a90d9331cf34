"""conda-build preprocessing selectors on environment.yml lines: `- pywin32  # [win]`.

conda-lock reads a selector as one name and keeps the line on the platforms that name
stands for; these are its names (linux64, aarch64, ppc64le, osx64, arm64, win64, unix,
linux, osx, win), extended the same way to every platform hermetic knows (x86_64 on the
64-bit Intel platforms, linux32, armv7l, s390x, ...). conda-build also allows `not`, `and`,
`or` and parentheses between names; conda-lock drops such a line on every platform (with a
log message), hermetic evaluates it as conda-build does. A selector that is no platform
condition (`py>=38`, `cuda_compiler_version != "None"`) cannot be decided at lock time: the
reader warns and leaves the line out, as conda-lock does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hermetic.platform import info, known_platforms

# conda-build's selector at the end of a line: `#`, anything, then `[expression]`
_SELECTOR = re.compile(r"#.*?\[([^\[\]]+)\]\s*$")
_TOKEN = re.compile(r"\s*(\(|\)|[A-Za-z_][A-Za-z0-9_]*|\S+)")


@dataclass(frozen=True)
class Selector:
    """A line's selector: its text, and the platforms it keeps the line on (None: cannot say)."""

    text: str
    platforms: tuple[str, ...] | None


def selector_names(platform: str) -> frozenset[str]:
    """The selector names true on `platform` (conda-lock's table, extended to all platforms)."""
    p = info(platform)
    if p is None:
        return frozenset()
    names = {p.family}
    if p.is_unix and p.family in ("linux", "osx", "freebsd"):
        names.add("unix")
    # the Intel platforms are the ones named by their bits: linux-64, win-32, osx-64
    bits = p.name.rpartition("-")[2] if p.arch in ("x86_64", "x86") else None
    if bits:
        names.add(f"{p.family}{bits}")  # linux64, osx64, win64, linux32, win32
        names.add("x86")
        if bits == "64":
            names.add("x86_64")
    else:
        names.add(p.arch)  # aarch64, arm64, ppc64le, s390x, armv7l, ...
    return frozenset(names)


def selector_of(comment_line: str) -> str | None:
    """The selector expression of a line's trailing comment, if it has one."""
    m = _SELECTOR.search(comment_line)
    return m.group(1).strip() if m else None


def evaluate(expression: str, platforms: tuple[str, ...] | None = None) -> Selector:
    """The platforms among `platforms` (default: every known one) the expression keeps."""
    candidates = platforms if platforms is not None else known_platforms()
    try:
        tokens = _tokens(expression)
        kept = tuple(p for p in candidates if _Parser(tokens, selector_names(p) | {p}).parse())
    except _NotAPlatformCondition:
        return Selector(expression, None)
    return Selector(expression, kept)


class _NotAPlatformCondition(Exception):
    pass


def _tokens(expression: str) -> list[str]:
    tokens = [m.group(1) for m in _TOKEN.finditer(expression)]
    if not tokens:
        raise _NotAPlatformCondition
    return tokens


_KNOWN_NAMES: frozenset[str] | None = None


def _known_names() -> frozenset[str]:
    global _KNOWN_NAMES
    if _KNOWN_NAMES is None:
        _KNOWN_NAMES = frozenset().union(*(selector_names(p) for p in known_platforms()))
    return _KNOWN_NAMES


class _Parser:
    """expr := term ('or' term)*; term := factor ('and' factor)*; factor := 'not' factor |
    '(' expr ')' | NAME. A name no platform has (e.g. `py`) makes the selector undecidable."""

    def __init__(self, tokens: list[str], true_names: frozenset[str]):
        self.tokens = tokens
        self.i = 0
        self.true = true_names

    def parse(self) -> bool:
        value = self.expr()
        if self.i != len(self.tokens):
            raise _NotAPlatformCondition
        return value

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> str:
        if self.i >= len(self.tokens):
            raise _NotAPlatformCondition
        self.i += 1
        return self.tokens[self.i - 1]

    def expr(self) -> bool:
        value = self.term()
        while self.peek() == "or":
            self.take()
            right = self.term()
            value = value or right
        return value

    def term(self) -> bool:
        value = self.factor()
        while self.peek() == "and":
            self.take()
            right = self.factor()
            value = value and right
        return value

    def factor(self) -> bool:
        token = self.take()
        if token == "not":
            return not self.factor()
        if token == "(":
            value = self.expr()
            if self.take() != ")":
                raise _NotAPlatformCondition
            return value
        if token in _known_names() or token in known_platforms():
            return token in self.true
        raise _NotAPlatformCondition
