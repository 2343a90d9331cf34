"""A cache of parsed ELF files, so a second doctor run only stats files.

Keyed by (device, inode, size, mtime): any change to a file re-reads it. The cache is JSON
(not pickle) because it lives in a shared cache directory and is read back as plain data.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from hermetic.doctor.elf import ElfInfo, ElfProblem, VersionNeed, read_elf
from hermetic.doctor.fatbin import FatbinInfo, read_fatbin
from hermetic.settings import current as current_settings

CACHE_VERSION = 2


def default_cache_path() -> Path:
    return current_settings().cache_dir / f"doctor-elf-v{CACHE_VERSION}.json"


class ElfCache:
    def __init__(self, path: Path | None):
        self.path = path
        self._entries: dict[str, list[Any]] = {}
        self._fatbins: dict[str, list[Any]] = {}
        self._dirty = False
        if path is not None:
            with contextlib.suppress(OSError, ValueError):
                data = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(data, dict) and data.get("version") == CACHE_VERSION:
                    self._entries = data.get("entries", {})
                    self._fatbins = data.get("fatbins", {})

    def read(self, path: str, st: os.stat_result) -> ElfInfo | ElfProblem:
        key = [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]
        hit = self._entries.get(path)
        if hit is not None and hit[0] == key:
            with contextlib.suppress(Exception):  # a damaged entry is just a miss
                return _decode(path, hit[1])
        info = read_elf(path)
        self._entries[path] = [key, _encode(info)]
        self._dirty = True
        return info

    def fatbin(
        self, path: str, st: os.stat_result, sections: tuple[tuple[str, int, int], ...]
    ) -> FatbinInfo:
        """The fatbin summary, cached like the ELF data (CUDA libraries hold thousands)."""
        key = [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]
        hit = self._fatbins.get(path)
        if hit is not None and hit[0] == key:
            with contextlib.suppress(Exception):
                sass, ptx, n, problem, outside, stub = hit[1]
                return FatbinInfo(tuple(sass), tuple(ptx), n, problem, outside, stub)
        info = read_fatbin(path, sections)
        self._fatbins[path] = [
            key,
            [
                list(info.sass),
                list(info.ptx),
                info.containers,
                info.problem,
                info.outside,
                info.stub,
            ],
        ]
        self._dirty = True
        return info

    def save(self) -> None:
        if self.path is None or not self._dirty:
            return
        from hermetic.fs import atomic_write_text

        # A cache that cannot be written only costs time on the next run.
        with contextlib.suppress(OSError):
            atomic_write_text(
                self.path,
                json.dumps(
                    {"version": CACHE_VERSION, "entries": self._entries, "fatbins": self._fatbins}
                ),
            )


def _encode(info: ElfInfo | ElfProblem) -> dict[str, Any]:
    if isinstance(info, ElfProblem):
        return {"problem": info.reason}
    return {
        "c": info.elf_class,
        "m": info.machine,
        "k": info.kind,
        "so": info.soname,
        "n": list(info.needed),
        "rp": list(info.rpath),
        "ru": list(info.runpath),
        "vn": [[v.file, list(v.versions)] for v in info.verneed],
        "vd": list(info.verdef),
        "fb": [list(s) for s in info.fatbin] if info.fatbin is not None else None,
        "i": info.interp,
        "s": info.static,
    }


def _decode(path: str, d: dict[str, Any]) -> ElfInfo | ElfProblem:
    if "problem" in d:
        return ElfProblem(path, d["problem"])
    return ElfInfo(
        path=path,
        elf_class=d["c"],
        machine=d["m"],
        kind=d["k"],
        soname=d["so"],
        needed=tuple(d["n"]),
        rpath=tuple(d["rp"]),
        runpath=tuple(d["ru"]),
        verneed=tuple(VersionNeed(f, tuple(v)) for f, v in d["vn"]),
        verdef=tuple(d["vd"]),
        fatbin=tuple((str(n), int(o), int(z)) for n, o, z in d["fb"])
        if d["fb"] is not None
        else None,
        interp=d["i"],
        static=d["s"],
    )
