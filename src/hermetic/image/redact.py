"""Credentials in URLs never reach an image (switch to the ground `credentials` module)."""

from __future__ import annotations

import re

_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]*@")
_TOKEN = re.compile(r"/t/[^/\s]+(?=/|$)")


def redact_url(url: str) -> str:
    url = _USERINFO.sub(lambda m: f"{m.group(1)}***@", url)
    return _TOKEN.sub("/t/***", url)
