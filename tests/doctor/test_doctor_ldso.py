"""The resolver against the real ld.so (via ldd) on gcc-built fixtures, and the link findings."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from doctor_fixtures import HAVE_GCC, build_exe, build_lib, ldd

from hermetic.doctor import DoctorOptions, run_doctor
from hermetic.doctor.elf import ElfInfo, ElfProblem, read_elf
from hermetic.doctor.ldcache import LdCache, read_ld_cache, supported_hwcaps
from hermetic.doctor.ldso import Resolver, platform_tokens

pytestmark = pytest.mark.skipif(not HAVE_GCC or not shutil.which("ldd"), reason="needs gcc and ldd")


def resolver(ld_library_path: tuple[str, ...] = ()) -> Resolver:
    hw = supported_hwcaps()
    lib, plat = platform_tokens()
    return Resolver(
        read_elf,
        ld_library_path=ld_library_path,
        cache=LdCache(read_ld_cache(), hw),
        hwcaps=hw,
        lib_token=lib,
        platform_token=plat,
    )


def ours(path: Path, ld_library_path: tuple[str, ...] = ()) -> dict[str, str | None]:
    info = read_elf(path)
    assert isinstance(info, ElfInfo)
    closure = resolver(ld_library_path).closure(info)
    out: dict[str, str | None] = {}
    for e in closure.edges:
        out.setdefault(e.name, e.target)
    return out


def agree(path: Path, ld_library_path: tuple[str, ...] = ()) -> dict[str, str | None]:
    env = {"LD_LIBRARY_PATH": ":".join(ld_library_path)} if ld_library_path else {}
    real = ldd(path, env)
    mine = {k: v for k, v in ours(path, ld_library_path).items() if k in real}
    assert mine == real
    return real


def test_rpath_is_inherited_by_dependencies(tmp_path: Path) -> None:
    a = build_lib(tmp_path / "deep/liba.so")
    b = build_lib(tmp_path / "mid/libb.so", deps=(a,))  # no RPATH of its own
    app = build_exe(tmp_path / "bin/app", deps=(b,), rpath=f"$ORIGIN/../mid:{tmp_path}/deep")
    real = agree(app)
    assert real["liba.so"] == f"{tmp_path}/deep/liba.so"


def test_runpath_is_not_inherited(tmp_path: Path) -> None:
    a = build_lib(tmp_path / "deep/liba.so")
    b = build_lib(tmp_path / "mid/libb.so", deps=(a,))
    app = build_exe(tmp_path / "bin/app", deps=(b,), runpath=f"$ORIGIN/../mid:{tmp_path}/deep")
    real = agree(app)
    assert real["liba.so"] is None


def test_rpath_beats_ld_library_path_but_runpath_does_not(tmp_path: Path) -> None:
    a1 = build_lib(tmp_path / "one/liba.so")
    build_lib(tmp_path / "two/liba.so")
    app_rpath = build_exe(tmp_path / "r/app", deps=(a1,), rpath=str(tmp_path / "one"))
    app_runpath = build_exe(tmp_path / "u/app", deps=(a1,), runpath=str(tmp_path / "one"))
    ldlp = (str(tmp_path / "two"),)
    assert agree(app_rpath, ldlp)["liba.so"] == f"{tmp_path}/one/liba.so"
    assert agree(app_runpath, ldlp)["liba.so"] == f"{tmp_path}/two/liba.so"


def test_wrong_elf_class_is_skipped(tmp_path: Path) -> None:
    a = build_lib(tmp_path / "good/liba.so")
    bad = tmp_path / "bad/liba.so"
    bad.parent.mkdir()
    data = bytearray(a.read_bytes())
    data[4] = 1  # ELFCLASS32: ld.so skips it and keeps searching
    bad.write_bytes(bytes(data))
    app = build_exe(tmp_path / "bin/app", deps=(a,), rpath=f"{tmp_path}/bad:{tmp_path}/good")
    assert agree(app)["liba.so"] == f"{tmp_path}/good/liba.so"


def test_missing_library_agrees_with_ldd(tmp_path: Path) -> None:
    a = build_lib(tmp_path / "lib/liba.so")
    app = build_exe(tmp_path / "bin/app", deps=(a,), runpath="$ORIGIN/../lib")
    a.unlink()
    assert agree(app)["liba.so"] is None


def test_ld_so_cache_matches_ldconfig() -> None:
    if not shutil.which("ldconfig") and not os.path.exists("/sbin/ldconfig"):
        pytest.skip("no ldconfig")
    exe = shutil.which("ldconfig") or "/sbin/ldconfig"
    out = subprocess.run([exe, "-p"], capture_output=True, text=True).stdout
    theirs = {
        (line.split(" (", 1)[0].strip(), line.rsplit("=> ", 1)[1].strip())
        for line in out.splitlines()[1:]
        if "=>" in line
    }
    mine = {(e.name, e.path) for e in read_ld_cache()}
    assert theirs and mine == theirs


def make_env(root: Path) -> Path:
    (root / "conda-meta").mkdir(parents=True)
    return root


def doctor(prefix: Path, **kw: object):  # type: ignore[no-untyped-def]
    return run_doctor(
        DoctorOptions(prefix=prefix, cache=None, driver="550.54.14", gpu="sm_80", **kw)
    )


def ids(report) -> list[str]:  # type: ignore[no-untyped-def]
    return [f.id for f in report.findings]


def test_env_missing_lib_is_an_error(tmp_path: Path) -> None:
    env = make_env(tmp_path / "env")
    gone = build_lib(tmp_path / "build/libgone.so")
    build_exe(env / "bin/app", deps=(gone,), runpath="$ORIGIN/../lib")
    gone.unlink()
    report = doctor(env)
    assert "lib.missing" in ids(report) and report.failed
    obj = next(o for o in report.objects if o.path.endswith("bin/app"))
    assert [e.via for e in obj.needed if e.name == "libgone.so"] == ["missing"]


def test_shadowing_through_ld_library_path(tmp_path: Path) -> None:
    env = make_env(tmp_path / "env")
    mine = build_lib(env / "lib/libz_demo.so")
    outside = build_lib(tmp_path / "system/libz_demo.so")
    build_exe(env / "bin/app", deps=(mine,), runpath="$ORIGIN/../lib")
    report = doctor(env, ld_library_path=(str(outside.parent),))
    shadow = [f for f in report.findings if f.id == "lib.shadowed"]
    assert shadow and str(outside) in shadow[0].message and "LD_LIBRARY_PATH" in shadow[0].hint
    assert "lib.shadowed" not in ids(doctor(env, ld_library_path=()))


def test_two_cudart_copies_in_one_process(tmp_path: Path) -> None:
    env = make_env(tmp_path / "env")
    c11 = build_lib(env / "lib/libcudart.so.11.0", symbol="cudart11")
    c12 = build_lib(env / "lib/python3.11/site-packages/nvidia/cuda_runtime/lib/libcudart.so.12")
    build_exe(env / "bin/app", deps=(c11, c12), rpath=f"$ORIGIN/../lib:{c12.parent}")
    report = doctor(env)
    dup = [f for f in report.findings if f.id == "lib.duplicate-cudart"]
    assert dup and dup[0].severity == "error"
    assert {r.cuda for r in report.runtimes if r.source == "file"} == {"11.0"}


def test_openmp_runtimes_mixed(tmp_path: Path) -> None:
    env = make_env(tmp_path / "env")
    iomp = build_lib(env / "lib/libiomp5.so")
    omp = build_lib(env / "lib/libomp.so")
    build_exe(env / "bin/app", deps=(iomp, omp), rpath="$ORIGIN/../lib")
    dup = [f for f in doctor(env).findings if f.id == "lib.duplicate-openmp"]
    assert dup and dup[0].severity == "error"


def test_unmet_symbol_version(tmp_path: Path) -> None:
    env = make_env(tmp_path / "env")
    build = tmp_path / "build"
    v2 = build_lib(
        build / "libv.so", symbol="vfun", version_script="VERS_2 { global: vfun; local: *; };"
    )
    app = build_exe(env / "bin/app", deps=(v2,), rpath="$ORIGIN/../lib", calls=("vfun",))
    build_lib(
        env / "lib/libv.so", symbol="vfun", version_script="VERS_1 { global: vfun; local: *; };"
    )
    proc = subprocess.run(["ldd", str(app)], capture_output=True, text=True)
    assert "VERS_2" in proc.stdout + proc.stderr  # the real ld.so agrees: the version is missing
    report = doctor(env)
    bad = [f for f in report.findings if f.id == "lib.symbol-version"]
    assert bad and "VERS_2" in bad[0].message and "VERS_1" in bad[0].message


def test_bad_input_is_findings_not_crashes(tmp_path: Path) -> None:
    env = make_env(tmp_path / "env")
    (env / "lib").mkdir()
    (env / "lib/libcorrupt.so").write_bytes(b"\x7fELF" + b"\xff" * 200)
    (env / "lib/libdangling.so.1").symlink_to(env / "lib/nowhere.so.1")
    report = doctor(env)
    assert {"elf.unreadable", "file.broken-symlink"} <= set(ids(report))
    assert isinstance(read_elf(env / "lib/libcorrupt.so"), ElfProblem)


def test_not_an_env(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    for p in (tmp_path / "plain", tmp_path / "absent"):
        report = doctor(p)
        assert ids(report) == ["target.not-env"] and report.failed


def test_module_mode_and_python_host_rpath(tmp_path: Path) -> None:
    env = make_env(tmp_path / "env")
    dep = build_lib(env / "lib/libhelper.so")
    # The extension has no RPATH: only the host python's RPATH ($ORIGIN/../lib) finds libhelper.
    ext = build_lib(env / "lib/python3.11/site-packages/ext.so", deps=(dep,))
    build_exe(env / "bin/python3.11", rpath="$ORIGIN/../lib")
    os.symlink("python3.11", env / "bin/python3")
    report = doctor(env)
    obj = next(o for o in report.objects if o.path == str(ext))
    assert [(e.name, e.via) for e in obj.needed if e.name == "libhelper.so"] == [
        ("libhelper.so", "rpath")
    ]
    module_report = doctor(env, module=ext)
    assert module_report.target.kind == "module" and len(module_report.objects) == 1


def test_platform_token_and_hwcaps_subdirs(tmp_path: Path) -> None:
    a = build_lib(tmp_path / "build/liba.so")
    plat = os.uname().machine
    (tmp_path / plat).mkdir()
    shutil.copy(a, tmp_path / plat / "liba.so")
    app = build_exe(tmp_path / "bin/app", deps=(a,), rpath="$ORIGIN/../$PLATFORM")
    assert agree(app)["liba.so"] == f"{tmp_path}/bin/../{plat}/liba.so"
    levels = supported_hwcaps()
    if not levels:
        pytest.skip("no glibc-hwcaps levels on this CPU")
    hw = tmp_path / plat / "glibc-hwcaps" / levels[-1]
    hw.mkdir(parents=True)
    shutil.copy(a, hw / "liba.so")  # ld.so prefers the subdirectory of a supported level
    assert agree(app)["liba.so"] == f"{tmp_path}/bin/../{plat}/glibc-hwcaps/{levels[-1]}/liba.so"


def test_ld_cache_hwcaps_entries_win_when_supported(tmp_path: Path) -> None:
    import struct

    strings = (
        b"\0".join(
            [
                b"libq.so.1",
                b"/usr/lib/libq.so.1",
                b"/usr/lib/glibc-hwcaps/x86-64-v3/libq.so.1",
                b"x86-64-v3",
            ]
        )
        + b"\0"
    )
    n = 2
    header = 48
    ext_at = header + 24 * n
    ext = struct.pack("<II", 0xEAA42174, 1) + struct.pack("<IIII", 1, 0, ext_at + 24, 4)
    str_at = ext_at + len(ext) + 4
    offs = [str_at]
    for s in strings.split(b"\0")[:-1]:
        offs.append(offs[-1] + len(s) + 1)
    hw_name_ptr = struct.pack("<I", offs[3])
    entries = struct.pack("<iIIIQ", 0x0303, offs[0], offs[2], 0, (1 << 62) | 0)
    entries += struct.pack("<iIIIQ", 0x0303, offs[0], offs[1], 0, 0)
    head = b"glibc-ld.so.cache" + b"1.1" + struct.pack("<IIB3xI12x", n, len(strings), 2, ext_at)
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/ld.so.cache").write_bytes(head + entries + ext + hw_name_ptr + strings)
    entries_read = read_ld_cache(str(tmp_path))
    assert [e.hwcaps for e in entries_read] == ["x86-64-v3", None]
    assert LdCache(entries_read, ("x86-64-v3", "x86-64-v2")).lookup("libq.so.1", 64, 62) == (
        "/usr/lib/glibc-hwcaps/x86-64-v3/libq.so.1"
    )
    assert LdCache(entries_read, ("x86-64-v2",)).lookup("libq.so.1", 64, 62) == "/usr/lib/libq.so.1"
    assert LdCache(entries_read, ()).lookup("libq.so.1", 32, 3) is None


def test_scan_skips_sysroot_and_other_envs(tmp_path: Path) -> None:
    from hermetic.doctor.envscan import scan_env

    env = make_env(tmp_path / "base")
    lib = build_lib(env / "lib/libreal.so")
    for skipped in ("x86_64-conda-linux-gnu/sysroot/lib64", "envs/other/lib", "pkgs/foo/lib"):
        (env / skipped).mkdir(parents=True)
        shutil.copy(lib, env / skipped / "libcopy.so")
    assert scan_env(str(env)).elf == (str(lib),)
