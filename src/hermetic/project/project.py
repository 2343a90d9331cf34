"""`Project`: a project's layout, manifest and lock, each read at most once per command.

A `hermetic run` used to find the project, parse the spec, compose the environment and read
the lock several times over, in whichever layer needed them. A command now opens one
`Project` and passes it along; everything it reads is read on first use and kept.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

from hermetic.errors import LockError, UsageError, did_you_mean
from hermetic.layout import Layout, find_project
from hermetic.lock.read import Lock, load_lock
from hermetic.manifest.load import load_spec
from hermetic.manifest.model import Environment, Spec, SpecWarning
from hermetic.mirrors import Mirrors, load_mirrors
from hermetic.platform import known_platforms, suggest
from hermetic.settings import current as current_settings


class Project:
    """One project, opened by a command. Not thread-safe; not shared between commands."""

    def __init__(
        self,
        layout: Layout,
        warn: Callable[[SpecWarning], None] | None = None,
        platforms: Sequence[str] = (),
    ) -> None:
        self.layout = layout
        self._warn = warn
        self._mirrors: Mirrors | None = None
        self._platforms = tuple(dict.fromkeys(check_platforms(platforms)))
        self._spec: Spec | None = None
        self._lock: Lock | None = None

    @classmethod
    def open(
        cls,
        manifest: Path | None = None,
        cwd: Path | None = None,
        warn: Callable[[SpecWarning], None] | None = None,
        platforms: Sequence[str] = (),
    ) -> Project:
        """The project of `manifest` (a file or a directory), else of `cwd` (default: here).

        `warn` is told, once, what the manifest's reader accepted but the user should fix.
        `platforms` (`lock -p`) replace the manifest's platforms, as conda-lock's `-p` does.
        """
        return cls(find_project(manifest, cwd), warn, platforms)

    @property
    def root(self) -> Path:
        return self.layout.root

    @property
    def manifest_path(self) -> Path:
        return self.layout.manifest

    @property
    def lock_path(self) -> Path:
        return self.layout.lock_path

    @property
    def spec(self) -> Spec:
        """The validated manifest (parsed on first use)."""
        if self._spec is None:
            spec = load_spec(self.layout.manifest)
            if self._platforms:
                # a new Spec composes its environments anew; features' platforms still narrow
                spec = dataclasses.replace(spec, platforms=self._platforms)
            self._spec = spec
            if self._warn is not None:
                for warning in self._spec.warnings:
                    self._warn(warning)
        return self._spec

    @property
    def platform_override(self) -> tuple[str, ...]:
        """The platforms that replace the manifest's (`lock -p`, or the lock's record of it)."""
        return self._platforms

    def use_recorded_platforms(self, platform: str | None = None) -> None:
        """Take the platforms a `lock -p` recorded in the lock, when no -p was given now.

        A lock made with `-p linux-64` is fresh for its platforms even though the manifest
        lists more; `install` takes it when it covers `platform` (the one installing),
        `lock --check` (platform None) always. A plain `hermetic lock` never calls this, so it
        locks for the manifest's platforms again.
        """
        if self._platforms or not self.has_lock:
            return
        from hermetic.lock.format import read_meta

        try:
            meta = read_meta(self.lock_path.read_text(encoding="utf-8"), str(self.lock_path))
        except (OSError, UnicodeDecodeError, LockError):
            return  # the check that follows reports an unreadable or damaged lock, better
        recorded = meta.platform_override if meta is not None else ()
        if not recorded or (platform is not None and platform not in recorded):
            return
        self._platforms = recorded
        if self._spec is not None:
            self._spec = dataclasses.replace(self._spec, platforms=recorded)

    def environment(self, name: str) -> Environment:
        """A composed environment of the spec; an unknown name lists the known ones."""
        return self.spec.environment(name)

    @property
    def mirrors(self) -> Mirrors:
        """`[mirrors]` of the user's config file, then of the project's (which wins)."""
        if self._mirrors is None:
            self._mirrors = load_mirrors([current_settings().config_file, self.layout.config_path])
        return self._mirrors

    @property
    def has_lock(self) -> bool:
        return self.lock_path.is_file()

    @property
    def lock(self) -> Lock:
        """The lock file (parsed on first use); its absence is a clear error."""
        if self._lock is None:
            if not self.has_lock:
                raise LockError(
                    f"no lock file at {self.lock_path}", hint="run `hermetic lock` first"
                )
            self._lock = load_lock(self.lock_path)
        return self._lock

    def lock_changed(self) -> None:
        """Forget the parsed lock: it was just rewritten."""
        self._lock = None


def check_platforms(platforms: Sequence[str]) -> tuple[str, ...]:
    """Platforms given on the command line, each a known one (else a usage error that guesses)."""
    known = known_platforms()
    for p in platforms:
        if p not in known:
            guess = suggest(p) or did_you_mean(p, known)
            raise UsageError(
                f"-p {p}: unknown platform",
                hint=(f"did you mean {guess!r}? " if guess else "") + "valid: " + ", ".join(known),
            )
    return tuple(platforms)
