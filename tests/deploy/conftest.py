"""The deploy tests' shared fixture: a tiny image in a real registry, and podman set up for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from containers import busybox_rootfs, have_podman, podman_env, push_rootfs
from registry import start_registry


@pytest.fixture(scope="session")
def tiny_image(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, str, dict[str, str]]]:
    """(registry host:port, manifest digest of `tiny:1`, env for podman)."""
    if not have_podman():
        pytest.skip("podman/runc/dpkg not installed (.ci/run installs them)")
    root = tmp_path_factory.mktemp("podman")
    rootfs = busybox_rootfs(root / "image")
    if rootfs is None:
        pytest.skip("busybox-static could not be fetched from Debian")
    proc, registry = start_registry(root / "registry")
    try:
        digest = push_rootfs(registry, "tiny", "1", rootfs)
        yield registry, digest, podman_env(root / "podman", registry)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
