"""`hermetic bundle`: a self-contained offline channel, and installing from one.

A bundle directory holds:

* `channel/<subdir>/<file>`: every locked conda archive, checked against the lock's sha256,
  and a `repodata.json` per subdir from rattler's indexer (without `indexed_timestamp`, so
  the same lock gives the same bytes);
* `wheels/<file>`: every locked PyPI wheel, checked the same way;
* `hermetic.lock`: the lock with every artifact location rewritten to those relative
  paths, and its channels to `./channel`;
* `explicit-<platform>.txt`: an `@EXPLICIT` list (with `#sha256`) for conda/micromamba.

`install_bundle` checks every file of the bundle against the lock before installing (a
missing or different file is refused, naming the package) and then installs with the
ordinary install code from those local files: no network, any cache.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from hermetic.condapkg import index_channel
from hermetic.env.stage import fetch_archive
from hermetic.env.verify import local_path
from hermetic.env.wheelfetch import fetch_wheel, refuse_sources
from hermetic.errors import HermeticError, LockError
from hermetic.fs import atomic_write_text, sha256_file
from hermetic.layout import LOCK_NAME
from hermetic.lock.model import PypiArtifact
from hermetic.mirrors import Mirrors


@dataclass(frozen=True)
class Bundle:
    path: Path
    platform: str
    conda: int
    pypi: int
    bytes: int


def _filename(url: str) -> str:
    return unquote(urlparse(url).path).rsplit("/", 1)[-1]


def _copy_archive(record: Any, dest: Path, mirrors: Mirrors | None) -> None:
    """The conda archive of `record` at `dest`, fetched as install fetches it (a `file://`
    mirror, or the client with HTTP mirrors and credentials) and checked against the lock."""
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        fetch_archive(record, tmp, mirrors)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def write_bundle(
    lock_path: Path,
    environment: str,
    platform: str,
    records: list[Any],
    pypi: tuple[PypiArtifact, ...],
    out: Path,
    cache: Path,
    mirrors: Mirrors | None = None,
) -> Bundle:
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise HermeticError(f"{out} exists and is not empty", hint="pick a new directory")
    refuse_sources(pypi)  # before any archive is copied
    staging = out.with_name(f".{out.name}.{os.getpid()}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        locations: dict[str, str] = {}
        explicit = [f"# hermetic bundle: conda packages of {environment} ({platform})", "@EXPLICIT"]
        subdirs = {"noarch", platform}
        for r in sorted(records, key=lambda r: r.name.normalized):
            rel = f"channel/{r.subdir}/{r.file_name}"
            subdirs.add(str(r.subdir))
            _copy_archive(r, staging / rel, mirrors)
            locations[str(r.url)] = rel
            sha = r.sha256.hex() if r.sha256 else ""
            explicit.append(f"./{rel}#{sha}" if sha else f"./{rel}")
        for p in pypi:
            wheel = fetch_wheel(p, cache)
            rel = f"wheels/{wheel.name}"
            (staging / "wheels").mkdir(parents=True, exist_ok=True)
            shutil.copyfile(wheel, staging / rel)
            locations[p.url] = rel
        index_channel(staging / "channel", subdirs=tuple(sorted(subdirs)))
        for sub in sorted(subdirs):
            _drop_indexed_timestamp(staging / "channel" / sub / "repodata.json")
        atomic_write_text(staging / f"explicit-{platform}.txt", "\n".join(explicit) + "\n")
        _rewrite_lock(lock_path, staging / LOCK_NAME, locations, records, pypi)
        if out.exists():
            out.rmdir()
        os.replace(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    return Bundle(out, platform, len(records), len(pypi), size)


def _drop_indexed_timestamp(path: Path) -> None:
    if not path.is_file():
        return
    doc = json.loads(path.read_text())
    for key in ("packages", "packages.conda"):
        for rec in doc.get(key, {}).values():
            rec.pop("indexed_timestamp", None)
    atomic_write_text(path, json.dumps(doc, indent=2, sort_keys=True) + "\n")


def _rewrite_lock(
    lock_path: Path,
    out: Path,
    locations: dict[str, str],
    records: list[Any],
    pypi: tuple[PypiArtifact, ...],
) -> None:
    """The lock with every artifact at its bundle path. Locations are replaced as they are
    written in the lock (its own text: URLs, or paths relative to the lock)."""
    text = Path(lock_path).read_text()
    lock_dir = Path(lock_path).resolve().parent
    written: dict[str, str] = {}
    subdirs: dict[str, str] = {}
    by_url = {str(r.url): str(r.subdir) for r in records}
    for url, rel in locations.items():
        for form in _forms(url, lock_dir):
            written[form] = rel
            if url in by_url:
                subdirs[form] = by_url[url]
    out_lines = []
    in_channels = False
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if in_channels and stripped.startswith("- "):
            # the bundle is the only channel: `- url: <channel>` and hermetic's `- <channel>`
            value = stripped.removeprefix("- ").removeprefix("url: ")
            line = line.replace(value, "./channel", 1)
            out_lines.append(line)
            continue
        in_channels = stripped == "channels:"
        extra = ""
        for prefix in ("- conda: ", "- pypi: "):
            if stripped.startswith(prefix):
                value = stripped[len(prefix) :]
                if value in written:
                    line = line.replace(value, written[value], 1)
                    if line.startswith("- conda: ") and value in subdirs:
                        # a path tells rattler no subdir, as a channel URL does
                        extra = f"  subdir: {subdirs[value]}\n"
                break
        out_lines.append(line + extra)
    new = "".join(_dedupe_subdir(out_lines))
    missing = [u for u in locations if not any(f in text for f in _forms(u, lock_dir))]
    if missing:
        raise HermeticError(f"cannot find {missing[0]} in {lock_path} to rewrite it")
    atomic_write_text(out, new)


def _dedupe_subdir(lines: list[str]) -> list[str]:
    """Drop the `subdir:` added to an entry that already had one (local channels do)."""
    out: list[str] = []
    block_has_subdir = False
    for line in lines:
        for sub in line.splitlines(keepends=True):
            if sub.startswith("- "):
                block_has_subdir = False
            if sub.startswith("  subdir: "):
                if block_has_subdir:
                    continue
                block_has_subdir = True
            out.append(sub)
    return out


def _forms(url: str, lock_dir: Path) -> list[str]:
    forms = [url]
    path = local_path(url)
    if path is not None:
        forms.append(str(path))
        with contextlib.suppress(ValueError):  # another drive (Windows)
            forms.append(os.path.relpath(path, lock_dir))
    return forms


def absolute_lock(text: str, bundle: Path) -> str:
    """The bundle's lock with its relative artifact paths made absolute under `bundle`."""
    out = []
    for line in text.splitlines(keepends=True):
        for prefix in ("- conda: ", "  - conda: ", "- pypi: "):
            rest = line.lstrip(" ")
            if rest.startswith(prefix.strip() + " "):
                value = rest[len(prefix.strip()) + 1 :].rstrip("\n")
                if value.startswith(("channel/", "wheels/")):
                    line = line.replace(value, f"{bundle}/{value}", 1)
                break
        out.append(line)
    return "".join(out)


def check_bundle(bundle: Path, records: list[Any], pypi: tuple[PypiArtifact, ...]) -> None:
    """Every artifact the bundle's lock names must be in the bundle, with its sha256."""
    for r in records:
        path = local_path(str(r.url))
        name = f"{r.name.normalized} {r.version} {r.build}"
        _check_file(bundle, path, r.sha256.hex() if r.sha256 else None, name)
    for p in pypi:
        path = local_path(p.url)
        _check_file(bundle, path, p.sha256, f"{p.name} {p.version} (PyPI)")


def _check_file(bundle: Path, path: Path | None, sha: str | None, name: str) -> None:
    if path is None:
        raise LockError(
            f"the bundle's lock points {name} outside the bundle; refusing to use the network",
            hint="re-create the bundle with `hermetic bundle`",
        )
    try:
        path.resolve().relative_to(bundle.resolve())
    except ValueError:
        raise LockError(f"the bundle's lock points {name} outside the bundle: {path}") from None
    if not path.is_file():
        raise LockError(
            f"the bundle is missing {name}: {path} does not exist",
            hint="copy the whole bundle directory again",
        )
    if sha is None or sha256_file(path) != sha:
        raise LockError(
            f"the bundle's file for {name} does not match the lock's sha256: {path}",
            hint="the bundle was damaged or modified; copy it again",
        )
