"""Reading `hermetic.lock`: the records and PyPI packages of each environment x platform."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from hermetic.errors import LockError, UsageError, did_you_mean
from hermetic.lock.format import LockMeta, read_meta
from hermetic.manifest.model import SystemRequirements
from hermetic.resolve.pypi import PypiPackage

LockedPypiPackage = PypiPackage


class Lock:
    """A parsed lock file. Platform objects are rattler's own (a fresh one panics in Rust)."""

    def __init__(self, path: Path, text: str):
        self.path = Path(path)
        self.text = text
        self.meta: LockMeta | None = read_meta(text, str(path))
        # one conversion from rattler per environment x platform: a re-lock asks several times
        self._conda: dict[tuple[str, str], tuple] = {}

    @cached_property
    def _lockfile(self):  # rattler.LockFile
        from rattler import LockFile

        try:
            return LockFile.from_path(str(self.path))
        except (
            BaseException
        ) as exc:  # rattler raises a PanicException (BaseException) on some input
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            raise LockError(
                f"{self.path} is not a valid lock file: {str(exc).strip().splitlines()[0]}",
                hint="re-create it with `hermetic lock`",
            ) from None

    def environment_names(self) -> tuple[str, ...]:
        return tuple(sorted(name for name, _ in self._lockfile.environments()))

    def require_environment(self, name: str) -> None:
        """Raise the usage error that lists the lock's environments when `name` is not one."""
        self._env(name)

    def channels(self, env: str) -> tuple[str, ...]:
        return tuple(str(c) for c in self._env(env).channels())

    def _env(self, name: str):
        env = self._lockfile.environment(name)
        if env is None:
            names = self.environment_names()
            guess = did_you_mean(name, names)
            raise UsageError(
                f"no environment {name!r} in {self.path}",
                hint=(f"did you mean {guess!r}? " if guess else "")
                + "environments: "
                + ", ".join(names),
            )
        return env

    def _platform(self, env_name: str, platform: str):
        for p in self._env(env_name).platforms():
            if str(p.name) == platform:
                return p
        have = ", ".join(self.platforms(env_name))
        raise UsageError(
            f"environment {env_name!r} is not locked for {platform}",
            hint=f"the lock has: {have}; add {platform} to `platforms` and run `hermetic lock`",
        )

    def platforms(self, env: str) -> tuple[str, ...]:
        return tuple(sorted(str(p.name) for p in self._env(env).platforms()))

    def conda_records(self, env: str, platform: str) -> list:
        """list[rattler.RepoDataRecord], installable as they are (a new list each call)."""
        key = (env, platform)
        if key not in self._conda:
            lp = self._platform(env, platform)
            records = self._env(env).conda_repodata_records_for_platform(lp)
            self._conda[key] = tuple(sorted(records or [], key=lambda r: r.name.normalized))
        return list(self._conda[key])

    def pypi_packages(self, env: str, platform: str) -> tuple[PypiPackage, ...]:
        out = []
        for p in self._env(env).pypi_packages_for_platform(self._platform(env, platform)) or []:
            hashes = p.hashes
            out.append(
                PypiPackage(
                    name=str(p.name),
                    version=str(p.version),
                    url=self._url(str(p.location)),
                    sha256=(hashes.sha256.hex() if hashes is not None and hashes.sha256 else None),
                    requires_dist=tuple(str(r) for r in (p.requires_dist or ())),
                    requires_python=str(p.requires_python) if p.requires_python else None,
                )
            )
        return tuple(sorted(out, key=lambda x: x.name))

    def _url(self, location: str) -> str:
        """rattler hands local artifacts back as paths; hermetic keeps URLs everywhere."""
        if "://" in location:
            return location
        return (self.path.parent / location).resolve().as_uri()

    def system_requirements(self, env: str) -> SystemRequirements:
        inputs = self.meta.inputs.get(env) if self.meta else None
        if inputs is None:
            return SystemRequirements()
        return SystemRequirements(**dict(inputs.system_requirements))


def load_lock(path: Path) -> Lock:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LockError(f"no lock file at {path}", hint="run `hermetic lock` first") from None
    except OSError as exc:
        raise LockError(f"cannot read {path}: {exc.strerror}") from None
    return Lock(path, text)  # a damaged hermetic: block raises LockError with its line
