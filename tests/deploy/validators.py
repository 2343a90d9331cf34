"""The validators hermetic's generated files must pass: kubernetes-validate (strict), the
devcontainer JSON schema from ../shared, and check-jsonschema's GitHub workflow schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

SHARED = Path(__file__).resolve().parents[3] / "shared"
if not SHARED.is_dir():  # a worktree sits one level deeper than the main checkout
    SHARED = Path(__file__).resolve().parents[4] / "shared"
DEVCONTAINER_SCHEMA = SHARED / "schemas" / "devContainer.base.schema.json"
K8S_VERSION = "1.33.0"


def k8s_errors(doc: dict[str, Any]) -> list[str]:
    import kubernetes_validate
    from kubernetes_validate.utils import ValidationError

    try:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    except ValidationError as exc:
        return [f"{'.'.join(map(str, exc.path))}: {exc.message}"]
    return []


def yaml_docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def devcontainer_errors(doc: dict[str, Any]) -> list[str]:
    import jsonschema

    schema = json.loads(DEVCONTAINER_SCHEMA.read_text())
    validator = jsonschema.Draft201909Validator(schema)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]


def workflow_errors(path: Path) -> str | None:
    proc = subprocess.run(
        [
            str(Path(sys.executable).with_name("check-jsonschema")),
            "--builtin-schema",
            "vendor.github-workflows",
            str(path),
        ],
        capture_output=True,
        text=True,
    )
    return None if proc.returncode == 0 else proc.stdout + proc.stderr
