"""Where a project's files are: its manifest, its lock, its environments, its config.

A project is the nearest directory, from where a command runs upwards, that holds a
manifest. The CLI, the doctor and the use cases used to find it three ways with three
rules (one counted a bare lock, one ignored environment.yml); `find_project` is now the
only rule, and every path below the project root is named here.
"""

from __future__ import annotations

import importlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from hermetic.errors import SpecError, UsageError

HERMETIC_TOML = "hermetic.toml"
PYPROJECT = "pyproject.toml"
PIXI_TOML = "pixi.toml"
ENV_YML = ("environment.yml", "environment.yaml")
#: In one directory the first of these that holds a spec wins; a pyproject.toml counts with
#: [tool.hermetic], and after pixi.toml with [tool.pixi] (pixi's own order).
MANIFEST_CANDIDATES: tuple[tuple[str, str | None], ...] = (
    (HERMETIC_TOML, None),
    (PYPROJECT, "hermetic"),
    (PIXI_TOML, None),
    (PYPROJECT, "pixi"),
    *((name, None) for name in ENV_YML),
)
MANIFEST_NAMES = tuple(dict.fromkeys(name for name, _ in MANIFEST_CANDIDATES))
LOOKED_FOR = (
    f"{HERMETIC_TOML}, {PYPROJECT} with [tool.hermetic] or [tool.pixi], {PIXI_TOML}, "
    f"or {' / '.join(ENV_YML)}"
)

LOCK_NAME = "hermetic.lock"
#: hermetic's own state in a project: environments and the project's config
STATE_DIR = Path(".hermetic")
ENVS_DIR = STATE_DIR / "envs"
PROJECT_CONFIG = STATE_DIR / "config.toml"

#: Written last by a successful install, removed first by the next one.
# Not *.json: conda, pixi and micromamba read every conda-meta/*.json as a package record.
MARKER = Path("conda-meta") / "hermetic-complete"
#: The bash activation script of the installed packages (rattler-generated), for `run`.
ACTIVATION_SCRIPT = Path("conda-meta") / "hermetic-activate.bash"


#: what an environment name may be (as in the manifest): it becomes a directory name
ENV_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def env_prefix(root: Path, name: str) -> Path:
    """`<project root>/.hermetic/envs/<name>`; a name that is not a plain name is refused
    (a hand-edited lock's `../../../x` must not become a path)."""
    if not ENV_NAME_RE.fullmatch(name) or name in (".", ".."):
        from hermetic.errors import UsageError

        raise UsageError(
            f"invalid environment name {name!r}",
            hint="environment names are letters, digits, '-', '_' and '.'; "
            "if the lock has this name, re-create it with `hermetic lock`",
        )
    return Path(root) / ENVS_DIR / name


@dataclass(frozen=True)
class Layout:
    """A found project: its manifest and the paths derived from its root."""

    manifest: Path  # absolute
    root: Path  # the manifest's directory

    @property
    def lock_path(self) -> Path:
        return self.root / LOCK_NAME

    @property
    def config_path(self) -> Path:
        return self.root / PROJECT_CONFIG

    def env_prefix(self, name: str) -> Path:
        return env_prefix(self.root, name)


def has_tool_table(path: Path, tool: str = "hermetic") -> bool:
    """Whether a pyproject.toml has a `[tool.<tool>]` table (read cheaply, syntax errors too)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    try:
        data = toml_loads(text)
    except Exception:
        # a broken file that means to be ours: let the reader report the syntax error
        pattern = rf"^\s*\[\s*tool\s*\.\s*{re.escape(tool)}\s*[\].]"
        return re.search(pattern, text, re.M) is not None
    section = data.get("tool")
    return isinstance(section, dict) and tool in section


def has_tool_hermetic(path: Path) -> bool:
    """Whether a pyproject.toml has a [tool.hermetic] table."""
    return has_tool_table(path, "hermetic")


def manifest_in(folder: Path) -> Path | None:
    """The manifest of `folder` itself, if it has one (see `MANIFEST_CANDIDATES` for the order)."""
    for name, tool in MANIFEST_CANDIDATES:
        candidate = folder / name
        if candidate.is_file() and (tool is None or has_tool_table(candidate, tool)):
            return candidate
    return None


def find_manifest(start: Path) -> Path:
    """The manifest of the project `start` is in: the nearest directory upwards that has one."""
    start = Path(start).absolute()
    if start.is_file():
        start = start.parent
    for folder in (start, *start.parents):
        found = manifest_in(folder)
        if found is not None:
            return found
    raise SpecError(
        f"no manifest found in {start} or any parent directory (looked for {LOOKED_FOR})",
        hint="create hermetic.toml, or convert an existing file with "
        "`hermetic init --from environment.yml` (or pixi.toml)",
    )


def find_project(manifest: Path | None = None, cwd: Path | None = None) -> Layout:
    """The project of `manifest` (a file, or a directory to search from), else of `cwd`.

    A manifest file named explicitly need not have a conventional name; a directory is
    searched upwards like the current directory is.
    """
    if manifest is not None and manifest.is_dir():
        path = find_manifest(manifest)
    elif manifest is not None:
        path = manifest
        if not path.exists():
            raise UsageError(f"no such manifest: {path}", hint=f"a manifest is one of {LOOKED_FOR}")
    else:
        path = find_manifest(cwd if cwd is not None else Path.cwd())
    path = path.resolve()
    return Layout(manifest=path, root=path.parent)


def toml_loads(text: str) -> dict[str, object]:
    """tomllib on 3.11+, tomli (same API) on 3.10."""
    module = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
    try:
        data: dict[str, object] = module.loads(text)
    except RecursionError:  # 1,000s of nested arrays or inline tables: a syntax error too
        raise ValueError("arrays or tables nested too deeply") from None
    return data
