"""Reading a TOML spec: `[tool.hermetic]` in pyproject.toml, or the same keys in hermetic.toml.

`FeatureReader` (manifest.feature_table) reads what a feature holds: hermetic's keys are
pixi's. `HermeticReader` adds hermetic's top level around it: name, platforms, environments,
pypi-options, policy and pypi-mapping. pixi's own files are read by `manifest.pixi`, on the
same `FeatureReader`. Every error names the file and the line of the key it is about.
"""

from __future__ import annotations

from pathlib import Path

from hermetic.errors import Location, SpecError
from hermetic.manifest.feature_table import TOP_KEYS, FeatureReader, check_environments
from hermetic.manifest.fields import (
    parse_toml,
    read_text,
)
from hermetic.manifest.model import (
    DEFAULT,
    PypiDependency,
    PypiOptions,
    Spec,
)
from hermetic.manifest.policy_table import read_policy
from hermetic.manifest.toml_locator import TomlLocator
from hermetic.manifest.toml_values import Table
from hermetic.platform import default_platforms

__all__ = ["HermeticReader", "TomlLocator", "parse_toml", "read_toml_manifest"]

PYPROJECT = "pyproject.toml"


def read_toml_manifest(
    path: Path, text: str | None = None, *, project_dependencies: bool = True
) -> Spec:
    """Read a pyproject.toml or hermetic.toml into a validated Spec.

    A `.toml` file other than pyproject.toml is in the hermetic.toml form (keys at top level)
    unless all it has is a `[tool.hermetic]` table. With `project_dependencies=False` the
    PEP 621 `project.dependencies` of a pyproject are left out (`hermetic init` compares with it).
    """
    path = Path(path)
    if text is None:
        text = read_text(path)
    data = parse_toml(text, str(path))
    tool = data.get("tool")
    in_tool = isinstance(tool, dict) and "hermetic" in tool
    if path.name == PYPROJECT or (in_tool and not set(data) - {"tool", "project"}):
        if not in_tool:
            raise SpecError(
                f"{path.name} has no [tool.hermetic] table",
                location=Location(str(path)),
                hint="add one, or create it from a conda file: `hermetic init --from environment.yml`",
            )
        assert isinstance(tool, dict)
        reader = HermeticReader(path, text, ("tool", "hermetic"))
        project = data.get("project")
        return reader.read_hermetic(
            tool["hermetic"],
            kind="pyproject",
            project=project if isinstance(project, dict) else None,
            project_dependencies=project_dependencies,
        )
    return HermeticReader(path, text, ()).read_hermetic(data, kind="hermetic-toml", project=None)


class HermeticReader(FeatureReader):
    """hermetic's top level: name, platforms, the default feature, features, environments,
    pypi-options, policy and pypi-mapping."""

    def read_hermetic(
        self,
        root: object,
        *,
        kind: str,
        project: Table | None,
        project_dependencies: bool = True,
    ) -> Spec:
        root = self.table(root, ())
        self.known_keys(root, (), TOP_KEYS)
        name = None
        if "name" in root:
            name = self.string(root["name"], ("name",))
        elif project is not None and isinstance(project.get("name"), str):
            name = project["name"]
        self.platforms_in_scope = (
            self.platforms(root["platforms"], ("platforms",))
            if "platforms" in root
            else default_platforms()
        )
        pypi_extra: tuple[PypiDependency, ...] = ()
        if project is not None and project_dependencies and "dependencies" in project:
            pypi_extra = self.project_dependencies(project["dependencies"])
        default = self.feature_body(DEFAULT, root, (), top=True, pypi_first=pypi_extra)
        pypi_options = (
            self.pypi_options(root["pypi-options"], ("pypi-options",))
            if "pypi-options" in root
            else PypiOptions()
        )
        features = [default, *self.features(root.get("feature", {}))]
        environments = self.environments(
            root.get("environments", {}), tuple(f.name for f in features[1:])
        )
        policy = read_policy(self, root["policy"], ("policy",)) if "policy" in root else None
        mapping = self.pypi_mapping(root["pypi-mapping"]) if "pypi-mapping" in root else ()
        spec = Spec(
            manifest=self.path,
            kind=kind,
            name=name,
            platforms=self.platforms_in_scope,
            pypi_options=pypi_options,
            features=tuple(features),
            environments=environments,
            pypi_mapping=mapping,
            warnings=self.unsupported_warning(),
            **({"policy": policy} if policy is not None else {}),
        )
        check_environments(spec)
        return spec
