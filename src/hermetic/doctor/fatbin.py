"""GPU code in `.nv_fatbin` sections, and whether a GPU can run it.

Layout (as cuobjdump reads it): a section holds one or more containers. A container is a
16-byte header -- u32 magic 0xBA55ED50, u16 version, u16 header size, u64 size of what
follows -- then entries back to back. An entry header starts with u16 kind (1 = PTX,
2 = ELF/SASS), u16 version, u32 header size, u64 payload size; its u32 at offset 28 is the
SM architecture (80 for sm_80). The payload follows the entry header, so the next entry is at
entry + header size + payload size. Only headers are read: payloads (often GBs) are skipped.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

FATBIN_MAGIC = 0xBA55ED50
KIND_PTX = 1
KIND_ELF = 2
_CONTAINER = struct.Struct("<IHHQ")
_ENTRY = struct.Struct("<HHIQ12xI")  # kind, version, header size, payload size, ..., arch
MAX_CONTAINERS = 200_000  # cuBLASLt has a few thousand; this bounds a corrupt section


@dataclass(frozen=True)
class FatbinInfo:
    sass: tuple[int, ...]  # SM architectures with machine code, e.g. (80, 90)
    ptx: tuple[int, ...]  # virtual architectures with PTX, e.g. (90,)
    containers: int
    problem: str | None = None  # set when the section is damaged; what was read still counts


def read_fatbin(path: str, offset: int, size: int) -> FatbinInfo:
    try:
        with open(path, "rb") as fh:
            return _walk(fh, offset, size)
    except OSError as exc:
        return FatbinInfo((), (), 0, f"cannot read: {exc.strerror or exc}")


def _walk(fh, offset: int, size: int) -> FatbinInfo:  # type: ignore[no-untyped-def]
    sass: set[int] = set()
    ptx: set[int] = set()
    end = offset + size
    pos = offset
    containers = 0
    problem: str | None = None
    while pos + _CONTAINER.size <= end and containers < MAX_CONTAINERS:
        fh.seek(pos)
        head = fh.read(_CONTAINER.size)
        if len(head) < _CONTAINER.size:
            problem = "truncated fatbin container header"
            break
        magic, _version, hsize, body = _CONTAINER.unpack(head)
        if magic != FATBIN_MAGIC:
            # Containers are 8-aligned; a zero word is padding, anything else is damage.
            if head[:8] == b"\0" * 8:
                pos += 8
                continue
            problem = f"bad fatbin magic 0x{magic:08x} at section offset {pos - offset}"
            break
        containers += 1
        entry = pos + hsize
        stop = min(pos + hsize + body, end)
        if pos + hsize + body > end:
            problem = "fatbin container runs past the end of its section"
        while entry + _ENTRY.size <= stop:
            fh.seek(entry)
            raw = fh.read(_ENTRY.size)
            if len(raw) < _ENTRY.size:
                break
            kind, _v, ehsize, payload, arch = _ENTRY.unpack(raw)
            if ehsize == 0:
                break
            if kind == KIND_PTX:
                ptx.add(arch)
            elif kind == KIND_ELF:
                sass.add(arch)
            entry += ehsize + payload
        pos = pos + hsize + body
    return FatbinInfo(tuple(sorted(sass)), tuple(sorted(ptx)), containers, problem)


def parse_sm(text: str) -> tuple[int, int]:
    """'sm_80' / '8.0' / '80' / 'sm_90a' -> (8, 0) / (9, 0); raises ValueError otherwise."""
    t = text.strip().lower().removeprefix("sm_").removeprefix("compute_").rstrip("af")
    if "." in t:
        major, minor = t.split(".", 1)
        return int(major), int(minor)
    if not t.isdigit() or len(t) < 2:
        raise ValueError(f"not a GPU architecture: {text!r} (expected e.g. sm_80)")
    return int(t[:-1]), int(t[-1])


def arch_int(cc: tuple[int, int]) -> int:
    return cc[0] * 10 + cc[1]


def sass_runs_on(sass: int, cc: tuple[int, int]) -> bool:
    """Machine code for sm_XY runs on GPUs of the same major with minor >= Y."""
    return sass // 10 == cc[0] and sass % 10 <= cc[1]


def ptx_runs_on(ptx: int, cc: tuple[int, int]) -> bool:
    """PTX for compute_XY is JIT-compiled for any GPU of arch >= XY (driver permitting)."""
    return ptx <= arch_int(cc)


def coverage(info: FatbinInfo, cc: tuple[int, int]) -> str:
    """'sass' (runs natively), 'ptx' (needs a JIT compile by the driver) or 'none'."""
    if any(sass_runs_on(s, cc) for s in info.sass):
        return "sass"
    if any(ptx_runs_on(p, cc) for p in info.ptx):
        return "ptx"
    return "none"
