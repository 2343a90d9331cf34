"""Root filesystems in and out of OCI layouts: a one-layer base from a directory, and the
unpacking of an image into a directory (layers applied in order, whiteouts honoured).

Unpacking never writes outside the destination: every member goes through tarfile's
`data` extraction filter (no absolute paths, no `..`, no links out, no device files).
"""

from __future__ import annotations

import os
import shutil
import tarfile
from pathlib import Path

from hermetic.errors import HermeticError, UsageError
from hermetic.image import oci
from hermetic.image.compress import decompress_stream
from hermetic.image.ocidir import LayoutReader, OciRef, parse_oci_ref, write_layout

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"


def base_from_rootfs(
    rootfs: Path,
    layout: Path,
    tag: str,
    platform: oci.Platform,
    *,
    env: tuple[str, ...] = ("PATH=/usr/sbin:/usr/bin:/sbin:/bin",),
    skip: tuple[str, ...] = (),
) -> str:
    """Write `rootfs` as a one-layer image `oci:LAYOUT:TAG`; returns that reference."""
    from hermetic.condapkg import tree_entries
    from hermetic.image.tarlayer import write_layer_blob

    layout.mkdir(parents=True, exist_ok=True)
    entries = tree_entries(rootfs, skip=skip)
    blob = write_layer_blob(layout / f".base-{tag}.layer", "gzip", entries)
    config = {
        **platform.to_json(),
        "config": {"Env": list(env)},
        "rootfs": {"type": "layers", "diff_ids": [blob.diff_id]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": f"rootfs {rootfs.name}"}],
    }
    config_bytes = oci.canonical(config)
    manifest = oci.Manifest(
        oci.descriptor_of(oci.CONFIG, config_bytes),
        (oci.Descriptor(oci.LAYER_GZIP, blob.digest, blob.size),),
    ).to_bytes()
    write_layout(
        OciRef(layout, tag),
        oci.descriptor_of(oci.MANIFEST, manifest),
        {
            blob.digest: blob.path,
            oci.sha256_digest(config_bytes): config_bytes,
            oci.sha256_digest(manifest): manifest,
        },
    )
    blob.path.unlink(missing_ok=True)
    return f"oci:{layout}:{tag}"


def unpack(ref: str, dest: Path, platform: oci.Platform | None = None) -> Path:
    """Apply the layers of `oci:DIR[:TAG]` to `dest` (created; must not exist)."""
    oref = parse_oci_ref(ref)
    reader = LayoutReader(oref.path)
    root = reader.root(oref.tag)
    desc = root
    if root.media_type in oci.INDEX_TYPES:
        from hermetic.image.base import pick_manifest

        index = oci.Index.from_bytes(reader.read_blob(root.digest), ref)
        if platform is None:
            raise UsageError(f"{ref} is a multi-platform index: name a platform")
        desc = pick_manifest(index, platform, ref)
    manifest = oci.Manifest.from_bytes(reader.read_blob(desc.digest), ref)
    if dest.exists():
        raise UsageError(f"{dest} already exists", hint="unpack into a new directory")
    tmp = dest.with_name(f".{dest.name}.unpacking")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for layer in manifest.layers:
        with open(reader.blob_file(layer.digest), "rb") as fh:
            _apply(decompress_stream(fh, layer.media_type), tmp, ref)
    os.replace(tmp, dest)  # complete, or not there at all
    return dest


class _Chunks:
    """A read-only stream over an iterator of byte chunks (for tarfile's stream mode)."""

    def __init__(self, chunks: object) -> None:
        self._it = iter(chunks)  # type: ignore[call-overload]  # an iterator of bytes
        self._buf = b""

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self._buf) < n:
            try:
                self._buf += next(self._it)
            except StopIteration:
                break
        if n < 0:
            out, self._buf = self._buf, b""
        else:
            out, self._buf = self._buf[:n], self._buf[n:]
        return out


def _apply(chunks: object, dest: Path, ref: str) -> None:
    try:
        with tarfile.open(fileobj=_Chunks(chunks), mode="r|") as tar:  # type: ignore[call-overload]  # a stream
            for member in tar:
                parent, _, base = member.name.rstrip("/").rpartition("/")
                target_dir = dest / parent if parent else dest
                if base == OPAQUE:
                    if target_dir.is_dir():
                        for child in target_dir.iterdir():
                            _remove(child)
                    continue
                if base.startswith(WHITEOUT):
                    _remove(target_dir / base[len(WHITEOUT) :])
                    continue
                path = dest / member.name
                if path.is_symlink() or (path.exists() and not path.is_dir()):
                    path.unlink()
                tar.extract(member, dest, filter="data")
    except tarfile.FilterError as exc:
        raise HermeticError(f"{ref}: refusing a layer member: {exc}") from None
    except (tarfile.TarError, OSError) as exc:
        raise HermeticError(f"{ref}: cannot unpack a layer: {exc}") from None


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
