"""`doctor --lock`: check a locked env x platform from package metadata, without installing.

The lock layer is imported here only, and only inside functions, so the rest of the doctor
works (and imports fast) without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from hermetic.doctor.runtimes import Runtime, runtime_from_conda, runtime_from_pypi
from hermetic.platform import default_linux_platform


class LockLike(Protocol):
    def environment_names(self) -> tuple[str, ...]: ...
    def platforms(self, env: str) -> tuple[str, ...]: ...
    def conda_records(self, env: str, platform: str) -> list[Any]: ...
    def pypi_packages(self, env: str, platform: str) -> tuple[Any, ...]: ...
    def system_requirements(self, env: str) -> object: ...


@dataclass(frozen=True)
class LockedRuntimes:
    env: str
    platform: str
    runtimes: tuple[Runtime, ...]
    declared_cuda: str | None


def load(path: Path) -> LockLike:
    from hermetic.lock.read import load_lock

    return load_lock(path)


def default_platform() -> str:
    """This machine's platform when it is a linux one, else linux-64 (what deploys)."""
    return default_linux_platform()


def locked_runtimes(lock: LockLike, env: str, platform: str) -> LockedRuntimes:
    found: list[Runtime] = []
    for rec in lock.conda_records(env, platform):
        r = runtime_from_conda(rec.name.normalized, str(rec.version), rec.build)
        if r is not None:
            found.append(r)
    for pkg in lock.pypi_packages(env, platform):
        r = runtime_from_pypi(pkg.name, pkg.version, pkg.url or "")
        if r is not None:
            found.append(r)
    declared = getattr(lock.system_requirements(env), "cuda", None)
    return LockedRuntimes(env, platform, tuple(dict.fromkeys(found)), declared)
