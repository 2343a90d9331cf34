"""Lock a real pixi project with hermetic, next to the engines it drives, and check the result.

The project is skrub's `pyproject.toml` (`[tool.pixi]`: 13 environments, 4 platforms, 49
environment x platform pairs, conda-forge + PyPI) with its channels rebuilt offline from its
own pixi.lock (see `real_project.py`); PyPI is the real index. In one run:

1. cold: `hermetic lock -m pyproject.toml` with empty hermetic, rattler and uv caches;
2. warm re-lock: the same command again (warm caches, the previous lock's pins);
3. forced full re-solve: `hermetic lock --update` (warm caches, no pins);
4. the engines alone on the same requests, recorded from hermetic's own lock run: every
   conda solve with rattler (one process, all solves gathered), and `uv pip compile` once
   per distinct PyPI request (the same requirements and conda-provided stubs, 4 at a time
   as hermetic runs them);
5. one environment (ci-nightly-deps, linux-64: 11 PyPI requirements on conda's python):
   hermetic's PyPI step vs `uv pip compile` alone, and conda solve + PyPI step vs uv alone;
6. the locked sets vs the project's real pixi.lock, per environment x platform.

    python bench/bench_real_project.py [--repeat 3] [--keep DIR]
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
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import HERMETIC, timed_call
from real_project import SOURCE, Locked, RealProject, prepare

ONE_ENV = ("ci-nightly-deps", "linux-64")

RATTLER_ALONE = """
import asyncio, json, sys
from rattler import ChannelPriority, GenericVirtualPackage, MatchSpec, PackageName, Version
from rattler import BuildString, Gateway, solve
reqs = json.load(open(sys.argv[1]))
gateway = Gateway()  # one repodata cache for every solve, as hermetic has
async def main():
    return await asyncio.gather(*(solve(
        sources=r["channels"], specs=[MatchSpec(s, strict=False) for s in r["specs"]],
        gateway=gateway,
        platforms=[r["platform"], "noarch"], channel_priority=ChannelPriority.Strict,
        virtual_packages=[GenericVirtualPackage(PackageName(n), Version(v), BuildString(b))
                          for n, v, b in r["vps"]]) for r in reqs))
print(sum(len(x) for x in asyncio.run(main())))
"""


def run(cmd: Sequence[str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(list(cmd), cwd=cwd, capture_output=True, text=True)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
    return took


def recorded_requests(rp: RealProject) -> tuple[list[Any], list[Any]]:
    """The conda and PyPI requests of one `lock --update` run, as hermetic makes them."""
    import hermetic.lock.update as update
    import hermetic.resolve.pypi as pypi_resolver
    from hermetic.project.lock import lock
    from hermetic.project.project import Project

    conda: list[Any] = []
    pypi: list[Any] = []
    solve_all, resolve_all = update.solve_all, pypi_resolver.resolve_all

    def record_conda(requests: Any, *a: Any, **k: Any) -> Any:
        conda.extend(requests)
        return solve_all(requests, *a, **k)

    def record_pypi(requests: Any) -> Any:
        pypi.extend(requests)
        return resolve_all(requests)

    update.solve_all, pypi_resolver.resolve_all = record_conda, record_pypi
    try:
        lock(Project.open(rp.manifest), update_all=True)
    finally:
        update.solve_all, pypi_resolver.resolve_all = solve_all, resolve_all
    return conda, pypi


def rattler_config(rp: RealProject, requests: list[Any], path: Path) -> None:
    from hermetic.channel import Channel

    def local(c: str) -> str:
        return str(rp.channels[Channel.parse(c).base_url])

    path.write_text(
        json.dumps(
            [
                {
                    "channels": [local(c) for c in r.channels],
                    "specs": list(r.specs),
                    "platform": r.platform,
                    "vps": [[v.name, v.version, v.build] for v in r.virtual_packages],
                }
                for r in requests
            ]
        )
    )


def uv_alone(req: Any, work: Path) -> None:
    """`uv pip compile` on exactly what hermetic asks uv (requirements + conda stubs)."""
    from hermetic.resolve.pypi import stub_requirements, uv_bin, uv_platform
    from hermetic.resolve.pypi_metadata import uv_environment

    work.mkdir(parents=True, exist_ok=True)
    src = work / "requirements.in"
    lines = [*req.requirements, *stub_requirements(dict(req.provided), work)]
    src.write_text("\n".join(lines) + "\n")
    out = work / "pylock.toml"
    out.unlink(missing_ok=True)  # uv reads an existing output as preferences: start afresh
    cmd = [uv_bin(), "pip", "compile", str(src), "--python", sys.executable,
           "--python-version", req.python_version,
           "--python-platform", uv_platform(req.platform, req.glibc),
           "--format", "pylock.toml", "-o", str(out), "--quiet"]  # fmt: skip
    env = uv_environment()
    if req.platform.startswith("osx"):
        env["MACOSX_DEPLOYMENT_TARGET"] = req.macos
    subprocess.run(cmd, check=True, env=env, cwd=work, capture_output=True)


def uv_all(requests: list[Any], work: Path) -> None:
    from hermetic.resolve.pypi import request_key

    distinct = list({request_key(r): r for r in requests}.values())
    with ThreadPoolExecutor(max_workers=min(4, len(distinct))) as pool:
        list(pool.map(lambda ir: uv_alone(ir[1], work / f"uv{ir[0]}"), enumerate(distinct)))


def median_of(repeat: int, fn: Callable[[], float]) -> float:
    return statistics.median(fn() for _ in range(repeat))


def compare(rp: RealProject, lock_path: Path) -> None:
    """hermetic's locked sets vs the real pixi.lock, per environment x platform."""
    from hermetic.lock.read import load_lock
    from hermetic.resolve.pypi import canonical_name

    lock = load_lock(lock_path)
    conda_same = pypi_same = total = 0
    diffs: list[str] = []
    for env, platforms in sorted(rp.environments.items()):
        for platform, real in sorted(platforms.items()):
            total += 1
            recs = lock.conda_records(env, platform)
            mine = Locked(
                frozenset((r.name.normalized, str(r.version), str(r.build)) for r in recs),
                frozenset(
                    (canonical_name(q.name), "" if q.sha256 is None else q.version)
                    for q in lock.pypi_packages(env, platform)
                ),
            )
            real_pypi = frozenset((n, v if v else "") for n, v in real.pypi)
            conda_same += mine.conda == real.conda
            pypi_same += mine.pypi == real_pypi
            for kind, a, b in (
                ("conda", mine.conda, real.conda),
                ("pypi", mine.pypi, real_pypi),
            ):
                if a != b:
                    only_h = sorted("=".join(x) for x in a - b)
                    only_p = sorted("=".join(x) for x in b - a)
                    py = [sorted("=".join(x) for x in s if x[0] == "python") for s in (a, b)]
                    diffs.append(
                        f"  {env} {platform} {kind}: hermetic only {len(only_h)} "
                        f"{only_h[:5]}; pixi only {len(only_p)} {only_p[:5]}"
                        + (
                            f"\n      python: hermetic {py[0]}, pixi {py[1]}"
                            if py[0] != py[1]
                            else ""
                        )
                    )
    print(f"conda sets equal to pixi.lock: {conda_same}/{total} environment x platform")
    print(f"PyPI sets equal to pixi.lock:  {pypi_same}/{total}")
    print("\n".join(diffs))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="work here and keep it (default: a temp dir)")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-real-"))
    work.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(work / "case", ignore_errors=True)  # a cold run starts with no lock
    rp = prepare(work / "case")
    caches = work / "caches"
    shutil.rmtree(caches, ignore_errors=True)
    os.environ.update(
        HERMETIC_CONFIG=str(rp.config),
        HERMETIC_CACHE_DIR=str(caches / "hermetic"),
        RATTLER_CACHE_DIR=str(caches / "rattler"),
        UV_CACHE_DIR=str(caches / "uv"),
    )
    project, manifest = rp.manifest.parent, str(rp.manifest)
    lock = project / "hermetic.lock"
    pairs = sum(len(p) for p in rp.environments.values())
    print(f"{SOURCE}: {len(rp.environments)} environments, {pairs} environment x platform, "
          f"{rp.records} conda records rebuilt")  # fmt: skip
    print(f"load average before: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs, shared)")

    cold = run([*HERMETIC, "lock", "-m", manifest], project)
    print(f"cold lock (empty caches, no lock):         {cold:6.1f} s   target <= 60 s")
    compare(rp, lock)
    relock = median_of(args.repeat, lambda: run([*HERMETIC, "lock", "-m", manifest], project))
    print(f"warm re-lock (caches + previous lock):     {relock:6.1f} s   target <= 10 s")
    conda_reqs, pypi_reqs = recorded_requests(rp)
    cfg = work / "rattler-requests.json"
    rattler_config(rp, conda_reqs, cfg)
    script = work / "rattler_alone.py"
    script.write_text(RATTLER_ALONE)
    uv_all(pypi_reqs, work / "uv")  # the same warm caches as hermetic's
    # alternated, so a change of the machine's load hits both sides alike
    fulls, rattlers, uvs = [], [], []
    for _ in range(args.repeat):
        fulls.append(run([*HERMETIC, "lock", "-m", manifest, "--update"], project))
        rattlers.append(run([sys.executable, str(script), str(cfg)], work))
        uvs.append(timed_call(lambda: uv_all(pypi_reqs, work / "uv")))
    full, rattler, uv = (statistics.median(x) for x in (fulls, rattlers, uvs))
    print(f"warm forced full re-solve (lock --update): {full:6.1f} s")
    from hermetic.resolve.pypi import request_key

    distinct = len({request_key(r) for r in pypi_reqs})
    print(
        f"engines alone: rattler {len(conda_reqs)} solves {rattler:5.2f} s, "
        f"uv pip compile x {distinct} distinct {uv:5.2f} s, sum {rattler + uv:5.2f} s\n"
        f"ratio forced full re-solve / engines alone: {full / (rattler + uv):4.2f}\n"
        f"ratio warm re-lock / engines alone:         {relock / (rattler + uv):4.2f}"
    )
    one_environment(rp, conda_reqs, pypi_reqs, work, args.repeat)
    adopt(rp, project, manifest, lock)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


def adopt(rp: RealProject, project: Path, manifest: str, lock: Path) -> None:
    """A user migrating: pixi.lock beside the manifest, no hermetic.lock yet. hermetic keeps
    pixi's pins wherever the spec allows."""
    import lzma

    from real_project import DATA

    lock.unlink()
    with lzma.open(DATA / "pixi.lock.xz", "rb") as f:
        (project / "pixi.lock").write_bytes(f.read())
    took = run([*HERMETIC, "lock", "-m", manifest], project)
    print(f"adopting the project's pixi.lock (warm caches): {took:5.1f} s")
    compare(rp, lock)


def one_environment(
    rp: RealProject, conda_reqs: list[Any], pypi_reqs: list[Any], work: Path, repeat: int
) -> None:
    """One mixed environment: hermetic's PyPI step, and conda + PyPI, vs uv alone."""
    from hermetic.mirrors import load_mirrors
    from hermetic.resolve.conda import solve_all
    from hermetic.resolve.pypi import resolve_all

    creq = next(r for r in conda_reqs if (r.environment, r.platform) == ONE_ENV)
    preq = next(r for r in pypi_reqs if (r.environment, r.platform) == ONE_ENV)
    mirrors = load_mirrors([rp.config])
    pypi_step, both, alone = [], [], []
    for _ in range(max(repeat, 5)):  # alternated: a change of load hits every side alike
        pypi_step.append(timed_call(lambda: resolve_all([preq])))
        both.append(timed_call(lambda: (solve_all([creq], mirrors=mirrors), resolve_all([preq]))))
        alone.append(timed_call(lambda: uv_alone(preq, work / "uv-one")))
    h_pypi, h_both, u = (statistics.median(x) for x in (pypi_step, both, alone))
    n = len(preq.requirements)
    print(
        f"one environment {ONE_ENV[0]} {ONE_ENV[1]} ({n} PyPI requirements, python "
        f"{preq.python_version}):\n"
        f"  hermetic PyPI step {h_pypi:5.2f} s, conda solve + PyPI step {h_both:5.2f} s, "
        f"uv alone {u:5.2f} s\n"
        f"  ratio PyPI step / uv {h_pypi / u:4.2f}, conda + PyPI / uv {h_both / u:4.2f}"
        "   target <= 1.2"
    )


if __name__ == "__main__":
    main()
