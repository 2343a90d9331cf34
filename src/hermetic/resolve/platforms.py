"""Platforms and the virtual packages declared for them.

Virtual packages come only from the spec's declared system requirements plus per-platform
defaults; the machine that runs `hermetic lock` is never consulted, so a lock made on a
laptop is right for the cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

from hermetic.manifest.model import SystemRequirements

# The defaults pixi and conda-forge assume for a machine nobody described.
DEFAULT_GLIBC = "2.28"
DEFAULT_LINUX = "4.18"
DEFAULT_MACOS = {"osx-64": "13.0", "osx-arm64": "13.0"}

_ARCHSPEC = {
    "64": "x86_64",
    "aarch64": "aarch64",
    "arm64": "arm64",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "32": "x86",
    "armv7l": "armv7l",
    "riscv64": "riscv64",
}


@dataclass(frozen=True, order=True)
class VirtualPackage:
    name: str
    version: str
    build: str = "0"

    def __str__(self) -> str:
        return f"{self.name}={self.version}={self.build}"


def virtual_packages(platform: str, req: SystemRequirements) -> tuple[VirtualPackage, ...]:
    """The virtual packages a solve for `platform` sees, from declared requirements only."""
    family, _, arch = platform.partition("-")
    out: list[VirtualPackage] = []
    if family in ("linux", "osx", "freebsd"):
        out.append(VirtualPackage("__unix", "0"))
    if family == "linux":
        out.append(VirtualPackage("__linux", req.linux or DEFAULT_LINUX))
        out.append(VirtualPackage("__glibc", req.glibc or DEFAULT_GLIBC))
    elif family == "osx":
        out.append(VirtualPackage("__osx", req.macos or DEFAULT_MACOS.get(platform, "13.0")))
    elif family == "win":
        out.append(VirtualPackage("__win", "0"))
    if req.cuda and family in ("linux", "win"):
        out.append(VirtualPackage("__cuda", req.cuda))
    archspec = req.archspec or _ARCHSPEC.get(arch)
    if archspec:
        out.append(VirtualPackage("__archspec", "1", archspec))
    return tuple(out)


def to_rattler(vps: tuple[VirtualPackage, ...]) -> list:  # list[rattler.GenericVirtualPackage]
    from rattler import BuildString, GenericVirtualPackage, PackageName, Version

    return [
        GenericVirtualPackage(PackageName(v.name), Version(v.version), BuildString(v.build))
        for v in vps
    ]
