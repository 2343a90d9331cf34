"""Benchmark: `hermetic doctor`, cold and warm, against ldd over the same files.

Default: builds a few libraries with gcc (a small dependency chain), hardlinks an extension
module that needs them 2,000 times under different names across package dirs, then times
doctor cold (empty ELF cache) and warm (cache filled), and `ldd` over the very same files.

--prefix ENV: the same on a real env (e.g. the 5 GB torch venv of bench/doctor_real_torch.sh),
plus the warm `hermetic doctor` command as a user runs it (process start included).
Usage: python bench/bench_doctor.py [--files 2000] [--keep DIR] [--prefix ENV]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import timed_call
from hermetic.doctor import DoctorOptions, run_doctor
from hermetic.doctor.envscan import scan_env


def build_lib(out: Path, deps: tuple[Path, ...] = (), runpath: str | None = None) -> Path:
    """A shared library (or, with main=True via build_exe, a program) linked to `deps`."""
    return _gcc(
        out,
        ["-shared", "-fPIC", f"-Wl,-soname,{out.name}"],
        deps,
        runpath,
        "int f(void){return 0;}",
    )


def build_exe(out: Path, deps: tuple[Path, ...] = (), runpath: str | None = None) -> Path:
    return _gcc(out, [], deps, runpath, "int main(void){return 0;}")


def _gcc(
    out: Path, flags: list[str], deps: tuple[Path, ...], runpath: str | None, body: str
) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    src = out.with_name(out.name + ".c")
    src.write_text(body + "\n")
    cmd = ["gcc", *flags, "-o", str(out), str(src), "-Wl,--no-as-needed"]
    for dep in deps:
        cmd += [f"-L{dep.parent}", f"-l:{dep.name}"]
    if runpath:
        cmd.append(f"-Wl,--enable-new-dtags,-rpath,{runpath}")
    subprocess.run(cmd, check=True, capture_output=True)
    src.unlink()
    return out


def build_env(root: Path, n_files: int) -> tuple[Path, list[Path]]:
    env = root / "env"
    (env / "conda-meta").mkdir(parents=True)
    lib = env / "lib"
    base = build_lib(lib / "libbase.so.1")
    mid = build_lib(lib / "libmid.so.2", deps=(base,), runpath="$ORIGIN")
    top = build_lib(lib / "libtop.so.3", deps=(mid, base), runpath="$ORIGIN")
    build_exe(env / "bin/tool", deps=(top,), runpath="$ORIGIN/../lib")
    sp = lib / "python3.11/site-packages"
    ext = build_lib(sp / "pkg0/_ext.so", deps=(top, mid), runpath="$ORIGIN/../../..")
    files = [env / "bin/tool", base, mid, top, ext]
    i = 0
    while len(files) < n_files:
        dst = sp / f"pkg{i // 50}" / f"_mod_{i:05d}.cpython-311-x86_64-linux-gnu.so"
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.link(ext, dst)
        files.append(dst)
        i += 1
    return env, files


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--keep", type=Path, default=None)
    ap.add_argument("--prefix", type=Path, default=None, help="a real env to measure instead")
    args = ap.parse_args()
    if args.prefix is not None:
        real_env(args.prefix)
        return
    root = args.keep or Path(tempfile.mkdtemp(prefix="hermetic-bench-"))
    env, files = build_env(root, args.files)
    cache = root / "doctor-cache.json"
    opts = DoctorOptions(
        prefix=env, cache=cache, driver="550.54.14", gpu="sm_80", ld_library_path=()
    )

    cold = timed_call(lambda: run_doctor(opts))
    warm_runs = [timed_call(lambda: run_doctor(opts)) for _ in range(3)]
    warm = min(warm_runs)
    report = run_doctor(opts)

    env_vars = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    ldd = timed_call(
        lambda: [subprocess.run(["ldd", str(f)], capture_output=True, env=env_vars) for f in files]
    )
    print(f"ELF files: {report.stats.elf_files}  dependencies resolved: {report.stats.edges}")
    print(
        f"findings: {len(report.findings)} ({sum(f.severity == 'error' for f in report.findings)} errors)"
    )
    print(f"doctor cold: {cold:.2f} s")
    print(f"doctor warm: {warm:.2f} s (best of 3: {', '.join(f'{w:.2f}' for w in warm_runs)})")
    print(f"ldd over the same files: {ldd:.2f} s")
    print(f"ratio ldd / doctor warm: {ldd / warm:.1f}x  (doctor warm target: <= 2 s)")


def real_env(prefix: Path) -> None:
    cache = Path(tempfile.mkdtemp(prefix="hermetic-bench-cache-")) / "doctor-cache.json"
    opts = DoctorOptions(prefix=prefix, cache=cache, environ={}, ld_library_path=())
    cold = timed_call(lambda: run_doctor(opts))
    warm_runs = [timed_call(lambda: run_doctor(opts)) for _ in range(3)]
    report = run_doctor(opts)
    hermetic = Path(sys.executable).with_name("hermetic")
    env = {**os.environ, "HERMETIC_CACHE_DIR": str(cache.parent)}
    cli = [
        timed_call(
            lambda: subprocess.run(
                [hermetic, "doctor", "--prefix", str(prefix), "--json"],
                capture_output=True,
                env=env,
            )
        )
        for _ in range(3)
    ]
    files = scan_env(str(prefix)).elf
    env_vars = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    ldd = timed_call(
        lambda: [subprocess.run(["ldd", f], capture_output=True, env=env_vars) for f in files]
    )
    size = sum(f.stat().st_size for f in prefix.rglob("*") if f.is_file() and not f.is_symlink())
    print(
        f"env: {prefix} ({size / 1e9:.1f} GB, {report.stats.elf_files} ELF files, "
        f"{report.stats.reachable} loaded by its modules and programs)"
    )
    print(
        f"findings: {len(report.findings)} ({sum(f.severity == 'error' for f in report.findings)} errors)"
    )
    print(f"doctor cold (empty cache, in process): {cold:.2f} s  (target < 5 s)")
    print(f"doctor warm (in process, best of 3): {min(warm_runs):.2f} s")
    print(
        f"`hermetic doctor --json` warm, process included (best of 3): {min(cli):.2f} s  (target < 1 s)"
    )
    print(
        f"ldd over the same files: {ldd:.2f} s -> ldd / doctor cold = {ldd / cold:.1f}x, "
        f"ldd / doctor warm = {ldd / min(warm_runs):.1f}x"
    )


if __name__ == "__main__":
    main()
