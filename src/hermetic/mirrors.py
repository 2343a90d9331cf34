"""Channel mirrors: fetch a channel from elsewhere, record its canonical URL.

Companies serve conda-forge from Artifactory, Nexus or a copy on disk. pixi's `[mirrors]`
table says so once, outside any project's manifest:

    [mirrors]
    "https://conda.anaconda.org/conda-forge" = ["https://artifactory.example/conda-forge",
                                                 "file:///srv/conda-forge"]

Solving, fetching and installing then go to the first mirror, while the lock keeps the
canonical URLs, so a lock made behind one company's proxy installs anywhere. The table lives
in the user's config file (`$HERMETIC_CONFIG`, else `~/.config/hermetic/config.toml`) and a
project's `.hermetic/config.toml`, whose entries win. HTTP mirrors go through rattler's own
mirror middleware in hermetic's one HTTP client (`hermetic.httpclient`, which keeps canonical
URLs in the records and caches); a `file://` mirror is read as a local channel and its records
are given their canonical URLs back.

A mirror URL may carry `user:password@` (an Artifactory login): it is taken out when the
table is read and kept in memory for the mirror's host (`credentials.remember_userinfo`), and
sent as an `Authorization` header to that host only. The canonical channel's credentials are
never sent to a mirror on another host: headers are chosen by the host actually requested.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from hermetic.credentials import remember_userinfo, strip_url
from hermetic.errors import Location, UsageError
from hermetic.layout import toml_loads

if TYPE_CHECKING:
    from rattler import RepoDataRecord

_SCHEMES = ("http://", "https://", "file://")


@dataclass(frozen=True)
class Mirror:
    """Where one canonical channel URL (or URL prefix) is fetched from, in order of preference."""

    canonical: str  # ends with "/"
    urls: tuple[str, ...]  # each ends with "/"

    @property
    def local(self) -> Path | None:
        """The folder of the first mirror when it is a `file://` one."""
        first = self.urls[0]
        return Path(unquote(urlsplit(first).path)) if first.startswith("file://") else None


@dataclass(frozen=True)
class Mirrors:
    entries: tuple[Mirror, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.entries)

    def find(self, url: str) -> Mirror | None:
        """The mirror whose canonical URL is the longest prefix of `url`."""
        u = _slash(url)
        best = [m for m in self.entries if u.startswith(m.canonical)]
        return max(best, key=lambda m: len(m.canonical)) if best else None

    def fetch_url(self, url: str) -> str:
        """`url` on its first mirror (unchanged when no mirror applies)."""
        m = self.find(url)
        return m.urls[0] + url[len(m.canonical) :] if m else url

    def local_source(self, channel_url: str) -> str | None:
        """The folder rattler reads a channel from, when its first mirror is `file://`."""
        m = self.find(channel_url)
        if m is None or m.local is None:
            return None
        rest = _slash(channel_url)[len(m.canonical) :]
        return str(m.local / rest) if rest else str(m.local)

    def http_table(self) -> dict[str, list[str]]:
        """canonical URL -> its HTTP mirrors, each ending in "/" (for rattler's
        `MirrorMiddleware`: the trailing "/" keeps `.../chan/` from matching `.../chan2/`)."""
        table = {
            m.canonical: [u for u in m.urls if not u.startswith("file:")] for m in self.entries
        }
        return {k: v for k, v in table.items() if v}

    def canonical_records(
        self, records: Iterable[RepoDataRecord], channel_url: str
    ) -> list[RepoDataRecord]:
        """Records read from a channel's `file://` mirror, given their canonical URLs back."""
        m = self.find(channel_url)
        out = list(records)
        if m is None or m.local is None:
            return out
        mirror_base = m.local.as_uri().rstrip("/") + "/"
        for r in out:
            url = str(r.url)
            if url.startswith(mirror_base):
                r.url = m.canonical + url[len(mirror_base) :]
                r.channel = _slash(channel_url)
        return out


def load_mirrors(paths: Iterable[Path]) -> Mirrors:
    """The `[mirrors]` tables of the config files that exist, later files winning per key."""
    table: dict[str, Mirror] = {}
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise UsageError(f"cannot read the config file {path}: {exc.strerror}") from None
        for mirror in _parse(text, Path(path)):
            table[mirror.canonical] = mirror
    return Mirrors(tuple(sorted(table.values(), key=lambda m: m.canonical)))


def _parse(text: str, path: Path) -> list[Mirror]:
    try:
        data = toml_loads(text)
    except Exception as exc:  # tomllib.TOMLDecodeError: "... (at line N, column M)"
        raise UsageError(
            f"invalid TOML: {exc}", location=Location(str(path)), hint="fix the config file"
        ) from None
    raw: Any = data.get("mirrors", {})
    where = Location(str(path), _line_of(text, "[mirrors]"))
    if not isinstance(raw, dict):
        raise UsageError("mirrors: expected a table", location=where)
    out = []
    for canonical, urls in raw.items():
        line = Location(str(path), _line_of(text, canonical))
        if isinstance(urls, str):
            urls = [urls]
        if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
            raise UsageError(
                f"mirrors: {canonical!r} must map to a list of mirror URLs",
                location=line,
                hint='e.g. "https://conda.anaconda.org/conda-forge" = ["https://mirror/conda-forge"]',
            )
        for u in (canonical, *urls):
            if not u.startswith(_SCHEMES):
                raise UsageError(
                    f"mirrors: {u!r} is no http(s):// or file:// URL",
                    location=line,
                    hint="write channels as full URLs: https://conda.anaconda.org/conda-forge",
                )
        # a mirror's `user:pass@` is kept in memory for its host (sent as a header there),
        # never in the table: nothing downstream sees it
        mirrors = tuple(_slash(remember_userinfo(u)) for u in urls)
        out.append(Mirror(_slash(strip_url(canonical)), mirrors))
    return out


def _line_of(text: str, needle: str) -> int | None:
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    return None


def _slash(url: str) -> str:
    return url.rstrip("/") + "/"
