"""Where environments, their bookkeeping files and the package cache live."""

from __future__ import annotations

import os
import platform as _platform
import sys
from pathlib import Path

ENVS_DIR = Path(".hermetic") / "envs"

#: Written last by a successful install, removed first by the next one.
# Not *.json: conda, pixi and micromamba read every conda-meta/*.json as a package record.
MARKER = Path("conda-meta") / "hermetic-complete"
#: The bash activation script of the installed packages (rattler-generated), for `run`.
ACTIVATION_SCRIPT = Path("conda-meta") / "hermetic-activate.bash"


def env_prefix(root: Path, name: str) -> Path:
    """`<project root>/.hermetic/envs/<name>`."""
    return Path(root) / ENVS_DIR / name


def hermetic_cache_dir() -> Path:
    """hermetic's own cache: `$HERMETIC_CACHE_DIR`, else `$XDG_CACHE_HOME/hermetic`."""
    root = os.environ.get("HERMETIC_CACHE_DIR")
    if root:
        return Path(root)
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(xdg) / "hermetic"


def package_cache_dir() -> Path:
    """The conda package cache, shared with rattler and pixi.

    `$HERMETIC_CACHE_DIR/pkgs` when set; otherwise rattler's default,
    `$RATTLER_CACHE_DIR/pkgs` or `$XDG_CACHE_HOME/rattler/cache/pkgs` (`~/.cache/...`),
    which is where pixi and rattler keep their extracted packages too.
    """
    root = os.environ.get("HERMETIC_CACHE_DIR")
    if root:
        return Path(root) / "pkgs"
    rattler = os.environ.get("RATTLER_CACHE_DIR")
    if rattler:
        return Path(rattler) / "pkgs"
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(xdg) / "rattler" / "cache" / "pkgs"


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
    """The conda platform of this machine (`linux-64`, `osx-arm64`, ...), without rattler.

    Same answer as `rattler.Platform.current()` (a test checks it), but costs no import.
    """
    machine = _MACHINES.get(_platform.machine().lower(), _platform.machine().lower())
    if sys.platform.startswith("linux"):
        return f"linux-{machine}"
    if sys.platform == "darwin":
        return "osx-arm64" if machine in ("arm64", "aarch64") else "osx-64"
    if sys.platform == "win32":
        return {"64": "win-64", "32": "win-32", "arm64": "win-arm64"}.get(machine, "win-64")
    return f"{sys.platform}-{machine}"
