"""Putting verified, checked packages into the package cache before rattler links anything.

rattler 0.28 would fetch, extract and link in one call, with no look at where a package's
paths go (docs/security.md). hermetic therefore fetches and extracts itself, in this order,
for every package an install is about to link that is not already in the cache:

1. copy (local channel) or download (remote) the archive to a private temporary file, so
   what is checked is what is extracted;
2. check its sha256 against the lock (an md5-only entry: its md5, with a warning; neither:
   refused);
3. read it as a stream (`hermetic.pkgpaths.read_archive`): every member and every path of
   `info/` relative and inside, no device files, an unpacked size within the limit;
4. extract it next to the cache entry and rename it into place, with the `<entry>.lock`
   rattler reads, so rattler links this very tree and never fetches the archive again.

Packages already in the cache are read back from their extracted `info/`, in the one pass
over the entry that also verifies it (`hermetic.env.verify.check_entry`). Then every
package of the transaction is checked together against the prefix (`check_packages`),
which covers symlinks that other packages of the same transaction lay.

`fetch_and_check` is that whole sequence, the one way every command that lays packages
out (install, image, pack) gets them into the cache: nothing is linked before it returns.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hermetic.env.verify import CachePlan, cache_lock_sha, entry_name, local_path, prepare_cache
from hermetic.errors import HermeticError, LockError
from hermetic.httpclient import credentials_hint, rattler_client
from hermetic.mirrors import Mirrors
from hermetic.pkgpaths import PackageLayout, check_packages, read_archive, refusal_says

#: rattler's `<entry>.lock`: a big-endian u64 revision, then the archive's sha256
_LOCK_REVISION = (1).to_bytes(8, "big")


@dataclass(frozen=True)
class Staged:
    layouts: tuple[PackageLayout, ...]
    md5_only: tuple[str, ...]  # packages checked by md5 only (the lock has no sha256)


def fetch_and_check(
    records: Sequence[Any],
    cache: Path,
    prefix: Path,
    *,
    site_packages: str | None,
    refused: str,
    warn: Callable[[str], None] | None = None,
    mirrors: Mirrors | None = None,
) -> tuple[CachePlan, Staged]:
    """Verify the cache, fetch, hash, check and extract what is missing, then check every
    package's paths against `prefix`; raises before anything is linked into `prefix`.

    `site_packages` is where `noarch: python` packages go (`site_packages_of` the lock's
    records: the python may be among the records already installed). `refused` ends the
    message of a refused package: what the caller did not do ("nothing was installed")."""
    records = list(records)
    Path(cache).mkdir(parents=True, exist_ok=True)
    with refusal_says(refused):
        plan = prepare_cache(records, cache)
        staged = stage_packages(records, cache, plan.intact, warn=warn, mirrors=mirrors)
        check_packages(prefix, staged.layouts, site_packages=site_packages)
    return plan, staged


def site_packages_of(records: Sequence[Any]) -> str | None:
    """Where `noarch: python` packages go: `lib/pythonX.Y/site-packages` of the locked python."""
    for r in records:
        if r.name.normalized == "python":
            major_minor = ".".join(str(r.version).split(".")[:2])
            return f"lib/python{major_minor}/site-packages"
    return None


def stage_packages(
    records: Sequence[Any],
    cache: Path,
    intact: Mapping[str, PackageLayout],
    *,
    warn: Callable[[str], None] | None = None,
    mirrors: Mirrors | None = None,
) -> Staged:
    """The checked layout of every record: from `intact` (entry name -> the layout of its
    verified cache entry), else by fetching, checking and extracting its archive.

    Archives come from the channels' `mirrors` when configured (a `file://` mirror is read
    from disk; HTTP ones through `hermetic.httpclient.rattler_client(mirrors)`)."""
    layouts: list[PackageLayout] = []
    md5_only: list[str] = []
    for r in records:
        name = entry_name(r)
        if r.sha256 is None:
            if r.md5 is None:
                raise LockError(
                    f"{r.file_name}: the lock has no sha256 (and no md5) for it",
                    hint="an unpinned artifact could be anything; re-lock with `hermetic lock`",
                )
            md5_only.append(name)
            if warn is not None:
                warn(f"warning: {r.file_name} is pinned by md5 only (no sha256 in the lock)")
        if name in intact:
            layouts.append(intact[name])
        else:
            layouts.append(_fetch_check_extract(r, cache, mirrors))
    return Staged(tuple(layouts), tuple(md5_only))


def _fetch_check_extract(record: Any, cache: Path, mirrors: Mirrors | None) -> PackageLayout:
    name = entry_name(record)
    work = Path(tempfile.mkdtemp(prefix=f".hermetic-{name}-", dir=cache))
    try:
        archive = work / str(record.file_name)
        sha = fetch_archive(record, archive, mirrors)
        layout = read_archive(archive, name)
        from rattler.package_streaming import extract

        tree = work / "tree"
        try:
            extract(archive, tree)
        except Exception as exc:  # rattler's own refusals come as plain exceptions
            raise HermeticError(f"cannot extract {record.file_name}: {exc}") from None
        _publish(tree, cache, name, sha)
        if record.sha256 is None:
            record.sha256 = sha  # so rattler takes the cache entry for this archive
        return layout
    finally:
        shutil.rmtree(work, ignore_errors=True)


def fetch_archive(record: Any, dest: Path, mirrors: Mirrors | None = None) -> bytes:
    """Fetch the archive of `record` to `dest` and check it against the lock (sha256, else
    md5); its sha256 digest. A mismatch is a `LockError` naming both digests."""
    _fetch(record, dest, mirrors)
    return _check_digest(record, dest)


def _fetch(record: Any, dest: Path, mirrors: Mirrors | None = None) -> None:
    """Copy or download the archive of `record` (its canonical URL, from the lock) to `dest`:
    from its `file://` mirror's folder, else through the client, which sends the request to
    an HTTP mirror and adds credentials in memory."""
    url = str(record.url)
    path = local_path(mirrors.fetch_url(url) if mirrors else url)
    if path is not None:
        try:
            shutil.copyfile(path, dest)
        except FileNotFoundError:
            raise LockError(
                f"{record.file_name}: the locked artifact is missing: {path}",
                hint="was the channel moved or cleaned? re-create it, or re-lock",
            ) from None
        except OSError as exc:
            raise LockError(f"cannot read {path}: {exc.strerror}") from None
        return
    import asyncio

    from rattler.package_streaming import download_to_path

    from hermetic.credentials import redact_text, redact_url

    try:
        # the canonical URL: the client adds a conda token, a mirror and an Authorization
        # header (manifest, HERMETIC_AUTH_*, netrc, keyring) per request, in memory
        asyncio.run(download_to_path(rattler_client(mirrors), url, dest))
    except Exception as exc:
        text = redact_text(str(exc))
        raise HermeticError(
            f"cannot download {redact_url(url)}: {text}",
            hint=_download_hint(text),
        ) from None


def _download_hint(text: str) -> str:
    if (hint := credentials_hint(text)) is not None:
        return hint
    if "404" in text:
        return "the channel no longer has this file; re-lock with `hermetic lock`"
    return "check the network and the channel's URL"


def _check_digest(record: Any, archive: Path) -> bytes:
    sha = hashlib.sha256()
    md5 = hashlib.md5(usedforsecurity=False)
    with open(archive, "rb") as fh:
        while chunk := fh.read(1 << 20):
            sha.update(chunk)
            md5.update(chunk)
    if record.sha256 is not None:
        want, got, kind = record.sha256.hex(), sha.hexdigest(), "sha256"
    else:
        want, got, kind = record.md5.hex(), md5.hexdigest(), "md5"
    if want != got:
        raise LockError(
            f"{record.file_name} does not match the lock: {kind} {got}, the lock has {want}",
            hint="the channel's package was replaced; re-lock on purpose with "
            "`hermetic lock --update <name>`, or restore the original file",
        )
    return sha.digest()


def _publish(tree: Path, cache: Path, name: str, sha: bytes) -> None:
    """Move the extracted tree to `cache/<name>` and write rattler's `<name>.lock` last."""
    entry = cache / name
    if entry.exists():
        # another install published it meanwhile (from the same pinned archive), or a stale
        # entry whose `.lock` does not match: replace it
        if cache_lock_sha(cache, name) == sha.hex():
            return
        shutil.rmtree(entry, ignore_errors=True)
    try:
        os.rename(tree, entry)
    except OSError:
        if cache_lock_sha(cache, name) == sha.hex():
            return
        raise HermeticError(f"cannot write the package cache entry {entry}") from None
    tmp = cache / f".{name}.lock.{os.getpid()}.tmp"
    tmp.write_bytes(_LOCK_REVISION + sha)
    os.replace(tmp, cache / f"{name}.lock")
