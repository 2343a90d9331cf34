"""The tour's devcontainer and k8s steps: generate for the tour's project, then check the files.

Offline and fast: no registry, no cluster. The files are read back and validated with
kubernetes-validate (strict) when it is installed (it comes with `.[test]`), else checked
for the properties hermetic promises.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

from hermetic.errors import HermeticError


class TourLike(Protocol):
    directory: Path
    manifest: Path
    lock: Path


def devcontainer_step(ctx: TourLike) -> tuple[str, ...]:
    from hermetic.project.deploy import generate_devcontainer
    from hermetic.project.project import Project

    result = generate_devcontainer(Project.open(ctx.manifest), None, force=True)
    path = result.written[0].path
    doc = json.loads(path.read_text(encoding="utf-8"))
    python = doc["customizations"]["vscode"]["settings"]["python.defaultInterpreterPath"]
    if doc.get("remoteUser") in (None, "root") or not python.endswith("/bin/python"):
        raise HermeticError(f"the tour's {path} is not what hermetic promises")
    source = doc.get("image") or f"build from .devcontainer/{doc['build']['dockerfile']}"
    return (
        f"wrote {path.relative_to(ctx.directory)}: {source}",
        f"interpreter {python}, user {doc['remoteUser']}, extensions "
        + ", ".join(doc["customizations"]["vscode"]["extensions"]),
        f"post-create: {doc['postCreateCommand']}",
    )


def k8s_step(ctx: TourLike, image: str | None = None) -> tuple[str, ...]:
    """A Job for the tour's environment. `image` is the tour's built image when there is one."""
    import yaml

    from hermetic.deploy.k8s import Resources, WorkloadSpec
    from hermetic.fs import sha256_file
    from hermetic.project.deploy import generate_k8s
    from hermetic.project.project import Project

    lines: list[str] = []
    if image is None:
        # no image step ran: name the image the lock would build, pinned to the lock's hash
        image = f"localhost/hermetic-tour@sha256:{sha256_file(ctx.lock)}"
        lines.append("no image was built in this tour: the Job names the lock's sha256 as digest")
    spec = WorkloadSpec(
        "hermetic-tour",
        "",
        image,
        "job",
        ("tour-demo",),
        requests=Resources(cpu="250m", memory="256Mi"),
        limits=Resources(memory="256Mi"),
    )
    result = generate_k8s(Project.open(ctx.manifest), None, spec, force=True)
    docs = [
        d
        for w in result.written
        for d in yaml.safe_load_all(w.path.read_text(encoding="utf-8"))
        if d is not None
    ]
    checked = _validate([d for d in docs if d.get("kind") != "Kustomization"])
    for w in result.written:
        lines.append(f"wrote {w.path.relative_to(ctx.directory)} ({w.what})")
    lines.extend(result.notes)
    lines.append(checked)
    return tuple(lines)


def _validate(docs: list[dict[str, Any]]) -> str:
    try:
        import kubernetes_validate
        from kubernetes_validate.utils import ValidationError
    except ImportError:
        kubernetes_validate = None
    if kubernetes_validate is None:
        for d in docs:
            pod = d["spec"]["template"]["spec"]
            ctr = pod["containers"][0]
            if (
                "@sha256:" not in ctr["image"]
                or not ctr["securityContext"]["readOnlyRootFilesystem"]
            ):
                raise HermeticError(f"the tour's {d['kind']} is not pinned and hardened")
        return f"{len(docs)} manifest(s) checked: pinned by digest, hardened"
    for d in docs:
        try:
            kubernetes_validate.validate(d, "1.33.0", strict=True)
        except ValidationError as exc:
            raise HermeticError(
                f"the tour's {d['kind']} does not validate: {exc.message}"
            ) from None
    return f"{len(docs)} manifest(s) valid (kubernetes-validate --strict, Kubernetes 1.33)"
