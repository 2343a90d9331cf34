"""Image references: parsing, and tags resolved to digests against a real registry."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from registry import push_manifest, start_registry

from hermetic.deploy.imageref import UnpinnedImageError, pin_image
from hermetic.errors import UsageError

HEX = "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("text", "pinned"),
    [
        (f"ghcr.io/org/app@sha256:{HEX}", f"ghcr.io/org/app@sha256:{HEX}"),
        (f"busybox@sha256:{HEX}", f"docker.io/library/busybox@sha256:{HEX}"),
        (f"unreachable.invalid/a/b:t@sha256:{HEX}", f"unreachable.invalid/a/b:t@sha256:{HEX}"),
    ],
)
def test_pinned_is_kept_without_a_request(text: str, pinned: str) -> None:
    assert pin_image(text) == pinned


@pytest.mark.parametrize("bad", ["UPPER/case", "x@sha256:123", "x@md5:" + HEX, "oci:dir:t"])
def test_not_an_image_a_cluster_can_pull(bad: str) -> None:
    with pytest.raises(UsageError):
        pin_image(bad)


def test_unreachable_registry_is_refused_clearly() -> None:
    with pytest.raises(UnpinnedImageError) as err:
        pin_image("127.0.0.1:9/team/app:v1")
    assert "tags drift" in str(err.value)
    assert "127.0.0.1:9/team/app@sha256:" in str(err.value)


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
    assert pin_image(f"{registry}/team/app:v1") == f"{registry}/team/app:v1@{digest}"


def test_unknown_tag_is_an_error(registry: str) -> None:
    with pytest.raises(UsageError, match="not found"):
        pin_image(f"{registry}/team/app:nope")


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
