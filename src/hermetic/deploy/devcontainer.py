"""`.devcontainer/devcontainer.json` for one locked environment, as data.

The container is either the environment's image pinned by digest, or built from the
Dockerfile `hermetic image dockerfile` writes. A CUDA environment asks for a GPU as
"optional" (the same file opens on a laptop without one); only a required GPU adds
`--gpus all`. The editor gets the Python and Jupyter extensions with the interpreter set to
the environment's python, the user is non-root, and `[tool.hermetic.devcontainer]` (or
`[devcontainer]` in hermetic.toml) is merged over the result, so teams add what they need
without editing the generated file.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from hermetic.errors import Location, SpecError
from hermetic.layout import toml_loads

GpuNeed = Literal["none", "optional", "required"]
#: where an environment lives inside hermetic's images, and who runs it
IMAGE_ENV_PREFIX = "/opt/env"  # `hermetic image`'s fixed prefix (docs/image.md)
#: hermetic images run as uid 65532 (`hermetic image`'s default user), which has no name in
#: the base's /etc/passwd: the devcontainer CLI takes the number
REMOTE_USER = "65532"
EXTENSIONS = ("ms-python.python", "ms-toolsai.jupyter")
TABLE = "devcontainer"


def env_python(environment: str) -> str:
    """The environment's interpreter inside its image (one env per image, at a fixed prefix)."""
    return f"{IMAGE_ENV_PREFIX}/bin/python"


@dataclass(frozen=True)
class DevcontainerSpec:
    name: str
    environment: str
    image: str | None  # pinned by digest; None: build from `dockerfile`
    dockerfile: str = "Dockerfile"  # relative to .devcontainer/
    context: str = ".."
    gpu: GpuNeed = "none"
    post_create: str | None = None
    remote_user: str = REMOTE_USER
    extra: Mapping[str, Any] = field(default_factory=dict)


def devcontainer(spec: DevcontainerSpec) -> dict[str, Any]:
    python = env_python(spec.environment)
    doc: dict[str, Any] = {"name": spec.name}
    if spec.image is not None:
        doc["image"] = spec.image
    else:
        doc["build"] = {"dockerfile": spec.dockerfile, "context": spec.context}
    doc["remoteUser"] = spec.remote_user
    # no named user to renumber in hermetic's images: updating would only cost an image build
    doc["updateRemoteUserUID"] = False
    doc["containerEnv"] = {"HERMETIC_ENV": spec.environment}
    doc["customizations"] = {
        "vscode": {
            "extensions": list(EXTENSIONS),
            "settings": {
                "python.defaultInterpreterPath": python,
                "python.terminal.activateEnvironment": False,
                "jupyter.kernels.excludePythonEnvironments": [],
            },
        }
    }
    if spec.gpu == "optional":
        doc["hostRequirements"] = {"gpu": "optional"}
    elif spec.gpu == "required":
        doc["hostRequirements"] = {"gpu": True}
        doc["runArgs"] = ["--gpus", "all"]
    doc["postCreateCommand"] = spec.post_create or f"{python} --version"
    return merge(doc, spec.extra)


def merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """`extra` over `base`: tables merge key by key, lists of strings append (deduplicated),
    anything else is replaced."""
    out = copy.deepcopy(dict(base))
    for key, value in extra.items():
        have = out.get(key)
        if isinstance(have, dict) and isinstance(value, Mapping):
            out[key] = merge(have, value)
        elif isinstance(have, list) and isinstance(value, list):
            out[key] = list(dict.fromkeys([*have, *value])) if _hashable(have + value) else value
        else:
            out[key] = copy.deepcopy(value)
    return out


def _hashable(items: list[Any]) -> bool:
    return all(isinstance(i, (str, int, float, bool)) for i in items)


def read_table(manifest: Path) -> dict[str, Any]:
    """`[tool.hermetic.devcontainer]` of a pyproject.toml, `[devcontainer]` of a hermetic.toml."""
    if manifest.suffix != ".toml":
        return {}
    try:
        data = toml_loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # the spec reader has already reported a broken manifest
    tool = data.get("tool")
    if isinstance(tool, dict) and isinstance(tool.get("hermetic"), dict):
        data = tool["hermetic"]
    table = data.get(TABLE, {})
    if not isinstance(table, dict):
        raise SpecError(
            f"{TABLE} must be a table of devcontainer.json keys",
            location=Location(str(manifest)),
            hint="e.g. [tool.hermetic.devcontainer] forwardPorts = [8888]",
        )
    return table


def post_create_command(root: Path, environment: str, has_pre_commit: bool) -> str | None:
    """`pre-commit install` when the project uses pre-commit and the env provides it."""
    if (root / ".pre-commit-config.yaml").exists() and has_pre_commit:
        return f"{IMAGE_ENV_PREFIX}/bin/pre-commit install"
    return None
