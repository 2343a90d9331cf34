"""A conda channel, typed: what the manifest wrote, the URL it means, and how it is shown.

A channel used to be a string that each stop re-interpreted: the solver passed bare names to
rattler (which resolved them against its own alias), the lock writer and the messages
resolved them against `HERMETIC_CHANNEL_ALIAS`, so the lock could name one server while the
packages came from another. `Channel.parse` decides once, and everything downstream reads
the same fields.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from hermetic.errors import UsageError
from hermetic.settings import current as current_settings

# prefixes a short channel name is taken after (`https://conda.anaconda.org/conda-forge/`)
_NAME_PREFIXES = (
    "https://conda.anaconda.org/",
    "http://conda.anaconda.org/",
    "https://repo.anaconda.com/pkgs/",
)
_TOKEN = re.compile(r"/t/[^/]+(?=/|$)")
_SECRET = "********"


def is_local(text: str) -> bool:
    """A folder on this machine: a path, or a `file://` URL."""
    return text.startswith(("/", "./", "../", "~", "file://"))


def is_url(text: str) -> bool:
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text) is not None


def url_problem(url: str) -> str | None:
    """Why `url` cannot be used (urllib refuses its host or port), or None.

    The reason never quotes the URL, which may hold credentials."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # a port that is no number raises here, not in urlsplit
    except ValueError as exc:
        reason = str(exc)
        return "its host or port is not valid" if "@" in url or "/t/" in url else reason
    if not parts.hostname and parts.scheme != "file":
        return "it names no host"
    return None


@dataclass(frozen=True)
class Channel:
    """One channel of an environment.

    `source` is the manifest's text (local paths already made absolute by the reader);
    `base_url` is the URL it resolves to, ending in `/`, credentials included: what solving,
    fetching and installing use.
    """

    source: str
    base_url: str
    name: str

    @classmethod
    def parse(cls, source: str, alias: str | None = None) -> Channel:
        """Resolve a channel as the manifest wrote it: a name, a URL, or a local folder.

        A bare name is resolved against `alias` (default: `HERMETIC_CHANNEL_ALIAS`, else
        `https://conda.anaconda.org/`).
        """
        text = source.strip()
        alias = alias if alias is not None else current_settings().channel_alias
        if is_url(text):
            if problem := url_problem(text):
                raise UsageError(
                    f"a channel URL is not valid: {problem}",
                    hint="write channels as https://host/path, a name or a local folder",
                )
            base = text.rstrip("/") + "/"
        elif is_local(text):
            base = Path(local_path(text)).as_uri() + "/"
        else:
            base = alias.rstrip("/") + "/" + text.strip("/") + "/"
        return cls(source=source, base_url=base, name=_short_name(text, base, alias))

    @property
    def is_local(self) -> bool:
        return self.base_url.startswith("file://")

    @property
    def lock_url(self) -> str:
        """The URL the lock records: `base_url` without credentials (user:pass@, /t/<token>)."""
        return _without_credentials(self.base_url, replacement=None)

    def redacted(self) -> str:
        """`base_url` with any credentials masked, for messages and logs."""
        return _without_credentials(self.base_url, replacement=_SECRET)

    def rattler_source(self) -> str:
        """What rattler is given: the URL, or the absolute path of a folder written as a path."""
        return (
            local_path(self.source)
            if is_local(self.source) and not is_url(self.source)
            else self.base_url
        )

    def __str__(self) -> str:
        return self.redacted()


def local_path(text: str) -> str:
    """The absolute path of a local channel (a path or a `file://` URL), as the user wrote it:
    normalized, never resolved, so a `channel::pkg` naming a folder reached through a
    symlink is the same channel as the listed one (rattler compares them by path)."""
    if text.startswith("file://"):
        return unquote(urlsplit(text).path).rstrip("/") or "/"
    return os.path.normpath(os.path.abspath(os.path.expanduser(text)))


def _short_name(text: str, base: str, alias: str) -> str:
    """`conda-forge` for its URL (or a mirror folder named so); the URL for other servers."""
    if is_local(text):
        return Path(local_path(text)).name
    if not is_url(text):
        return text.strip("/")
    plain = _without_credentials(base, replacement=None).rstrip("/")
    for prefix in (_without_credentials(alias.rstrip("/") + "/", None), *_NAME_PREFIXES):
        if plain.startswith(prefix):
            return plain[len(prefix) :]
    return plain


def _without_credentials(url: str, replacement: str | None) -> str:
    """Drop (or mask) the `user:pass@` part and an anaconda.org `/t/<token>` path segment."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        if replacement is None:
            netloc = host
        else:
            masked = replacement + (":" + replacement if ":" in userinfo else "")
            netloc = f"{masked}@{host}"
    path = parts.path
    if parts.scheme in ("http", "https"):  # a folder named `t` in a file:// URL is no token
        path = _TOKEN.sub("" if replacement is None else f"/t/{replacement}", path)
    return urlunsplit((parts.scheme, netloc, path, parts.query, parts.fragment))


def redact_url(url: str) -> str:
    """Any URL (channel, index, package) with its credentials masked, for messages and logs."""
    return _without_credentials(url, replacement=_SECRET) if _has_credentials(url) else url


def strip_url(url: str) -> str:
    """Any URL with its credentials removed: what the lock and its exports record."""
    return _without_credentials(url, replacement=None) if _has_credentials(url) else url


def _has_credentials(url: str) -> bool:
    """Whether `url` has `user@`/`user:pass@` or a `/t/<token>` segment (any other URL is
    returned as it is: re-assembling `git+file:///x` would drop its `//`)."""
    if "://" not in url:
        return False
    parts = urlsplit(url)
    token = parts.scheme in ("http", "https") and _TOKEN.search(parts.path) is not None
    return "@" in parts.netloc or token


def channel_name(text: str) -> str:
    """The short name of a channel given as text (a spec entry or a record's channel URL)."""
    return Channel.parse(text).name
