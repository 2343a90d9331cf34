"""The locked artifacts of one environment × platform, fetched and verified.

Conda packages take the path `hermetic install` takes (`hermetic.env.stage.fetch_and_check`):
every archive is hashed against the lock and every path of every package checked against the
staging prefix before anything is linked, then rattler links the records into that throwaway
prefix, for the target platform, without running link scripts. The staging prefix is where
rattler's own layout (noarch python paths, entry points, conda-meta) is read from; the
archive never takes a byte from it that depends on its path (see `layout.py`).

PyPI wheels are fetched into `<cache>/wheels/<sha256>/` (local files are read in place) and
checked against the lock's sha256 (`hermetic.env.wheelfetch.fetch_wheel`) and their member
names with `hermetic.pkgpaths.check_wheel`; nothing of theirs runs.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hermetic.env.stage import fetch_and_check, site_packages_of
from hermetic.env.verify import entry_name, stamp_entries
from hermetic.env.wheelfetch import fetch_wheels
from hermetic.errors import HermeticError, LockError
from hermetic.httpclient import rattler_client
from hermetic.lock.model import PypiArtifact
from hermetic.mirrors import Mirrors
from hermetic.pkgpaths import check_wheel, refusal_says


@dataclass(frozen=True)
class StagedEnv:
    platform: str
    records: tuple[Any, ...]  # rattler.RepoDataRecord, sorted by name
    pypi: tuple[PypiArtifact, ...]
    wheels: tuple[Path, ...]  # verified wheel files, in `pypi` order
    prefix: Path  # the staging prefix (deleted when the context exits)
    cache: Path

    def cache_entry(self, record: Any) -> Path:
        return self.cache / entry_name(record)

    @property
    def python_xy(self) -> str | None:
        for r in self.records:
            if r.name.normalized == "python":
                v = str(r.version).split(".")
                return f"{v[0]}.{v[1]}"
        return None


#: what a refused package's message says was not done
_REFUSED = "nothing was packed"


@contextmanager
def staged(
    records: list[Any],
    pypi: tuple[PypiArtifact, ...],
    platform: str,
    cache: Path,
    mirrors: Mirrors | None = None,
) -> Iterator[StagedEnv]:
    """Fetch (from the channels' `mirrors` when configured) and verify everything, link the
    conda part into a staging prefix."""
    if platform.startswith("win-"):
        raise HermeticError(
            f"packing for {platform} is not supported: a Windows environment needs .exe entry "
            "point launchers and a batch relocation script",
            hint="pack for a linux-* or osx-* platform",
        )
    cache = Path(cache)
    cache.mkdir(parents=True, exist_ok=True)
    wheels = fetch_wheels(pypi, cache)
    with refusal_says(_REFUSED):
        for wheel in wheels:
            check_wheel(wheel)
    if pypi and not any(r.name.normalized == "python" for r in records):
        raise LockError(
            "the environment has PyPI packages but no conda python to install them into",
            hint="add python to the conda dependencies and run `hermetic lock`",
        )
    with tempfile.TemporaryDirectory(prefix="hermetic-pack-") as tmp:
        prefix = Path(tmp) / "p"
        prefix.mkdir()
        # hashed and path-checked before rattler links a byte into the staging prefix
        plan, _ = fetch_and_check(
            records,
            cache,
            prefix,
            site_packages=site_packages_of(records),
            refused=_REFUSED,
            mirrors=mirrors,
        )
        _link(records, prefix, cache, platform, mirrors)
        stamp_entries(plan.to_fetch, cache)
        yield StagedEnv(
            platform=platform,
            records=tuple(sorted(records, key=lambda r: r.name.normalized)),
            pypi=pypi,
            wheels=wheels,
            prefix=prefix,
            cache=cache,
        )


def _link(
    records: list[Any], prefix: Path, cache: Path, platform: str, mirrors: Mirrors | None
) -> None:
    from rattler import Platform
    from rattler.install import install

    try:
        asyncio.run(
            install(
                records,
                target_prefix=str(prefix),
                cache_dir=cache,
                platform=Platform(platform),
                execute_link_scripts=False,
                show_progress=False,
                client=rattler_client(mirrors),  # should rattler fetch: mirrors, credentials
            )
        )
    except Exception as exc:
        raise HermeticError(f"fetching the locked conda packages failed:\n{exc}") from None
