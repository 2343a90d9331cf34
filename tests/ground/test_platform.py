"""hermetic.platform: the one platform table, checked against rattler's."""

from __future__ import annotations

import pytest

from hermetic import platform as plat


def test_known_platforms_are_rattlers_without_noarch():
    from rattler.platform import Subdir as Platform

    expected = [str(p) for p in Platform.all() if str(p) != "noarch"]
    assert list(plat.known_platforms()) == expected
    for p in Platform.all():
        if str(p) != "noarch":
            assert plat.arch(str(p)) == str(p.arch), str(p)
            assert plat.info(str(p)).is_unix == p.is_unix, str(p)  # type: ignore[union-attr]


def test_current_platform_matches_rattler():
    from rattler.platform import Subdir as Platform

    assert plat.current_platform() == str(Platform.current())


def test_default_platforms_deploy_first():
    d = plat.default_platforms()
    assert d[0] == "linux-64" and plat.current_platform() in d and len(set(d)) == len(d)


@pytest.mark.parametrize(
    ("machine", "sysname", "expected"),
    [
        (
            "arm64",
            "darwin",
            "linux-64",
        ),  # Apple silicon inspects what it deploys, never linux-arm64
        ("x86_64", "darwin", "linux-64"),
        ("aarch64", "linux", "linux-aarch64"),
        ("x86_64", "linux", "linux-64"),
        ("ppc64le", "linux", "linux-ppc64le"),
    ],
)
def test_default_linux_platform(monkeypatch, machine, sysname, expected):
    monkeypatch.setattr(plat._host, "machine", lambda: machine)
    monkeypatch.setattr(plat.sys, "platform", sysname)
    assert plat.default_linux_platform() == expected
    assert plat.default_linux_platform() in plat.known_platforms()


def test_uv_targets_and_wheel_tags():
    assert plat.uv_python_platform("linux-64", "2.17") == "x86_64-manylinux_2_17"
    assert plat.uv_python_platform("linux-aarch64", "2.28") == "aarch64-manylinux_2_28"
    assert plat.uv_python_platform("osx-arm64") == "aarch64-apple-darwin"
    assert plat.uv_python_platform("linux-ppc64le") is None
    tags = plat.wheel_platform_tags("linux-64", "2.17")
    assert tags[0] == "manylinux_2_17_x86_64" and "manylinux2014_x86_64" in tags
    assert "manylinux2010_x86_64" in tags and "manylinux_2_28_x86_64" not in tags
    assert plat.wheel_platform_tags("osx-arm64", macos="13.0")[0] == "macosx_13_0_arm64"
    assert plat.wheel_platform_tags("win-64") == ["win_amd64"]


def test_oci_platforms():
    assert plat.oci_platform("linux-64") == "linux/amd64"
    assert plat.oci_platform("linux-aarch64") == "linux/arm64"
    assert plat.oci_platform("linux-ppc64le") == "linux/ppc64le"
    assert plat.oci_platform("linux-s390x") == "linux/s390x"
    assert plat.oci_platform("osx-arm64") == "darwin/arm64"
    assert plat.oci_platform("emscripten-wasm32") is None


def test_virtual_package_defaults():
    from hermetic.manifest.model import SystemRequirements
    from hermetic.resolve.platforms import virtual_packages

    vps = {v.name: str(v) for v in virtual_packages("linux-aarch64", SystemRequirements())}
    assert vps == {
        "__unix": "__unix=0=0",
        "__linux": f"__linux={plat.DEFAULT_LINUX}=0",
        "__glibc": f"__glibc={plat.DEFAULT_GLIBC}=0",
        "__archspec": "__archspec=1=aarch64",
    }
    osx = {v.name: str(v) for v in virtual_packages("osx-64", SystemRequirements(cuda="12.0"))}
    assert osx["__osx"] == "__osx=13.0=0" and "__cuda" not in osx
    assert osx["__archspec"] == "__archspec=1=x86_64"
    win = {v.name for v in virtual_packages("win-64", SystemRequirements(cuda="12.0"))}
    assert {"__win", "__cuda"} <= win and "__unix" not in win


def test_one_platform_module():
    """No second platform table: nobody but platform.py spells out the machine names."""
    from pathlib import Path

    import hermetic

    src = Path(hermetic.__file__).parent
    offenders = [
        str(p.relative_to(src))
        for p in src.rglob("*.py")
        if p.name != "platform.py"
        and ('"x86_64": "64"' in p.read_text() or "platform.machine()" in p.read_text())
    ]
    assert offenders == []
