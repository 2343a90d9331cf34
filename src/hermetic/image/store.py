"""hermetic's image cache: content-addressed blobs, and layers remembered by their inputs.

    <cache>/image/blobs/sha256/<hex>     layer, config and base blobs (any source)
    <cache>/image/layers/<key>.json      what a layer's inputs produced (digest, diff_id, ...)
    <cache>/image/tmp/                   staging directories, removed after each build

A layer entry is written after its blob is in place, both by rename: an interrupted build
leaves either nothing or a complete entry, and the next build continues from there.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hermetic.fs import atomic_write_bytes
from hermetic.image import oci


@dataclass(frozen=True)
class CachedLayer:
    digest: str
    diff_id: str
    size: int
    media_type: str
    meta: Mapping[str, Any]  # what the build needs without unpacking: activation, packages


@dataclass(frozen=True)
class Store:
    root: Path  # <cache>/image

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    def blob(self, digest: str) -> Path:
        return self.root / "blobs" / "sha256" / oci.digest_hex(digest)

    def has_blob(self, digest: str, size: int | None = None) -> bool:
        try:
            st = self.blob(digest).stat()
        except OSError:
            return False
        return size is None or st.st_size == size

    def put_bytes(self, data: bytes) -> str:
        digest = oci.sha256_digest(data)
        if not self.has_blob(digest, len(data)):
            atomic_write_bytes(self.blob(digest), data)
        return digest

    def new_blob_path(self, name: str) -> Path:
        """A path for a blob whose digest is not known yet (renamed by `adopt`)."""
        p = self.tmp / f"{name}.{os.getpid()}.blob"
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def adopt(self, path: Path, digest: str) -> Path:
        dest = self.blob(digest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, dest)
        return dest

    def layer(self, key: str) -> CachedLayer | None:
        try:
            doc = json.loads((self.root / "layers" / f"{key}.json").read_text())
            layer = CachedLayer(
                doc["digest"], doc["diff_id"], int(doc["size"]), doc["media_type"], doc["meta"]
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return layer if self.has_blob(layer.digest, layer.size) else None

    def remember(self, key: str, layer: CachedLayer) -> None:
        doc = {
            "digest": layer.digest,
            "diff_id": layer.diff_id,
            "size": layer.size,
            "media_type": layer.media_type,
            "meta": dict(layer.meta),
        }
        atomic_write_bytes(self.root / "layers" / f"{key}.json", oci.canonical(doc))

    def clean_tmp(self) -> None:
        import shutil

        with contextlib.suppress(OSError):
            for p in self.tmp.iterdir():
                # only what this process left: others may be building concurrently
                if f".{os.getpid()}." in p.name or p.name.endswith(f"-{os.getpid()}"):
                    if p.is_dir() and not p.is_symlink():
                        shutil.rmtree(p, ignore_errors=True)
                    else:
                        p.unlink(missing_ok=True)


def checkpoint(step: str) -> None:
    """Test-only fault injection (`HERMETIC_TEST_KILL_AT=<step>`): SIGKILL the build here."""
    from hermetic.settings import current

    if current().test_kill_at == step:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
