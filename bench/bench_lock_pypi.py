"""Benchmark hermetic's PyPI locking against plain uv, measured in the same run.

1. One environment: hermetic's PyPI step (`resolve_all`: conda stubs, uv, pylock parsing,
   core metadata for requires_dist) vs `uv pip compile` alone on the same requirements.
   Target: <= 1.2x.
2. A multi-environment, multi-platform project (10 environments x 4 platforms, environments
   sharing feature sets as real workspaces do): hermetic vs uv run once per environment x
   platform (what hermetic did before it deduplicated) and once per distinct request (the
   floor).

Offline by default: a generated find-links wheelhouse (a dependency tree of pure wheels).
With --pypi, case 1 also runs against real PyPI (warm uv cache).

    python bench/bench_lock_pypi.py [--repeat 5] [--pypi]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import timed_call
from hermetic.manifest.model import PypiOptions
from hermetic.resolve.pypi import PypiRequest, resolve_all, uv_bin, uv_platform

PYTHON = "3.11.7"


def write_wheel(dest: Path, name: str, version: str, requires: list[str]) -> None:
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires
    )
    files = {
        f"{dist}/__init__.py": b"",
        f"{info}/METADATA": meta.encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    with zipfile.ZipFile(dest / f"{dist}-{version}-py3-none-any.whl", "w") as zf:
        for arc, data in files.items():
            zf.writestr(arc, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record.append(f"{arc},sha256={digest.decode()},{len(data)}")
        zf.writestr(f"{info}/RECORD", "\n".join([*record, f"{info}/RECORD,,"]) + "\n")


def wheelhouse(dest: Path, n: int = 60) -> list[str]:
    """n packages in 3 versions each; pkg-i depends on two of the next ones. Returns roots."""
    dest.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        deps = [f"pkg-{j}>=1" for j in (2 * i + 1, 2 * i + 2) if j < n]
        for v in ("1.0", "1.1", "2.0"):
            write_wheel(dest, f"pkg-{i}", v, deps)
    return ["pkg-0", "pkg-1"]


def uv_compile(reqs: list[str], platform: str, opts: PypiOptions, work: Path) -> None:
    src = work / "req.in"
    src.write_text("\n".join(reqs) + "\n")
    cmd = [uv_bin(), "pip", "compile", str(src), "--python", sys.executable,
           "--python-version", PYTHON, "--python-platform", uv_platform(platform, "2.28"),
           "--format", "pylock.toml", "-o", str(work / "pylock.toml"), "-q"]  # fmt: skip
    if opts.no_index:
        cmd.append("--no-index")
    for link in opts.find_links:
        cmd += ["--find-links", link]
    env = dict(os.environ, UV_PYTHON_DOWNLOADS="never")
    # uv reads an existing output file as preferences: start fresh, as hermetic does
    (work / "pylock.toml").unlink(missing_ok=True)
    subprocess.run(cmd, check=True, env=env, cwd=work)


def request(env: str, platform: str, reqs: list[str], opts: PypiOptions) -> PypiRequest:
    return PypiRequest(
        environment=env,
        platform=platform,
        python_version=PYTHON,
        requirements=tuple(reqs),
        provided=(),
        options=opts,
    )


def one_environment(name: str, reqs: list[str], opts: PypiOptions, work: Path, repeat: int) -> None:
    req = request("default", "linux-64", reqs, opts)
    resolve_all([req])  # warm both caches
    uv_compile(reqs, "linux-64", opts, work)
    h, u = [], []
    for _ in range(repeat):
        h.append(timed_call(lambda: resolve_all([req])))
        u.append(timed_call(lambda: uv_compile(reqs, "linux-64", opts, work)))
    hm, um = statistics.median(h), statistics.median(u)
    n = len(resolve_all([req])[0])
    print(f"{name:34} {n:4d} pkgs  hermetic {hm:6.3f}s  uv {um:6.3f}s  ratio {hm / um:5.2f}")


def workspace(opts: PypiOptions, roots: list[str], work: Path, repeat: int) -> None:
    platforms = ["linux-64", "linux-aarch64", "osx-arm64", "win-64"]
    # 10 environments over 3 distinct PyPI feature sets (train/eval/serve-like)
    sets = [roots, [*roots, "pkg-5"], ["pkg-3"]]
    envs = {f"env{i}": sets[i % 3] for i in range(10)}
    reqs = [request(e, p, r, opts) for e, r in envs.items() for p in platforms]
    distinct = {(tuple(r.requirements), r.platform) for r in reqs}
    resolve_all(reqs)
    h, every, floor = [], [], []
    for _ in range(repeat):
        h.append(timed_call(lambda: resolve_all(reqs)))
        every.append(
            timed_call(
                lambda: [uv_compile(list(r.requirements), r.platform, opts, work) for r in reqs]
            )
        )
        floor.append(
            timed_call(lambda: [uv_compile(list(rq), p, opts, work) for rq, p in sorted(distinct)])
        )
    hm, em, fm = (statistics.median(x) for x in (h, every, floor))
    print(
        f"{'10 envs x 4 platforms':34} {len(reqs)} requests, {len(distinct)} distinct\n"
        f"{'':34} hermetic {hm:6.3f}s  uv per env x platform {em:6.3f}s ({hm / em:4.2f}x)  "
        f"uv per distinct request, serial {fm:6.3f}s ({hm / fm:4.2f}x)"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--pypi", action="store_true", help="also resolve against real PyPI")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-pypi-") as tmp:
        work = Path(tmp)
        os.environ.setdefault("UV_CACHE_DIR", str(work / "uv-cache"))
        os.environ.setdefault("HERMETIC_CACHE_DIR", str(work / "hermetic-cache"))
        roots = wheelhouse(work / "wheels")
        offline = PypiOptions(find_links=(str(work / "wheels"),), no_index=True)
        print(f"python {PYTHON}, median of {args.repeat}; the machine is shared and loaded")
        one_environment("one env, find-links wheelhouse", roots, offline, work, args.repeat)
        if args.pypi:
            reqs = ["requests>=2.31", "rich>=13", "tqdm", "pydantic>=2"]
            one_environment("one env, PyPI (warm)", reqs, PypiOptions(), work, args.repeat)
        workspace(offline, roots, work, args.repeat)


if __name__ == "__main__":
    main()
