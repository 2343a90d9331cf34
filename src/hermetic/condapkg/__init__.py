"""Conda packages and reproducible archives: the one tar writer, package writer and indexer.

Three parts, each one way to do its thing:

* `hermetic.condapkg.tar`: the reproducible tar writer every archive goes through (conda
  packages, OCI image layers, packs), so two producers of one tree agree on digests:

      entries = tree_entries(Path("rootfs"), prefix="")       # sorted, links kept
      entries.append(TarEntry.data("etc/motd", b"hi\\n"))
      with open("layer.tar.zst", "wb") as f:
          size = write_tar(entries, f, mtime=0, compression="zstd")

  `TarEntry` is one member (`file`/`data`/`directory`/`symlink`); `write_tar` sorts by name,
  normalizes owner (0:0, no names), mtime (given, else `SOURCE_DATE_EPOCH`, else 0) and
  modes (0755 dirs and executables, 0644 files, 0777 links), pins the PAX format, streams
  file contents in 1 MiB chunks and compresses deterministically (`"none"`, `"gzip"` via
  isa-l, `"zstd"`, `"bz2"`). `compressed_writer` and `compression_for(path)` are the
  compressor and the extension table on their own.
* `hermetic.condapkg.package`: `PackageSpec` → `.conda` / `.tar.bz2` (`write_package`,
  `build_package` into `channel/<subdir>/`), with info/index.json, paths.json (sha256,
  size), has_prefix (text and binary placeholders), link.json (noarch python entry points);
  `hermetic.condapkg.python`: a relocatable `python` package from the running interpreter.
* `hermetic.condapkg.index`: `index_channel(dir)` writes repodata.json with rattler's indexer;
  `build_channel(dir, specs)` builds and indexes.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from hermetic.condapkg.index import index_channel, run_coroutine
from hermetic.condapkg.package import (
    DEFAULT_TIMESTAMP,
    LONG_PREFIX_PLACEHOLDER,
    PREFIX_PLACEHOLDER,
    PackageSpec,
    build_package,
    write_package,
)
from hermetic.condapkg.tar import (
    Compression,
    TarEntry,
    compressed_writer,
    compression_for,
    default_mtime,
    tree_entries,
    write_tar,
)

__all__ = [
    "DEFAULT_TIMESTAMP",
    "LONG_PREFIX_PLACEHOLDER",
    "PREFIX_PLACEHOLDER",
    "Compression",
    "PackageSpec",
    "TarEntry",
    "build_channel",
    "build_package",
    "compressed_writer",
    "compression_for",
    "default_mtime",
    "index_channel",
    "run_coroutine",
    "tree_entries",
    "write_package",
    "write_tar",
]


def build_channel(
    channel_dir: Path, specs: Iterable[PackageSpec], *, cache_dir: Path | None = None
) -> Path:
    """Build all `specs` into `channel_dir` and index it (`noarch/` and `linux-64/` always
    get a repodata.json). Packages already there are kept, so a channel can grow."""
    for spec in specs:
        build_package(spec, channel_dir, cache_dir=cache_dir)
    return index_channel(channel_dir)
