"""Errors a user can act on.

Every layer raises these for mistakes a user can fix; the CLI turns them into one
message and an exit code, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


@dataclass(frozen=True)
class Location:
    """Where a problem is: a file and, when known, a 1-based line."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


class HermeticError(Exception):
    """A failure with a message, an optional location and a hint on how to fix it."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, location: Location | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint

    def __str__(self) -> str:
        head = f"{self.location}: {self.message}" if self.location else self.message
        return f"{head}\n  hint: {self.hint}" if self.hint else head


class UsageError(HermeticError):
    """Bad arguments or a bad spec: the user must change what they asked for."""

    exit_code = EXIT_USAGE


class SpecError(UsageError):
    """The spec file is invalid."""


class ResolveError(HermeticError):
    """The requirements cannot be solved, or a channel or index cannot be read."""


class LockError(HermeticError):
    """The lock file is missing, unreadable or does not fit the request."""


def did_you_mean(word: str, choices: list[str] | tuple[str, ...] | set[str]) -> str | None:
    """The closest choice to a misspelt word, or None when nothing is close."""
    import difflib

    found = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return found[0] if found else None
