"""Channel indexing: rattler's indexer writes each subdir's repodata.json."""

from __future__ import annotations

import asyncio
import concurrent.futures
import shutil
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def run_coroutine(coro: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run`, also when called from inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def index_channel(channel_dir: Path, *, subdirs: tuple[str, ...] = ("noarch", "linux-64")) -> Path:
    """Index every subdir of `channel_dir` (plain repodata.json: no .zst, no shards) with
    `rattler.index.index_fs`; `subdirs` always get one, even when empty. Returns the dir."""
    from rattler.index import index_fs

    channel_dir = Path(channel_dir)
    for sub in subdirs:
        (channel_dir / sub).mkdir(parents=True, exist_ok=True)
    run_coroutine(index_fs(channel_dir, write_zst=False, write_shards=False, force=True))
    shutil.rmtree(channel_dir / ".tmp", ignore_errors=True)  # rattler leaves it behind
    return channel_dir
