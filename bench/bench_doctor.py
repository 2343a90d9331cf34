"""Benchmark: `hermetic doctor` on an env of >= 2,000 ELF files, cold and warm, against ldd.

Builds a few libraries with gcc (a small dependency chain), hardlinks an extension module
that needs them 2,000 times under different names across package dirs, then times:
  - doctor cold (empty ELF cache) and warm (second run, cache filled),
  - `ldd` run over the very same files, one after the other.
Usage: python bench/bench_doctor.py [--files 2000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from doctor_fixtures import build_exe, build_lib

from hermetic.doctor import DoctorOptions, run_doctor


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


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--keep", type=Path, default=None)
    args = ap.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="hermetic-bench-"))
    env, files = build_env(root, args.files)
    cache = root / "doctor-cache.json"
    opts = DoctorOptions(
        prefix=env, cache=cache, driver="550.54.14", gpu="sm_80", ld_library_path=()
    )

    cold = timed(lambda: run_doctor(opts))
    warm_runs = [timed(lambda: run_doctor(opts)) for _ in range(3)]
    warm = min(warm_runs)
    report = run_doctor(opts)

    env_vars = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    ldd = timed(
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


if __name__ == "__main__":
    main()
