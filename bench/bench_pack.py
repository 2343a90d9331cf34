"""Benchmark `hermetic pack` / unpacking against tar, zstd and gzip, in the same run.

A channel of generated packages (about `--gib` GiB installed: half incompressible bytes like
model weights, half 4-bit-entropy bytes like code and libraries, with text placeholders in
every package and one binary placeholder) is built with hermetic's package writer, locked
and installed. Then, alternately and `--repeat` times (medians compared):

* `hermetic pack -o env.tar.zst` (whole process: lock read, cache check, staging link,
  layout, tar, zstd) against `tar -cf - DIR | zstd -3` of the installed env (target >= 1.0);
* `hermetic pack -o env.tar.gz` against `tar -cf - DIR | gzip -6` (target >= 1.0);
* `tar -xf env.tar.zst -C D && D/bin/hermetic-unpack` against plain `tar -xf` of the same
  archive (target: plain time / ours >= 0.7); `hermetic unpack` (checks everything first) too;
* archive sizes, and conda-pack's for the same env when `--conda-pack BIN` is given.

    python bench/bench_pack.py [--gib 1.1] [--repeat 3] [--conda-pack /path/to/conda-pack]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import HERMETIC, locked_project
from hermetic.condapkg import (
    LONG_PREFIX_PLACEHOLDER,
    PREFIX_PLACEHOLDER,
    PackageSpec,
)

HEX16 = bytes.maketrans(bytes(range(256)), bytes(b"0123456789abcdef"[i % 16] for i in range(256)))
FILE_MB = 8


def specs(total_bytes: int) -> list[PackageSpec]:
    per_pkg = 5 * FILE_MB << 20
    out = []
    for i in range(max(1, total_bytes // per_pkg)):
        files: dict[str, bytes] = {}
        for k in range(5):
            raw = os.urandom(FILE_MB << 20)
            files[f"lib/gen{i:03d}/part{k}.bin"] = raw if k % 2 else raw.translate(HEX16)
        files[f"bin/gen{i:03d}"] = f"#!/bin/sh\necho {PREFIX_PLACEHOLDER}\n".encode()
        files[f"lib/pkgconfig/gen{i:03d}.pc"] = f"prefix={PREFIX_PLACEHOLDER}\n".encode() * 20
        out.append(
            PackageSpec(
                f"gen{i:03d}",
                "1.0",
                "h0_0",
                files=files,
                executable_files=(f"bin/gen{i:03d}",),
                text_placeholder_files=(f"bin/gen{i:03d}", f"lib/pkgconfig/gen{i:03d}.pc"),
                compression_level=1,
            )
        )
    where = f'static const char w[512] = "{LONG_PREFIX_PLACEHOLDER}/share";\n'.encode()
    out.append(
        PackageSpec(
            "binph",
            "1.0",
            "h0_0",
            files={"lib/libbinph.so": b"\x7fELF" + where + b"\0" * 4096},
            binary_placeholder_files=("lib/libbinph.so",),
            placeholder=LONG_PREFIX_PLACEHOLDER,
        )
    )
    return out


CPU: list[float] = []  # CPU seconds (user + sys) of the last `timed` command's processes


def timed(cmd: list[str] | str, **kw: object) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, shell=isinstance(cmd, str), **kw)  # type: ignore[call-overload]
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gib", type=float, default=1.1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--conda-pack", default=None, help="a conda-pack executable")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--formats", default="tar.zst,tar.gz,tar", help="comma-separated")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-pack-", dir=args.workdir))
    try:
        run(work, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(work: Path, args: argparse.Namespace) -> None:
    env = dict(os.environ, HERMETIC_CACHE_DIR=str(work / "cache"), NO_COLOR="1")
    hermetic = list(HERMETIC)
    pkgs = specs(int(args.gib * (1 << 30)))
    proj = locked_project(work, pkgs, env)
    subprocess.run([*hermetic, "install"], cwd=proj, env=env, check=True, capture_output=True)
    prefix = proj / ".hermetic" / "envs" / "default"
    size = sum(f.stat().st_size for f in prefix.rglob("*") if f.is_file() and not f.is_symlink())
    print(f"environment: {len(pkgs)} packages, {size / (1 << 30):.2f} GiB in {prefix}")
    out = work / "out"
    out.mkdir()

    baselines = {"tar.zst": "zstd -3 -q", "tar.gz": "gzip -6", "tar": "cat"}
    for ext in args.formats.split(","):
        compressor = baselines[ext]
        ours, base, cpu_ours, cpu_base = [], [], [], []
        for _ in range(args.repeat):
            target = out / f"env.{ext}"
            target.unlink(missing_ok=True)
            ours.append(timed([*hermetic, "pack", "-o", str(target)], cwd=proj, env=env))
            cpu_ours.append(CPU[-1])
            base.append(timed(f"tar -cf - -C {prefix} . | {compressor} > {out}/base.{ext}"))
            cpu_base.append(CPU[-1])
        mo, mb = statistics.median(ours), statistics.median(base)
        co, cb = statistics.median(cpu_ours), statistics.median(cpu_base)
        print(
            f"pack .{ext}: hermetic {mo:.2f}s ({size / mo / 1e6:.0f} MB/s, {co:.1f} CPU-s), "
            f"`tar | {compressor.split(' -q')[0]}` {mb:.2f}s ({cb:.1f} CPU-s) -> throughput "
            f"ratio {mb / mo:.2f} (target >= 1.0); sizes "
            f"{(out / f'env.{ext}').stat().st_size / 1e6:.0f} MB vs "
            f"{(out / f'base.{ext}').stat().st_size / 1e6:.0f} MB"
        )

    archive = next(out / f"env.{e}" for e in baselines if (out / f"env.{e}").is_file())
    ours, base, checked = [], [], []
    for i in range(args.repeat):
        d1, d2, d3 = out / f"a{i}", out / f"b{i}", out / f"c{i}"
        d1.mkdir()
        d2.mkdir()
        ours.append(timed(f"tar -xf {archive} -C {d1} && env -i /bin/sh {d1}/bin/hermetic-unpack"))
        base.append(timed(["tar", "-xf", str(archive), "-C", str(d2)]))
        checked.append(timed([*hermetic, "unpack", str(archive), str(d3)], env=env))
        for d in (d1, d2, d3):
            shutil.rmtree(d)
    mo, mb, mc = statistics.median(ours), statistics.median(base), statistics.median(checked)
    print(
        f"unpack: `tar -x` + hermetic-unpack {mo:.2f}s vs plain `tar -x` {mb:.2f}s -> "
        f"{mb / mo:.2f} (target >= 0.7); `hermetic unpack` (checks first) {mc:.2f}s -> {mb / mc:.2f}"
    )

    if args.conda_pack:
        cp = out / "conda-pack.tar.gz"
        t_cp = timed(
            [args.conda_pack, "-p", str(prefix), "-o", str(cp), "--ignore-missing-files"],
        )
        print(
            f"conda-pack .tar.gz: {cp.stat().st_size / 1e6:.0f} MB in {t_cp:.1f}s; hermetic: "
            + ", ".join(
                f".{e} {(out / f'env.{e}').stat().st_size / 1e6:.0f} MB"
                for e in baselines
                if (out / f"env.{e}").is_file()
            )
        )


if __name__ == "__main__":
    main()
