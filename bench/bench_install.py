"""Benchmark `hermetic install` / `hermetic run` against the engine they drive.

* no-op `hermetic install` and `hermetic run true` (whole processes; target <= 0.3 s);
* a fresh install from a warm package cache: `install_environment` (lock read, cache
  verification, rattler transaction, activation script, marker) against a bare
  `rattler.install` of the same records into the same kind of fresh prefix, alternately,
  in the same process (target ratio <= 1.2);
* the same for an environment of 220+ generated packages (cold and warm cache);
* `--phases`: where a warm install's time goes, step by step (lock read, cache check,
  rattler, activation script, marker).

Everything is built locally with hermetic's package writer (`hermetic.condapkg`) and the
tour's channel; no network.

    python bench/bench_install.py [--repeat 7] [--packages 220] [--phases]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import timed_call
from hermetic.condapkg import PackageSpec, build_channel
from hermetic.condapkg.python import python_abi_package, python_package
from hermetic.tour.channel import build_channel as build_tour_channel


def write_spec(root: Path, channel: Path, deps: list[str]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    body = f'channels = [{json.dumps(str(channel))}]\nplatforms = ["linux-64"]\n\n[dependencies]\n'
    body += "".join(f'{d} = "*"\n' for d in deps)
    (root / "hermetic.toml").write_text(body)


def many_packages(n: int) -> list[PackageSpec]:
    """n small packages (6 files each, a few with placeholders), layered dependencies."""
    specs = []
    for i in range(n):
        deps = tuple(f"gen{j:03d} >=1.0" for j in (i // 2, i // 3) if j < i)
        files = {f"share/gen{i:03d}/f{k}.txt": f"{i}-{k}\n".encode() * 50 for k in range(5)}
        files[f"bin/gen{i:03d}"] = b"#!/bin/sh\necho /opt/anaconda1anaconda2anaconda3\n"
        specs.append(
            PackageSpec(
                f"gen{i:03d}",
                "1.0",
                "h0_0",
                depends=tuple(dict.fromkeys(deps)),
                files=files,
                executable_files=(f"bin/gen{i:03d}",),
                text_placeholder_files=(f"bin/gen{i:03d}",) if i % 4 == 0 else (),
                fmt="conda" if i % 2 else "tar.bz2",
            )
        )
    return specs


def process_time(args: list[str], cwd: Path, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(args, cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def compare(root: Path, cache: Path, repeat: int, label: str) -> None:
    from rattler.install import install

    from hermetic.env.install import install_environment
    from hermetic.lock.read import load_lock

    lock_path = root / "hermetic.lock"
    records = load_lock(lock_path).conda_records("default", "linux-64")
    cold = timed_call(
        lambda: install_environment(lock_path, root, "default", prefix=root / "cold", cache=cache)
    )
    ours, bare = [], []
    for i in range(repeat):  # alternately, so a load change hits both sides alike
        b = root / f"bare{i}"
        bare.append(
            timed_call(
                lambda b=b: asyncio.run(
                    install(
                        records, target_prefix=str(b), cache_dir=str(cache), show_progress=False
                    )
                )
            )
        )
        o = root / f"ours{i}"
        ours.append(
            timed_call(
                lambda o=o: install_environment(lock_path, root, "default", prefix=o, cache=cache)
            )
        )
    mo, mb = statistics.median(ours), statistics.median(bare)
    print(
        f"{label}: {len(records)} packages; cold cache {cold:.3f}s; warm cache: "
        f"hermetic {mo:.3f}s vs bare rattler.install {mb:.3f}s -> ratio {mo / mb:.2f} "
        f"(best {min(ours):.3f}s vs {min(bare):.3f}s -> {min(ours) / min(bare):.2f}; "
        "target <= 1.2)"
    )


def phases(root: Path, cache: Path, repeat: int, label: str) -> None:
    """Where a warm `install_environment` spends its time: each step it calls, timed in
    place (median over `repeat` fresh prefixes); `other` is the rest of the function."""
    import functools

    from hermetic.env import install as steps

    spent: dict[str, float] = {}
    names = [
        "load_lock",
        "fetch_and_check",
        "_rattler_install",
        "write_activation",
        "write_marker",
        "remove_marker",
        "is_complete",
        "lock_digest",
        "read_marker",
        "_installed_records",
    ]
    originals = {n: getattr(steps, n) for n in names}

    def timed(name: str, fn: Callable[..., object]) -> Callable[..., object]:
        @functools.wraps(fn)
        def run(*args: object, **kwargs: object) -> object:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - start

        return run

    rows: list[dict[str, float]] = []
    try:
        for n, fn in originals.items():
            setattr(steps, n, timed(n, fn))
        for i in range(repeat):
            spent.clear()
            total = timed_call(
                lambda i=i: steps.install_environment(
                    root / "hermetic.lock", root, "default", prefix=root / f"ph{i}", cache=cache
                )
            )
            rows.append({**spent, "other": total - sum(spent.values()), "total": total})
    finally:
        for n, fn in originals.items():
            setattr(steps, n, fn)
    parts = ", ".join(
        f"{k} {statistics.median(r.get(k, 0.0) for r in rows) * 1000:.1f}"
        for k in [*names, "other", "total"]
    )
    print(f"{label}, warm install phases (ms, median): {parts}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--packages", type=int, default=220)
    ap.add_argument("--phases", action="store_true", help="also time each step of the install")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-install-") as tmp:
        work = Path(tmp)
        os.environ["HERMETIC_CACHE_DIR"] = str(work / "cache")
        cache = work / "cache" / "pkgs"
        hermetic = [sys.executable, "-m", "hermetic"]

        build_tour_channel(work / "std", work / "pycache")
        std = work / "std"
        small = work / "small"
        write_spec(small, std, ["python", "tour-tool", "tour-demo"])
        subprocess.run([*hermetic, "install"], cwd=small, check=True, capture_output=True)
        noop = process_time([*hermetic, "install"], small, args.repeat)
        run_true = process_time([*hermetic, "run", "true"], small, args.repeat)
        bare_python = process_time([sys.executable, "-c", "pass"], small, args.repeat)
        print(f"python startup alone: {bare_python:.3f}s")
        print(f"no-op `hermetic install`: {noop:.3f}s (target <= 0.3)")
        print(f"`hermetic run true`: {run_true:.3f}s (target <= 0.3)")
        compare(small, cache, args.repeat, "python + tour-tool + tour-demo")
        if args.phases:
            phases(small, cache, args.repeat, "python + tour-tool + tour-demo")

        big_channel = build_channel(
            work / "big",
            [*many_packages(args.packages), python_package(), python_abi_package()],
            cache_dir=work / "pycache",
        )
        big = work / "big-project"
        write_spec(big, big_channel, [f"gen{i:03d}" for i in range(args.packages)])
        subprocess.run([*hermetic, "lock"], cwd=big, check=True, capture_output=True)
        compare(big, cache, args.repeat, f"{args.packages} generated packages")
        if args.phases:
            phases(big, cache, args.repeat, f"{args.packages} generated packages")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
