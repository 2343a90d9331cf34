"""Dependency tables: conda `name = "spec"` and PyPI `name = "spec" | { … }`, in any TOML form.

The conda table takes a version, a build and a channel; pixi's fields that pin a file or a
source build are refused with a clear error (they change what gets installed). The PyPI table
takes pixi's keys: version, extras, markers (or env-markers), url, path (editable), and git
with one of rev, tag or branch, and a subdirectory.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from hermetic.manifest.fields import describe
from hermetic.manifest.model import CondaDependency, PypiDependency
from hermetic.manifest.requirements import (
    conda_from_parts,
    git_url,
    pypi_from_parts,
    pypi_from_string,
)
from hermetic.manifest.toml_locator import Key
from hermetic.manifest.toml_values import Table, TomlValues

CONDA_TABLE_KEYS = ("version", "build", "channel")
# pixi's match-spec fields that pin what gets installed: refused rather than ignored
CONDA_REFUSED_KEYS = (
    "build-number",
    "file-name",
    "subdir",
    "md5",
    "sha256",
    "path",
    "url",
    "git",
    "rev",
    "tag",
    "branch",
)
PYPI_TABLE_KEYS = (
    "version",
    "extras",
    "url",
    "path",
    "markers",
    "env-markers",
    "editable",
    "git",
    "rev",
    "tag",
    "branch",
    "subdirectory",
)


class DependencyReader(TomlValues):
    """Reads conda and PyPI dependency tables."""

    def conda_deps(self, value: object, keys: Key) -> tuple[CondaDependency, ...]:
        table = self.table(value, keys, "a table of conda package names and version specs")
        out: dict[str, CondaDependency] = {}
        for name, spec in table.items():
            k = (*keys, name)
            w = self.at(*k)
            if isinstance(spec, str):
                dep = conda_from_parts(name, spec, None, None, w, self.base)
            elif isinstance(spec, dict):
                for key in CONDA_REFUSED_KEYS:
                    if key in spec:
                        raise self.at(*k, key).error(
                            f"{w.key}: {key!r} is not supported in a conda dependency",
                            hint="a conda dependency has a version, a build and a channel "
                            "(source packages and pinned files are pixi-build features)",
                        )
                self.known_keys(spec, k, CONDA_TABLE_KEYS)
                version, build, channel = (
                    self.optional_string(spec, k, key) for key in CONDA_TABLE_KEYS
                )
                dep = conda_from_parts(name, version, build, channel, w, self.base)
            else:
                raise w.error(
                    f"{w.key}: expected a version spec string or a table "
                    f"{{version, build, channel}}, got {describe(spec)}",
                    hint=f'e.g. {name} = ">=1.2" or {name} = {{ version = "1.2.*", channel = "conda-forge" }}',
                )
            if dep.name in out:
                raise w.error(f"{w.key}: {dep.name!r} is listed twice (names are case-insensitive)")
            out[dep.name] = dep
        return tuple(out.values())

    def pypi_deps(self, value: object, keys: Key) -> tuple[PypiDependency, ...]:
        table = self.table(value, keys, "a table of PyPI names and requirement specs")
        out: dict[str, PypiDependency] = {}
        for name, spec in table.items():
            k = (*keys, name)
            w = self.at(*k)
            if isinstance(spec, str):
                dep = pypi_from_parts(name, w, self.base, version=spec)
            elif isinstance(spec, dict):
                dep = self.pypi_table(name, spec, k)
            else:
                raise w.error(
                    f"{w.key}: expected a requirement spec string or a table "
                    f"{{version, extras, url, path, git, markers}}, got {describe(spec)}",
                    hint=f'e.g. {name} = ">=2.3" or {name} = {{ version = ">=2.3", extras = ["cli"] }}',
                )
            if dep.name in out:
                raise w.error(f"{w.key}: {dep.name!r} is listed twice (names are normalized)")
            out[dep.name] = dep
        return tuple(out.values())

    def pypi_table(self, name: str, spec: Table, k: Key) -> PypiDependency:
        w = self.at(*k)
        self.known_keys(spec, k, PYPI_TABLE_KEYS, foreign=("index",))
        s = {
            key: self.string(spec[key], (*k, key))
            for key in PYPI_TABLE_KEYS
            if key in spec and key not in ("extras", "editable")
        }
        if "markers" in s and "env-markers" in s:
            raise w.error(f"{w.key}: give markers or env-markers, not both")
        markers = s.get("markers") or s.get("env-markers")
        extras = self.strings(spec["extras"], (*k, "extras")) if "extras" in spec else []
        editable = self.boolean(spec["editable"], (*k, "editable")) if "editable" in spec else False
        refs = [key for key in ("rev", "tag", "branch") if key in s]
        url, path = s.get("url"), s.get("path")
        if "git" in s:
            if url is not None or path is not None:
                raise w.error(f"{w.key}: give one of git, url or path")
            if len(refs) > 1:
                raise w.error(
                    f"{w.key}: give one of rev, tag or branch, not {' and '.join(refs)}",
                    hint="a git dependency is locked to one commit",
                )
            git = s["git"] or ""
            url = git_url(git, s[refs[0]] if refs else None, s.get("subdirectory"))
        elif refs:
            raise self.at(*k, refs[0]).error(
                f"{w.key}: {refs[0]!r} only goes with a git source",
                hint=f'e.g. {name} = {{ git = "https://github.com/org/{name}", {refs[0]} = "…" }}',
            )
        elif "subdirectory" in s:
            if path is not None:
                path = str(Path(path) / (s["subdirectory"] or ""))
            elif url is not None:
                url += f"#subdirectory={s['subdirectory']}"
        return pypi_from_parts(
            name,
            w,
            self.base,
            version=s.get("version"),
            extras=extras,
            url=url,
            path=path,
            markers=markers,
            editable=editable,
        )

    def project_dependencies(self, value: object) -> tuple[PypiDependency, ...]:
        keys = ("project", "dependencies")
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            w = self.at(*keys, absolute=True)
            raise w.error(f"{w.key}: expected a list of strings, got {describe(value)}")
        out: dict[str, PypiDependency] = {}
        for i, line in enumerate(value):
            dep = pypi_from_string(line, self.at(*keys, i, absolute=True))
            dep = dataclasses.replace(dep, from_package_metadata=True)
            out.pop(dep.name, None)
            out[dep.name] = dep
        return tuple(out.values())
