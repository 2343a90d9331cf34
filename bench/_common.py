"""What several benchmarks share: timing a call, and a locked project of generated packages."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from hermetic.condapkg import PackageSpec, build_channel

HERMETIC = (sys.executable, "-m", "hermetic")


def timed_call(fn: Callable[[], object]) -> float:
    """Seconds `fn()` takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def locked_project(work: Path, pkgs: Sequence[PackageSpec], env: Mapping[str, str]) -> Path:
    """`work/proj`: a spec asking for every one of `pkgs` (built into `work/channel`), locked."""
    t = time.perf_counter()
    build_channel(work / "channel", list(pkgs))
    print(f"built {len(pkgs)} packages in {time.perf_counter() - t:.1f}s")
    proj = work / "proj"
    proj.mkdir()
    deps = "".join(f'{p.name} = "*"\n' for p in pkgs)
    (proj / "hermetic.toml").write_text(
        f'channels = ["{work / "channel"}"]\nplatforms = ["linux-64"]\n[dependencies]\n{deps}'
    )
    subprocess.run([*HERMETIC, "lock"], cwd=proj, env=env, check=True, capture_output=True)
    return proj
