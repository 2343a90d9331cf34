"""Finding the ELF files of an environment, cheaply: names first, then 4 magic bytes."""

from __future__ import annotations

import os
from dataclasses import dataclass

# Directories that never hold loadable code, or hold copies that are never loaded: a conda
# compiler's glibc sysroot is for linking only.
_SKIP_DIRS = frozenset({"conda-meta", "include", "man", "__pycache__", ".git", "locale", "sysroot"})
# At the top of a conda base prefix: the package cache and the other envs.
_SKIP_TOP = frozenset({"pkgs", "envs"})
_EXEC_DIRS = frozenset({"bin", "sbin", "libexec"})
_NOT_ELF_SUFFIXES = (
    ".py",
    ".pyc",
    ".pyi",
    ".txt",
    ".json",
    ".h",
    ".hpp",
    ".md",
    ".sh",
    ".cfg",
    ".toml",
    ".yaml",
    ".yml",
    ".html",
    ".js",
    ".css",
    ".pem",
    ".pth",
    ".a",
)


@dataclass(frozen=True)
class EnvFiles:
    elf: tuple[str, ...]  # real files (symlinks to them are not repeated)
    broken_links: tuple[str, ...]  # library-like names whose link target does not exist
    stats: dict[str, os.stat_result]


def scan_env(prefix: str) -> EnvFiles:
    elf: list[str] = []
    broken: list[str] = []
    stats: dict[str, os.stat_result] = {}
    stack = [prefix]
    while stack:
        d = stack.pop()
        try:
            it = os.scandir(d)
        except OSError:
            continue
        with it:
            in_exec_dir = os.path.basename(d) in _EXEC_DIRS
            for entry in it:
                name = entry.name
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if name not in _SKIP_DIRS and not (d == prefix and name in _SKIP_TOP):
                            stack.append(entry.path)
                        continue
                    libish = ".so" in name
                    if entry.is_symlink():
                        if libish and not os.path.exists(entry.path):
                            broken.append(entry.path)
                        continue
                    if not (libish or in_exec_dir) or name.endswith(_NOT_ELF_SUFFIXES):
                        continue
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if st.st_size < 64:
                    continue
                try:
                    with open(entry.path, "rb") as fh:
                        if fh.read(4) != b"\x7fELF":
                            continue
                except OSError:
                    # Unreadable but named like a library: the reader turns it into a finding.
                    if not libish:
                        continue
                elf.append(entry.path)
                stats[entry.path] = st
    elf.sort()
    broken.sort()
    return EnvFiles(tuple(elf), tuple(broken), stats)


def is_env(prefix: str) -> bool:
    """Something an environment manager made: conda, venv, or at least a bin/ or lib/."""
    markers = ("conda-meta", "pyvenv.cfg", "bin", "lib")
    return os.path.isdir(prefix) and any(os.path.exists(os.path.join(prefix, m)) for m in markers)
