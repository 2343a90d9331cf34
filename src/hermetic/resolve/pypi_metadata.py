"""The core metadata (Requires-Dist, Requires-Python) of each locked PyPI artifact.

uv has read every chosen wheel's metadata to resolve, but its outputs (pylock.toml,
requirements.txt) do not carry it and its cache format is private. So hermetic reads it from
the sources uv read it from, in the order that costs least:

* a local wheel (find-links, `file://`): the `*.dist-info/METADATA` inside the zip;
* a remote wheel: the index's PEP 658 `<url>.metadata` file (PyPI serves one for every
  wheel; it is a few KiB, where the wheel may be gigabytes), else the zip's METADATA entry
  read with HTTP range requests, else (a server that answers neither, e.g. a plain static
  file server) the whole wheel when it is at most `DOWNLOAD_LIMIT`; a private index's
  requests carry its in-memory credentials (`hermetic.credentials`). The result is cached
  on disk by the wheel's sha256, so a warm re-lock fetches nothing;
* a local source tree (path or editable dependency): the static `[project]` table of its
  pyproject.toml (PEP 621), and where that is dynamic, the metadata of a wheel uv builds;
* a git checkout: the metadata of the wheel uv builds from it (uv's git cache is warm).

An sdist's metadata is not read (that needs a build); its fields stay empty. Metadata is a
convenience for `tree` and exports: a failure to read it never fails a lock.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from hermetic.lock.model import local_path
from hermetic.settings import current as current_settings

if TYPE_CHECKING:
    import httpx


@dataclass(frozen=True)
class CoreMetadata:
    name: str
    version: str
    requires_dist: tuple[str, ...]
    requires_python: str | None


def parse_metadata(text: str) -> CoreMetadata:
    msg = HeaderParser().parsestr(text)
    return CoreMetadata(
        name=str(msg.get("Name") or ""),
        version=str(msg.get("Version") or ""),
        requires_dist=tuple(str(r).strip() for r in msg.get_all("Requires-Dist") or ()),
        requires_python=(str(msg["Requires-Python"]).strip() or None)
        if msg.get("Requires-Python")
        else None,
    )


def wheel_metadata(path: Path) -> CoreMetadata | None:
    """The METADATA inside a wheel file."""
    try:
        with zipfile.ZipFile(path) as zf:
            text = _metadata_member(zf)
    except (OSError, zipfile.BadZipFile, KeyError):
        return None
    return parse_metadata(text) if text is not None else None


def _metadata_member(zf: zipfile.ZipFile) -> str | None:
    """The text of a wheel's one `*.dist-info/METADATA` entry (None: none, or several)."""
    names = [n for n in zf.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
    return zf.read(names[0]).decode("utf-8", "replace") if len(names) == 1 else None


def load_toml(text: str) -> dict[str, Any]:
    """tomllib (Python 3.11+) or its backport tomli, which has the same API."""
    import importlib

    toml = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
    data: dict[str, Any] = toml.loads(text)
    return data


def _cache_dir() -> Path:
    return current_settings().cache_dir / "pypi-metadata"


def remote_wheel_metadata(url: str, sha256: str | None) -> CoreMetadata | None:
    """A remote wheel's METADATA: the disk cache (by sha256), else the index's PEP 658
    `.metadata` file, else the zip's own entry read with HTTP range requests (as uv does)."""
    if sha256 and (hit := _cached(sha256)) is not None:
        return None if hit is False else hit  # False: known to be unreadable
    import httpx

    from hermetic.credentials import credential_for

    found: str | None = None
    # a private index's credentials, in memory only (never in the URL, never shown)
    auth = credential_for(url)
    with httpx.Client(timeout=30.0, follow_redirects=True, auth=auth) as client:
        try:
            resp = client.get(url.split("#", 1)[0] + ".metadata")
            if resp.status_code == 200:
                found = resp.text
            elif resp.status_code in (401, 403, 407, 429) or resp.status_code >= 500:
                return None  # credentials or a passing fault: not remembered
            else:
                found = _zip_metadata_by_range(client, url.split("#", 1)[0], sha256)
        except (httpx.HTTPError, OSError, zipfile.BadZipFile, ValueError):
            return None  # a network failure is not remembered: the next lock tries again
    meta = parse_metadata(found) if found else None
    if sha256:
        _store(sha256, meta)
    return meta


class _RangeFile(io.RawIOBase):
    """A read-only, seekable view of a remote file through HTTP range requests, so zipfile
    reads the central directory and one member without downloading the wheel."""

    def __init__(self, client: httpx.Client, url: str, size: int):
        self._client, self._url, self._size, self._pos = client, url, size, 0
        self._blocks: dict[int, bytes] = {}

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def read(self, size: int = -1) -> bytes:
        end = self._size if size is None or size < 0 else min(self._size, self._pos + size)
        out = bytearray()
        while self._pos < end:
            block = self._pos // _BLOCK
            if block not in self._blocks:
                start = block * _BLOCK
                resp = self._client.get(
                    self._url, headers={"Range": f"bytes={start}-{start + _BLOCK - 1}"}
                )
                if resp.status_code != 206:
                    raise ValueError("the server does not answer range requests")
                self._blocks[block] = resp.content
            data = self._blocks[block]
            lo = self._pos - block * _BLOCK
            chunk = data[lo : lo + (end - self._pos)]
            if not chunk:
                break
            out += chunk
            self._pos += len(chunk)
        return bytes(out)


_BLOCK = 64 * 1024


#: the largest wheel downloaded whole for its metadata, when the server serves no PEP 658
#: file and no byte ranges (uv downloaded it whole to resolve, too)
DOWNLOAD_LIMIT = 64 * 1024 * 1024


def _zip_metadata_by_range(client: httpx.Client, url: str, sha256: str | None) -> str | None:
    head = client.head(url)
    _unanswered(head.status_code, url)
    size = int(head.headers.get("content-length", "0"))
    if head.status_code != 200 or size <= 0:
        return None  # nothing to read a part of: remembered as unreadable
    # some servers answer ranges without saying so: ask once rather than trust the header
    if head.headers.get("accept-ranges") != "bytes" and not _answers_ranges(client, url):
        return _zip_metadata_by_download(client, url, size, sha256)
    with zipfile.ZipFile(_RangeFile(client, url, size)) as zf:  # reads are block-cached
        return _metadata_member(zf)


def _unanswered(status: int, url: str) -> None:
    """Credentials or a passing fault: no answer to remember (the next lock asks again)."""
    if status in (401, 403, 407, 429) or status >= 500:
        raise ValueError(f"{url}: HTTP {status}")


def _answers_ranges(client: httpx.Client, url: str) -> bool:
    """Whether the server answers a byte range (206); the body is not read either way."""
    with client.stream("GET", url, headers={"Range": "bytes=0-0"}) as resp:
        _unanswered(resp.status_code, url)
        return resp.status_code == 206


def _zip_metadata_by_download(
    client: httpx.Client, url: str, size: int, sha256: str | None
) -> str | None:
    """The METADATA of a wheel of at most `DOWNLOAD_LIMIT` bytes, downloaded into memory
    (and checked against the locked sha256: the metadata is that artifact's)."""
    import hashlib

    if size > DOWNLOAD_LIMIT:
        return None
    data = bytearray()
    with client.stream("GET", url) as resp:
        _unanswered(resp.status_code, url)
        if resp.status_code != 200:
            return None
        for chunk in resp.iter_bytes():
            data += chunk
            if len(data) > DOWNLOAD_LIMIT:
                return None
    if sha256 and hashlib.sha256(data).hexdigest() != sha256:
        return None
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        return _metadata_member(zf)


def source_tree_metadata(path: Path) -> CoreMetadata | None:
    """PEP 621 static metadata of a source tree; None when a field we need is dynamic."""
    try:
        project = load_toml((path / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    except (OSError, KeyError, ValueError):
        return None
    if not isinstance(project, dict):
        return None
    dynamic = set(project.get("dynamic") or ())
    if {"version", "dependencies", "requires-python"} & dynamic or "version" not in project:
        return None
    try:
        return CoreMetadata(
            name=str(project["name"]),
            version=str(project["version"]),
            requires_dist=tuple(str(d) for d in project.get("dependencies") or ()),
            requires_python=str(project["requires-python"])
            if project.get("requires-python")
            else None,
        )
    except KeyError:
        return None


def built_metadata(
    requirement: str,
    uv: str,
    python: str,
    index_args: Iterable[str],
    index_env: dict[str, str] | None = None,
) -> CoreMetadata | None:
    """The metadata of the wheel uv builds for `requirement` (a direct URL), or None."""
    with tempfile.TemporaryDirectory(prefix="hermetic-meta-") as tmp:
        cmd = [uv, "pip", "install", "--no-deps", "--quiet", "--target", tmp, "--python", python]
        proc = subprocess.run(
            [*cmd, *index_args, requirement],
            capture_output=True,
            text=True,
            env={**uv_environment(), **(index_env or {})},
            timeout=600,
        )
        if proc.returncode != 0:
            return None
        infos = list(Path(tmp).glob("*.dist-info/METADATA"))
        if len(infos) != 1:
            return None
        return parse_metadata(infos[0].read_text(encoding="utf-8", errors="replace"))


class BuildOnce:
    """`built_metadata` for one lock run: each source is built once, however many
    environment x platform resolutions lock it (a project's own editable source is in every
    one of them: 41 builds of the same tree for a 13-environment, 4-platform workspace).
    Concurrent callers of one source wait for the first build. A new lock run starts afresh,
    so an edited source tree is read again."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[tuple[object, ...], threading.Lock] = {}
        self._done: dict[tuple[object, ...], CoreMetadata | None] = {}

    def __call__(
        self,
        requirement: str,
        uv: str,
        python: str,
        index_args: Iterable[str],
        index_env: dict[str, str] | None = None,
    ) -> CoreMetadata | None:
        args = tuple(index_args)
        key = (requirement, uv, python, args, tuple(sorted((index_env or {}).items())))
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._done:
                self._done[key] = _tree_cached_build(requirement, uv, python, args, index_env)
            return self._done[key]


def _tree_cached_build(
    requirement: str, uv: str, python: str, args: tuple[str, ...], index_env: dict[str, str] | None
) -> CoreMetadata | None:
    """A local source tree's built metadata, from the disk cache while the tree is unchanged
    (a build costs seconds: uv prepares a source tree's metadata anew for every install)."""
    name = _tree_cache_name(requirement)
    if name is None:
        return built_metadata(requirement, uv, python, args, index_env)
    if isinstance(hit := _cached(name), CoreMetadata):
        return hit
    meta = built_metadata(requirement, uv, python, args, index_env)
    if meta is not None:  # a failed build is not remembered: the next lock tries again
        _store(name, meta)
    return meta


def _tree_cache_name(url: str) -> str | None:
    """The disk cache's name for a local source tree's metadata in its current state."""
    path = local_path(url) if url.startswith("file://") else None
    fingerprint = tree_fingerprint(path) if path is not None and path.is_dir() else None
    if fingerprint is None:
        return None
    # the interpreter that runs the build backend (hermetic's own) is part of what it sees;
    # its real path, so `hermetic` and `python -m hermetic` (python vs python3.11) agree
    inputs = "\0".join([url, os.path.realpath(sys.executable), fingerprint]).encode()
    return "tree-" + hashlib.sha256(inputs).hexdigest()


def current_tree_metadata(url: str) -> CoreMetadata | None:
    """A local source tree's metadata as it is now, when known without a build: its static
    PEP 621 table, else what a build of the tree in this very state gave. None otherwise."""
    path = local_path(url) if url.startswith("file://") else None
    if path is None or not path.is_dir():
        return None
    if (static := source_tree_metadata(path)) is not None:
        return static
    name = _tree_cache_name(url)
    hit = _cached(name) if name is not None else None
    return hit if isinstance(hit, CoreMetadata) else None


# build outputs, caches, environments, VCS internals and the locks that a lock run itself
# writes into the project it locks: not what a build reads
_NOT_SOURCE = frozenset(
    {".git", ".hg", ".svn", ".venv", "venv", ".pixi", ".hermetic", ".tox", ".nox",
     "node_modules", "__pycache__", "build", "dist", ".mypy_cache", ".pytest_cache",
     ".ruff_cache", ".eggs", "hermetic.lock", "pixi.lock"}
)  # fmt: skip
_MAX_TREE_FILES = 50_000


def tree_fingerprint(root: Path) -> str | None:
    """What a source tree's built metadata depends on, read cheaply: every source file's
    path, size and mtime, and the checked-out commit and tags (setuptools-scm and its kind
    derive the version from them). None when the tree cannot be read or is too big to walk."""
    digest = hashlib.sha256()
    files = 0
    try:
        stack = [root]
        while stack:
            with os.scandir(stack.pop()) as it:
                entries = sorted(it, key=lambda e: e.name)
            for e in entries:
                if e.name in _NOT_SOURCE:
                    continue
                if e.is_dir(follow_symlinks=False):
                    if not e.name.endswith(".egg-info"):
                        stack.append(Path(e.path))
                    continue
                st = e.stat(follow_symlinks=False)
                rel = os.path.relpath(e.path, root)
                digest.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
                files += 1
                if files > _MAX_TREE_FILES:
                    return None
        digest.update(_vcs_state(root).encode())
    except OSError:
        return None
    return digest.hexdigest()


def _vcs_state(root: Path) -> str:
    """The git checkout around `root`: HEAD, the commit it names, and when tags last moved."""
    for d in (root, *root.parents):
        git = d / ".git"
        if not git.is_dir():
            continue
        parts = []
        head = (git / "HEAD").read_text(errors="replace").strip()
        parts.append(head)
        if head.startswith("ref: "):
            ref = git / head[5:]
            parts.append(ref.read_text(errors="replace").strip() if ref.is_file() else "")
        for marker in (git / "packed-refs", git / "refs" / "tags"):
            parts.append(str(marker.stat().st_mtime_ns) if marker.exists() else "-")
        return "\n".join(parts)
    return ""


def uv_environment() -> dict[str, str]:
    """uv's environment for every hermetic call: never download an interpreter (the conda
    solve chose the Python; builds use the interpreter hermetic runs on)."""
    env = dict(os.environ)
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env.pop("UV_SYSTEM_PYTHON", None)
    return env


@dataclass(frozen=True)
class MetadataRequest:
    url: str
    sha256: str | None


def fetch_all(
    requests: Iterable[MetadataRequest],
    build: Callable[[str], CoreMetadata | None],
) -> dict[str, CoreMetadata]:
    """url -> metadata for every artifact whose metadata could be read.

    Cached and local wheels are read in this thread (a few ms each); what needs the network
    or a build runs concurrently. `build(url)` answers for source trees with dynamic metadata
    and for git checkouts."""

    def one(req: MetadataRequest) -> tuple[str, CoreMetadata | None]:
        try:
            return req.url, _one(req)
        except Exception:  # metadata is a convenience: an odd artifact never fails a lock
            return req.url, None

    def _one(req: MetadataRequest) -> CoreMetadata | None:
        url = req.url
        if url.startswith("git+"):
            return build(url)
        path = local_path(url)
        if path is not None:
            if path.name.endswith(".whl"):
                return wheel_metadata(path)
            if path.is_dir():
                return source_tree_metadata(path) or build(url)
            return None  # an sdist: its metadata needs a build
        if url.split("#", 1)[0].endswith(".whl"):
            return remote_wheel_metadata(url, req.sha256)
        return None

    unique = {r.url: r for r in requests}
    found: dict[str, CoreMetadata | None] = {}
    slow: list[MetadataRequest] = []
    for req in unique.values():
        path = local_path(req.url)
        if req.sha256 and (hit := _cached(req.sha256)) is not None:
            found[req.url] = None if hit is False else hit
        elif path is not None and path.name.endswith(".whl"):
            found[req.url] = wheel_metadata(path)
            if req.sha256:
                _store(req.sha256, found[req.url])
        else:
            slow.append(req)
    if slow:
        with ThreadPoolExecutor(max_workers=min(16, len(slow))) as pool:
            found.update(pool.map(one, slow))
    return {url: meta for url, meta in found.items() if meta is not None}


# what the cache holds for an artifact whose metadata cannot be read; an empty file (what
# versions before the download fallback wrote) is asked again once
_UNREADABLE = "# unreadable\n"


def _store(sha256: str, meta: CoreMetadata | None) -> None:
    """Remember an artifact's metadata (or that it has none to read) by its sha256."""
    from hermetic.fs import atomic_write_text

    text = _UNREADABLE if meta is None else render_metadata(meta)
    try:
        path = _cache_dir() / f"{sha256}.METADATA"
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
    except OSError:
        pass  # a read-only cache only costs a read next time


def render_metadata(meta: CoreMetadata) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {meta.name}", f"Version: {meta.version}"]
    if meta.requires_python:
        lines.append(f"Requires-Python: {meta.requires_python}")
    lines += [f"Requires-Dist: {r}" for r in meta.requires_dist]
    return "\n".join(lines) + "\n"


def _cached(sha256: str) -> CoreMetadata | Literal[False] | None:
    """The cached metadata; False when it is known to be unreadable; None when not cached."""
    try:
        text = (_cache_dir() / f"{sha256}.METADATA").read_text(encoding="utf-8")
    except OSError:
        return None
    if not text:
        return None
    return False if text == _UNREADABLE else parse_metadata(text)
