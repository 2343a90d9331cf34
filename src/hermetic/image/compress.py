"""Deterministic layer compression, with the layer's two digests computed on the way.

The compressors are condapkg's (one deterministic compressor for every hermetic archive):
* gzip through isa-l (`isal`), block-parallel: many times faster than zlib at a comparable
  ratio, header with mtime 0 and no file name, output independent of the thread count;
* zstd through `zstandard`, multithreaded (its output does not depend on the worker count).
Levels are fixed, so the same tar gives the same bytes.

A layer blob is written to a temp file beside its final path and renamed into place once
complete, so an interrupted build never leaves a truncated blob under a valid name.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

from hermetic.errors import UsageError
from hermetic.image import oci

Compression = Literal["gzip", "zstd"]
COMPRESSIONS: tuple[Compression, ...] = ("gzip", "zstd")
#: part of every layer cache key: bump when the compressed bytes would change
GZIP_LEVEL = 2  # isa-l levels are 0..3; 2 compresses like gzip -6 at many times its speed
ZSTD_LEVEL = 3

MEDIA_TYPES: dict[str, str] = {"gzip": oci.LAYER_GZIP, "zstd": oci.LAYER_ZSTD}
_LEVELS: dict[str, int] = {"gzip": GZIP_LEVEL, "zstd": ZSTD_LEVEL}


def check_compression(name: str) -> Compression:
    if name == "gzip":
        return "gzip"
    if name == "zstd":
        return "zstd"
    raise UsageError(f"unknown compression {name!r}", hint="use gzip or zstd")


def compressor_id(compression: Compression) -> str:
    """What decides the compressed bytes: the codec, its level and the library version."""
    if compression == "gzip":
        import isal

        return f"gzip-isal{isal.__version__}-{GZIP_LEVEL}"
    import zstandard

    return f"zstd{zstandard.__version__}-{ZSTD_LEVEL}"


class StreamingHash:
    def __init__(self) -> None:
        self._h = hashlib.sha256()
        self.size = 0

    def update(self, data: bytes) -> None:
        self._h.update(data)
        self.size += len(data)

    def hexdigest(self) -> str:
        return self._h.hexdigest()


@dataclass(frozen=True)
class Blob:
    """A finished layer blob."""

    path: Path
    digest: str  # of the compressed bytes
    size: int
    diff_id: str  # sha256 of the uncompressed tar


class _HashingFile:
    """The blob file: counts and hashes the compressed bytes on their way to disk."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.hash = StreamingHash()

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        return self.fh.write(data)

    def flush(self) -> None:
        self.fh.flush()


class LayerWriter:
    """A write-only binary stream: tar bytes in, a compressed blob at `dest` out.

    The compressor is condapkg's (`compressed_writer`), the one every hermetic archive uses;
    this only adds the two digests a layer needs: diff_id (tar) and digest (blob)."""

    def __init__(self, dest: Path, compression: Compression):
        from hermetic.condapkg import compressed_writer

        self.dest = Path(dest)
        self.dest.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.dest.with_name(f".{self.dest.name}.{os.getpid()}.tmp")
        self._fh: BinaryIO = open(self._tmp, "wb")  # noqa: SIM115  # closed in finish/abort
        self._out = _HashingFile(self._fh)
        self._ctx = compressed_writer(self._out, compression, _LEVELS[compression])  # type: ignore[arg-type]  # a binary writer
        self._writer = self._ctx.__enter__()
        self._raw = StreamingHash()

    def write(self, data: bytes) -> int:
        self._raw.update(data)
        self._writer.write(data)
        return len(data)

    def flush(self) -> None:
        pass  # the compressor decides when to emit; `finish` flushes everything

    def finish(self) -> Blob:
        self._ctx.__exit__(None, None, None)
        self._fh.close()
        os.replace(self._tmp, self.dest)
        return Blob(
            self.dest,
            "sha256:" + self._out.hash.hexdigest(),
            self._out.hash.size,
            "sha256:" + self._raw.hexdigest(),
        )

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._ctx.__exit__(None, None, None)
        self._fh.close()
        with contextlib.suppress(FileNotFoundError):
            self._tmp.unlink()


def decompress_stream(fh: BinaryIO, media_type: str, chunk: int = 1 << 20) -> Any:
    """Yield the uncompressed bytes of a layer blob read from `fh`."""
    if media_type.endswith("+zstd") or media_type.endswith(".zstd"):
        import zstandard

        reader = zstandard.ZstdDecompressor().stream_reader(fh)
        while data := reader.read(chunk):
            yield data
        return
    head = fh.read(2)
    fh.seek(0)
    if head == b"\x1f\x8b":
        from isal import igzip

        with igzip.open(fh, "rb") as gz:  # type: ignore[no-untyped-call]  # isal is untyped
            while data := gz.read(chunk):
                yield data
        return
    while data := fh.read(chunk):
        yield data
