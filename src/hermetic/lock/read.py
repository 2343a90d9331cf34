"""Reading `hermetic.lock`: Lock -> environment -> platform, as typed values.

    lock = load_lock(path)
    env = lock.environment("default")        # EnvironmentHeader: channels, platforms, sysreqs
    plat = lock.platform("default", "linux-64")   # PlatformLock: conda records, PyPI artifacts

rattler parses the file (it is rattler's format); each environment x platform is converted
from rattler's objects once per Lock, because a re-lock asks several times.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from hermetic.channel import Channel
from hermetic.errors import Location, LockError, UsageError, did_you_mean
from hermetic.layout import ENV_NAME_RE
from hermetic.lock.format import LockMeta, editable_locations, read_meta
from hermetic.lock.model import EnvironmentHeader, PlatformLock, PypiArtifact
from hermetic.manifest.model import SystemRequirements
from hermetic.textinput import read_lock_text

if TYPE_CHECKING:
    from rattler import LockFile, RepoDataRecord
    from rattler.lock import Environment, PypiLockedPackage


class Lock:
    """A parsed lock file. No other layer needs rattler's lock objects: ask this one."""

    def __init__(self, path: Path, text: str):
        self.path = Path(path)
        self.text = text
        self.meta: LockMeta | None = read_meta(text, str(path))
        self._platforms: dict[tuple[str, str], PlatformLock] = {}
        self._headers: dict[str, EnvironmentHeader] = {}

    @cached_property
    def _lockfile(self) -> LockFile:
        from rattler import LockFile

        try:
            return LockFile.from_path(self.path)
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
        names = tuple(sorted(name for name, _ in self._lockfile.environments()))
        for name in names:  # each becomes a directory name: `../../x` must never
            if not ENV_NAME_RE.fullmatch(name):
                raise LockError(
                    f"{self.path} has an invalid environment name {name!r}",
                    hint="environment names are letters, digits, '-', '_' and '.'; "
                    "re-create the lock with `hermetic lock`",
                )
        return names

    def environment(self, name: str) -> EnvironmentHeader:
        """The environment's channels, platforms and system requirements.

        Raises the usage error that lists the lock's environments when `name` is not one."""
        header = self._headers.get(name)
        if header is None:
            env = self._rattler_env(name)
            header = EnvironmentHeader(
                name=name,
                channels=self._channels(name, [str(c) for c in env.channels()]),
                platforms=self._locked_platforms(name, env),
                system_requirements=self._system_requirements(name),
            )
            self._headers[name] = header
        return header

    def _channels(self, name: str, urls: list[str]) -> tuple[Channel, ...]:
        try:
            # the lock holds URLs: no alias applies, so the alias setting is not read
            return tuple(Channel.parse(url, alias="") for url in urls)
        except UsageError as exc:
            raise LockError(
                f"environment {name!r}: {exc.message}",
                location=Location(str(self.path)),
                hint="the lock was edited by hand; re-create it with `hermetic lock`",
            ) from None

    def platform(self, environment: str, platform: str) -> PlatformLock:
        """What `environment` is locked to on `platform` (a usage error if it is not locked)."""
        key = (environment, platform)
        found = self._platforms.get(key)
        if found is None:
            env = self._rattler_env(environment)
            lp = next((p for p in env.platforms() if str(p.name) == platform), None)
            if lp is None and platform not in self.environment(environment).platforms:
                raise not_locked_error(
                    environment, platform, self.environment(environment).platforms
                )
            # no rattler platform but recorded in the hermetic: block: locked, and empty
            records = (env.conda_repodata_records_for_platform(lp) or []) if lp else []
            pypi = (env.pypi_packages_for_platform(lp) or []) if lp else []
            found = PlatformLock(
                environment=environment,
                platform=platform,
                conda=tuple(sorted(records, key=lambda r: r.name.normalized)),
                pypi=tuple(sorted((self._artifact(p) for p in pypi), key=lambda a: a.name)),
            )
            self._platforms[key] = found
        return found

    # Shortcuts for the common questions; each goes through environment() / platform().

    def require_environment(self, name: str) -> None:
        """Raise the usage error that lists the lock's environments when `name` is not one."""
        self.environment(name)

    def channels(self, env: str) -> tuple[Channel, ...]:
        return self.environment(env).channels

    def platforms(self, env: str) -> tuple[str, ...]:
        return self.environment(env).platforms

    def system_requirements(self, env: str) -> SystemRequirements:
        return self.environment(env).system_requirements

    def conda_records(self, env: str, platform: str) -> list[RepoDataRecord]:
        """The records, installable as they are (a new list each call)."""
        return list(self.platform(env, platform).conda)

    def pypi_packages(self, env: str, platform: str) -> tuple[PypiArtifact, ...]:
        return self.platform(env, platform).pypi

    def _rattler_env(self, name: str) -> Environment:
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

    @cached_property
    def _editable(self) -> frozenset[str]:
        """The URLs of the editable entries (rattler hands locations back in its own form)."""
        return frozenset(self._url(loc) for loc in editable_locations(self.text))

    def _artifact(self, p: PypiLockedPackage) -> PypiArtifact:
        url = self._url(str(p.location))
        return PypiArtifact(
            name=str(p.name),
            version=str(p.version),
            url=url,
            sha256=_sha256(p),
            requires_dist=tuple(str(r) for r in (p.requires_dist or ())),
            requires_python=str(p.requires_python) if p.requires_python else None,
            editable=url in self._editable,
        )

    def _url(self, location: str) -> str:
        """rattler hands local artifacts back as paths; hermetic keeps URLs everywhere."""
        if "://" in location or location.startswith("git+"):
            return location
        # normpath, not resolve(): a source directory keeps the path the spec gives it
        base = self.path.absolute().parent
        return Path(os.path.normpath(base / location)).as_uri()

    def _locked_platforms(self, name: str, env: Environment) -> tuple[str, ...]:
        """The platforms `name` is locked for. rattler's format leaves out a platform with no
        package, so an environment locked empty is known from the `hermetic:` block."""
        have = {str(p.name) for p in env.platforms()}
        inputs = self.meta.inputs.get(name) if self.meta else None
        if inputs is not None:
            have.update(inputs.platforms)
        return tuple(sorted(have))

    def _system_requirements(self, env: str) -> SystemRequirements:
        inputs = self.meta.inputs.get(env) if self.meta else None
        if inputs is None:
            return SystemRequirements()
        return SystemRequirements(**dict(inputs.system_requirements))


def _sha256(p: PypiLockedPackage) -> str | None:
    """The artifact's sha256, or None for a directory or git checkout (which have no hashes:
    rattler then raises AttributeError from inside `hashes.sha256`)."""
    try:
        digest = p.hashes.sha256 if p.hashes is not None else None
    except AttributeError:
        return None
    return digest.hex() if digest else None


def not_locked_error(
    environment: str,
    platform: str,
    have: tuple[str, ...],
    *,
    this_machine: bool = False,
    pick: bool = False,
) -> UsageError:
    """`environment` has no lock for `platform`: say which platforms it has, if any, and how
    to lock this one (`pick`: the command takes -p to choose another)."""
    what = f"{platform} (this machine)" if this_machine else platform
    has = f"the lock has {', '.join(have)}; " if have else "the lock has no platform for it; "
    choose = "pick one with -p, or " if pick and have else ""
    return UsageError(
        f"environment {environment!r} is not locked for {what}",
        hint=f"{has}{choose}add {platform} to `platforms` and run `hermetic lock`",
    )


def load_lock(path: Path) -> Lock:
    path = Path(path)
    try:
        text = read_lock_text(path)
    except FileNotFoundError:
        raise LockError(f"no lock file at {path}", hint="run `hermetic lock` first") from None
    return Lock(path, text)  # a damaged hermetic: block raises LockError with its line
