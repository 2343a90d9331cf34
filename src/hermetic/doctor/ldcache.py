"""/etc/ld.so.cache, read the way ld.so reads it (format "glibc-ld.so.cache1.1").

Layout (glibc sysdeps/generic/dl-cache.h): a 48-byte header (magic, nlibs, len_strings,
flags, extension_offset), then nlibs 24-byte entries (flags, key, value, osversion, hwcap);
key/value are offsets of the library name and path, relative to the header. An optional
extension directory names the glibc-hwcaps subdirectories that hwcap-tagged entries use.
"""

from __future__ import annotations

import contextlib
import os
import struct
from dataclasses import dataclass

NEW_MAGIC = b"glibc-ld.so.cache1.1"
EXTENSION_MAGIC = 0xEAA42174
EXT_TAG_GLIBC_HWCAPS = 1
HWCAP_EXTENSION_BIT = 1 << 62

# (ELF class, e_machine) -> the flags ld.so accepts (FLAG_ELF_LIBC6 | the arch's required bits).
CACHE_FLAGS: dict[tuple[int, int], int] = {
    (64, 62): 0x0303,  # x86_64
    (32, 3): 0x0003,  # i386
    (64, 183): 0x0A03,  # aarch64
    (64, 21): 0x0503,  # ppc64
}

# x86-64 micro-architecture levels (psABI) as /proc/cpuinfo flags, highest first.
X86_64_LEVELS: tuple[tuple[str, frozenset[str]], ...] = (
    ("x86-64-v4", frozenset({"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"})),
    ("x86-64-v3", frozenset({"avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe"})),
    ("x86-64-v2", frozenset({"cx16", "lahf_lm", "popcnt", "sse4_1", "sse4_2", "ssse3"})),
)


@dataclass(frozen=True)
class CacheEntry:
    name: str
    path: str
    flags: int
    hwcaps: str | None  # the glibc-hwcaps subdirectory for hwcap-tagged entries


def supported_hwcaps(root: str = "/") -> tuple[str, ...]:
    """glibc-hwcaps subdirectories this CPU can use, best first (x86-64 only for now)."""
    if os.uname().machine != "x86_64":
        return ()
    flags: set[str] = set()
    with (
        contextlib.suppress(OSError),
        open(os.path.join(root, "proc/cpuinfo"), encoding="utf-8", errors="replace") as fh,
    ):
        for line in fh:
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    # Each level requires the ones below it, so stop at the first level the CPU lacks.
    usable: list[str] = []
    for name, need in reversed(X86_64_LEVELS):
        if not need <= flags:
            break
        usable.insert(0, name)
    return tuple(usable)


def read_ld_cache(root: str = "/") -> tuple[CacheEntry, ...]:
    """Every entry of <root>/etc/ld.so.cache; an absent or damaged cache is empty, as for ld.so."""
    try:
        with open(os.path.join(root, "etc/ld.so.cache"), "rb") as fh:
            data = fh.read()
    except OSError:
        return ()
    try:
        return _parse(data)
    except struct.error:
        return ()


def _parse(data: bytes) -> tuple[CacheEntry, ...]:
    # Old caches put the "ld.so-1.7.0" format first; the new format follows it.
    base = data.find(NEW_MAGIC)
    if base < 0:
        return ()
    nlibs, _len_strings = struct.unpack_from("<II", data, base + 20)
    (ext_offset,) = struct.unpack_from("<I", data, base + 32)

    def string(off: int) -> str:
        start = base + off
        end = data.index(b"\0", start)
        return data[start:end].decode("utf-8", "replace")

    hwcaps_names: list[str] = []
    if ext_offset:
        magic, count = struct.unpack_from("<II", data, base + ext_offset)
        if magic == EXTENSION_MAGIC:
            for i in range(count):
                tag, _flags, off, size = struct.unpack_from(
                    "<IIII", data, base + ext_offset + 8 + 16 * i
                )
                if tag == EXT_TAG_GLIBC_HWCAPS:
                    hwcaps_names = [
                        string(struct.unpack_from("<I", data, base + off + 4 * j)[0])
                        for j in range(size // 4)
                    ]

    out: list[CacheEntry] = []
    for i in range(nlibs):
        flags, key, value, _osv, hwcap = struct.unpack_from("<iIIIQ", data, base + 48 + 24 * i)
        sub: str | None = None
        if hwcap & HWCAP_EXTENSION_BIT:
            idx = hwcap & 0xFFFFFFFF
            sub = hwcaps_names[idx] if idx < len(hwcaps_names) else "?"
        elif hwcap:
            sub = "?legacy"  # pre-2.33 hwcap bits: ld.so only uses them on matching CPUs
        out.append(CacheEntry(string(key), string(value), flags, sub))
    return tuple(out)


class LdCache:
    """Lookup by DT_NEEDED name, picking the entry ld.so would pick."""

    def __init__(self, entries: tuple[CacheEntry, ...], hwcaps: tuple[str, ...]):
        self._by_name: dict[str, list[CacheEntry]] = {}
        for e in entries:
            self._by_name.setdefault(e.name, []).append(e)
        self._priority = {name: len(hwcaps) - i for i, name in enumerate(hwcaps)}

    def lookup(self, name: str, elf_class: int, machine: int) -> str | None:
        want = CACHE_FLAGS.get((elf_class, machine))
        best: CacheEntry | None = None
        best_priority = 0
        for e in self._by_name.get(name, ()):
            if want is not None and e.flags != want:
                continue
            if e.hwcaps is None:
                # A plain entry wins unless a usable hwcaps entry was already found.
                return best.path if best is not None else e.path
            prio = self._priority.get(e.hwcaps, 0)
            if prio > best_priority:
                best, best_priority = e, prio
        return best.path if best is not None else None
