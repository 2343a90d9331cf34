"""Credentials in URLs: never written, printed or passed on a command line.

`redact_url` is the form of a channel or index URL that may appear anywhere outside memory:
user-info (`user:password@`) and conda tokens (`/t/<token>/`) replaced by `***`.
"""

from __future__ import annotations

import re

_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]*@")
_TOKEN = re.compile(r"/t/[^/\s]+(?=/|$)")

REDACTED = "***"


def redact_url(url: str) -> str:
    """`url` with any `user:password@` and `/t/<token>` replaced by `***`."""
    url = _USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", url)
    return _TOKEN.sub(f"/t/{REDACTED}", url)


def redact_text(text: str, urls: list[str] | tuple[str, ...] = ()) -> str:
    """`text` with every URL that carries credentials redacted (also inside a message)."""
    for url in urls:
        text = text.replace(url, redact_url(url))
    return re.sub(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+", lambda m: redact_url(m.group(0)), text)
