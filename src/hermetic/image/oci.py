"""OCI image types: descriptors, platforms, manifests, indexes and image configs.

Documents are serialized canonically (sorted keys, no whitespace), so the same content always
has the same digest. Only what hermetic writes and reads is modelled; unknown fields of a
pulled base are kept verbatim in its raw bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hermetic.errors import HermeticError

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
EMPTY = "application/vnd.oci.empty.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
SBOM_ARTIFACT = "application/vnd.cyclonedx+json"

MANIFEST_TYPES = (MANIFEST, DOCKER_MANIFEST)
INDEX_TYPES = (INDEX, DOCKER_LIST)
LAYER_TYPES = (LAYER_TAR, LAYER_GZIP, LAYER_ZSTD, DOCKER_LAYER_GZIP)

#: pre-defined annotation keys (image-spec annotations.md)
ANN_CREATED = "org.opencontainers.image.created"
ANN_SOURCE = "org.opencontainers.image.source"
ANN_REVISION = "org.opencontainers.image.revision"
ANN_REF_NAME = "org.opencontainers.image.ref.name"
ANN_BASE_DIGEST = "org.opencontainers.image.base.digest"
ANN_BASE_NAME = "org.opencontainers.image.base.name"
ANN_TITLE = "org.opencontainers.image.title"
#: hermetic's own keys
ANN_LOCK_HASH = "dev.hermetic.lock.sha256"
ANN_ENVIRONMENT = "dev.hermetic.environment"
ANN_PACKAGES = "dev.hermetic.layer.packages"  # on a layer descriptor: what it holds

#: the OCI empty descriptor's blob (`{}`), used as the config of artifact manifests
EMPTY_BLOB = b"{}"


def canonical(doc: Mapping[str, Any]) -> bytes:
    """The bytes hermetic writes for a JSON document: same content, same digest."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def digest_hex(digest: str) -> str:
    """The hex part of a `sha256:<hex>` digest (refused otherwise: it becomes a file name)."""
    algo, _, hexpart = digest.partition(":")
    if algo != "sha256" or len(hexpart) != 64 or any(c not in "0123456789abcdef" for c in hexpart):
        raise HermeticError(f"not a sha256 digest: {digest!r}")
    return hexpart


@dataclass(frozen=True)
class Platform:
    """An OCI platform (`linux/amd64`, `linux/arm64/v8`)."""

    os: str
    architecture: str
    variant: str | None = None

    def to_json(self) -> dict[str, str]:
        out = {"os": self.os, "architecture": self.architecture}
        if self.variant:
            out["variant"] = self.variant
        return out

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Platform:
        return cls(str(d.get("os", "")), str(d.get("architecture", "")), d.get("variant"))

    def __str__(self) -> str:
        return f"{self.os}/{self.architecture}" + (f"/{self.variant}" if self.variant else "")

    def matches(self, other: Platform) -> bool:
        """Same os and architecture; a missing variant matches any (arm64 is v8 by default)."""
        if (self.os, self.architecture) != (other.os, other.architecture):
            return False
        return not self.variant or not other.variant or self.variant == other.variant


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    annotations: tuple[tuple[str, str], ...] = ()
    platform: Platform | None = None
    artifact_type: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.size,
        }
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        if self.platform is not None:
            out["platform"] = self.platform.to_json()
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        return out

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Descriptor:
        try:
            digest = str(d["digest"])
            digest_hex(digest)
            plat = d.get("platform")
            return cls(
                media_type=str(d.get("mediaType", "")),
                digest=digest,
                size=int(d["size"]),
                annotations=tuple(sorted((d.get("annotations") or {}).items())),
                platform=Platform.from_json(plat) if isinstance(plat, Mapping) else None,
                artifact_type=d.get("artifactType"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise HermeticError(f"malformed OCI descriptor: {exc}") from None

    def annotation(self, key: str) -> str | None:
        return dict(self.annotations).get(key)


def descriptor_of(media_type: str, data: bytes, **kw: Any) -> Descriptor:
    return Descriptor(media_type, sha256_digest(data), len(data), **kw)


@dataclass(frozen=True)
class Manifest:
    config: Descriptor
    layers: tuple[Descriptor, ...]
    annotations: tuple[tuple[str, str], ...] = ()
    media_type: str = MANIFEST
    subject: Descriptor | None = None
    artifact_type: str | None = None

    def to_bytes(self) -> bytes:
        doc: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": self.media_type,
            "config": self.config.to_json(),
            "layers": [layer.to_json() for layer in self.layers],
        }
        if self.annotations:
            doc["annotations"] = dict(self.annotations)
        if self.subject is not None:
            doc["subject"] = self.subject.to_json()
        if self.artifact_type:
            doc["artifactType"] = self.artifact_type
        return canonical(doc)

    @classmethod
    def from_bytes(cls, data: bytes, where: str) -> Manifest:
        doc = _load(data, where)
        try:
            return cls(
                config=Descriptor.from_json(doc["config"]),
                layers=tuple(Descriptor.from_json(x) for x in doc.get("layers") or ()),
                annotations=tuple(sorted((doc.get("annotations") or {}).items())),
                media_type=str(doc.get("mediaType") or MANIFEST),
                subject=Descriptor.from_json(doc["subject"]) if doc.get("subject") else None,
                artifact_type=doc.get("artifactType"),
            )
        except (KeyError, TypeError) as exc:
            raise HermeticError(f"{where}: malformed image manifest ({exc})") from None


@dataclass(frozen=True)
class Index:
    manifests: tuple[Descriptor, ...]
    annotations: tuple[tuple[str, str], ...] = ()
    media_type: str = INDEX

    def to_bytes(self) -> bytes:
        doc: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": self.media_type,
            "manifests": [m.to_json() for m in self.manifests],
        }
        if self.annotations:
            doc["annotations"] = dict(self.annotations)
        return canonical(doc)

    @classmethod
    def from_bytes(cls, data: bytes, where: str) -> Index:
        doc = _load(data, where)
        try:
            return cls(
                manifests=tuple(Descriptor.from_json(x) for x in doc.get("manifests") or ()),
                annotations=tuple(sorted((doc.get("annotations") or {}).items())),
                media_type=str(doc.get("mediaType") or INDEX),
            )
        except TypeError as exc:
            raise HermeticError(f"{where}: malformed image index ({exc})") from None


def _load(data: bytes, where: str) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise HermeticError(f"{where}: not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise HermeticError(f"{where}: not a JSON object")
    return doc


def media_type_of(data: bytes) -> str | None:
    """The `mediaType` a manifest or index declares, else None."""
    try:
        doc = json.loads(data)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    mt = doc.get("mediaType")
    if isinstance(mt, str):
        return mt
    return INDEX if "manifests" in doc else MANIFEST if "layers" in doc else None


@dataclass(frozen=True)
class ImageConfig:
    """The parts of an image config hermetic sets; `base` keeps everything else of the base's."""

    platform: Platform
    diff_ids: tuple[str, ...]
    env: tuple[str, ...] = ()  # KEY=VALUE, in order
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    user: str | None = None
    workdir: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    exposed_ports: tuple[str, ...] = ()
    created: str | None = None
    history: tuple[Mapping[str, Any], ...] = ()
    base: Mapping[str, Any] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        doc: dict[str, Any] = {k: v for k, v in self.base.items() if k != "container_config"}
        doc["architecture"] = self.platform.architecture
        doc["os"] = self.platform.os
        if self.platform.variant:
            doc["variant"] = self.platform.variant
        else:
            doc.pop("variant", None)
        cfg: dict[str, Any] = dict(doc.get("config") or {})
        cfg["Env"] = list(self.env)
        for key, value in (
            ("Entrypoint", self.entrypoint),
            ("Cmd", self.cmd),
        ):
            if value is not None:
                cfg[key] = list(value)
        if self.user is not None:
            cfg["User"] = self.user
        if self.workdir is not None:
            cfg["WorkingDir"] = self.workdir
        if self.labels:
            cfg["Labels"] = {**(cfg.get("Labels") or {}), **dict(self.labels)}
        if self.exposed_ports:
            cfg["ExposedPorts"] = {
                **(cfg.get("ExposedPorts") or {}),
                **{p: {} for p in self.exposed_ports},
            }
        doc["config"] = cfg
        doc["rootfs"] = {"type": "layers", "diff_ids": list(self.diff_ids)}
        if self.created is not None:
            doc["created"] = self.created
        doc["history"] = [dict(h) for h in self.history]
        return canonical(doc)


def config_platform(config: Mapping[str, Any]) -> Platform:
    return Platform(
        str(config.get("os", "")), str(config.get("architecture", "")), config.get("variant")
    )
