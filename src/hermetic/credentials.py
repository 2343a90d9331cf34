"""Credentials: found in memory, used in memory, never written, printed or put on argv.

Where they come from, first match wins (as pixi and uv look them up):

1. a URL written with them in the manifest (`https://user:token@host/...`, conda's
   `/t/<token>/`) or in a `[mirrors]` URL: remembered for this process only (`remember`,
   `remember_userinfo`), never written out;
2. `HERMETIC_AUTH_<HOST>=user:password` (the host upper-cased, every other character
   `_`: for `pkgs.example.com`, `HERMETIC_AUTH_` + `PKGS_EXAMPLE_COM`);
3. `~/.netrc` (or `$NETRC`);
4. the system keyring, when the optional `keyring` package is installed.

rattler and uv also keep their own (rattler's auth file and keyring, uv's netrc and
`UV_INDEX_*` variables); hermetic passes them through untouched.

How they travel: rattler only ever sees canonical URLs, without `user:pass@` and without
`/t/<token>` (those URLs are what its repodata cache and the records store). Its one HTTP
client (`hermetic.httpclient`) adds, per request and in memory, the conda token
(`token_rewrites`: a mirror-style rewrite `https://host/chan/` -> `https://host/t/<token>/chan/`)
and an `Authorization` header (`auth_headers`) chosen by the host actually requested, so a
canonical host's credentials never go to a mirror on another host. uv gets them through its
environment (`uv_index_environment`, `index_environment`), never its argv.

`redact_url` is the form of a URL that may appear anywhere outside memory, `strip_url` the
form written into the lock and its exports.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from hermetic.channel import redact_url, strip_url
from hermetic.settings import auth_from_environ

__all__ = [
    "auth_headers",
    "authenticated",
    "credential_for",
    "redact_text",
    "redact_url",
    "remember",
    "remember_userinfo",
    "strip_url",
    "token_rewrites",
]

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")
_TOKEN_SEGMENT = re.compile(r"/t/([^/]+)")
#: (scheme, host:port, path prefix) -> (user, password) or token, from manifest URLs
_REMEMBERED: dict[tuple[str, str, str], tuple[str | None, str | None, str | None]] = {}
#: canonical channel URL (ending in "/", no credentials) -> its conda token
_TOKENS: dict[str, str] = {}


def redact_text(text: str) -> str:
    """`text` with every URL in it redacted (for engine messages that echo URLs)."""
    return _URL.sub(lambda m: redact_url(m.group(0)), text)


def remember(urls: Iterable[str]) -> None:
    """Keep, in this process's memory, the credentials of the URLs a manifest wrote."""
    for url in urls:
        parts = urlsplit(url)
        if not parts.scheme.startswith("http"):
            continue
        user = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        token = m.group(1) if (m := _TOKEN_SEGMENT.search(parts.path)) else None
        if user is None and token is None:
            continue
        path = _TOKEN_SEGMENT.sub("", parts.path).rstrip("/")
        _REMEMBERED[(parts.scheme, _hostport(parts), path)] = (user, password, token)
        if token is not None:
            host = parts.netloc.rpartition("@")[2]
            _TOKENS[f"{parts.scheme}://{host}{path}/"] = token


def remember_userinfo(url: str) -> str:
    """Remember the `user:password@` of `url` (a mirror's, say) for its host, in memory;
    returns `url` without it, the only form kept anywhere else."""
    parts = urlsplit(url)
    if "@" not in parts.netloc or not parts.scheme.startswith("http"):
        return url
    if parts.username:
        user = unquote(parts.username)
        password = unquote(parts.password) if parts.password else None
        path = _TOKEN_SEGMENT.sub("", parts.path).rstrip("/")
        _REMEMBERED[(parts.scheme, _hostport(parts), path)] = (user, password, None)
    return without_userinfo(url)


def token_rewrites() -> dict[str, str]:
    """Each channel written with a conda token: its canonical URL (what rattler sees and
    caches) -> the URL a request really goes to, `/t/<token>` after the host."""
    out = {}
    for canonical, token in _TOKENS.items():
        parts = urlsplit(canonical)
        out[canonical] = urlunsplit(parts._replace(path=f"/t/{token}{parts.path}"))
    return out


def credential_for(url: str) -> tuple[str, str] | None:
    """(user, password) for `url` from the sources above, or None."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("http"):
        return None
    hostport = _hostport(parts)
    best: tuple[str | None, str | None, str | None] | None = None
    best_len = -1
    for (scheme, host, prefix), cred in _REMEMBERED.items():
        if scheme != parts.scheme or host != hostport or cred[0] is None:
            continue
        # the longest matching path wins; any URL of the realm (scheme, host, port) matches,
        # as uv and browsers reuse a realm's credentials (an index's files live elsewhere)
        score = len(prefix) if parts.path.startswith(prefix) else -1
        if score > best_len or best is None:
            best, best_len = cred, score
    if best is not None and best[0] is not None:
        return best[0], best[1] or ""
    value = auth_from_environ(parts.hostname or "")
    if value:
        user, _, password = value.partition(":")
        return user, password
    found = _netrc(parts.hostname or "")
    if found is not None:
        return found
    return _keyring(parts.hostname or "")


def authenticated(url: str) -> str:
    """`url` with credentials in it, for a request made in this process (never show it)."""
    parts = urlsplit(url)
    if parts.username or not parts.scheme.startswith("http"):
        return url
    token = _token_for(url)
    if token is not None and "/t/" not in parts.path:
        return urlunsplit(parts._replace(path=f"/t/{token}{parts.path}"))
    cred = credential_for(url)
    if cred is None:
        return url
    netloc = f"{quote(cred[0], safe='')}:{quote(cred[1], safe='')}@{parts.netloc}"
    return urlunsplit(parts._replace(netloc=netloc))


def _token_for(url: str) -> str | None:
    parts = urlsplit(url)
    for (scheme, host, prefix), (_u, _p, token) in _REMEMBERED.items():
        same = scheme == parts.scheme and host == _hostport(parts)
        if token and same and parts.path.startswith(prefix):
            return token
    return None


def _hostport(parts: object) -> str:
    host = getattr(parts, "hostname", None) or ""
    port = getattr(parts, "port", None)
    return f"{host}:{port}" if port else host


def _netrc(host: str) -> tuple[str, str] | None:
    import netrc

    path = os.environ.get("NETRC") or os.path.expanduser("~/.netrc")
    try:
        found = netrc.netrc(path).authenticators(host)
    except (OSError, netrc.NetrcParseError):
        return None
    if not found:
        return None
    login, _account, password = found
    return login or "", password or ""


def _keyring(host: str) -> tuple[str, str] | None:
    try:
        import keyring  # optional: only when installed
    except ImportError:
        return None
    try:
        cred = keyring.get_credential(host, None)
    except Exception:  # a keyring backend failure must not break an install
        return None
    return (cred.username, cred.password) if cred is not None else None


def uv_index_environment(urls: Iterable[str]) -> dict[str, str]:
    """uv's variables that give it the credentials of each realm (scheme, host, port) among
    `urls` as a named index, so they never appear on uv's command line (`ps` shows argv)."""
    env: dict[str, str] = {}
    names: list[str] = []
    seen: set[tuple[str, str]] = set()
    for url in urls:
        parts = urlsplit(url)
        realm = (parts.scheme, _hostport(parts))
        if not parts.scheme.startswith("http") or realm in seen:
            continue
        seen.add(realm)
        cred = credential_for(url)
        if cred is None:
            continue
        name = f"hermetic{len(names)}"
        names.append(f"{name}={parts.scheme}://{parts.netloc.rpartition('@')[2]}/")
        env[f"UV_INDEX_{name.upper()}_USERNAME"] = cred[0]
        env[f"UV_INDEX_{name.upper()}_PASSWORD"] = cred[1]
    if names:
        env["UV_INDEX"] = " ".join(names)
    return env


def index_environment(index_url: str | None, extra_index_urls: Iterable[str]) -> dict[str, str]:
    """The index URLs of `pypi-options` as uv's environment (`UV_INDEX_URL`,
    `UV_EXTRA_INDEX_URL`), credentials included, instead of `--index-url` on argv."""
    env: dict[str, str] = {}
    if index_url:
        env["UV_INDEX_URL"] = authenticated(index_url)
    extra = [authenticated(u) for u in extra_index_urls]
    if extra:
        env["UV_EXTRA_INDEX_URL"] = " ".join(extra)
    return env


def without_userinfo(url: str) -> str:
    """`url` without `user:password@` (a `/t/<token>` path stays: it is part of the URL)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def auth_headers(host: str, path: str) -> dict[str, str] | None:
    """An `Authorization` header for a request to `host` (any port: rattler gives the host
    name only, as netrc and rattler's own auth storage key by it) and `path`, for rattler's
    `AddHeadersMiddleware`. It runs after the mirror rewrite, so `host` is the one actually
    requested; the credentials stay out of the URLs rattler caches."""
    import base64

    path = _TOKEN_SEGMENT.sub("", path, count=1)  # a token rewrite's path is the channel's
    best: tuple[str | None, str | None, str | None] | None = None
    best_len = -1
    for (_scheme, hostport, prefix), cred in _REMEMBERED.items():
        if (hostport.rpartition(":")[0] != host and hostport != host) or cred[0] is None:
            continue
        score = len(prefix) if path.startswith(prefix) else -1
        if score > best_len or best is None:
            best, best_len = cred, score
    pair: tuple[str, str] | None = (best[0] or "", best[1] or "") if best is not None else None
    if pair is None:
        value = auth_from_environ(host)
        if value:
            user, _, password = value.partition(":")
            pair = (user, password)
    pair = pair or _netrc(host) or _keyring(host)
    if pair is None:
        return None
    token = base64.b64encode(f"{pair[0]}:{pair[1]}".encode()).decode()
    return {"Authorization": f"Basic {token}"}
