"""The virtual packages declared for a platform.

Virtual packages come only from the spec's declared system requirements plus the platform's
defaults (`hermetic.platform`); the machine that runs `hermetic lock` is never consulted, so
a lock made on a laptop is right for the cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from hermetic.manifest.model import SystemRequirements
from hermetic.platform import (
    DEFAULT_GLIBC,
    DEFAULT_LINUX,
    default_archspec,
    default_macos,
    family,
)

if TYPE_CHECKING:
    from rattler import GenericVirtualPackage


@dataclass(frozen=True, order=True)
class VirtualPackage:
    name: str
    version: str
    build: str = "0"

    def __str__(self) -> str:
        return f"{self.name}={self.version}={self.build}"


def virtual_packages(platform: str, req: SystemRequirements) -> tuple[VirtualPackage, ...]:
    """The virtual packages a solve for `platform` sees, from declared requirements only."""
    fam = family(platform)
    out: list[VirtualPackage] = []
    if fam in ("linux", "osx", "freebsd"):
        out.append(VirtualPackage("__unix", "0"))
    if fam == "linux":
        out.append(VirtualPackage("__linux", req.linux or DEFAULT_LINUX))
        out.append(VirtualPackage("__glibc", req.glibc or DEFAULT_GLIBC))
    elif fam == "osx":
        out.append(VirtualPackage("__osx", req.macos or default_macos(platform)))
    elif fam == "win":
        out.append(VirtualPackage("__win", "0"))
    if req.cuda and fam in ("linux", "win"):
        out.append(VirtualPackage("__cuda", req.cuda))
    archspec = req.archspec or default_archspec(platform)
    if archspec:
        out.append(VirtualPackage("__archspec", "1", archspec))
    return tuple(out)


def to_rattler(vps: tuple[VirtualPackage, ...]) -> list[GenericVirtualPackage]:
    from rattler import BuildString, GenericVirtualPackage, PackageName, Version

    return [
        GenericVirtualPackage(PackageName(v.name), Version(v.version), BuildString(v.build))
        for v in vps
    ]
