"""The core metadata (Requires-Dist, Requires-Python) of each locked PyPI artifact.

uv has read every chosen wheel's metadata to resolve, but its outputs (pylock.toml,
requirements.txt) do not carry it and its cache format is private. So hermetic reads it from
the sources uv read it from, in the order that costs least:

* a local wheel (find-links, `file://`): the `*.dist-info/METADATA` inside the zip;
* a remote wheel: the index's PEP 658 `<url>.metadata` file (PyPI serves one for every
  wheel; it is a few KiB, where the wheel may be gigabytes), cached on disk by the wheel's
  sha256, so a warm re-lock fetches nothing;
* a local source tree (path or editable dependency): the static `[project]` table of its
  pyproject.toml (PEP 621), and where that is dynamic, the metadata of a wheel uv builds;
* a git checkout: the metadata of the wheel uv builds from it (uv's git cache is warm).

An sdist's metadata is not read (that needs a build); its fields stay empty. Metadata is a
convenience for `tree` and exports: a failure to read it never fails a lock.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path
from typing import Any

from hermetic.lock.model import local_path
from hermetic.settings import current as current_settings


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
            names = [
                n
                for n in zf.namelist()
                if re.fullmatch(r"[^/]+\.dist-info/METADATA", n) is not None
            ]
            if len(names) != 1:
                return None
            return parse_metadata(zf.read(names[0]).decode("utf-8", "replace"))
    except (OSError, zipfile.BadZipFile, KeyError):
        return None


def load_toml(text: str) -> dict[str, Any]:
    """tomllib (Python 3.11+) or its backport tomli, which has the same API."""
    import importlib

    toml = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
    data: dict[str, Any] = toml.loads(text)
    return data


def _cache_dir() -> Path:
    return current_settings().cache_dir / "pypi-metadata"


def remote_wheel_metadata(url: str, sha256: str | None) -> CoreMetadata | None:
    """PEP 658 metadata of a remote wheel, from the disk cache when its sha256 is known."""
    cached = _cache_dir() / f"{sha256}.METADATA" if sha256 else None
    if cached is not None:
        try:
            return parse_metadata(cached.read_text(encoding="utf-8"))
        except OSError:
            pass
    import httpx

    try:
        resp = httpx.get(url.split("#", 1)[0] + ".metadata", timeout=30.0, follow_redirects=True)
    except httpx.HTTPError:
        return None
    if resp.status_code != 200:
        return None
    text = resp.text
    if cached is not None:
        from hermetic.fs import atomic_write_text

        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(cached, text)
        except OSError:
            pass  # a read-only cache only costs a fetch next time
    return parse_metadata(text)


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
    requirement: str, uv: str, python: str, index_args: Iterable[str]
) -> CoreMetadata | None:
    """The metadata of the wheel uv builds for `requirement` (a direct URL), or None."""
    with tempfile.TemporaryDirectory(prefix="hermetic-meta-") as tmp:
        cmd = [uv, "pip", "install", "--no-deps", "--quiet", "--target", tmp, "--python", python]
        proc = subprocess.run(
            [*cmd, *index_args, requirement],
            capture_output=True,
            text=True,
            env=uv_environment(),
            timeout=600,
        )
        if proc.returncode != 0:
            return None
        infos = list(Path(tmp).glob("*.dist-info/METADATA"))
        if len(infos) != 1:
            return None
        return parse_metadata(infos[0].read_text(encoding="utf-8", errors="replace"))


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
    """url -> metadata for every artifact whose metadata could be read (concurrently).

    `build(url)` answers for source trees with dynamic metadata and for git checkouts."""

    def one(req: MetadataRequest) -> tuple[str, CoreMetadata | None]:
        url = req.url
        if url.startswith("git+"):
            return url, build(url)
        path = local_path(url)
        if path is not None:
            if path.name.endswith(".whl"):
                return url, wheel_metadata(path)
            if path.is_dir():
                return url, source_tree_metadata(path) or build(url)
            return url, None  # an sdist: its metadata needs a build
        if url.split("#", 1)[0].endswith(".whl"):
            return url, remote_wheel_metadata(url, req.sha256)
        return url, None

    unique = {r.url: r for r in requests}
    if not unique:
        return {}
    with ThreadPoolExecutor(max_workers=min(16, len(unique))) as pool:
        found = dict(pool.map(one, unique.values()))
    return {url: meta for url, meta in found.items() if meta is not None}
