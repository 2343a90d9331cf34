"""Conda platforms: the one table every layer asks.

A platform (`linux-64`, `osx-arm64`, ...) is what a lock is made for, what an installer
targets, what uv is told to resolve wheels for and what an OCI image declares. Each of those
used to carry its own table; they disagreed (`linux-arm64` is not a conda platform, yet a
detector produced it on Apple silicon). Here there is one table, in rattler's order, checked
against rattler by a test, and readable without importing rattler (so `hermetic --help` and
the doctor stay fast).
"""

from __future__ import annotations

import platform as _host
import sys
from dataclasses import dataclass

#: conda-forge's and pixi's assumptions for a machine nobody described (virtual packages)
DEFAULT_GLIBC = "2.28"
DEFAULT_LINUX = "4.18"
DEFAULT_MACOS = "13.0"

#: linux-64 is where ML environments deploy, so every lock has it unless the manifest says
DEPLOY_PLATFORM = "linux-64"


@dataclass(frozen=True)
class PlatformInfo:
    """One conda platform: its family (the part before `-`) and rattler's arch name."""

    name: str
    family: str  # linux, osx, win, freebsd, ...
    arch: str  # rattler's: x86_64, aarch64, arm64, ppc64le, x86, ...

    @property
    def is_unix(self) -> bool:
        return self.family not in ("win", "wasi", "zos")


def _p(name: str, arch: str) -> PlatformInfo:
    return PlatformInfo(name, name.partition("-")[0], arch)


# rattler's Platform.all() without noarch, in its order (tests/test_platform.py checks it).
_TABLE: tuple[PlatformInfo, ...] = (
    _p("linux-32", "x86"),
    _p("linux-64", "x86_64"),
    _p("linux-aarch64", "aarch64"),
    _p("linux-armv6l", "armv6l"),
    _p("linux-armv7l", "armv7l"),
    _p("linux-loongarch64", "loongarch64"),
    _p("linux-ppc64le", "ppc64le"),
    _p("linux-ppc64", "ppc64"),
    _p("linux-ppc", "ppc"),
    _p("linux-s390x", "s390x"),
    _p("linux-riscv32", "riscv32"),
    _p("linux-riscv64", "riscv64"),
    _p("freebsd-32", "x86"),
    _p("freebsd-64", "x86_64"),
    _p("freebsd-arm64", "arm64"),
    _p("freebsd-ppc64le", "ppc64le"),
    _p("freebsd-ppc64", "ppc64"),
    _p("osx-64", "x86_64"),
    _p("osx-arm64", "arm64"),
    _p("ios-arm64", "arm64"),
    _p("iossimulator-arm64", "arm64"),
    _p("iossimulator-64", "x86_64"),
    _p("android-aarch64", "aarch64"),
    _p("android-armv7a", "armv7a"),
    _p("android-64", "x86_64"),
    _p("android-32", "x86"),
    _p("win-32", "x86"),
    _p("win-64", "x86_64"),
    _p("win-arm64", "arm64"),
    _p("emscripten-wasm32", "wasm32"),
    _p("emscripten-wasm64", "wasm64"),
    _p("wasi-wasm32", "wasm32"),
    _p("zos-z", "z"),
)
_BY_NAME = {p.name: p for p in _TABLE}


def known_platforms() -> tuple[str, ...]:
    """Every platform a lock can be made for (noarch is no platform to solve for)."""
    return tuple(p.name for p in _TABLE)


# what people write for a platform, from other tools' names (Docker, Go, uname)
_ALIASES = {
    "linux-arm64": "linux-aarch64",
    "linux-amd64": "linux-64",
    "linux-x86_64": "linux-64",
    "osx-aarch64": "osx-arm64",
    "osx-x86_64": "osx-64",
    "macos-arm64": "osx-arm64",
    "win-amd64": "win-64",
    "linux/amd64": "linux-64",
    "linux/arm64": "linux-aarch64",
}


def suggest(name: str) -> str | None:
    """The conda platform someone meant by another tool's name (`linux-arm64`), if any."""
    return _ALIASES.get(name.lower())


def info(platform: str) -> PlatformInfo | None:
    return _BY_NAME.get(platform)


def family(platform: str) -> str:
    """`linux`, `osx`, `win`, ...: the part of the name before the dash."""
    return platform.partition("-")[0]


def arch(platform: str) -> str | None:
    """rattler's arch name (`x86_64`, `aarch64`, `arm64`, ...), None for an unknown platform."""
    p = _BY_NAME.get(platform)
    return p.arch if p else None


# platform.machine() spellings -> the conda subdir suffix
_MACHINES = {
    "x86_64": "64",
    "amd64": "64",
    "aarch64": "aarch64",
    "arm64": "arm64",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "i686": "32",
    "i386": "32",
    "armv7l": "armv7l",
    "riscv64": "riscv64",
}


def current_platform() -> str:
    """This machine's platform, the same answer as `rattler.Platform.current()` (tested).

    Computed from `sys.platform` and the machine so that callers need not import rattler.
    """
    machine = _host.machine().lower()
    suffix = _MACHINES.get(machine, machine)
    system: str = sys.platform  # a plain str: the answer must not depend on the type checker's OS
    if system.startswith("linux"):
        return f"linux-{suffix}"
    if system == "darwin":
        return "osx-arm64" if suffix in ("arm64", "aarch64") else "osx-64"
    if system == "win32":
        return {"32": "win-32", "arm64": "win-arm64", "aarch64": "win-arm64"}.get(suffix, "win-64")
    if system.startswith("freebsd"):
        return {"aarch64": "freebsd-arm64"}.get(suffix, f"freebsd-{suffix}")
    return f"{system}-{suffix}"


def default_platforms() -> tuple[str, ...]:
    """What a manifest without `platforms` locks for: linux-64 and the machine hermetic runs on."""
    return tuple(dict.fromkeys([DEPLOY_PLATFORM, current_platform()]))


def default_linux_platform() -> str:
    """The linux platform a lock is inspected for when none is named (`doctor --lock`).

    This machine's platform when it is a linux one, else linux-64 (a Mac inspects what it
    will deploy, not itself).
    """
    here = current_platform()
    return here if family(here) == "linux" and here in _BY_NAME else DEPLOY_PLATFORM


# ---- virtual packages: what a solve assumes about a machine nobody described ----

# the arches whose generic archspec name is rattler's arch name; others declare none
_ARCHSPEC = frozenset(
    {"x86_64", "aarch64", "arm64", "ppc64le", "s390x", "x86", "armv7l", "riscv64"}
)


def default_archspec(platform: str) -> str | None:
    """The `__archspec` microarchitecture family a solve for `platform` declares."""
    a = arch(platform)
    return a if a in _ARCHSPEC else None


def default_macos(platform: str) -> str:
    return DEFAULT_MACOS


# ---- PyPI: uv's --python-platform and wheel platform tags ----

_UV_TARGETS = {
    "linux-64": "x86_64-manylinux_2_{minor}",
    "linux-aarch64": "aarch64-manylinux_2_{minor}",
    "osx-64": "x86_64-apple-darwin",
    "osx-arm64": "aarch64-apple-darwin",
    "win-64": "x86_64-pc-windows-msvc",
    "win-arm64": "aarch64-pc-windows-msvc",
}


def pypi_platforms() -> tuple[str, ...]:
    """The platforms PyPI packages can be locked for (uv has a target for them)."""
    return tuple(_UV_TARGETS)


def _glibc_minor(glibc: str) -> int:
    parts = glibc.split(".")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 28


def uv_python_platform(platform: str, glibc: str = DEFAULT_GLIBC) -> str | None:
    """uv's `--python-platform` for a conda platform and declared glibc; None when uv has none."""
    target = _UV_TARGETS.get(platform)
    return target.format(minor=_glibc_minor(glibc)) if target else None


def wheel_platform_tags(
    platform: str, glibc: str = DEFAULT_GLIBC, macos: str = DEFAULT_MACOS
) -> list[str]:
    """Wheel platform tags a `platform` machine accepts, most preferred first.

    manylinux down from the declared glibc (then the legacy aliases), macOS down from the
    declared version, Windows by arch.
    """
    a = arch(platform) or ""
    fam = family(platform)
    if fam == "linux":
        gmin = _glibc_minor(glibc)
        plats = [f"manylinux_2_{m}_{a}" for m in range(gmin, 4, -1)]
        legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
        return plats + [f"{legacy[m]}_{a}" for m in legacy if m <= gmin]
    if fam == "osx":
        from packaging import tags

        version = tuple(int(x) for x in macos.split(".")[:2])
        return list(tags.mac_platforms((version[0], version[1] if len(version) > 1 else 0), a))
    if fam == "win":
        return {"x86_64": ["win_amd64"], "arm64": ["win_arm64"], "x86": ["win32"]}.get(a, [])
    return []


# ---- OCI: the platform an image declares ----

# Go's GOARCH names, which OCI image indexes use (os/arch[/variant])
_OCI_ARCH = {
    "x86_64": "amd64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "ppc64le": "ppc64le",
    "ppc64": "ppc64",
    "s390x": "s390x",
    "x86": "386",
    "armv6l": "arm/v6",
    "armv7l": "arm/v7",
    "riscv64": "riscv64",
    "loongarch64": "loong64",
}
_OCI_OS = {"linux": "linux", "osx": "darwin", "win": "windows", "freebsd": "freebsd"}


def oci_platform(platform: str) -> str | None:
    """`linux-64` -> `linux/amd64`, `linux-aarch64` -> `linux/arm64`; None when OCI has none."""
    os_name = _OCI_OS.get(family(platform))
    a = _OCI_ARCH.get(arch(platform) or "")
    return f"{os_name}/{a}" if os_name and a else None


_MARKER_OS = {  # family -> (sys_platform, platform_system, os_name)
    "linux": ("linux", "Linux", "posix"),
    "osx": ("darwin", "Darwin", "posix"),
    "win": ("win32", "Windows", "nt"),
}


def marker_environment(platform: str, python_version: str) -> dict[str, str] | None:
    """The PEP 508 marker values of a CPython `python_version` on a conda platform (None for
    a platform PyPI has no wheels for), to evaluate Requires-Dist markers for a target."""
    os_values = _MARKER_OS.get(family(platform))
    machine = arch(platform)
    if os_values is None or machine is None:
        return None
    if os_values[0] == "win32":
        machine = {"x86_64": "AMD64", "arm64": "ARM64"}.get(machine, machine)
    sys_platform, system, os_name = os_values
    short = ".".join(python_version.split(".")[:2])
    return {
        "sys_platform": sys_platform,
        "platform_system": system,
        "os_name": os_name,
        "platform_machine": machine,
        "python_version": short,
        "python_full_version": python_version,
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_version": "",
        "implementation_version": python_version,
    }
