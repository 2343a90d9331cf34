"""Reading a manifest with the reader of its kind: dispatch, nothing more.

Five forms hold a spec: `hermetic.toml` (the keys at top level), `pyproject.toml` with a
`[tool.hermetic]` table, pixi's `pixi.toml` (or a pyproject's `[tool.pixi]`), and a conda
`environment.yml`. `hermetic.layout.find_manifest` finds one from a directory upwards;
`load_spec` reads it.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from hermetic.credentials import remember
from hermetic.errors import HermeticError, Location, SpecError, UsageError

# re-exported: callers have always imported these names from here
from hermetic.layout import (
    ENV_YML,
    HERMETIC_TOML,
    LOOKED_FOR,
    PIXI_TOML,
    PYPROJECT,
    find_manifest,
    has_tool_hermetic,
    has_tool_table,
    toml_loads,
)
from hermetic.manifest.fields import read_text
from hermetic.manifest.model import Spec
from hermetic.platform import default_platforms, known_platforms

__all__ = [
    "ENV_YML",
    "HERMETIC_TOML",
    "LOOKED_FOR",
    "PIXI_TOML",
    "PYPROJECT",
    "default_platforms",
    "find_manifest",
    "has_tool_hermetic",
    "is_pixi_manifest",
    "known_platforms",
    "load_spec",
    "read_text",
]

PIXI_ROOTS = ("workspace", "project")
OUR_KEYS_BESIDE_PIXI = {"policy", "pypi-mapping"}  # what [tool.hermetic] adds to a pixi manifest


def load_spec(path: Path | None = None) -> Spec:
    """Read and validate the spec in `path` (a manifest, or a directory to search from).

    Credentials in its channel and index URLs are remembered in memory for this process
    (`hermetic.credentials`), so an install from a lock (which never records them) can
    authenticate."""
    spec = _read_spec(path)
    urls: list[str] = []
    for name in spec.environment_names:
        with contextlib.suppress(HermeticError):
            env = spec.environment(name)
            urls += env.channels
            urls += [u for u in (env.pypi_options.index_url,) if u]
            urls += env.pypi_options.extra_index_urls
    remember(urls)
    return spec


def _read_spec(path: Path | None = None) -> Spec:
    """Read and validate the spec in `path` (a manifest, or a directory to search from)."""
    if path is None:
        path = find_manifest(Path.cwd())
    path = Path(path)
    if path.is_dir():
        path = find_manifest(path)
    if not path.exists():
        raise UsageError(f"no such manifest: {path}", hint=f"a manifest is one of {LOOKED_FOR}")
    name = path.name.lower()
    if name.endswith((".yml", ".yaml")):
        from hermetic.manifest.envyml import read_environment_yml

        return read_environment_yml(path)
    if name.endswith(".toml"):
        if is_pixi_manifest(path):
            from hermetic.manifest.pixi import read_pixi_manifest

            return read_pixi_manifest(path)
        from hermetic.manifest.toml_source import read_toml_manifest

        return read_toml_manifest(path)
    raise SpecError(
        f"cannot tell what kind of manifest {path.name!r} is",
        location=Location(str(path)),
        hint=f"name it {HERMETIC_TOML}, {PYPROJECT} or {PIXI_TOML} (TOML), or environment.yml",
    )


def is_pixi_manifest(path: Path) -> bool:
    """pixi.toml, or a pyproject.toml whose spec is `[tool.pixi]` ([tool.hermetic] wins)."""
    if path.name == PIXI_TOML:
        return True
    try:
        data = toml_loads(read_text(path))
    except ValueError:
        # let the reader of its name report the syntax error
        return path.name == PYPROJECT and has_tool_table(path, "pixi")
    if path.name == PYPROJECT:
        tool = data.get("tool")
        if not isinstance(tool, dict) or not isinstance(tool.get("pixi"), dict):
            return False
        # [tool.hermetic] beside [tool.pixi] may hold only hermetic's settings for it
        ours = tool.get("hermetic")
        return not isinstance(ours, dict) or set(ours) <= OUR_KEYS_BESIDE_PIXI
    # any other TOML file: pixi's when it has pixi's [workspace] or [project] with channels
    return any(
        isinstance(table, dict) and "channels" in table
        for table in (data.get(k) for k in PIXI_ROOTS)
    )
