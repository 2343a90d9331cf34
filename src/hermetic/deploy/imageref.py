"""Image references, pinned by digest: parse `REGISTRY/REPO[:TAG][@sha256:HEX]`, resolve a tag.

A tag drifts (someone pushes again and the cluster runs something else), so everything
hermetic deploys names an image by digest. A tag is resolved with one registry request
(`HEAD /v2/<repo>/manifests/<tag>`, anonymous bearer token if the registry asks for one);
when the registry cannot be reached the reference is refused with a clear message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from hermetic.errors import HermeticError, UsageError

if TYPE_CHECKING:
    import httpx

DOCKER_HUB = "docker.io"
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_REPO_PART = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_ACCEPT = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)


class ImageRefError(UsageError):
    pass


class RegistryUnreachable(HermeticError):
    pass


@dataclass(frozen=True)
class ImageRef:
    registry: str  # host[:port]; docker.io for Docker Hub
    repository: str  # library/python for Docker Hub's official images
    tag: str | None = None
    digest: str | None = None

    @property
    def pinned(self) -> bool:
        return self.digest is not None

    def __str__(self) -> str:
        name = f"{self.registry}/{self.repository}"
        if self.tag:
            name += f":{self.tag}"
        if self.digest:
            name += f"@{self.digest}"
        return name

    def by_digest(self) -> str:
        """`REGISTRY/REPO@sha256:…` (the tag kept as a readable hint: `REPO:TAG@sha256:…`)."""
        if self.digest is None:
            raise ImageRefError(f"{self} is not pinned by digest")
        return str(self)


def parse_image_ref(text: str) -> ImageRef:
    """Parse the reference forms docker and podman accept; raise ImageRefError otherwise."""
    raw = text.strip()
    bad = ImageRefError(
        f"not an image reference: {text!r}",
        hint="write REGISTRY/REPOSITORY:TAG or REGISTRY/REPOSITORY@sha256:<64 hex digits>",
    )
    if not raw or any(c.isspace() for c in raw):
        raise bad
    name, _, digest = raw.partition("@")
    if digest and not _DIGEST.match(digest):
        raise ImageRefError(
            f"bad digest in {text!r}: {digest!r}", hint="a digest is sha256: and 64 hex digits"
        )
    tag = None
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
        if not _TAG.match(tag):
            raise bad
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry, repo = first, rest
    else:
        registry, repo = DOCKER_HUB, name
        if "/" not in repo:
            repo = f"library/{repo}"
    if not repo or not all(_REPO_PART.match(p) for p in repo.split("/")):
        raise bad
    return ImageRef(registry, repo, tag, digest or None)


def _base_url(registry: str) -> str:
    host = registry.rsplit(":", 1)[0] if registry.count(":") == 1 else registry
    if host in ("localhost", "127.0.0.1", "::1", "[::1]"):
        return f"http://{registry}"  # a local registry (tests, kind, a dev box) speaks http
    if registry == DOCKER_HUB:
        return "https://registry-1.docker.io"
    return f"https://{registry}"


def resolve_digest(ref: ImageRef, *, timeout: float = 10.0) -> ImageRef:
    """`ref` pinned to the digest its tag points at now; the digest as it is when already pinned."""
    if ref.digest is not None:
        return ref
    import httpx

    url = f"{_base_url(ref.registry)}/v2/{ref.repository}/manifests/{ref.tag or 'latest'}"
    headers = {"Accept": _ACCEPT}
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True) as client:
            resp = client.head(url, headers=headers)
            if resp.status_code == 401:
                challenge = resp.headers.get("www-authenticate", "")
                token = _anonymous_token(client, challenge, url.startswith("http://"))
                if token:
                    headers["Authorization"] = f"Bearer {token}"
                    resp = client.head(url, headers=headers)
    except httpx.HTTPError as exc:
        raise RegistryUnreachable(
            f"cannot resolve {ref} to a digest: {ref.registry} is unreachable ({type(exc).__name__})",
            hint="tags drift, so hermetic deploys images by digest: pass --image "
            f"{ref.registry}/{ref.repository}@sha256:… (e.g. from `hermetic image build`)",
        ) from None
    if resp.status_code == 404:
        raise ImageRefError(f"{ref} does not exist in {ref.registry}")
    if resp.status_code in (401, 403):
        raise RegistryUnreachable(
            f"{ref.registry} refused to say what {ref} points at (HTTP {resp.status_code})",
            hint="pass the image by digest: --image REPOSITORY@sha256:…",
        )
    digest = resp.headers.get("docker-content-digest", "")
    if resp.status_code != 200 or not _DIGEST.match(digest):
        raise RegistryUnreachable(
            f"{ref.registry} gave no digest for {ref} (HTTP {resp.status_code})",
            hint="pass the image by digest: --image REPOSITORY@sha256:…",
        )
    return replace(ref, digest=digest)


def _anonymous_token(client: httpx.Client, challenge: str, local: bool) -> str | None:
    """The bearer token flow of the distribution spec, without credentials (public images)."""
    if not challenge.lower().startswith("bearer "):
        return None
    fields = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
    realm = fields.pop("realm", None)
    if not realm or not realm.startswith(("https://", "http://") if local else "https://"):
        return None
    resp = client.get(realm, params=fields)
    if resp.status_code != 200:
        return None
    body = resp.json()
    token = body.get("token") or body.get("access_token")
    return str(token) if token else None
