"""Channel strings from the spec -> rattler sources, and how they are shown to users."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_ALIAS = "https://conda.anaconda.org/"


def is_local(channel: str) -> bool:
    return channel.startswith(("/", "./", "../", "~", "file://"))


def channel_source(channel: str) -> str:
    """What rattler is given for a spec channel: a URL or an absolute path."""
    if channel.startswith("file://"):
        return channel
    if is_local(channel):
        return str(Path(os.path.expanduser(channel)).resolve())
    return channel


def channel_url(channel: str) -> str:
    """The channel's base URL, for messages ("cannot reach <url>")."""
    if channel.startswith(("http://", "https://", "file://")):
        return channel.rstrip("/") + "/"
    if is_local(channel):
        return Path(channel_source(channel)).as_uri() + "/"
    alias = os.environ.get("HERMETIC_CHANNEL_ALIAS", DEFAULT_ALIAS)
    return alias.rstrip("/") + "/" + channel + "/"


def channel_name(channel: str) -> str:
    """A short name: `conda-forge` for its URL or for a local mirror folder named so."""
    c = channel.rstrip("/")
    if c.startswith(("http://", "https://")):
        for prefix in (
            "https://conda.anaconda.org/",
            "http://conda.anaconda.org/",
            "https://repo.anaconda.com/pkgs/",
        ):
            if c.startswith(prefix):
                return c[len(prefix) :]
        return c
    if is_local(c):
        return Path(c.removeprefix("file://")).name
    return c
