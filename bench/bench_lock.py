"""Benchmark `hermetic lock` against the engine it drives, whole process against whole process.

For each case a project with a hermetic.toml is written, plus a minimal script that imports
rattler, solves the same specs for the same platforms against the same repodata and writes a
LockFile. Both run as fresh processes, alternately, several times; the medians are compared.
Also: `hermetic lock --check` on a fresh lock, `hermetic --help`, and (with --pypi, needs
PyPI) a mixed conda + PyPI lock next to uv's own resolve of the same PyPI part.

    python bench/bench_lock.py [--repeat 7] [--pypi]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared"
sys.path.insert(0, str(HERE))

BASELINE = """
import asyncio, sys, json
from rattler import solve, MatchSpec, GenericVirtualPackage, PackageName, Version, BuildString
from rattler import LockFile, LockPlatform, LockChannel
cfg = json.load(open(sys.argv[1]))
vps = [GenericVirtualPackage(PackageName(n), Version(v), BuildString(b)) for n, v, b in cfg["vps"]]
async def main():
    return await asyncio.gather(*(solve(sources=cfg["channels"], specs=[MatchSpec(s, strict=False) for s in cfg["specs"]],
        platforms=[p, "noarch"], virtual_packages=vps) for p in cfg["platforms"]))
results = asyncio.run(main())
lf = LockFile([LockPlatform(p) for p in cfg["platforms"]])
lf.set_channels("default", [LockChannel("file://" + c) for c in cfg["channels"]])
plats = {str(p.name): p for p in lf.platforms()}
for p, recs in zip(cfg["platforms"], results):
    for r in recs:
        lf.add_conda_package("default", plats[p], r)
lf.to_path(cfg["out"])
"""


def toml_str(s: str) -> str:
    return json.dumps(s)


def write_project(
    root: Path, channels: list[str], specs: dict[str, str], platforms: list[str]
) -> None:
    root.mkdir(parents=True, exist_ok=True)
    if "environment.yml" in specs:
        (root / "environment.yml").write_text(specs["environment.yml"])
        return
    lines = [
        "channels = [" + ", ".join(toml_str(c) for c in channels) + "]",
        "platforms = [" + ", ".join(toml_str(p) for p in platforms) + "]",
        "[dependencies]",
    ]
    lines += [f"{toml_str(name)} = {toml_str(spec)}" for name, spec in specs.items()]
    root.mkdir(parents=True, exist_ok=True)
    (root / "hermetic.toml").write_text("\n".join(lines) + "\n")


def cases(workdir: Path) -> list[tuple[str, list[str], dict[str, str], list[str]]]:
    out = []
    cryo = SHARED / "corpus" / "cryo"
    if cryo.exists():
        # the real environment.yml as is; only the channel name points at the offline copy
        text = (cryo / "environment.yml").read_text()
        channel = cryo / "channels" / "conda-forge"
        text = re.sub(r"^(\s+)- conda-forge\s*$", rf"\1- {channel}", text, count=1, flags=re.M)
        out.append(("cryo (983 pkgs)", [str(channel)], {"environment.yml": text}, ["linux-64"]))
    yi = SHARED / "corpus" / "yi" / "channels"
    if yi.exists():
        specs = {
            "python": "3.10.*", "pytorch": "==2.0.1", "pytorch-cuda": "==11.8", "pip": ">=23.3",
            "deepspeed": "==0.12.2", "transformers": "==4.36.0", "sentencepiece": "==0.1.99",
            "accelerate": "==0.24.1", "datasets": "==2.14.5", "optimum": "==1.13.2", "einops": "==0.7.0",
        }  # fmt: skip
        out.append(
            (
                "yi (186 pkgs)",
                [str(yi / c) for c in ("conda-forge", "pytorch", "nvidia")],
                specs,
                ["linux-64"],
            )
        )
    from gen_channel import generate

    big = workdir / "big-channel"
    counts = generate(big)
    specs = {"python": "3.11.*", **{f"leaf{i}": "*" for i in range(0, 2400, 120)}}
    out.append((f"generated ({sum(counts.values())} records)", [str(big)], specs, ["linux-64"]))
    return out


CRASHES: dict[str, int] = {}


def timed(cmd: list[str], cwd: Path, env: dict) -> float:
    """Seconds one process takes. A run killed by a signal is retried and counted: plain
    rattler 0.28 scripts abort or segfault in interpreter teardown now and then."""
    for _ in range(5):
        t = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
        dt = time.perf_counter() - t
        if proc.returncode in (-6, -11, 134, 139):
            CRASHES[cmd[-1]] = CRASHES.get(cmd[-1], 0) + 1
            continue
        if proc.returncode != 0:
            raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}")
        return dt
    raise SystemExit(f"crashed 5 times: {' '.join(cmd)}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument(
        "--pypi", action="store_true", help="also time a mixed conda + PyPI lock (needs PyPI)"
    )
    args = ap.parse_args()
    hermetic = [sys.executable, "-m", "hermetic"]
    exe = shutil.which("hermetic")
    if exe:
        hermetic = [exe]
    work = Path(tempfile.mkdtemp(prefix="hermetic-bench-"))
    env = dict(os.environ, HERMETIC_CACHE_DIR=str(work / "cache"), NO_COLOR="1")
    # An installed tool runs from cached bytecode; some machines turn that off globally.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(HERE.parent / "src")], check=True, env=env
    )
    print(f"{'case':28} {'hermetic lock':>14} {'rattler script':>15} {'ratio':>7}")
    from hermetic.manifest.model import SystemRequirements
    from hermetic.resolve.platforms import virtual_packages

    for name, channels, specs, platforms in cases(work):
        proj = work / re.sub(r"\W+", "-", name)
        write_project(proj, channels, specs, platforms)
        from hermetic.manifest.load import load_spec

        env_spec = load_spec(proj).environment("default")
        cfg = {
            "channels": channels,
            "specs": [d.spec for d in env_spec.conda_dependencies(platforms[0])],
            "platforms": platforms,
            "vps": [
                [v.name, v.version, v.build]
                for v in virtual_packages(platforms[0], SystemRequirements())
            ],
            "out": str(proj / "baseline.lock"),
        }
        (proj / "baseline.json").write_text(json.dumps(cfg))
        (proj / "baseline.py").write_text(BASELINE)
        timed([*hermetic, "lock"], proj, env)  # warm the OS cache and the repodata cache
        h, b = [], []
        for _ in range(args.repeat):
            (proj / "hermetic.lock").unlink(missing_ok=True)
            h.append(timed([*hermetic, "lock"], proj, env))
            b.append(timed([sys.executable, "baseline.py", "baseline.json"], proj, env))
        hm, bm = statistics.median(h), statistics.median(b)
        print(f"{name:28} {hm:13.3f}s {bm:14.3f}s {hm / bm:7.2f}")
        checks = [timed([*hermetic, "lock", "--check"], proj, env) for _ in range(args.repeat)]
        print(f"{'':28} lock --check: {statistics.median(checks):.3f}s (target <= 0.3 s)")
    helps = [timed([*hermetic, "--help"], work, env) for _ in range(args.repeat)]
    print(f"hermetic --help: {statistics.median(helps):.3f}s (target <= 0.25 s)")
    if CRASHES:
        print(f"runs killed by a signal at exit, retried: {CRASHES}")
    if args.pypi:
        bench_pypi(work, hermetic, env, args.repeat)


def bench_pypi(work: Path, hermetic: list[str], env: dict, repeat: int) -> None:
    """Mixed lock: the yi conda set plus PyPI packages on top, vs uv alone on the PyPI part."""
    from hermetic.resolve.pypi import uv_bin

    yi = SHARED / "corpus" / "yi" / "channels"
    proj, conda_only = work / "mixed", work / "mixed-conda-only"
    reqs = ["requests>=2.31", "rich>=13", "tqdm", "pydantic>=2"]
    for root in (proj, conda_only):
        write_project(
            root,
            [str(yi / c) for c in ("conda-forge", "pytorch", "nvidia")],
            {"python": "3.10.*", "pytorch": "==2.0.1", "pip": ">=23.3"},
            ["linux-64"],
        )
    timed([*hermetic, "lock"], conda_only, env)
    with (proj / "hermetic.toml").open("a") as fh:
        fh.write(
            "[pypi-dependencies]\n"
            + "".join(
                f'{r.split(">")[0].split("=")[0]} = "{r[len(r.split(">")[0].split("=")[0]) :] or "*"}"\n'
                for r in reqs
            )
        )
    # uv alone as hermetic runs it: no interpreter discovery, never a download
    uv_env = dict(env, UV_PYTHON_DOWNLOADS="never")
    timed([*hermetic, "lock"], proj, env)
    # uv alone, asked what hermetic asks it: the same requirements, and the Python
    # distributions the conda solve provides pinned as they are (else uv would pick newer
    # ones from PyPI and solve an easier, wrong problem)
    from hermetic.lock.read import load_lock
    from hermetic.resolve.mapping import provided_distributions
    from hermetic.resolve.pypi import stub_requirements

    records = load_lock(proj / "hermetic.lock").conda_records("default", "linux-64")
    os.environ["HERMETIC_CACHE_DIR"] = env["HERMETIC_CACHE_DIR"]  # the stubs hermetic uses
    stubs = stub_requirements(provided_distributions(records), proj)
    (proj / "req.in").write_text("\n".join([*reqs, *stubs]) + "\n")
    h, u, c = [], [], []
    for _ in range(repeat):
        (proj / "hermetic.lock").unlink(missing_ok=True)
        # uv reads an existing output file as preferences: start it fresh, as hermetic starts
        (proj / "pylock.uv.toml").unlink(missing_ok=True)
        h.append(timed([*hermetic, "lock"], proj, env))
        (conda_only / "hermetic.lock").unlink(missing_ok=True)
        c.append(timed([*hermetic, "lock"], conda_only, env))
        u.append(timed([uv_bin(), "pip", "compile", "req.in", "--python", sys.executable,
                        "--python-version", "3.10.13",
                        "--python-platform", "x86_64-manylinux_2_28", "--format", "pylock.toml",
                        "-o", "pylock.uv.toml", "-q"], proj, uv_env))  # fmt: skip
    hm, um, cm = (statistics.median(x) for x in (h, u, c))
    print(
        f"mixed conda + PyPI lock: hermetic {hm:.3f}s (the same lock without its PyPI part "
        f"{cm:.3f}s, so PyPI {hm - cm:.3f}s); uv alone on the PyPI part {um:.3f}s; "
        f"PyPI ratio {(hm - cm) / um:.2f} (target <= 1.2)"
    )


if __name__ == "__main__":
    main()
