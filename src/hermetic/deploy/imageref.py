"""Images pinned by digest: every image hermetic deploys is `REPOSITORY[:TAG]@sha256:…`.

A tag drifts (someone pushes again and the cluster runs something else), so a tag is
resolved to the digest of the manifest it points at now, with `hermetic image`'s registry
client (the same credentials, token flow and TLS rules as `hermetic image build --push`).
When the registry cannot be reached the reference is refused with a clear message.
"""

from __future__ import annotations

from dataclasses import replace

from hermetic.errors import HermeticError, UsageError
from hermetic.image.registry import (
    DOCKER_HUB,
    Client,
    Reference,
    RegistryError,
    get_manifest,
    parse_reference,
    scope_pull,
)


class UnpinnedImageError(HermeticError):
    """A tag that could not be resolved to a digest."""


def shown(ref: Reference) -> str:
    """The reference as people and kubelets write it (`docker.io/…` for Docker Hub)."""
    return str(replace(ref, registry="docker.io") if ref.registry == DOCKER_HUB else ref)


def pin_image(text: str, *, insecure: tuple[str, ...] = ()) -> str:
    """`text` pinned by digest: as it is when it has one, else its tag resolved now."""
    if text.startswith(("oci:", "docker-archive:")) or text == "scratch":
        raise UsageError(
            f"{text!r} is not in a registry, so a cluster cannot pull it",
            hint="push it first (`hermetic image build --tag REF --push`) and pass REF@sha256:…",
        )
    ref = parse_reference(text)
    if ref.digest is not None:
        return shown(ref)
    client = Client(ref.registry, insecure=insecure)
    try:
        _, _, digest = get_manifest(
            client, ref, ref.reference, scope_pull(ref.repository), shown(ref)
        )
    except RegistryError as exc:
        raise UnpinnedImageError(
            f"cannot resolve {shown(ref)} to a digest: {exc.message}",
            hint="tags drift, so hermetic deploys images by digest: pass "
            f"--image {shown(Reference(ref.registry, ref.repository))}@sha256:… "
            "(`hermetic image build` prints it)",
        ) from None
    finally:
        client.close()
    return shown(Reference(ref.registry, ref.repository, ref.tag, digest))
