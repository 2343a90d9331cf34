"""A CycloneDX (JSON, spec 1.6) SBOM of an image's env, built with cyclonedx-python-lib.

Every conda and PyPI package of every platform is a component with its purl, version,
sha256 and license where the package declares one. The document is deterministic: its
serial number is derived from the image digest inputs and its timestamp from
SOURCE_DATE_EPOCH, so the same build writes the same bytes.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hermetic.credentials import redact_url

#: part of the SBOM cache key: bump when `render` writes something else for the same inputs
FORMAT = "1"


@dataclass(frozen=True)
class SbomEntry:
    kind: str  # "conda" | "pypi"
    name: str
    version: str
    platform: str
    sha256: str | None
    license: str | None = None
    build: str | None = None
    subdir: str | None = None
    channel: str | None = None

    @property
    def ref(self) -> str:
        build = f"={self.build}" if self.build else ""
        return f"{self.kind}:{self.platform}:{self.name}={self.version}{build}"


def render(
    entries: Sequence[SbomEntry],
    *,
    image_name: str,
    lock_hash: str,
    created_epoch: int,
) -> bytes:
    from cyclonedx.model import HashAlgorithm, HashType, Property
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output.json import JsonV1Dot6
    from packageurl import PackageURL

    bom = Bom(serial_number=uuid.uuid5(uuid.NAMESPACE_URL, f"hermetic:{image_name}:{lock_hash}"))
    bom.metadata.timestamp = datetime.datetime.fromtimestamp(created_epoch, datetime.timezone.utc)
    bom.metadata.component = Component(
        name=image_name,
        type=ComponentType.CONTAINER,
        bom_ref="image",
        properties=[Property(name="hermetic:lock:sha256", value=lock_hash)],
    )
    root = bom.metadata.component
    seen: set[str] = set()
    for e in sorted(entries, key=lambda x: x.ref):
        if e.ref in seen:
            continue
        seen.add(e.ref)
        if e.kind == "conda":
            qualifiers = {"subdir": e.subdir or e.platform, "type": "conda"}
            if e.build:
                qualifiers["build"] = e.build
            if e.channel:
                qualifiers["channel"] = redact_url(e.channel)
            purl = PackageURL("conda", None, e.name, e.version, qualifiers=qualifiers)
        else:
            purl = PackageURL("pypi", None, e.name, e.version)
        bom.components.add(
            Component(
                name=e.name,
                version=e.version,
                type=ComponentType.LIBRARY,
                bom_ref=e.ref,
                purl=purl,
                hashes=[HashType(alg=HashAlgorithm.SHA_256, content=e.sha256)] if e.sha256 else [],
                licenses=_licenses(e.license),
                properties=[Property(name="hermetic:platform", value=e.platform)],
            )
        )
    bom.register_dependency(root, list(bom.components))
    return JsonV1Dot6(bom).output_as_string(indent=2).encode() + b"\n"


def cached_render(
    cache: Path,
    entries: Sequence[SbomEntry],
    *,
    image_name: str,
    lock_hash: str,
    created_epoch: int,
) -> bytes:
    """`render`, remembered under a hash of its inputs: the document is a function of them,
    and building it (cyclonedx-python-lib) costs more than a warm image rebuild."""
    import hashlib
    import json

    from hermetic.fs import atomic_write_bytes

    key = hashlib.sha256(
        json.dumps(
            [FORMAT, image_name, lock_hash, created_epoch, sorted(map(repr, entries))]
        ).encode()
    ).hexdigest()
    path = cache / f"{key}.cdx.json"
    try:
        return path.read_bytes()
    except OSError:
        pass
    data = render(entries, image_name=image_name, lock_hash=lock_hash, created_epoch=created_epoch)
    atomic_write_bytes(path, data)
    return data


def _licenses(text: str | None) -> list:  # type: ignore[type-arg]  # cyclonedx license union
    if not text or not text.strip():
        return []
    from cyclonedx.contrib.license.factories import LicenseFactory

    return [LicenseFactory().make_from_string(text.strip()[:200])]


def validate(data: bytes) -> str | None:
    """None when `data` is a valid CycloneDX 1.6 JSON document, else the first error."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    err = JsonStrictValidator(SchemaVersion.V1_6).validate_str(data.decode())
    return None if err is None else str(err)


def summary(data: bytes) -> dict[str, int]:
    """Component counts by kind, for `hermetic image inspect`."""
    import json

    doc = json.loads(data)
    out: dict[str, int] = {}
    for c in doc.get("components") or []:
        kind = str(c.get("purl", "pkg:?/")).split(":", 1)[1].split("/", 1)[0]
        out[kind] = out.get(kind, 0) + 1
    return out


def entries_for(inp: Any) -> list[SbomEntry]:
    """The SBOM entries of one platform's locked packages (a `build.PlatformInput`)."""
    out = [
        SbomEntry(
            kind="conda",
            name=r.name.normalized,
            version=str(r.version),
            platform=inp.platform,
            sha256=r.sha256.hex() if r.sha256 else None,
            license=str(r.license) if r.license else None,
            build=str(r.build),
            subdir=str(r.subdir),
            channel=str(r.channel) if r.channel else None,
        )
        for r in inp.records
    ]
    out += [SbomEntry("pypi", p.name, p.version, inp.platform, p.sha256) for p in inp.pypi]
    return out
