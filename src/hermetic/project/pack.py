"""The pack use cases (`pack`, `unpack`, `bundle`, `install --bundle`): lock → archive,
archive → environment, lock → bundle → environment.

They compose the layers (the lock, the verified package cache in `env`, the tar writer
in `condapkg`, the mechanisms in `pack/`, the installer); the CLI calls only these.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hermetic import settings
from hermetic.condapkg import compression_for
from hermetic.errors import UsageError
from hermetic.layout import LOCK_NAME, env_prefix
from hermetic.lock.model import PypiArtifact
from hermetic.lock.read import Lock, load_lock, not_locked_error
from hermetic.pack.archive import Packed, check_archive, unpack, write_pack
from hermetic.pack.bundle import Bundle, absolute_lock, check_bundle, write_bundle
from hermetic.pack.layout import SpecActivation, pack_members
from hermetic.pack.stage import staged
from hermetic.platform import current_platform
from hermetic.project.project import Project


@dataclass(frozen=True)
class PackResult:
    packed: Packed
    environment: str
    platform: str
    conda: int
    pypi: int
    seconds: float
    #: the manifest's activation scripts, which live in the project and are not packed
    scripts_left_out: tuple[str, ...] = ()


def _locked(
    lock: Lock, environment: str, platform: str | None
) -> tuple[str, list[Any], tuple[PypiArtifact, ...]]:
    lock.require_environment(environment)
    have = lock.platforms(environment)
    target = platform or current_platform()
    if target not in have:
        raise not_locked_error(environment, target, have, pick=True)
    return target, lock.conda_records(environment, target), lock.pypi_packages(environment, target)


def pack(
    project: Project,
    environment: str,
    out: Path,
    *,
    platform: str | None = None,
    cache: Path | None = None,
) -> PackResult:
    """Write the relocatable archive of `environment` × `platform` from the project's lock.

    `bin/activate` in the archive exports the manifest's `[activation.env]` of the
    environment too, as `hermetic run` does; its activation scripts stay in the project."""
    start = time.monotonic()
    compression_for(out)  # an unknown extension is refused before any work
    # `project.lock` with no lock file is the one clear error: "run `hermetic lock` first"
    target, records, pypi = _locked(project.lock, environment, platform)
    activation = project.environment(environment).activation(target)
    cache = cache or settings.current().package_cache_dir
    with staged(records, pypi, target, cache, project.mirrors) as env:
        members = pack_members(env, SpecActivation(environment, activation))
        packed = write_pack(members, out)
    return PackResult(
        packed,
        environment,
        target,
        len(records),
        len(pypi),
        time.monotonic() - start,
        activation.scripts,
    )


@dataclass(frozen=True)
class UnpackResult:
    dest: Path
    members: int
    message: str
    seconds: float


def unpack_archive(archive: Path, dest: Path) -> UnpackResult:
    start = time.monotonic()
    count, message = unpack(archive, dest)
    return UnpackResult(Path(dest).absolute(), count, message, time.monotonic() - start)


def verify_archive(archive: Path) -> int:
    return check_archive(archive).members


def bundle(
    project: Project,
    environment: str,
    out: Path,
    *,
    platform: str | None = None,
    cache: Path | None = None,
) -> Bundle:
    """Write the offline channel of `environment` × `platform` from the project's lock, its
    archives fetched from the channels' mirrors when configured."""
    target, records, pypi = _locked(project.lock, environment, platform)
    cache = cache or settings.current().package_cache_dir
    return write_bundle(
        project.lock_path, environment, target, records, pypi, out, cache, project.mirrors
    )


def install_from_bundle(
    bundle_dir: Path,
    environment: str,
    *,
    prefix: Path | None = None,
    root: Path | None = None,
    cache: Path | None = None,
) -> Any:  # hermetic.env.install.InstallResult
    """Install `environment` from the bundle's lock and files only (checked first)."""
    from hermetic.env.install import install_environment

    bundle_dir = Path(bundle_dir).resolve()
    lock_path = bundle_dir / LOCK_NAME
    if not lock_path.is_file():
        raise UsageError(
            f"{bundle_dir} is not a hermetic bundle: it has no {LOCK_NAME}",
            hint="make one with `hermetic bundle -o DIR`",
        )
    root = Path(root) if root is not None else Path.cwd()
    with tempfile.TemporaryDirectory(prefix="hermetic-bundle-") as tmp:
        # the bundle's lock names its files relative to itself (so it can move); rattler
        # wants absolute paths, so install from a copy pointing into wherever it is now
        local_lock = Path(tmp) / LOCK_NAME
        local_lock.write_text(absolute_lock(lock_path.read_text(), bundle_dir))
        target, records, pypi = _locked(load_lock(local_lock), environment, None)
        check_bundle(bundle_dir, records, pypi)
        return install_environment(
            local_lock,
            root,
            environment,
            platform=target,
            prefix=prefix or env_prefix(root, environment),
            cache=cache,
        )
