"""Image references: parsing, and tags resolved to digests against a real registry."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from registry import push_manifest, start_registry

from hermetic.deploy.imageref import (
    ImageRefError,
    RegistryUnreachable,
    parse_image_ref,
    resolve_digest,
)

HEX = "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("text", "registry", "repo", "tag", "digest"),
    [
        ("busybox", "docker.io", "library/busybox", None, None),
        ("busybox:1.36", "docker.io", "library/busybox", "1.36", None),
        ("team/app:v1", "docker.io", "team/app", "v1", None),
        ("ghcr.io/org/app:v1", "ghcr.io", "org/app", "v1", None),
        (f"ghcr.io/org/app@sha256:{HEX}", "ghcr.io", "org/app", None, f"sha256:{HEX}"),
        (f"localhost:5000/a/b:t@sha256:{HEX}", "localhost:5000", "a/b", "t", f"sha256:{HEX}"),
        ("127.0.0.1:5000/x", "127.0.0.1:5000", "x", None, None),
    ],
)
def test_parse(text: str, registry: str, repo: str, tag: str | None, digest: str | None) -> None:
    ref = parse_image_ref(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repo, tag, digest)


@pytest.mark.parametrize(
    "bad", ["", "UPPER/case", "a b", "x@sha256:123", "x@md5:" + HEX, "x:", "ghcr.io/", "x:-bad"]
)
def test_parse_refuses(bad: str) -> None:
    with pytest.raises(ImageRefError):
        parse_image_ref(bad)


def test_pinned_is_kept_without_a_request() -> None:
    ref = parse_image_ref(f"unreachable.invalid/x@sha256:{HEX}")
    assert resolve_digest(ref) is ref


def test_unreachable_registry_is_refused_clearly() -> None:
    with pytest.raises(RegistryUnreachable) as err:
        resolve_digest(parse_image_ref("127.0.0.1:9/team/app:v1"), timeout=2)
    assert "tags drift" in str(err.value)
    assert "@sha256:" in str(err.value)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    proc, host = start_registry(tmp_path_factory.mktemp("registry"))
    yield host
    proc.terminate()
    proc.wait(timeout=10)


def _layer() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = b"hello\n"
        info = tarfile.TarInfo("hello.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_tag_resolves_to_the_manifest_digest(registry: str) -> None:
    config = {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"}}
    digest = push_manifest(registry, "team/app", "v1", _layer(), config)
    ref = resolve_digest(parse_image_ref(f"{registry}/team/app:v1"))
    assert ref.digest == digest
    assert ref.by_digest() == f"{registry}/team/app:v1@{digest}"


def test_unknown_tag_is_an_error(registry: str) -> None:
    with pytest.raises(ImageRefError, match="does not exist"):
        resolve_digest(parse_image_ref(f"{registry}/team/app:nope"))


def test_k8s_resolves_a_tag_when_the_registry_is_up(registry: str, tmp_path: Path) -> None:
    from clirun import hermetic

    config = {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"}}
    digest = push_manifest(registry, "team/job", "latest", _layer(), config)
    (tmp_path / "hermetic.toml").write_text(
        'name = "x"\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n'
    )
    out = hermetic("k8s", "--image", f"{registry}/team/job:latest", cwd=tmp_path)
    assert f"@{digest}" in out.stdout
    assert (
        f"image: {registry}/team/job:latest@{digest}"
        in (tmp_path / "k8s/default/job.yaml").read_text()
    )
