"""The PyPI part of an environment: uv into the environment's own interpreter.

Exactly the locked set: `--no-deps` (the lock is already closed under dependencies),
`--require-hashes` (each artifact is checked against the lock's sha256), `--no-index`
(every requirement is a direct URL, so no index is ever asked). Only distributions whose
`INSTALLER` is `uv` are ever removed: conda's own Python packages are left alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hermetic.errors import HermeticError, LockError
from hermetic.lock.model import PypiArtifact
from hermetic.lock.model import requirement_url as requirement_url  # moved to lock/


@dataclass(frozen=True)
class InstalledDist:
    name: str  # canonical
    version: str
    url: str | None  # from direct_url.json
    dist_info: Path


def python_of(prefix: Path) -> Path:
    return Path(prefix) / "bin" / "python"


def uv_installed(prefix: Path) -> dict[str, InstalledDist]:
    """Distributions in the environment that uv installed (INSTALLER == uv)."""
    from packaging.utils import canonicalize_name

    out: dict[str, InstalledDist] = {}
    for sp in sorted(Path(prefix).glob("lib/python*/site-packages")):
        for d in sp.glob("*.dist-info"):
            try:
                installer = (d / "INSTALLER").read_text().strip()
            except OSError:
                continue
            if installer != "uv":
                continue
            name, _, version = d.name[: -len(".dist-info")].partition("-")
            url = None
            with contextlib.suppress(OSError, ValueError):
                url = json.loads((d / "direct_url.json").read_text()).get("url")
            out[canonicalize_name(name)] = InstalledDist(canonicalize_name(name), version, url, d)
    return out


def plan_removals(prefix: Path, packages: Sequence[PypiArtifact]) -> list[str]:
    """uv-installed distributions that the lock no longer has (by name and version)."""
    from packaging.version import InvalidVersion, Version

    locked = {p.name: p for p in packages}
    out = []
    for name, dist in uv_installed(prefix).items():
        p = locked.get(name)
        if p is None:
            out.append(name)
            continue
        try:
            same = Version(p.version) == Version(dist.version)
        except InvalidVersion:
            same = p.version == dist.version
        if not same:
            out.append(name)
    return sorted(out)


def up_to_date(prefix: Path, packages: Sequence[PypiArtifact]) -> bool:
    """Every locked package is installed by uv, at its version, from its URL."""
    from packaging.version import InvalidVersion, Version

    have = uv_installed(prefix)
    if set(have) != {p.name for p in packages}:
        return False
    for p in packages:
        d = have[p.name]
        try:
            if Version(d.version) != Version(p.version):
                return False
        except InvalidVersion:
            if d.version != p.version:
                return False
        if d.url is not None and d.url != requirement_url(p.url):
            return False
    return True


def uninstall(prefix: Path, names: Sequence[str]) -> None:
    if not names:
        return
    py = python_of(prefix)
    if not py.exists():  # the interpreter is gone: nothing can import them anyway
        return
    _uv(["pip", "uninstall", "--python", str(py), *names], prefix)


def install(prefix: Path, packages: Sequence[PypiArtifact], *, reinstall: bool = False) -> None:
    if not packages:
        return
    py = python_of(prefix)
    if not py.exists():
        raise LockError(
            f"the environment has PyPI packages but no Python interpreter at {py}",
            hint="add python to the conda dependencies and run `hermetic lock`",
        )
    # A path or git dependency has no fixed bytes to hash (the lock pins a directory or a
    # commit): those go in a second uv call, without --require-hashes.
    hashed = [p for p in packages if p.sha256]
    sources = [p for p in packages if not p.sha256]
    for p in sources:
        if not (p.is_git or p.is_directory):
            raise LockError(
                f"PyPI package {p.name} {p.version} has no sha256 in the lock",
                hint="re-create the lock with `hermetic lock`",
            )
    if hashed:
        lines = [f"{p.name} @ {p.requirement_url} --hash=sha256:{p.sha256}" for p in hashed]
        _install_lines(prefix, py, lines, ["--require-hashes", "--no-index"], hashed, reinstall)
    if sources:
        lines = [f"{p.name} @ {p.requirement_url}" for p in sources]
        # --no-deps still holds; an index stays reachable for the build backend a source
        # tree names in its build-system.requires (uv's configured index, PyPI by default)
        _install_lines(prefix, py, lines, [], sources, reinstall)


def _install_lines(
    prefix: Path,
    py: Path,
    lines: list[str],
    extra: list[str],
    packages: Sequence[PypiArtifact],
    reinstall: bool,
) -> None:
    # a local build may still need its backend from the index: only a no-index install of
    # local artifacts is offline
    offline = "--no-index" in extra and all(
        p.requirement_url.startswith("file://") for p in packages
    )
    with tempfile.TemporaryDirectory(prefix="hermetic-pypi-") as tmp:
        req = Path(tmp) / "requirements.txt"
        req.write_text("\n".join(lines) + "\n")
        args = ["pip", "install", "--python", str(py), "--no-deps", *extra]
        args += ["-r", str(req)]
        if offline:
            args.append("--offline")
        if reinstall:
            args.append("--reinstall")
        _uv(args, prefix)


def _uv(args: list[str], prefix: Path) -> None:
    # imported here: the resolver module is costly to import and only needed when uv runs
    from hermetic.resolve.pypi import uv_bin

    env = dict(os.environ)
    env.pop("VIRTUAL_ENV", None)
    env.pop("CONDA_PREFIX", None)
    env.setdefault("UV_NO_PROGRESS", "1")
    try:
        proc = subprocess.run(
            [uv_bin(), *args, "--quiet"], capture_output=True, text=True, env=env, check=False
        )
    except OSError as exc:
        raise HermeticError(f"cannot run uv: {exc.strerror}") from None
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip()
        raise HermeticError(
            f"uv could not {args[1]} the PyPI packages of {prefix}:\n{detail}",
            hint="a hash mismatch means an artifact changed since it was locked",
        )
