"""Real ELF files for the doctor's tests, built with gcc into temporary directories.

Every builder returns the path it wrote. Dependencies are linked by file (`-l:NAME`) with
--no-as-needed so each one becomes a DT_NEEDED entry even if no symbol is used.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

HAVE_GCC = shutil.which("gcc") is not None


def _link_flags(deps: tuple[Path, ...], rpath: str | None, runpath: str | None) -> list[str]:
    flags: list[str] = ["-Wl,--no-as-needed"]
    for dep in deps:
        flags += [f"-L{dep.parent}", f"-l:{dep.name}"]
    if rpath is not None:
        flags.append(f"-Wl,--disable-new-dtags,-rpath,{rpath}")
    if runpath is not None:
        flags.append(f"-Wl,--enable-new-dtags,-rpath,{runpath}")
    return flags


def build_lib(
    out: Path,
    *,
    soname: str | None = None,
    deps: tuple[Path, ...] = (),
    rpath: str | None = None,
    runpath: str | None = None,
    symbol: str | None = None,
    version_script: str | None = None,
    calls: tuple[str, ...] = (),
) -> Path:
    """A shared library defining `symbol` (default: from the file name) and calling `calls`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    sym = symbol or "f_" + "".join(c if c.isalnum() else "_" for c in out.name)
    body = "".join(f"extern int {c}(void);\n" for c in calls)
    body += f"int {sym}(void) {{ return 0" + "".join(f" + {c}()" for c in calls) + "; }\n"
    src = out.with_name(out.name + ".c")
    src.write_text(body)
    cmd = ["gcc", "-shared", "-fPIC", "-o", str(out), str(src)]
    cmd.append(f"-Wl,-soname,{soname or out.name}")
    if version_script is not None:
        vs = out.with_name(out.name + ".map")
        vs.write_text(version_script)
        cmd.append(f"-Wl,--version-script={vs}")
    cmd += _link_flags(deps, rpath, runpath)
    subprocess.run(cmd, check=True, capture_output=True)
    src.unlink()
    return out


def build_exe(
    out: Path,
    *,
    deps: tuple[Path, ...] = (),
    rpath: str | None = None,
    runpath: str | None = None,
    calls: tuple[str, ...] = (),
) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(f"extern int {c}(void);\n" for c in calls)
    body += "int main(void) { return 0" + "".join(f" + {c}()" for c in calls) + "; }\n"
    src = out.with_name(out.name + ".c")
    src.write_text(body)
    cmd = ["gcc", "-o", str(out), str(src), *_link_flags(deps, rpath, runpath)]
    subprocess.run(cmd, check=True, capture_output=True)
    src.unlink()
    return out


def ldd(path: Path, env: dict[str, str] | None = None) -> dict[str, str | None]:
    """What the real ld.so loads: DT_NEEDED name -> path (None: not found), via `ldd`."""
    import os

    run_env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    run_env.update(env or {})
    proc = subprocess.run(["ldd", str(path)], capture_output=True, text=True, env=run_env)
    out: dict[str, str | None] = {}
    for line in proc.stdout.splitlines():
        line = line.strip()
        if "=>" not in line:
            continue
        name, rest = (x.strip() for x in line.split("=>", 1))
        if rest.startswith("not found"):
            out[name] = None
        else:
            out[name] = rest.rsplit(" (", 1)[0].strip()
    return out


# -- .nv_fatbin sections ------------------------------------------------------------------
FATBIN_MAGIC = 0xBA55ED50


FLAG_ARCH_SPECIFIC = 0x100000  # sm_90a
FLAG_FAMILY_SPECIFIC = 0x200000  # sm_100f


def fatbin_entry(
    kind: int, sm: int, payload: bytes, *, header_size: int = 64, flags: int = 0
) -> bytes:
    """One entry: kind 1 = PTX, 2 = ELF (SASS); the arch is sm_XY as the integer XY; `flags`
    adds FLAG_ARCH_SPECIFIC or FLAG_FAMILY_SPECIFIC to the usual 64-bit/linux bits."""
    padded = payload + b"\0" * (-len(payload) % 8)
    head = struct.pack(
        "<HHIQIIHHIIIQQQ",
        kind,
        0x0101,
        header_size,
        len(padded),
        0,
        0,
        7,  # code version minor
        1,  # code version major
        sm,
        0,
        0,
        0x11 | flags,  # 64-bit, linux
        0,
        len(payload),
    )
    head += b"\0" * (header_size - len(head))
    return head + padded


def fatbin_container(entries: list[bytes]) -> bytes:
    body = b"".join(entries)
    return struct.pack("<IHHQ", FATBIN_MAGIC, 1, 16, len(body)) + body


def add_section(lib: Path, name: str, data: bytes) -> Path:
    blob = lib.with_name(lib.name + ".sec")
    blob.write_bytes(data)
    subprocess.run(
        ["objcopy", f"--add-section={name}={blob}", str(lib)], check=True, capture_output=True
    )
    blob.unlink()
    return lib


def ld_cache(root: Path, entries: dict[str, str]) -> Path:
    """A new-format /etc/ld.so.cache under `root` mapping SONAME -> path (x86-64 libc6)."""
    names = list(entries.items())
    strings = b""
    offsets: list[tuple[int, int]] = []
    header = 48
    str_at = header + 24 * len(names)
    for key, value in names:
        k = str_at + len(strings)
        strings += key.encode() + b"\0"
        v = str_at + len(strings)
        strings += value.encode() + b"\0"
        offsets.append((k, v))
    head = b"glibc-ld.so.cache" + b"1.1" + struct.pack("<IIB3xI12x", len(names), len(strings), 2, 0)
    body = b"".join(struct.pack("<iIIIQ", 0x0303, k, v, 0, 0) for k, v in offsets)
    (root / "etc").mkdir(parents=True, exist_ok=True)
    out = root / "etc/ld.so.cache"
    out.write_bytes(head + body + strings)
    return out
