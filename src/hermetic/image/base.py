"""The base an image is built on: a registry image, `oci:DIR[:TAG]`, `docker-archive:FILE`
or `scratch`. Every base ends up as blobs in hermetic's image cache, keyed by digest, so a
base is fetched once and a build on a pinned base (`@sha256:...`) needs no network.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hermetic.errors import HermeticError, UsageError
from hermetic.image import oci
from hermetic.image.ocidir import LayoutReader, parse_oci_ref, read_docker_archive
from hermetic.image.store import Store

SCRATCH = "scratch"
#: the default base of `image build` and `image dockerfile`: Debian 12 slim, a small glibc
#: base with /bin/sh (for the activation entrypoint), pinned by its multi-arch index digest
DEFAULT_BASE = (
    "docker.io/library/debian:bookworm-slim"
    "@sha256:3783cc01769c7b2b1b83a5c5ad96c815348e28ed7da68e2e3687004faa906251"
)


@dataclass(frozen=True)
class BaseLayer:
    descriptor: oci.Descriptor
    diff_id: str
    blob: Path  # the blob file in the cache (or in the source layout)


@dataclass(frozen=True)
class BaseImage:
    ref: str  # as the user wrote it
    name: str | None  # the reference recorded in the image's annotations (registry refs only)
    digest: str | None  # of the base's manifest, when it has one
    platform: oci.Platform | None  # None for scratch: fits any
    layers: tuple[BaseLayer, ...] = ()
    config: Mapping[str, Any] = field(default_factory=dict)


def scratch() -> BaseImage:
    return BaseImage(SCRATCH, None, None, None)


def resolve_base(
    ref: str, platform: oci.Platform, store: Store, *, insecure: tuple[str, ...] = ()
) -> BaseImage:
    """The base `ref` for `platform`; one clear error naming `ref` when it cannot be had."""
    if ref == SCRATCH:
        return scratch()
    if ref.startswith("oci:"):
        base = _from_layout(ref, platform)
    elif ref.startswith("docker-archive:"):
        base = _from_docker_archive(ref, store)
    else:
        from hermetic.image.registry import pull_image

        base = pull_image(ref, platform, store, insecure=insecure)
    if base.platform is not None and not base.platform.matches(platform):
        raise UsageError(
            f"base {ref} is for {base.platform}, not {platform}",
            hint="pick a base built for that platform (or a multi-platform one)",
        )
    return base


def pick_manifest(index: oci.Index, platform: oci.Platform, ref: str) -> oci.Descriptor:
    """The manifest of `platform` in a multi-platform index."""
    for d in index.manifests:
        if d.media_type in oci.MANIFEST_TYPES and d.platform and d.platform.matches(platform):
            return d
    have = ", ".join(str(d.platform) for d in index.manifests if d.platform) or "none"
    raise UsageError(
        f"base {ref} has no image for {platform}",
        hint=f"its platforms: {have}",
    )


def _from_layout(ref: str, platform: oci.Platform) -> BaseImage:
    oref = parse_oci_ref(ref)
    if not oref.path.is_dir():
        raise UsageError(f"base {ref}: no such directory {oref.path}")
    reader = LayoutReader(oref.path)
    root = reader.root(oref.tag)
    desc = root
    if root.media_type in oci.INDEX_TYPES:
        index = oci.Index.from_bytes(reader.read_blob(root.digest), ref)
        desc = pick_manifest(index, platform, ref)
    manifest = oci.Manifest.from_bytes(reader.read_blob(desc.digest), ref)
    config = _config(reader.read_blob(manifest.config.digest), ref)
    layers = _layers(manifest, config, ref, reader.blob_file)
    return BaseImage(ref, None, desc.digest, oci.config_platform(config), layers, config)


def _config(data: bytes, ref: str) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except ValueError:
        raise HermeticError(f"base {ref}: its image config is not JSON") from None
    if not isinstance(doc, dict):
        raise HermeticError(f"base {ref}: its image config is not a JSON object")
    return doc


def _layers(
    manifest: oci.Manifest, config: Mapping[str, Any], ref: str, blob_file: Any
) -> tuple[BaseLayer, ...]:
    diff_ids = list((config.get("rootfs") or {}).get("diff_ids") or [])
    if len(diff_ids) != len(manifest.layers):
        raise HermeticError(
            f"base {ref}: {len(manifest.layers)} layers but {len(diff_ids)} diff_ids in its config"
        )
    for d in manifest.layers:
        if d.media_type not in oci.LAYER_TYPES:
            raise UsageError(f"base {ref}: unsupported layer type {d.media_type}")
    return tuple(
        BaseLayer(d, str(diff), blob_file(d.digest))
        for d, diff in zip(manifest.layers, diff_ids, strict=True)
    )


def _from_docker_archive(ref: str, store: Store) -> BaseImage:
    """A `docker save` tarball: its layers become blobs in the cache (stored as they are)."""
    import tarfile

    from hermetic.image.compress import StreamingHash

    path = Path(ref[len("docker-archive:") :])
    archive = read_docker_archive(path)
    config = _config(archive.config, ref)
    diff_ids = list((config.get("rootfs") or {}).get("diff_ids") or [])
    if len(diff_ids) != len(archive.layer_members):
        raise UsageError(f"base {ref}: layer count does not match its config")
    layers = []
    with tarfile.open(path, "r:*") as tar:
        for member, diff_id in zip(archive.layer_members, diff_ids, strict=True):
            fh = tar.extractfile(member)
            if fh is None:
                raise UsageError(f"base {ref}: layer {member} is missing")
            tmp = store.new_blob_path("base-layer")
            h = StreamingHash()
            with open(tmp, "wb") as out:
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
                    out.write(chunk)
            digest = "sha256:" + h.hexdigest()
            with open(tmp, "rb") as check:
                gz = check.read(2) == b"\x1f\x8b"
            media_type = oci.LAYER_GZIP if gz else oci.LAYER_TAR
            if not gz and digest != diff_id:
                raise UsageError(f"base {ref}: layer {member} does not match its diff_id")
            blob = store.adopt(tmp, digest)
            layers.append(BaseLayer(oci.Descriptor(media_type, digest, h.size), diff_id, blob))
    digest = oci.sha256_digest(archive.config)
    return BaseImage(ref, None, digest, oci.config_platform(config), tuple(layers), config)
