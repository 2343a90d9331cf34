"""Benchmark `hermetic image build` against tar + gzip on the same files, in the same run.

A channel of generated packages (about `--gib` GiB installed: half incompressible bytes like
model weights, half 4-bit-entropy bytes like code; text and binary placeholders; the
generator is bench_pack's) is locked and installed. Then, alternately and `--repeat` times
(medians compared):

* cold `hermetic image build` (whole process: lock check, staging the env for /opt/env by
  rattler, layer tars, compression, OCI layout, SBOM; the image cache emptied first, the
  package cache kept, as on a CI runner with a package cache) against
  `tar -cf - DIR | gzip -6 > /dev/null` of the installed env: the throughput ratio, target
  >= 1.0 (gzip layers are compressed by isa-l at level 2; zstd layers at level 3 too);
* a warm rebuild after an app-only change (target: <= 1 s plus the app layer's own cost);
* the image's size (its layers) against the env on disk.

    python bench/bench_image.py [--gib 1.1] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import HERMETIC, locked_project
from bench_pack import specs  # the same generated env as the pack benchmark


def timed(cmd: list[str] | str, **kw: object) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(
        cmd,
        check=True,
        capture_output=True,
        text=True,
        shell=isinstance(cmd, str),
        **kw,  # type: ignore[call-overload]
    )
    return time.perf_counter() - start, proc.stdout


def build_argv(compression: str, out: Path) -> list[str]:
    """`hermetic image build` of the project's env and app.py on scratch, as JSON."""
    return [
        *HERMETIC,
        *("image", "build", "--json", "--base", "scratch", "--app", "app.py"),
        *("--compression", compression, "-o", f"oci:{out}"),
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gib", type=float, default=1.1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-image-", dir=args.workdir))
    try:
        run(work, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def run(work: Path, args: argparse.Namespace) -> None:
    cache = work / "cache"
    env = dict(os.environ, HERMETIC_CACHE_DIR=str(cache), NO_COLOR="1", SOURCE_DATE_EPOCH="0")
    hermetic = list(HERMETIC)
    pkgs = specs(int(args.gib * (1 << 30)))
    proj = locked_project(work, pkgs, env)
    (proj / "app.py").write_text("print('v1')\n")
    subprocess.run([*hermetic, "install"], cwd=proj, env=env, check=True, capture_output=True)
    prefix = proj / ".hermetic" / "envs" / "default"
    size = du(prefix)
    print(f"environment: {len(pkgs)} packages, {size / (1 << 30):.2f} GiB on disk in {prefix}")
    print(f"machine: {os.cpu_count()} CPUs (shared and loaded: compare the ratios, not seconds)")

    out = work / "out"
    for compression in ("gzip", "zstd"):
        ours, base, inner = [], [], []
        result: dict = {}
        for _ in range(args.repeat):
            shutil.rmtree(cache / "image", ignore_errors=True)
            shutil.rmtree(out, ignore_errors=True)
            secs, stdout = timed(build_argv(compression, out), cwd=proj, env=env)
            result = json.loads(stdout)
            ours.append(secs)
            inner.append(result["seconds"])
            b, _ = timed(f"tar -cf - -C {prefix} . | gzip -6 > /dev/null")
            base.append(b)
        mo, mb = statistics.median(ours), statistics.median(base)
        layers = result["platforms"][0]["layers"]
        image_bytes = sum(layer["size"] for layer in layers)
        print(
            f"cold build ({compression}): hermetic {mo:.2f}s ({size / mo / 1e6:.0f} MB/s; "
            f"{statistics.median(inner):.2f}s inside), `tar | gzip -6` {mb:.2f}s "
            f"-> throughput ratio {mb / mo:.2f} (target >= 1.0); "
            f"{len(layers)} layers, image {image_bytes / 1e6:.0f} MB vs env {size / 1e6:.0f} MB "
            f"on disk ({image_bytes / size:.0%})"
        )

    warm, warm_inner, app_cost = [], [], []
    for i in range(args.repeat):
        (proj / "app.py").write_text(f"print('v{i + 2}')\n")
        secs, stdout = timed(build_argv("zstd", out), cwd=proj, env=env)
        result = json.loads(stdout)
        rebuilt = [x["name"] for x in result["platforms"][0]["layers"] if not x["reused"]]
        assert rebuilt == ["app"], rebuilt
        warm.append(secs)
        warm_inner.append(result["seconds"])
    t0 = time.perf_counter()
    subprocess.run(["tar", "-cf", "/dev/null", "-C", str(proj), "app.py"], check=True)
    app_cost.append(time.perf_counter() - t0)
    print(
        f"warm rebuild after an app-only change: {statistics.median(warm):.2f}s for the whole "
        f"process ({statistics.median(warm_inner):.3f}s building), only the app layer rebuilt "
        f"(target <= 1 s + the app layer's cost, {statistics.median(app_cost) * 1000:.0f} ms here)"
    )


if __name__ == "__main__":
    main()
