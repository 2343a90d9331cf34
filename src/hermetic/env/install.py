"""`hermetic install`: materialize one environment x platform of the lock.

The order is what makes an interrupted install (SIGKILL included) harmless:

1. verify the cache entries about to be linked (see `verify.py`), re-fetch corrupted ones;
   fetch, hash and check every package to link (`stage.py`), and check all their paths
   together against the prefix (`hermetic.pkgpaths`): a refusal here changes nothing;
2. remove the completion marker (durably) — from here on `run` treats the env as incomplete;
3. remove uv-installed distributions the lock no longer has;
4. one rattler transaction from what `conda-meta/` records to the locked records;
5. uv installs exactly the locked PyPI set;
6. write the activation script, then the marker (atomically), last.

An install that finds no marker but an existing `conda-meta/` is a repair: packages whose
files are missing are re-linked and the PyPI set is reinstalled.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hermetic.env import pypi as pypi_env
from hermetic.env.activate import package_script
from hermetic.env.marker import (
    Marker,
    content_hash,
    is_complete,
    lock_digest,
    read_marker,
    remove_marker,
    write_marker,
)
from hermetic.env.stage import fetch_and_check, site_packages_of
from hermetic.env.verify import Refetched, stamp_entries
from hermetic.errors import HermeticError
from hermetic.fs import atomic_write_text
from hermetic.httpclient import rattler_client
from hermetic.layout import ACTIVATION_SCRIPT, env_prefix
from hermetic.lock.read import Lock, load_lock, not_locked_error
from hermetic.mirrors import Mirrors
from hermetic.platform import current_platform
from hermetic.settings import current as current_settings

if TYPE_CHECKING:
    from rattler import PrefixRecord, RepoDataRecord
    from rattler.install import InstallerReporter
    from rattler.networking import Client

Reporter = Callable[[str], None]

#: test-only fault injection: `HERMETIC_TEST_KILL_AT=<step>` SIGKILLs the install there
KILL_POINTS = (
    "marker-removed",
    "pypi-removed",
    "cache-verified",
    "linking",
    "conda-installed",
    "pypi-installed",
    "before-marker",
)


@dataclass(frozen=True)
class InstallResult:
    environment: str
    platform: str
    prefix: Path
    up_to_date: bool  # nothing needed doing
    conda_linked: tuple[str, ...]  # name version build, newly linked (or re-linked)
    conda_removed: tuple[str, ...]
    pypi_installed: tuple[str, ...]
    pypi_removed: tuple[str, ...]
    refetched: tuple[Refetched, ...]  # corrupted cache entries, extracted again
    repaired: bool  # an interrupted install was found and repaired
    cache: Path | None = None
    seconds: float = 0.0


def _checkpoint(step: str) -> None:
    if current_settings().test_kill_at == step:
        os.kill(os.getpid(), signal.SIGKILL)


def resolve_platform(lock: Lock, environment: str, platform: str | None) -> str:
    """The platform to install: the one asked for, else this machine's, which the lock must have."""
    have = lock.platforms(environment)
    target = platform or current_platform()
    if target not in have:
        raise not_locked_error(environment, target, have, this_machine=platform is None)
    return target


def install_environment(
    lock_path: Path,
    root: Path,
    environment: str,
    *,
    platform: str | None = None,
    prefix: Path | None = None,
    reporter: Reporter | None = None,
    cache: Path | None = None,
    mirrors: Mirrors | None = None,
) -> InstallResult:
    """Install `environment` from the lock at `lock_path` as it is (no staleness check).

    With `mirrors`, archives are fetched from the channels' mirrors; the lock is not changed.
    """
    start = time.monotonic()
    say = reporter or (lambda _m: None)
    prefix = Path(prefix) if prefix is not None else env_prefix(root, environment)
    target = platform or current_platform()
    if is_complete(prefix, lock_path, environment, target):
        return _nothing(environment, target, prefix, start)

    lock = load_lock(lock_path)
    if environment not in lock.environment_names():
        lock.require_environment(environment)  # the error lists the environments
    target = resolve_platform(lock, environment, platform)
    records = lock.conda_records(environment, target)
    packages = lock.pypi_packages(environment, target)
    digest = lock_digest(lock_path) or ""
    chash = content_hash(records, packages)
    mirrors = mirrors or Mirrors()
    marker = Marker(environment, target, digest, chash)

    old = read_marker(prefix)
    if (
        old is not None
        and old.content_hash == chash
        and (old.environment, old.platform) == (environment, target)
    ):
        # the lock file changed, but not this environment: only the marker is rewritten
        write_marker(prefix, marker)
        return _nothing(environment, target, prefix, start)

    cache = Path(cache) if cache is not None else current_settings().package_cache_dir
    try:
        _make_dirs(cache, is_cache=True)
        installed = _installed_records(prefix)
        repairing = old is None and bool(installed)
        removals = pypi_env.plan_removals(prefix, packages)
        reinstall = _broken_packages(prefix, installed) if repairing else set()
        by_name = {r.name.normalized: r for r in installed}
        to_link = [
            r
            for r in records
            if r.name.normalized in reinstall
            or r.name.normalized not in by_name
            or _sha(by_name[r.name.normalized]) != _sha(r)
        ]
        locked_names = {r.name.normalized for r in records}
        to_remove = [r for r in installed if r.name.normalized not in locked_names]
        refetched: tuple[Refetched, ...] = ()
        to_fetch: tuple[RepoDataRecord, ...] = ()
        if to_link:
            # everything is fetched, hashed and checked before the environment is touched:
            # a refused package leaves the working environment and its marker as they were
            say(f"verifying {len(to_link)} package(s) in the cache {cache}")
            plan, _ = fetch_and_check(
                to_link,
                cache,
                prefix,
                site_packages=site_packages_of(records),
                refused="nothing was installed",
                warn=say,
                mirrors=mirrors,
            )
            refetched, to_fetch = plan.refetched, plan.to_fetch
        pypi_needed = bool(packages) and (
            repairing or bool(removals) or not pypi_env.up_to_date(prefix, packages)
        )
        if pypi_needed:
            pypi_env.preflight(packages)
        _make_dirs(prefix / "conda-meta")
        remove_marker(prefix)
        _checkpoint("marker-removed")
        if removals:
            say(f"removing {len(removals)} PyPI package(s) the lock no longer has")
            pypi_env.uninstall(prefix, removals)
        _checkpoint("pypi-removed")
        _checkpoint("cache-verified")
        if to_link or to_remove:
            say(f"linking {len(to_link)} conda package(s) into {prefix}")
            # every archive is in the cache now, so rattler fetches nothing: its client is
            # hermetic's (mirrors, credentials) only where this run downloaded anyway, as a
            # warm install need not build one (~8 ms of CPU, as much as checking 220 entries)
            client = rattler_client(mirrors) if to_fetch or refetched else None
            _rattler_install(records, prefix, cache, installed, reinstall, client)
            stamp_entries(to_fetch, cache)
        _checkpoint("conda-installed")

        installed_pypi: tuple[str, ...] = ()
        if pypi_needed:
            say(f"installing {len(packages)} PyPI package(s) with uv")
            try:
                pypi_env.install(prefix, packages, reinstall=repairing)
            except HermeticError:
                if old is not None and not (to_link or to_remove or removals):
                    # uv checks every artifact before it changes anything: the environment
                    # is still the one the old marker describes
                    write_marker(prefix, old)
                raise
            pypi_env.record_installed(prefix, packages)
            installed_pypi = tuple(f"{p.name} {p.version}" for p in packages)
        _checkpoint("pypi-installed")

        write_activation(prefix, target)
        _checkpoint("before-marker")
        write_marker(prefix, marker)
    except OSError as exc:
        raise _os_error(exc, prefix) from None

    return InstallResult(
        environment=environment,
        platform=target,
        prefix=prefix,
        up_to_date=False,
        conda_linked=tuple(_label(r) for r in to_link),
        conda_removed=tuple(_label(r) for r in to_remove),
        pypi_installed=installed_pypi,
        pypi_removed=tuple(removals),
        refetched=refetched,
        repaired=repairing,
        cache=cache,
        seconds=time.monotonic() - start,
    )


def write_activation(prefix: Path, platform: str) -> None:
    """Cache rattler's bash activation script for `run` (it depends only on the prefix)."""
    atomic_write_text(prefix / ACTIVATION_SCRIPT, package_script(prefix, "bash", platform))


def _nothing(environment: str, platform: str, prefix: Path, start: float) -> InstallResult:
    return InstallResult(
        environment=environment,
        platform=platform,
        prefix=prefix,
        up_to_date=True,
        conda_linked=(),
        conda_removed=(),
        pypi_installed=(),
        pypi_removed=(),
        refetched=(),
        repaired=False,
        seconds=time.monotonic() - start,
    )


def _label(r: RepoDataRecord | PrefixRecord) -> str:
    return f"{r.name.normalized} {r.version} {r.build}"


def _sha(r: RepoDataRecord | PrefixRecord) -> str:
    return r.sha256.hex() if r.sha256 else f"{r.url}"


def _make_dirs(d: Path, *, is_cache: bool = False) -> None:
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HermeticError(
            f"cannot create {d}: {exc.strerror}",
            hint="check the permissions and free space of that directory"
            + (" or set HERMETIC_CACHE_DIR" if is_cache else ""),
        ) from None


def _installed_records(prefix: Path) -> list[PrefixRecord]:
    """The PrefixRecords in `conda-meta/` (each written by rattler after its files)."""
    from rattler import PrefixRecord

    out: list[PrefixRecord] = []
    for path in sorted((prefix / "conda-meta").glob("*.json")):
        try:
            out.append(PrefixRecord.from_path(path))
        except Exception:
            # a record cut short: drop it, so the package is linked again
            path.unlink(missing_ok=True)
    return out


def _broken_packages(prefix: Path, installed: list[PrefixRecord]) -> set[str]:
    """Installed packages with files missing (an unlink or link that was cut short)."""
    broken: set[str] = set()
    for rec in installed:
        for entry in rec.paths_data.paths:
            if not os.path.lexists(prefix / str(entry.relative_path)):
                broken.add(rec.name.normalized)
                break
    return broken


def _rattler_install(
    records: list[RepoDataRecord],
    prefix: Path,
    cache: Path,
    installed: list[PrefixRecord],
    reinstall: set[str],
    client: Client | None,
) -> None:
    import asyncio

    from rattler.install import install

    reporter = _KillReporter() if current_settings().test_kill_at == "linking" else None
    try:
        asyncio.run(
            install(
                records,
                target_prefix=prefix,
                cache_dir=cache,
                installed_packages=installed,
                reinstall_packages=reinstall or None,
                show_progress=False,
                client=client,
                reporter=reporter,
            )
        )
    except Exception as exc:
        raise _rattler_error(exc, prefix) from None


def _KillReporter() -> InstallerReporter:
    """Kills the process once the first package is linked (fault injection for tests)."""
    from rattler.install import InstallerReporter

    class KillReporter(InstallerReporter):
        def on_link_complete(self, index: int) -> None:
            os.kill(os.getpid(), signal.SIGKILL)

    # rattler's base class gives every other hook an empty (no-op) body, which mypy reads as
    # abstract; they are not abstract at runtime
    return KillReporter()  # type: ignore[abstract]


def _rattler_error(exc: Exception, prefix: Path) -> HermeticError:
    text = str(exc).strip()
    lowered = text.lower()
    if "no space left" in lowered:
        return HermeticError(
            f"the disk is full while installing into {prefix}:\n{text}",
            hint="free some space (the package cache is at "
            + str(current_settings().package_cache_dir)
            + ")",
        )
    if "permission denied" in lowered:
        return HermeticError(
            f"permission denied while installing into {prefix}:\n{text}",
            hint="check who owns the environment and the package cache",
        )
    return HermeticError(f"installing into {prefix} failed:\n{text}")


def _os_error(exc: OSError, prefix: Path) -> HermeticError:
    path = exc.filename or prefix
    if exc.errno == 28:  # ENOSPC
        return HermeticError(f"the disk is full: cannot write {path}", hint="free some space")
    return HermeticError(
        f"cannot write {path}: {exc.strerror}",
        hint="check the permissions and free space of that directory",
    )
