"""`hermetic k8s`: Kubernetes manifests that run an environment's image, by digest."""

from __future__ import annotations

from pathlib import Path

import click

from hermetic.cli.options import manifest_option
from hermetic.cli.render import render_generated, show_warning
from hermetic.deploy.k8s import Resources, WorkloadSpec, name_from
from hermetic.errors import UsageError
from hermetic.project.deploy import generate_k8s
from hermetic.project.project import Project


@click.command("k8s", context_settings={"ignore_unknown_options": False})
@click.option(
    "-e", "--env", "env", default=None, help="The environment (default: gpu, else default)."
)
@click.option(
    "--image",
    required=True,
    help="The image, REF@sha256:… (a tag is resolved to its digest); with --kind build the "
    "builder image (one with hermetic).",
)
@click.option(
    "--kind",
    type=click.Choice(["job", "deployment", "cronjob", "build"]),
    default="job",
    show_default=True,
)
@click.option("--gpus", type=click.IntRange(min=0), default=0, help="GPUs per pod.")
@click.option("--gpu-arch", default=None, help="GPU architecture, e.g. sm_80+ (8.0 or newer).")
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Directory (default: k8s/ENV).",
)
@click.option("--name", default=None, help="Workload name (default: from the project's name).")
@click.option("--namespace", default=None)
@click.option("--cpu", default="1", show_default=True, help="CPU request.")
@click.option("--memory", default="2Gi", show_default=True, help="Memory request and limit.")
@click.option("--cpu-limit", default=None, help="CPU limit (default: none, no throttling).")
@click.option("--memory-limit", default=None, help="Memory limit (default: --memory).")
@click.option(
    "--port", type=int, default=None, help="Deployment: container port, Service and probes."
)
@click.option("--probe-path", default=None, help="HTTP path for the probes (default: a TCP check).")
@click.option("--replicas", type=click.IntRange(min=0), default=1, show_default=True)
@click.option("--schedule", default=None, help="CronJob schedule, e.g. '0 3 * * *'.")
@click.option("--backoff-limit", type=click.IntRange(min=0), default=2, show_default=True)
@click.option(
    "--ttl",
    "ttl",
    type=click.IntRange(min=0),
    default=86400,
    show_default=True,
    help="Job ttlSecondsAfterFinished.",
)
@click.option("--shm-size", default=None, help="Size of /dev/shm (GPU pods default to 1Gi).")
@click.option(
    "--set-env", "env_vars", multiple=True, help="KEY=VALUE for the container (repeatable)."
)
@click.option("--push", default=None, help="--kind build: where the built image is pushed.")
@click.option(
    "--registry-secret",
    default="registry-credentials",
    show_default=True,
    help="--kind build: dockerconfigjson Secret.",
)
@click.option("--force", is_flag=True, help="Overwrite a generated file that was edited.")
@manifest_option
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def command(  # type: ignore[no-untyped-def]
    env,
    image,
    kind,
    gpus,
    gpu_arch,
    out_dir,
    name,
    namespace,
    cpu,
    memory,
    cpu_limit,
    memory_limit,
    port,
    probe_path,
    replicas,
    schedule,
    backoff_limit,
    ttl,
    shm_size,
    env_vars,
    push,
    registry_secret,
    force,
    manifest,
    args,
) -> None:
    """Write Kubernetes manifests (and a kustomization.yaml) for an environment's image.

    The command the container runs goes after `--`: hermetic k8s --image REF -- python train.py
    """

    project = Project.open(manifest, warn=show_warning)
    pairs = []
    for item in env_vars:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--set-env {item!r}: expected KEY=VALUE")
        pairs.append((key, value))
    if port is not None and kind != "deployment":
        raise UsageError("--port is for --kind deployment")
    if push is not None and kind != "build":
        raise UsageError("--push is for --kind build")
    env_name = env or ""
    workload = WorkloadSpec(
        name=name or name_from(project.spec.name or project.root.name),
        environment=env_name,
        image=image,
        kind=kind,
        args=tuple(args),
        gpus=gpus,
        requests=Resources(cpu=cpu, memory=memory),
        limits=Resources(cpu=cpu_limit, memory=memory_limit or memory),
        port=port,
        probe_path=probe_path,
        replicas=replicas,
        schedule=schedule,
        namespace=namespace,
        backoff_limit=backoff_limit,
        ttl_seconds=ttl,
        shm_size=shm_size,
        env_vars=tuple(pairs),
        push=push,
        registry_secret=registry_secret,
    )
    render_generated(
        generate_k8s(project, env, workload, out_dir=out_dir, gpu_arch=gpu_arch, force=force)
    )
