"""Git dependencies keep their locked commit across re-locks, as in pixi, uv and cargo.

A spec names a git source by a movable reference (`branch = "main"`, a tag, or none: the
default branch); the lock records the commit it resolved to. A re-lock asks uv for that
commit again as long as the spec still asks for the same repository and reference, so a new
upstream commit never changes the lock by itself. `lock --update NAME` (or `--update`) frees
it, and a changed `branch`/`tag`/`rev` in the spec resolves the new reference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from hermetic.channel import strip_url
from hermetic.lock.inputs import recorded_requirement
from hermetic.lock.model import PypiArtifact
from hermetic.lock.read import Lock
from hermetic.manifest.model import Environment

_COMMIT = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")


@dataclass(frozen=True)
class GitUrl:
    """`git+https://host/repo.git@ref#subdirectory=x`, split (credentials stay in `repo`)."""

    repo: str  # with the `git+` prefix, without the reference
    ref: str | None
    fragment: str  # "" or "#subdirectory=…"

    @classmethod
    def parse(cls, url: str) -> GitUrl:
        head, hash_, fragment = url.partition("#")
        parts = urlsplit(head)
        # the reference follows the last "@" of the path (an "@" in the netloc is userinfo)
        path, at, ref = parts.path.rpartition("@")
        if not at:
            path, ref = parts.path, ""
        # built by hand: urlunsplit would turn `git+file:///x` into `git+file:/x`
        repo = f"{parts.scheme}://{parts.netloc}{path}" + (f"?{parts.query}" if parts.query else "")
        return cls(repo, ref or None, hash_ + fragment)

    @property
    def place(self) -> str:
        """The repository alone: no credentials, no query (pixi's `?branch=`), no `.git`."""
        return strip_url(self.repo.partition("?")[0]).removesuffix("/").removesuffix(".git")

    def at(self, ref: str) -> str:
        return f"{self.repo}@{ref}{self.fragment}"


def locked_commit(artifact: PypiArtifact) -> str | None:
    """The commit a locked git artifact is pinned to: hermetic writes `…@<commit>`, pixi
    writes `…?rev=<ref>#<commit>`."""
    if not artifact.is_git:
        return None
    fragment = artifact.url.partition("#")[2]
    if _COMMIT.fullmatch(fragment):
        return fragment
    ref = GitUrl.parse(artifact.url).ref
    return ref if ref is not None and _COMMIT.fullmatch(ref) else None


def _pixi_requested(artifact: PypiArtifact) -> tuple[str, ...] | None:
    """pixi's record of what the spec asked (`?branch=main`, `?tag=v1`, `?rev=…`), or None
    when the URL is not in pixi's form."""
    head, _, fragment = artifact.url.partition("#")
    if not _COMMIT.fullmatch(fragment):
        return None
    query = parse_qs(urlsplit(head).query)
    return tuple(v for key in ("rev", "tag", "branch") for v in query.get(key, ()))


def git_pins(
    previous: Lock, members: tuple[Environment, ...], platform: str, update: frozenset[str]
) -> tuple[tuple[str, str], ...]:
    """(requirement as the spec writes it, the same at the locked commit) for each git
    dependency whose repository and reference are what the previous lock was made from."""
    from packaging.requirements import Requirement

    names = previous.environment_names()
    pins: dict[str, str] = {}
    for env in members:
        if env.name not in names or platform not in previous.platforms(env.name):
            continue
        locked = {a.name: a for a in previous.pypi_packages(env.name, platform) if a.is_git}
        inputs = previous.meta.inputs.get(env.name) if previous.meta else None
        asked = set(inputs.pypi_for(platform)) if inputs is not None else None
        for dep in env.pypi_dependencies(platform):
            a = locked.get(dep.name)
            if a is None or dep.name in update or dep.requirement in pins:
                continue
            req = Requirement(dep.requirement)
            commit = locked_commit(a)
            if commit is None or req.url is None or not req.url.startswith("git+"):
                continue
            url = GitUrl.parse(req.url)
            if asked is not None:
                # hermetic's own lock: the spec must ask exactly what it asked then
                if recorded_requirement(dep.requirement) not in asked:
                    continue
            else:
                # an adopted pixi.lock: the same repository and reference
                requested = _pixi_requested(a)
                if requested != ((url.ref,) if url.ref else ()):
                    continue
                if GitUrl.parse(a.url.partition("#")[0]).place != url.place:
                    continue
            if url.ref == commit:
                continue
            req.url = url.at(commit)
            pins[dep.requirement] = str(req)
    return tuple(sorted(pins.items()))
