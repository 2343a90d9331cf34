"""Generate a large, realistic conda channel (repodata only) for solve and lock benchmarks.

Layered like a real distribution: a few core libraries that everything needs, mid-level
libraries, and many leaf packages; ~10 versions per name, half the dependencies unversioned,
the rest `>=x` or `>=x,<y`, some `constrains`, `__glibc`/`__cuda` and python deps.
Deterministic for a seed.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from pathlib import Path

CORE, MID, LEAF = 60, 540, 2400


def generate(root: Path, names: int = CORE + MID + LEAF, seed: int = 7) -> dict[str, int]:
    rng = random.Random(seed)
    core = [f"core{i}" for i in range(CORE)]
    mid = [f"mid{i}" for i in range(MID)]
    leaf = [f"leaf{i}" for i in range(names - CORE - MID)]
    pkgs_linux: dict[str, dict] = {}
    pkgs_noarch: dict[str, dict] = {}
    pythons = ["3.10.14", "3.11.9", "3.12.4"]
    for v in pythons:
        fn = f"python-{v}-h0_0_cpython.conda"
        pkgs_linux[fn] = _rec("python", v, "h0_0_cpython", ["__glibc >=2.17"], [], "linux-64")

    def versions() -> list[str]:
        major = rng.randint(0, 3)
        return [f"{major + i // 5}.{i % 5}.{rng.randint(0, 3)}" for i in range(rng.randint(6, 14))]

    def deps_from(pool: list[str], k: int) -> list[str]:
        out = []
        for name in rng.sample(pool, min(k, len(pool))):
            r = rng.random()
            if r < 0.5:
                out.append(name)
            elif r < 0.8:
                out.append(
                    f"{name} >=1.{rng.randint(0, 4)}"
                    if rng.random() < 0.5
                    else f"{name} >=0.{rng.randint(0, 4)}"
                )
            else:
                out.append(f"{name} >=0.{rng.randint(0, 4)},<4")
        return out

    for tier, pool, below, k in (
        ("core", core, [], 0),
        ("mid", mid, core, 3),
        ("leaf", leaf, core + mid, 4),
    ):
        for name in pool:
            noarch = tier == "leaf" and rng.random() < 0.3
            for ver in versions():
                depends = deps_from(mid if tier == "leaf" else below, k) if below else []
                if tier == "leaf" and rng.random() < 0.5:
                    depends.append(rng.choice(core))
                if rng.random() < 0.3:
                    depends.append("python >=3.10")
                if tier == "core" and rng.random() < 0.2:
                    depends.append("__glibc >=2.17")
                constrains = [f"{rng.choice(core)} >=0.1"] if rng.random() < 0.05 else []
                builds = ["cuda_1", "cpu_0"] if tier == "mid" and rng.random() < 0.05 else ["h0_0"]
                for build in builds:
                    d = list(depends) + (["__cuda >=12"] if build.startswith("cuda") else [])
                    sub = "noarch" if noarch else "linux-64"
                    fn = f"{name}-{ver}-{build}.conda"
                    (pkgs_noarch if noarch else pkgs_linux)[fn] = _rec(
                        name, ver, build, d, constrains, sub, noarch="generic" if noarch else None
                    )
    for sub, pkgs in (("linux-64", pkgs_linux), ("noarch", pkgs_noarch)):
        d = root / sub
        d.mkdir(parents=True, exist_ok=True)
        doc = {
            "info": {"subdir": sub},
            "packages": {},
            "packages.conda": pkgs,
            "repodata_version": 1,
        }
        (d / "repodata.json").write_text(json.dumps(doc, sort_keys=True))
    return {"linux-64": len(pkgs_linux), "noarch": len(pkgs_noarch)}


def _rec(name, version, build, depends, constrains, subdir, noarch=None) -> dict:
    h = hashlib.sha256(f"{name}-{version}-{build}".encode()).hexdigest()
    rec = {
        "name": name,
        "version": version,
        "build": build,
        "build_number": int(build.split("_")[1]),
        "depends": depends,
        "constrains": constrains,
        "subdir": subdir,
        "md5": h[:32],
        "sha256": h,
        "size": 1000 + int(h[:4], 16),
        "timestamp": 1700000000000,
        "license": "MIT",
    }
    if noarch:
        rec["noarch"] = noarch
    return rec


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".bench/big-channel")
    counts = generate(out)
    print(out, counts, sum(counts.values()))
