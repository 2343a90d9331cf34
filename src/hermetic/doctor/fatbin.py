"""GPU code in fatbin containers, wherever a library keeps them, and whether a GPU can run it.

Layout (as cuobjdump reads it): a container is a 16-byte header -- u32 magic 0xBA55ED50, u16
version (1), u16 header size (16), u64 size of what follows -- then entries back to back. An
entry header starts with u16 kind (1 = PTX, 2 = ELF/SASS, 8 = LTO IR), u16 version, u32 header size
(64, 80 or 112), u64 padded payload size; its u32 at offset 28 is the SM architecture (80 for
sm_80) and its u64 at offset 40 the flags: 0x100000 marks an arch-specific build (`sm_90a`),
0x200000 a family-specific one (`sm_100f`) -- checked against cuobjdump 13.5 on cuBLASLt 13.

Most libraries keep their containers in `.nv_fatbin`. Some do not: cuFFT keeps about 24,000 in
`.ldata` and leaves a one-architecture stub in `.nv_fatbin`; cuBLASLt keeps some in
`.cask_resource`. So every data section of a GPU library is searched for container headers,
and each hit is validated before it counts. Only headers are read: payloads are skipped.

Which GPUs run what (CUDA Programming Guide, "Compute capability"; NVIDIA's CUDA 12.9
family-specific features note):
- `sm_XY` machine code runs on compute capability X.Z for Z >= Y (same major);
- `sm_XYf` (family-specific) runs on the same family: X.Z for Z >= Y (sm_100f: 10.0, 10.3);
- `sm_XYa` (arch-specific) runs only on X.Y exactly (an sm_100a cubin does not run on 10.3);
- PTX `compute_XY` is JIT-compiled for any GPU >= X.Y; `compute_XYa`/`f` PTX keep those limits.
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass

FATBIN_MAGIC = 0xBA55ED50
_MAGIC_BYTES = struct.pack("<I", FATBIN_MAGIC)
KIND_PTX = 1
KIND_ELF = 2
KIND_ELF_ALT = 0x10
KIND_LTO_IR = 8  # NVVM IR for JIT LTO (cuFFT's callbacks): neither SASS nor PTX
_KINDS = frozenset({KIND_PTX, KIND_ELF, 4, KIND_LTO_IR, KIND_ELF_ALT, 0x40})
FLAG_ARCH_SPECIFIC = 0x100000
FLAG_FAMILY_SPECIFIC = 0x200000
_CONTAINER = struct.Struct("<IHHQ")
_ENTRY = struct.Struct("<HHIQ12xI8xQ")  # kind, version, header size, payload, arch, flags
STUB_MIN_FILE = 32 * 1024 * 1024
MAX_CONTAINERS = 200_000  # cuFFT has ~24,000; this bounds a corrupt section


@dataclass(frozen=True)
class FatbinInfo:
    sass: tuple[str, ...]  # machine code targets: "80", "90a", "100f"
    ptx: tuple[str, ...]  # PTX targets, same spelling
    containers: int
    problem: str | None = None  # set when .nv_fatbin is damaged; what was read still counts
    outside: int = 0  # containers found outside .nv_fatbin (cuFFT's .ldata)
    stub: bool = False  # .nv_fatbin looks like a placeholder and nothing else was found


def read_fatbin(path: str, sections: Iterable[tuple[str, int, int]]) -> FatbinInfo:
    """`sections`: (name, file offset, size) of `.nv_fatbin` and the other data sections."""
    sass: set[str] = set()
    ptx: set[str] = set()
    containers = outside = 0
    problem: str | None = None
    file_size = 0
    try:
        with open(path, "rb") as fh:
            file_size = os.fstat(fh.fileno()).st_size
            if file_size == 0:
                return FatbinInfo((), (), 0, "empty file")
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                for name, offset, size in sections:
                    end = min(offset + size, file_size)
                    if name == ".nv_fatbin":
                        n, problem = _walk(mm, offset, end, sass, ptx)
                        containers += n
                    elif end - offset >= _CONTAINER.size + 64:
                        n = _search(mm, offset, end, sass, ptx)
                        containers += n
                        outside += n
    except (OSError, ValueError) as exc:
        return FatbinInfo((), (), 0, f"cannot read: {getattr(exc, 'strerror', None) or exc}")
    # cuFFT-like: a big library whose .nv_fatbin holds one container for one architecture,
    # with the real code elsewhere (or somewhere this reader does not know): unknown coverage.
    stub = outside == 0 and containers == 1 and len(sass | ptx) <= 1 and file_size > STUB_MIN_FILE
    return FatbinInfo(
        tuple(sorted(sass, key=arch_sort_key)),
        tuple(sorted(ptx, key=arch_sort_key)),
        containers,
        problem,
        outside,
        stub,
    )


def _entries(
    mm: mmap.mmap, start: int, stop: int, sass: set[str], ptx: set[str], *, strict: bool
) -> bool:
    """Read the entries of one container; False when they do not look like entries."""
    entry = start
    seen = 0
    while entry + _ENTRY.size <= stop:
        kind, _v, ehsize, payload, arch, flags = _ENTRY.unpack_from(mm, entry)
        if ehsize == 0:
            break
        if strict and (ehsize < 64 or ehsize > 512 or kind not in _KINDS or arch > 1000):
            return False
        code = str(arch) + (
            "a" if flags & FLAG_ARCH_SPECIFIC else "f" if flags & FLAG_FAMILY_SPECIFIC else ""
        )
        if kind == KIND_PTX:
            ptx.add(code)
        elif kind in (KIND_ELF, KIND_ELF_ALT):
            sass.add(code)
        seen += 1
        entry += ehsize + payload
    return seen > 0 or not strict


def _walk(
    mm: mmap.mmap, offset: int, end: int, sass: set[str], ptx: set[str]
) -> tuple[int, str | None]:
    pos = offset
    containers = 0
    while pos + _CONTAINER.size <= end and containers < MAX_CONTAINERS:
        magic, _version, hsize, body = _CONTAINER.unpack_from(mm, pos)
        if magic != FATBIN_MAGIC:
            # Containers are 8-aligned; a zero word is padding, anything else is damage.
            if mm[pos : pos + 8] == b"\0" * 8:
                pos += 8
                continue
            return containers, f"bad fatbin magic 0x{magic:08x} at section offset {pos - offset}"
        containers += 1
        stop = min(pos + hsize + body, end)
        _entries(mm, pos + hsize, stop, sass, ptx, strict=False)
        if pos + hsize + body > end:
            return containers, "fatbin container runs past the end of its section"
        pos = pos + hsize + body
    return containers, None


def _search(mm: mmap.mmap, offset: int, end: int, sass: set[str], ptx: set[str]) -> int:
    """Containers anywhere in a section: find the magic, validate the header and entries."""
    found = 0
    pos = offset
    while found < MAX_CONTAINERS:
        i = mm.find(_MAGIC_BYTES, pos, end)
        if i < 0 or i + _CONTAINER.size > end:
            break
        _magic, version, hsize, body = _CONTAINER.unpack_from(mm, i)
        if version != 1 or hsize != 16 or body < 64 or i + hsize + body > end:
            pos = i + 4
            continue
        if _entries(mm, i + hsize, i + hsize + body, sass, ptx, strict=True):
            found += 1
            pos = i + hsize + body
        else:
            pos = i + 4
    return found


# -- which GPU runs which code -------------------------------------------------------------


def split_arch(code: str) -> tuple[int, str]:
    """'100f' -> (100, 'f'); '80' -> (80, '')."""
    suffix = code[-1] if code and code[-1] in "af" else ""
    return int(code[: len(code) - len(suffix)]), suffix


def arch_sort_key(code: str) -> tuple[int, str]:
    return split_arch(code)


def parse_sm(text: str) -> tuple[int, int]:
    """'sm_80' / '8.0' / '80' / 'sm_90a' -> (8, 0) / (9, 0); raises ValueError otherwise."""
    t = text.strip().lower().removeprefix("sm_").removeprefix("compute_").rstrip("af")
    if "." in t:
        major, minor = t.split(".", 1)
        if major.isdigit() and minor.isdigit():
            return int(major), int(minor)
    elif t.isdigit() and len(t) >= 2:
        return int(t[:-1]), int(t[-1])
    raise ValueError(f"not a GPU architecture: {text!r} (expected e.g. sm_80)")


def arch_int(cc: tuple[int, int]) -> int:
    return cc[0] * 10 + cc[1]


def sass_runs_on(code: str, cc: tuple[int, int]) -> bool:
    arch, suffix = split_arch(code)
    if suffix == "a":
        return arch == arch_int(cc)
    return arch // 10 == cc[0] and arch % 10 <= cc[1]


def ptx_runs_on(code: str, cc: tuple[int, int]) -> bool:
    arch, suffix = split_arch(code)
    if suffix == "a":
        return arch == arch_int(cc)
    if suffix == "f":
        return arch // 10 == cc[0] and arch % 10 <= cc[1]
    return arch <= arch_int(cc)


def coverage(info: FatbinInfo, cc: tuple[int, int]) -> str:
    """'sass' (runs natively), 'ptx' (needs a JIT compile), 'none', or 'unknown' (a stub)."""
    if any(sass_runs_on(s, cc) for s in info.sass):
        return "sass"
    if any(ptx_runs_on(p, cc) for p in info.ptx):
        return "ptx"
    return "unknown" if info.stub else "none"


def describe(info: FatbinInfo) -> str:
    sass = ", ".join(f"sm_{a}" for a in info.sass) or "none"
    ptx = ", ".join(f"compute_{a}" for a in info.ptx) or "none"
    return f"SASS: {sass}; PTX: {ptx}"
