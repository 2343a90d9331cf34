"""Pushing a built image (and its SBOM referrer) to a registry.

Order: blobs, then each platform's manifest (by digest), then the index or manifest under
the tag. A push cut short leaves blobs and untagged manifests, never a tag pointing at an
incomplete image; the next push finds the blobs (HEAD) and uploads only what is missing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from hermetic.image import oci
from hermetic.image.ocidir import BlobSource
from hermetic.image.registry import (
    Client,
    Reference,
    RegistryError,
    Reporter,
    parse_reference,
    scope_push,
)


@dataclass(frozen=True)
class PushResult:
    reference: str  # host/repo:tag
    digest: str
    uploaded: int  # blobs sent
    present: int  # blobs the registry already had
    mounted: int
    uploaded_bytes: int
    sbom_tag: str | None  # the fallback tag the SBOM index went under (no referrers API)
    requests: int


@dataclass(frozen=True)
class Artifact:
    """Everything to push: blobs by digest, manifests (bytes by digest), the root."""

    blobs: Mapping[str, BlobSource]
    manifests: tuple[tuple[str, bytes], ...]  # (media type, bytes), children before the root
    root: oci.Descriptor
    mount_from: str | None = None  # repository on the same registry holding the base


def push(
    artifact: Artifact,
    ref_text: str,
    *,
    sbom: bytes | None = None,
    insecure: tuple[str, ...] = (),
    reporter: Reporter | None = None,
) -> PushResult:
    ref = parse_reference(ref_text)
    client = Client(ref.registry, insecure=insecure, reporter=reporter)
    scope = scope_push(ref.repository)
    counts = {"uploaded": 0, "present": 0, "mounted": 0, "bytes": 0}
    try:
        for digest, source in sorted(artifact.blobs.items()):
            _push_blob(client, ref, scope, digest, source, artifact.mount_from, counts)
        for media_type, data in artifact.manifests:
            put_manifest(client, ref, scope, oci.sha256_digest(data), data, media_type)
        tag = ref.tag or "latest"
        if ref.digest is None:
            root_bytes = dict((oci.sha256_digest(d), d) for _, d in artifact.manifests)[
                artifact.root.digest
            ]
            put_manifest(client, ref, scope, tag, root_bytes, artifact.root.media_type)
        sbom_tag = None
        if sbom is not None:
            sbom_tag = _attach_sbom(client, ref, scope, artifact.root, sbom, counts)
    finally:
        client.close()
    return PushResult(
        reference=f"{ref.registry}/{ref.repository}:{ref.tag or 'latest'}",
        digest=artifact.root.digest,
        uploaded=counts["uploaded"],
        present=counts["present"],
        mounted=counts["mounted"],
        uploaded_bytes=counts["bytes"],
        sbom_tag=sbom_tag,
        requests=client.requests,
    )


def _push_blob(
    client: Client,
    ref: Reference,
    scope: str,
    digest: str,
    source: BlobSource,
    mount_from: str | None,
    counts: dict[str, int],
) -> None:
    size = len(source) if isinstance(source, bytes) else Path(source).stat().st_size
    head = client.request(
        "HEAD",
        f"/v2/{ref.repository}/blobs/{digest}",
        scope=scope,
        ok=(200, 404),
        what=f"checking blob {digest[:19]}",
    )
    if head.status_code == 200:
        counts["present"] += 1
        return
    start_path = f"/v2/{ref.repository}/blobs/uploads/"
    if mount_from and mount_from != ref.repository:
        resp = client.request(
            "POST",
            f"{start_path}?mount={digest}&from={mount_from}",
            scope=scope + f" repository:{mount_from}:pull",
            ok=(201, 202),
            what=f"mounting blob {digest[:19]}",
        )
        if resp.status_code == 201:
            counts["mounted"] += 1
            return
    else:
        resp = client.request("POST", start_path, scope=scope, ok=(202,), what="starting an upload")
    location = resp.headers.get("Location")
    if not location:
        raise RegistryError(f"the registry {client.host} gave no upload location")
    if "://" not in location:
        location = f"{client.scheme}://{client.host}{location}"
    sep = "&" if "?" in location else "?"

    def body() -> Iterator[bytes]:
        if isinstance(source, bytes):
            yield source
            return
        with open(source, "rb") as fh:
            while chunk := fh.read(1 << 20):
                yield chunk

    client.request(
        "PUT",
        f"{location}{sep}digest={digest}",
        scope=scope,
        # registry 2.8 answers 400 DIGEST_INVALID without an explicit content type
        headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
        content=body,
        ok=(201, 204),
        what=f"uploading blob {digest[:19]}",
    )
    counts["uploaded"] += 1
    counts["bytes"] += size


def put_manifest(
    client: Client, ref: Reference, scope: str, reference: str, data: bytes, media_type: str
) -> object:
    return client.request(
        "PUT",
        f"/v2/{ref.repository}/manifests/{reference}",
        scope=scope,
        headers={"Content-Type": media_type},
        content=data,
        ok=(200, 201, 202),
        what=f"uploading manifest {reference}",
    )


def fallback_tag(digest: str) -> str:
    """The referrers tag schema: `sha256-<hex>` for subject `sha256:<hex>`."""
    return "sha256-" + oci.digest_hex(digest)


def sbom_manifest(subject: oci.Descriptor, sbom: bytes, created: str | None) -> oci.Manifest:
    ann = ((oci.ANN_CREATED, created),) if created else ()
    return oci.Manifest(
        config=oci.descriptor_of(oci.EMPTY, oci.EMPTY_BLOB),
        layers=(oci.descriptor_of(oci.SBOM_ARTIFACT, sbom),),
        annotations=ann,
        subject=oci.Descriptor(subject.media_type, subject.digest, subject.size),
        artifact_type=oci.SBOM_ARTIFACT,
    )


def _attach_sbom(
    client: Client,
    ref: Reference,
    scope: str,
    subject: oci.Descriptor,
    sbom: bytes,
    counts: dict[str, int],
) -> str | None:
    manifest = sbom_manifest(subject, sbom, None)
    for digest, blob in (
        (oci.sha256_digest(sbom), sbom),
        (oci.sha256_digest(oci.EMPTY_BLOB), oci.EMPTY_BLOB),
    ):
        _push_blob(client, ref, scope, digest, blob, None, counts)
    data = manifest.to_bytes()
    digest = oci.sha256_digest(data)
    resp = put_manifest(client, ref, scope, digest, data, oci.MANIFEST)
    if getattr(resp, "headers", {}).get("OCI-Subject"):
        return None  # the registry serves the referrers API itself
    # no referrers API (e.g. Debian's registry 2.8): maintain the fallback tag's index
    tag = fallback_tag(subject.digest)
    entry = oci.Descriptor(
        oci.MANIFEST, digest, len(data), manifest.annotations, None, oci.SBOM_ARTIFACT
    )
    existing: tuple[oci.Descriptor, ...] = ()
    old = client.request(
        "GET",
        f"/v2/{ref.repository}/manifests/{tag}",
        scope=scope,
        headers={"Accept": oci.INDEX},
        ok=(200, 404),
        what=f"reading the referrers tag {tag}",
    )
    if old.status_code == 200:
        existing = oci.Index.from_bytes(old.content, tag).manifests
    if any(d.digest == digest for d in existing):
        return tag
    index = oci.Index((*existing, entry))
    put_manifest(client, ref, scope, tag, index.to_bytes(), oci.INDEX)
    return tag
