"""The PyPI part of an environment: uv into the environment's own interpreter.

Exactly the locked set: `--no-deps` (the lock is already closed under dependencies),
`--require-hashes` (each artifact is checked against the lock's sha256), `--no-index`
(every requirement is a direct URL, so no index is ever asked). Only distributions whose
`INSTALLER` is `uv` are ever removed: conda's own Python packages are left alone.

uv records no artifact hash in an installed distribution (`direct_url.json` has an empty
`archive_info`), so hermetic keeps its own record, `conda-meta/hermetic-pypi-hashes`: the
sha256 of each artifact it installed. An environment is up to date only when each locked
sha256 matches it, so a changed hash in the lock over an installed environment reinstalls
(and then fails on the artifact) instead of being accepted. Local artifacts are hashed
before the environment is touched (`preflight`).
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
from urllib.parse import unquote, urlsplit

from hermetic.credentials import redact_text, redact_url, uv_index_environment
from hermetic.errors import HermeticError, LockError
from hermetic.fs import atomic_write_text, sha256_file
from hermetic.lock.model import PypiArtifact
from hermetic.lock.model import requirement_url as requirement_url  # moved to lock/


@dataclass(frozen=True)
class InstalledDist:
    name: str  # canonical
    version: str
    url: str | None  # from direct_url.json
    dist_info: Path
    editable: bool = False  # direct_url.json's dir_info.editable (PEP 610)


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
            url, editable = None, False
            with contextlib.suppress(OSError, ValueError, AttributeError):
                direct = json.loads((d / "direct_url.json").read_text())
                url = direct.get("url")
                editable = (direct.get("dir_info") or {}).get("editable") is True
            out[canonicalize_name(name)] = InstalledDist(
                canonicalize_name(name), version, url, d, editable
            )
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


#: what hermetic installed with uv: {name: {"version", "url", "sha256"}}
# not *.json: conda, pixi and rattler read every conda-meta/*.json as a package record
INSTALLED_RECORD = Path("conda-meta") / "hermetic-pypi-hashes"


def installed_hashes(prefix: Path) -> dict[str, str | None]:
    """name -> sha256 of the artifact hermetic installed it from (None: a directory or a git
    checkout, which have no fixed bytes); empty when unknown."""
    try:
        doc = json.loads((Path(prefix) / INSTALLED_RECORD).read_text())
        return {str(k): v["sha256"] for k, v in doc.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def record_installed(prefix: Path, packages: Sequence[PypiArtifact]) -> None:
    """After uv succeeded: the artifact sha256 of every installed package."""
    doc = {
        p.name: {"version": str(p.version), "url": redact_url(str(p.url)), "sha256": p.sha256}
        for p in packages
    }
    atomic_write_text(Path(prefix) / INSTALLED_RECORD, json.dumps(doc, indent=1, sort_keys=True))


def preflight(packages: Sequence[PypiArtifact]) -> None:
    """Refuse before anything changes: a package without sha256, or a local artifact that
    does not match the lock (remote ones are checked by uv's `--require-hashes`)."""
    for p in packages:
        if not p.sha256:
            if p.is_directory and p.local_path is not None and not p.local_path.is_dir():
                kind = "an editable" if p.editable else "a path"
                raise LockError(
                    f"PyPI package {p.name} {p.version} is {kind} dependency on "
                    f"{p.local_path}, which is not a directory here",
                    hint="restore the source directory, or point `path` at where it is now "
                    "and run `hermetic lock`",
                )
            if p.is_git or p.is_directory:
                continue  # pinned by a commit or a directory, not by bytes
            raise LockError(
                f"PyPI package {p.name} {p.version} has no sha256 in the lock",
                hint="re-create the lock with `hermetic lock`",
            )
        url = p.requirement_url
        if not url.startswith("file://"):
            continue
        check_artifact(Path(unquote(urlsplit(url).path)), p)


def check_artifact(path: Path, package: PypiArtifact) -> None:
    """Refuse a local artifact (wheel, sdist) whose bytes are not the lock's sha256."""
    try:
        actual = sha256_file(path)
    except OSError as exc:
        raise LockError(
            f"PyPI package {package.name} {package.version}: cannot read {path} ({exc.strerror})",
            hint="was the wheelhouse moved? restore it, or re-lock with `hermetic lock`",
        ) from None
    if actual != package.sha256:
        raise LockError(
            f"{path} does not match the lock: sha256 {actual}, the lock has {package.sha256}",
            hint="the artifact or the lock was changed; restore it, or re-lock on purpose "
            f"with `hermetic lock --update {package.name}`",
        )


def up_to_date(prefix: Path, packages: Sequence[PypiArtifact]) -> bool:
    """Every locked package is installed by uv, at its version, from its URL, from the
    artifact with the locked sha256, editable exactly where the lock says so."""
    from packaging.version import InvalidVersion, Version

    have = uv_installed(prefix)
    if set(have) != {p.name for p in packages}:
        return False
    hashes = installed_hashes(prefix)
    if any(hashes.get(p.name) != p.sha256 for p in packages):
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
        if d.editable != p.editable:  # the spec turned `editable` on or off
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
        # an editable install links the source directory into site-packages (PEP 660): its
        # .py files are imported from where they are, so an edit needs no re-install
        lines = [
            f"-e {p.requirement_url}" if p.editable else f"{p.name} @ {p.requirement_url}"
            for p in sources
        ]
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
    # a private index's artifacts: uv gets the realm's credentials as a named index in its
    # environment (with --no-index it would send none and get a 401)
    auth_env = uv_index_environment(p.requirement_url for p in packages)
    if auth_env:
        extra = [a for a in extra if a != "--no-index"]
    with tempfile.TemporaryDirectory(prefix="hermetic-pypi-") as tmp:
        req = Path(tmp) / "requirements.txt"
        req.write_text("\n".join(lines) + "\n")
        args = ["pip", "install", "--python", str(py), "--no-deps", *extra]
        args += ["-r", str(req)]
        if offline:
            args.append("--offline")
        if reinstall:
            args.append("--reinstall")
        _uv(args, prefix, auth_env)


def _uv(args: list[str], prefix: Path, extra_env: dict[str, str] | None = None) -> None:
    # imported here: the resolver module is costly to import and only needed when uv runs
    from hermetic.resolve.pypi import uv_bin

    env = dict(os.environ)
    env.update(extra_env or {})
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
        detail = redact_text((proc.stderr or proc.stdout).strip())
        raise HermeticError(
            f"uv could not {args[1]} the PyPI packages of {prefix}:\n{detail}",
            hint=_uv_hint(detail),
        )


def _uv_hint(detail: str) -> str | None:
    lowered = detail.lower()
    if "401" in detail or "403" in detail or "unauthorized" in lowered or "forbidden" in lowered:
        return "the index wants credentials: netrc or the keyring; see docs/security.md"
    if "hash mismatch" in lowered or "hashes" in lowered:
        return "an artifact changed since it was locked; re-lock on purpose with `hermetic lock`"
    if "no space left" in lowered:
        return "the disk is full: free some space"
    return None
