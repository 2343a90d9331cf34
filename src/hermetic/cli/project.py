"""Finding the project: its manifest, its spec and its lock."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hermetic.lock import LOCK_NAME


@dataclass(frozen=True)
class Project:
    manifest: Path
    root: Path

    @property
    def lock_path(self) -> Path:
        return self.root / LOCK_NAME

    def spec(self):  # -> hermetic.manifest.Spec
        from hermetic.manifest.load import load_spec

        return load_spec(self.manifest)


def find_project(manifest: Path | None) -> Project:
    from hermetic.manifest.load import find_manifest

    if manifest is not None and manifest.is_dir():
        path = find_manifest(manifest)
    elif manifest is not None:
        path = manifest
        if not path.exists():
            from hermetic.errors import UsageError

            raise UsageError(f"no such manifest: {path}")
    else:
        path = find_manifest(Path.cwd())
    path = path.resolve()
    return Project(manifest=path, root=path.parent)
