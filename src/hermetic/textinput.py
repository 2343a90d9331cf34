"""Reading a user's input file (manifest, requirements file, lock) without surprises.

One function for every text file hermetic reads from a user: it must be a regular file (a
FIFO named by `-m` used to hang, `/dev/zero` as a `-r` file never ended), no bigger than
a cap, UTF-8, and free of NUL characters; a bad byte is reported at its line.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from hermetic.errors import HermeticError, Location, SpecError

#: manifests and requirements files: a hand-written one is a few KiB; generated ones more
MAX_MANIFEST_BYTES = 8 << 20
#: lock files: a 1,000-package lock is under 1 MiB
MAX_LOCK_BYTES = 64 << 20


def read_input_text(
    path: Path,
    *,
    what: str = "file",
    max_bytes: int = MAX_MANIFEST_BYTES,
    error: type[HermeticError] = SpecError,
) -> str:
    """The UTF-8 text of the regular file at `path`; raises `error` with the file and line of
    what is wrong (FileNotFoundError propagates: callers say what a missing file means)."""
    path = Path(path)
    where = Location(str(path))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise
    except OSError as exc:
        if exc.errno == errno.EISDIR:
            raise error(f"the {what} is a directory", location=where) from None
        raise error(f"cannot read the {what}: {exc.strerror}", location=where) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise error(
                f"the {what} is not a regular file (a FIFO, device or socket)",
                location=where,
                hint="give the path of an ordinary file",
            )
        if st.st_size > max_bytes:
            raise error(
                f"the {what} is {st.st_size >> 10} KiB, more than the {max_bytes >> 10} KiB "
                "hermetic reads",
                location=where,
            )
        os.set_blocking(fd, True)
        chunks = []
        left = max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
    except OSError as exc:
        raise error(f"cannot read the {what}: {exc.strerror}", location=where) from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise error(
            f"the {what} is larger than the {max_bytes >> 10} KiB hermetic reads", location=where
        )
    return decode_text(data, str(path), what=what, error=error)


def decode_text(
    data: bytes, display: str, *, what: str = "file", error: type[HermeticError] = SpecError
) -> str:
    """`data` as UTF-8 text without NUL characters, or `error` at the offending line."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise error(
            f"the {what} is not UTF-8 text (byte {data[exc.start]:#04x})",
            location=Location(display, line),
            hint="save it as UTF-8",
        ) from None
    nul = text.find("\0")
    if nul >= 0:
        raise error(
            f"the {what} contains a NUL character",
            location=Location(display, text.count("\n", 0, nul) + 1),
        )
    return text.removeprefix("\ufeff")


LOCK_CONFLICT_HINT = (
    "resolve the conflict, or run `hermetic lock` to re-solve keeping both sides' pins "
    "where possible"
)


def read_lock_text(path: Path) -> str:
    """A lock file's text (regular, UTF-8, at most `MAX_LOCK_BYTES`, no unresolved git merge
    conflict), or a LockError."""
    from hermetic.errors import LockError

    text = read_input_text(path, what="lock file", max_bytes=MAX_LOCK_BYTES, error=LockError)
    line = conflict_marker_line(text)
    if line is not None:
        raise LockError(
            "the lock has git merge conflict markers",
            location=Location(str(path), line),
            hint=LOCK_CONFLICT_HINT,
        )
    return text


def conflict_marker_line(text: str) -> int | None:
    """The line of the first git merge conflict marker (`<<<<<<< `) in `text`, if any."""
    if "<<<<<<<" not in text:
        return None
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("<<<<<<< ") or line == "<<<<<<<":
            return number
    return None


def conflict_sides(text: str) -> tuple[str, str]:
    """(ours, theirs) of a text with git merge conflicts (diff3's base section dropped)."""
    ours: list[str] = []
    theirs: list[str] = []
    state = "both"
    for line in text.splitlines(keepends=True):
        bare = line.rstrip("\r\n")
        if bare.startswith("<<<<<<<"):
            state = "ours"
        elif bare.startswith("|||||||") and state == "ours":
            state = "base"
        elif bare == "=======" and state in ("ours", "base"):
            state = "theirs"
        elif bare.startswith(">>>>>>>") and state == "theirs":
            state = "both"
        else:
            if state in ("both", "ours"):
                ours.append(line)
            if state in ("both", "theirs"):
                theirs.append(line)
    return "".join(ours), "".join(theirs)
