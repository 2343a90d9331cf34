"""Fixtures for image tests: a Debian base, real registries, a locked example project."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from imagefix import Registry, debian_base, download_debs, make_project

from fixtures.wheels import build_wheel
from projects import h, write_project


@pytest.fixture(scope="session")
def debs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """libc6, libgcc-s1, zlib1g, busybox-static .debs (downloaded once per session)."""
    return download_debs(tmp_path_factory.mktemp("debs"))


@pytest.fixture(scope="session")
def base_ref(debs: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """`oci:DIR:base`: a glibc + busybox base image made from the .debs."""
    work = tmp_path_factory.mktemp("base-work")
    return debian_base(debs, work, work / "layout")


@pytest.fixture(scope="session")
def image_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """HERMETIC_CACHE_DIR shared by the image tests (package cache + image cache)."""
    return tmp_path_factory.mktemp("image-cache")


@pytest.fixture(scope="session")
def cli_wheelhouse(wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The standard wheelhouse plus `hellocli`, a wheel with a console-script entry point."""
    d = tmp_path_factory.mktemp("wheels-cli")
    for whl in wheelhouse.glob("*.whl"):
        shutil.copy(whl, d)
    build_wheel(
        d,
        "hellocli",
        "1.0",
        files={
            "hellocli/__init__.py": 'def main():\n    print("hello from hellocli")\n',
            "hellocli-1.0.dist-info/entry_points.txt": "[console_scripts]\nhellocli = hellocli:main\n",
        },
    )
    return d


@pytest.fixture(scope="session")
def project(
    tmp_path_factory: pytest.TempPathFactory,
    conda_channel: Path,
    cli_wheelhouse: Path,
    image_cache: Path,
) -> Path:
    """A locked project: python, tinytool (compiled, activation), pyhello, two wheels."""
    return make_project(
        tmp_path_factory.mktemp("proj") / "p", conda_channel, cli_wheelhouse, image_cache
    )


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    reg = Registry(tmp_path_factory.mktemp("registry"))
    yield reg
    reg.stop()


@pytest.fixture(scope="session")
def auth_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """htpasswd auth over TLS (a self-signed certificate made here)."""
    reg = Registry(tmp_path_factory.mktemp("registry-tls"), tls=True, users={"alice": "s3cret"})
    yield reg
    reg.stop()


@pytest.fixture
def no_creds(tmp_path: Path) -> dict[str, str]:
    """An environment with no registry credentials anywhere (a fresh HOME)."""
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "DOCKER_CONFIG": str(home / ".docker"), "XDG_RUNTIME_DIR": ""}
    return env


def fake_elf(machine: int) -> bytes:
    """An ELF header for `machine` (62 x86-64, 183 aarch64): enough to tell the arch apart."""
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    return ident + (2).to_bytes(2, "little") + machine.to_bytes(2, "little") + bytes(44)


@pytest.fixture(scope="session")
def aarch64_project(tmp_path_factory: pytest.TempPathFactory, image_cache: Path) -> Path:
    """A project locked for linux-64 and linux-aarch64 whose `archtool` differs per arch."""
    from hermetic.condapkg import PackageSpec, build_channel

    base = tmp_path_factory.mktemp("multiarch")
    channel = build_channel(
        base / "channel",
        [
            PackageSpec(
                "archtool",
                "1.0",
                "h0",
                subdir=subdir,
                files={"bin/archtool": fake_elf(machine)},
                executable_files=("bin/archtool",),
            )
            for subdir, machine in (("linux-64", 62), ("linux-aarch64", 183))
        ],
    )
    root = base / "p"
    write_project(
        root,
        channel,
        None,
        deps='archtool = "*"',
        pypi="",
        platforms='["linux-64", "linux-aarch64"]',
    )
    h("lock", cwd=root, cache=image_cache)
    return root
