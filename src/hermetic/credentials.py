"""Credentials in URLs: never written, printed or passed on a command line.

The redacted form of a URL is `hermetic.channel.redact_url` (user-info and `/t/<token>`
masked); `redact_text` applies it to every URL inside a message.
"""

from __future__ import annotations

import re

from hermetic.channel import redact_url

__all__ = ["redact_text", "redact_url"]

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def redact_text(text: str) -> str:
    """`text` with every URL in it redacted (for engine messages that echo URLs)."""
    return _URL.sub(lambda m: redact_url(m.group(0)), text)
