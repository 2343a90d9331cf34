"""What the dynamic linker needs to know about one ELF file, read with pyelftools.

Reading never raises: a file that is unreadable or corrupt comes back as `ElfProblem`, which
the doctor reports as a finding. Nothing in the file is ever executed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

ELF_MAGIC = b"\x7fELF"

# e_machine values that matter for "is this candidate for the right architecture".
MACHINE_NAMES: dict[int, str] = {3: "i386", 62: "x86_64", 183: "aarch64", 21: "ppc64", 40: "arm"}


@dataclass(frozen=True)
class VersionNeed:
    """Symbol versions an object needs from one library (one Elf_Verneed entry)."""

    file: str  # the DT_NEEDED name the versions are bound to
    versions: tuple[str, ...]


@dataclass(frozen=True)
class ElfInfo:
    path: str
    elf_class: int  # 32 or 64
    machine: int  # e_machine
    kind: str  # "exec", "dyn" (shared object or PIE), "rel", "other"
    soname: str | None
    needed: tuple[str, ...]
    rpath: tuple[str, ...]  # DT_RPATH entries, unexpanded
    runpath: tuple[str, ...]  # DT_RUNPATH entries, unexpanded
    verneed: tuple[VersionNeed, ...]
    verdef: tuple[str, ...]  # version names this object defines
    # (name, file offset, size) of .nv_fatbin and the data sections that may hold more GPU
    # code (cuFFT's .ldata); None when the file has no .nv_fatbin: no GPU code.
    fatbin: tuple[tuple[str, int, int], ...] | None
    interp: str | None  # PT_INTERP: only executables have one
    static: bool  # no PT_DYNAMIC at all: nothing to resolve

    @property
    def arch(self) -> str:
        return f"{MACHINE_NAMES.get(self.machine, f'machine-{self.machine}')}/{self.elf_class}"


@dataclass(frozen=True)
class ElfProblem:
    path: str
    reason: str


def elf_ident(path: str) -> tuple[int, int] | None:
    """(class, machine) from the first 20 bytes; None when it is not a readable ELF file.

    Cheap on purpose: ld.so opens every candidate and skips those of the wrong class or
    machine, and so must the resolver, for thousands of candidates.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(20)
    except OSError:
        return None
    if len(head) < 20 or head[:4] != ELF_MAGIC or head[4] not in (1, 2):
        return None
    endian = "<" if head[5] == 1 else ">"
    (machine,) = struct.unpack(endian + "H", head[18:20])
    return (32 if head[4] == 1 else 64), machine


def is_elf(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == ELF_MAGIC
    except OSError:
        return False


def read_elf(path: str | Path) -> ElfInfo | ElfProblem:
    path = str(path)
    try:
        return _read(path)
    except OSError as exc:
        return ElfProblem(path, f"cannot read: {exc.strerror or exc}")
    except Exception as exc:  # pyelftools raises many types on corrupt input; all mean "corrupt"
        return ElfProblem(path, f"corrupt ELF file: {type(exc).__name__}: {exc}".strip())


def _read(path: str) -> ElfInfo | ElfProblem:
    from elftools.elf.dynamic import DynamicSection, DynamicSegment
    from elftools.elf.elffile import ELFFile
    from elftools.elf.gnuversions import GNUVerDefSection, GNUVerNeedSection

    with open(path, "rb") as fh:
        if fh.read(4) != ELF_MAGIC:
            return ElfProblem(path, "not an ELF file")
        fh.seek(0)
        elf = ELFFile(fh)
        etype = elf.header["e_type"]
        kind = {"ET_EXEC": "exec", "ET_DYN": "dyn", "ET_REL": "rel"}.get(etype, "other")
        machine = elf_ident(path)
        machine_id = machine[1] if machine else 0

        interp: str | None = None
        dyn: Any = None  # pyelftools' dynamic section or segment (untyped tags)
        for seg in elf.iter_segments():
            ptype = seg["p_type"]
            if ptype == "PT_INTERP":
                interp = cast(Any, seg).get_interp_name()
            elif ptype == "PT_DYNAMIC" and isinstance(seg, DynamicSegment):
                dyn = seg

        verneed: list[VersionNeed] = []
        verdef: list[str] = []
        has_fatbin = False
        data_sections: list[tuple[str, int, int]] = []
        for sec in elf.iter_sections():
            if isinstance(sec, DynamicSection):
                dyn = sec  # the section carries the string table; prefer it to the segment
            elif isinstance(sec, GNUVerNeedSection):
                for need, auxes in sec.iter_versions():
                    verneed.append(VersionNeed(need.name or "", tuple(a.name for a in auxes)))
            elif isinstance(sec, GNUVerDefSection):
                for vdef, auxes in sec.iter_versions():
                    # The first aux of the VER_FLG_BASE entry is the file's own name, not a version.
                    if vdef["vd_flags"] & 0x1:
                        continue
                    first = next(iter(auxes), None)
                    if first is not None:
                        verdef.append(first.name)
            elif sec.name == ".nv_fatbin" and sec["sh_type"] != "SHT_NOBITS":
                has_fatbin = True
                data_sections.insert(0, (sec.name, sec["sh_offset"], sec["sh_size"]))
            elif _may_hold_gpu_code(sec):
                data_sections.append((sec.name, sec["sh_offset"], sec["sh_size"]))

        needed: list[str] = []
        rpath: list[str] = []
        runpath: list[str] = []
        soname: str | None = None
        if dyn is not None:
            tag: Any
            for tag in dyn.iter_tags():
                t = tag.entry.d_tag
                if t == "DT_NEEDED":
                    needed.append(tag.needed)
                elif t == "DT_RPATH":
                    rpath.extend(p for p in tag.rpath.split(":") if p)
                elif t == "DT_RUNPATH":
                    runpath.extend(p for p in tag.runpath.split(":") if p)
                elif t == "DT_SONAME":
                    soname = tag.soname
        return ElfInfo(
            path=path,
            elf_class=elf.elfclass,
            machine=machine_id,
            kind=kind,
            soname=soname,
            needed=tuple(needed),
            rpath=tuple(rpath),
            runpath=tuple(runpath),
            verneed=tuple(verneed),
            verdef=tuple(verdef),
            fatbin=tuple(data_sections) if has_fatbin else None,
            interp=interp,
            static=dyn is None,
        )


# Sections that never hold fatbin containers: code, symbols, relocations, unwind tables.
_NOT_DATA = (".text", ".init", ".fini", ".plt", ".rela", ".rel.", ".dyn", ".gnu", ".note",
             ".eh_frame", ".gcc_except", ".debug", ".symtab", ".strtab", ".shstrtab",
             ".comment", ".got", ".init_array", ".fini_array", ".interp", ".hash", ".tbss",
             ".bss", ".nvFatBinSegment")  # fmt: skip


def _may_hold_gpu_code(sec: Any) -> bool:
    name: str = sec.name
    try:
        kind = sec["sh_type"]
        size = int(sec["sh_size"])
    except (KeyError, TypeError):
        return False
    return kind == "SHT_PROGBITS" and size >= 4096 and not name.startswith(_NOT_DATA)
