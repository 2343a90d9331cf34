"""The one rattler HTTP client: every request hermetic makes through rattler goes through it.

Repodata (the gateway), archive downloads (install, image, pack) and rattler's installer all
take `rattler_client(mirrors)`. rattler is only ever given canonical URLs: without
`user:pass@`, without a conda `/t/<token>`, never a mirror's. Its repodata cache
(`*.info.json` store the URL), the records, the lock and `conda-meta` therefore hold those
only; everything secret is added here, per request, in memory.

Middlewares, outermost first (rattler runs them in the order of the list; checked with
py-rattler 0.28):

1. `RetryMiddleware`: transient failures are retried, each try choosing a mirror again
   (rattler's mirror middleware counts a mirror's failures and moves to the next);
2. `MirrorMiddleware` with `rewrite_table(mirrors)`: a canonical URL prefix -> where it is
   really fetched from. That is the `[mirrors]` HTTP mirrors (`hermetic.mirrors`), and each
   channel written with a conda token: `https://host/chan/` -> `https://host/t/<token>/chan/`
   (`credentials.token_rewrites`), so the token lives in this in-memory table and nowhere
   else; no auth file is written for it;
3. `AuthenticationMiddleware`: rattler's own stores (its auth file, keyring, netrc), looked up
   by the host actually requested;
4. `AddHeadersMiddleware(credentials.auth_headers)`: hermetic's credentials (manifest URL,
   `[mirrors]` URL, `HERMETIC_AUTH_<HOST>`, netrc, keyring) as an `Authorization` header. It
   runs after the mirror rewrite, so the header belongs to the host actually requested: the
   canonical host's credentials never reach a mirror on another host. It runs after rattler's
   store, so what the user wrote for hermetic wins.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from hermetic.credentials import auth_headers, token_rewrites
from hermetic.mirrors import Mirrors

if TYPE_CHECKING:
    from rattler.networking import Client

__all__ = ["credentials_hint", "rattler_client", "rewrite_table"]


#: (mirrors, rewrite table) -> the client built for them: building one costs ~8 ms of CPU
#: (TLS roots), so a process builds each once, and only when a request is to be made
_CLIENTS: dict[tuple[object, ...], Client] = {}


def rattler_client(mirrors: Mirrors | None = None) -> Client:
    """rattler's HTTP client with mirrors, conda tokens, credentials and retries."""
    table = rewrite_table(mirrors)
    key = (mirrors or Mirrors(), tuple(sorted((k, tuple(v)) for k, v in table.items())))
    client = _CLIENTS.get(key)
    if client is None:
        client = _CLIENTS[key] = _build(table)
    return client


def _build(table: dict[str, list[str]]) -> Client:
    from rattler.networking import Client
    from rattler.networking.middleware import (
        AddHeadersMiddleware,
        AuthenticationMiddleware,
        MirrorMiddleware,
        RetryMiddleware,
    )

    return Client(
        [
            RetryMiddleware(),
            *([MirrorMiddleware(table)] if table else []),
            AuthenticationMiddleware(),
            AddHeadersMiddleware(auth_headers),
        ]
    )


def rewrite_table(mirrors: Mirrors | None = None) -> dict[str, list[str]]:
    """canonical URL prefix (ending in "/") -> the URLs a request for it goes to.

    A token channel that a `[mirrors]` entry covers keeps its token only when the mirror is
    on the token's own host (scheme, host and port); a mirror elsewhere gets no token."""
    table = dict(mirrors.http_table()) if mirrors else {}
    for canonical, with_token in token_rewrites().items():
        mirror = mirrors.find(canonical) if mirrors else None
        if mirror is None:
            table[canonical] = [with_token]
            continue
        target = mirror.urls[0] + canonical[len(mirror.canonical) :]
        if _realm(target) == _realm(canonical):
            token_path = urlsplit(with_token).path.removesuffix(urlsplit(canonical).path)
            parts = urlsplit(target)
            table[canonical] = [urlunsplit(parts._replace(path=token_path + parts.path))]
    return table


def _realm(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.rpartition("@")[2].lower()


def credentials_hint(message: str) -> str | None:
    """The hint for a request the server refused for want of credentials (401/403), or None."""
    if re.search(r"\b(401|403)\b|unauthori[sz]ed|forbidden", message, re.IGNORECASE):
        return (
            "the server wants credentials (or refused the ones sent): write them in the URL, "
            "set HERMETIC_AUTH_<HOST>=user:password, or use ~/.netrc or the keyring; "
            "see docs/security.md"
        )
    return None
