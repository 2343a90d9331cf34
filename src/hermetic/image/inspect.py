"""`hermetic image inspect REF|oci:DIR[:TAG]`: layers, sizes, packages, lock hash, SBOM.

Reads only manifests, configs and the SBOM (never layer blobs), from an OCI layout or a
registry. The report is a plain JSON-able dict (`--json` prints it as is).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hermetic.errors import UsageError
from hermetic.image import oci
from hermetic.image.push import fallback_tag

Fetch = Callable[[str], bytes]  # digest or tag -> manifest/blob bytes


def inspect_image(
    ref: str, *, platform: str | None = None, insecure: tuple[str, ...] = ()
) -> dict[str, Any]:
    if ref.startswith("oci:"):
        from hermetic.image.ocidir import LayoutReader, parse_oci_ref

        oref = parse_oci_ref(ref)
        reader = LayoutReader(oref.path)
        root = reader.root(oref.tag)

        def fetch_sbom_index() -> bytes | None:
            try:
                d = reader.root(fallback_tag(root.digest))
            except UsageError:
                return None
            return reader.read_blob(d.digest)

        return _report(
            ref, root.digest, reader.read_blob, reader.read_blob, fetch_sbom_index, platform
        )
    from hermetic.image.registry import Client, get_manifest, parse_reference, scope_pull

    r = parse_reference(ref)
    client = Client(r.registry, insecure=insecure)
    scope = scope_pull(r.repository)
    try:
        data, _mt, digest = get_manifest(client, r, r.reference, scope, ref)
        cache: dict[str, bytes] = {digest: data}

        def read(d: str) -> bytes:
            if d not in cache:
                resp = client.request(
                    "GET",
                    f"/v2/{r.repository}/blobs/{d}",
                    scope=scope,
                    what=f"reading {ref}",
                )
                cache[d] = resp.content
            return cache[d]

        def read_manifest(d: str) -> bytes:
            if d not in cache:
                cache[d] = get_manifest(client, r, d, scope, ref)[0]
            return cache[d]

        def fetch_sbom_index() -> bytes | None:
            try:
                return get_manifest(client, r, fallback_tag(digest), scope, ref)[0]
            except UsageError:
                return None

        return _report(ref, digest, read_manifest, read, fetch_sbom_index, platform)
    finally:
        client.close()


def _report(
    ref: str,
    digest: str,
    read_manifest: Fetch,
    read: Fetch,
    sbom_index: Callable[[], bytes | None],
    platform: str | None,
) -> dict[str, Any]:
    data = read_manifest(digest)
    media_type = oci.media_type_of(data) or oci.MANIFEST
    manifests: list[tuple[str | None, str]] = []
    annotations: dict[str, str] = {}
    if media_type in oci.INDEX_TYPES:
        index = oci.Index.from_bytes(data, ref)
        annotations.update(dict(index.annotations))
        for d in index.manifests:
            if d.media_type in oci.MANIFEST_TYPES and d.platform is not None:
                manifests.append((str(d.platform), d.digest))
    else:
        manifests.append((None, digest))
    if platform is not None:
        manifests = [(p, d) for p, d in manifests if p is None or p.startswith(platform)]
        if not manifests:
            raise UsageError(f"{ref} has no image for {platform}")
    images = []
    for plat, mdigest in manifests:
        m = oci.Manifest.from_bytes(read_manifest(mdigest), ref)
        annotations.update(dict(m.annotations))
        import json

        config = json.loads(read(m.config.digest))
        cfg = config.get("config") or {}
        layers = []
        for d in m.layers:
            packages = d.annotation(oci.ANN_PACKAGES)
            layers.append(
                {
                    "digest": d.digest,
                    "size": d.size,
                    "media_type": d.media_type,
                    "name": d.annotation(oci.ANN_TITLE) or "base",
                    "packages": packages.split(",") if packages else [],
                }
            )
        images.append(
            {
                "platform": plat or f"{config.get('os')}/{config.get('architecture')}",
                "manifest": mdigest,
                "size": sum(d.size for d in m.layers),
                "user": cfg.get("User"),
                "entrypoint": cfg.get("Entrypoint"),
                "cmd": cfg.get("Cmd"),
                "workdir": cfg.get("WorkingDir"),
                "env": cfg.get("Env") or [],
                "layers": layers,
            }
        )
    return {
        "reference": ref,
        "digest": digest,
        "media_type": media_type,
        "lock_hash": annotations.get(oci.ANN_LOCK_HASH),
        "environment": annotations.get(oci.ANN_ENVIRONMENT),
        "created": annotations.get(oci.ANN_CREATED),
        "source": annotations.get(oci.ANN_SOURCE),
        "revision": annotations.get(oci.ANN_REVISION),
        "base": annotations.get(oci.ANN_BASE_NAME) or annotations.get(oci.ANN_BASE_DIGEST),
        "images": images,
        "sbom": _sbom(read_manifest, read, sbom_index),
    }


def _sbom(
    read_manifest: Fetch, read: Fetch, sbom_index: Callable[[], bytes | None]
) -> dict[str, Any] | None:
    from hermetic.image.sbom import summary

    data = sbom_index()
    if data is None:
        return None
    mt = oci.media_type_of(data)
    if mt in oci.INDEX_TYPES:
        descs = [
            d
            for d in oci.Index.from_bytes(data, "referrers").manifests
            if d.artifact_type == oci.SBOM_ARTIFACT
        ]
        if not descs:
            return None
        data = read_manifest(descs[-1].digest)
    m = oci.Manifest.from_bytes(data, "sbom")
    if not m.layers:
        return None
    doc = read(m.layers[0].digest)
    return {"digest": m.layers[0].digest, "components": summary(doc)}


def render_text(report: dict[str, Any]) -> str:
    lines = [f"{report['reference']}  {report['digest']}"]
    for key in ("environment", "lock_hash", "created", "base", "source", "revision"):
        if report.get(key):
            lines.append(f"  {key.replace('_', ' ')}: {report[key]}")
    for img in report["images"]:
        lines.append(f"{img['platform']}  {img['manifest']}  {img['size'] / 1e6:.1f} MB")
        lines.append(f"  user {img['user']}  workdir {img['workdir']}")
        if img["entrypoint"]:
            lines.append(f"  entrypoint {img['entrypoint']}")
        if img["cmd"]:
            lines.append(f"  cmd {img['cmd']}")
        for layer in img["layers"]:
            pk = layer["packages"]
            shown = ", ".join(pk[:6]) + (f", … ({len(pk)} in all)" if len(pk) > 6 else "")
            lines.append(
                f"  {layer['digest'][7:19]}  {layer['size'] / 1e6:9.2f} MB  {layer['name']}"
                + (f"  [{shown}]" if pk else "")
            )
    sb = report.get("sbom")
    if sb:
        counts = ", ".join(f"{n} {k}" for k, n in sorted(sb["components"].items()))
        lines.append(f"SBOM {sb['digest'][:19]}: {counts}")
    else:
        lines.append("SBOM: none attached")
    return "\n".join(lines)
