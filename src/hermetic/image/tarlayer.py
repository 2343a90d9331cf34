"""Layer tars, written by condapkg's reproducible tar writer (the one tar normalizer).

A layer holds files of a staged tree under a destination (`opt/env/...`) plus every parent
directory, so each layer unpacks on its own. Files hardlinked in the staging tree (from the
package cache) are written as plain files: a layer never carries a hardlink.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from hermetic.condapkg import TarEntry, write_tar
from hermetic.image.compress import Blob, Compression, LayerWriter

#: mtime of every entry: a layer must not depend on when or where it was built
MTIME = 0


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def tree_layer_entries(root: Path, dest: str, rel_paths: Iterable[str]) -> list[TarEntry]:
    """Entries for `root/<rel>` named `dest/<rel>`, with every parent directory."""
    dest = dest.strip("/")
    entries: dict[str, TarEntry] = {}
    for rel in rel_paths:
        name = f"{dest}/{rel}" if dest else rel
        for parent in _parents(name):
            if parent not in entries:
                entries[parent] = TarEntry.directory(parent)
        src = root / rel
        st = os.lstat(src)
        if stat.S_ISLNK(st.st_mode):
            entries[name] = TarEntry.symlink(name, os.readlink(src))
        elif stat.S_ISDIR(st.st_mode):
            entries[name] = TarEntry.directory(name)
        elif stat.S_ISREG(st.st_mode):
            entries[name] = TarEntry(name, "file", source=src, executable=bool(st.st_mode & 0o111))
        # sockets, fifos, devices: never part of an env or an app
    return list(entries.values())


def write_layer(out: BinaryIO, entries: Iterable[TarEntry]) -> int:
    """The uncompressed tar of `entries` into `out` (compression happens in `out`)."""
    return write_tar(entries, out, mtime=MTIME, compression="none")


def write_layer_blob(dest: Path, compression: Compression, entries: Iterable[TarEntry]) -> Blob:
    """`entries` as a compressed layer blob at `dest`; nothing is left there on failure."""
    writer = LayerWriter(dest, compression)
    try:
        write_layer(writer, entries)  # type: ignore[arg-type]  # a binary writer
        return writer.finish()
    except BaseException:
        writer.abort()
        raise


def data(name: str, content: bytes, executable: bool = False) -> TarEntry:
    return TarEntry.data(name, content, executable=executable)
