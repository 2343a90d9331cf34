"""Kubernetes manifests for one locked environment's image: Job, CronJob, Deployment (+ Service),
an in-cluster image build Job, and a kustomization listing them.

Everything is plain data (dicts ready for a YAML dumper). Pods run hardened: non-root with a
numeric uid, no privilege escalation, every capability dropped, a read-only root filesystem
with an emptyDir on /tmp, seccomp RuntimeDefault. Quantities are strings, as the API expects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from hermetic.deploy.affinity import GPU_RESOURCE, Placement
from hermetic.errors import UsageError

Kind = Literal["job", "deployment", "cronjob", "build"]
KINDS: tuple[Kind, ...] = ("job", "deployment", "cronjob", "build")
#: the non-root user hermetic's images (`hermetic image`'s default user) and pods run as
UID = 65532
MANAGED_BY = {"app.kubernetes.io/managed-by": "hermetic"}
LABEL_ENV = "hermetic.dev/environment"
ANNOTATION_LOCK = "hermetic.dev/lock-sha256"
CONFIG_DIR = "/var/run/secrets/hermetic-registry"

_QUANTITY = re.compile(r"^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+|[KMGTPE]i|[numkMGTPE])?$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@dataclass(frozen=True)
class Resources:
    cpu: str | None = None
    memory: str | None = None

    def to_dict(self) -> dict[str, str]:
        return {k: v for k, v in (("cpu", self.cpu), ("memory", self.memory)) if v}


@dataclass(frozen=True)
class WorkloadSpec:
    """What to deploy, and how. `image` is already pinned by digest."""

    name: str
    environment: str
    image: str
    kind: Kind = "job"
    args: tuple[str, ...] = ()
    gpus: int = 0
    placement: Placement | None = None
    requests: Resources = Resources(cpu="1", memory="2Gi")
    limits: Resources = Resources(memory="2Gi")
    port: int | None = None
    probe_path: str | None = None  # HTTP readiness/liveness path; a TCP probe when None
    replicas: int = 1
    schedule: str | None = None
    namespace: str | None = None
    backoff_limit: int = 2
    ttl_seconds: int = 86400
    shm_size: str | None = None  # /dev/shm size; GPU pods default to 1Gi (DataLoader workers)
    uid: int = UID  # the image's user ([tool.hermetic.image] user), numeric for runAsNonRoot
    gid: int = UID
    env_vars: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    # --kind build
    push: str | None = None
    registry_secret: str = "registry-credentials"
    project_configmap: str | None = None
    manifest_name: str = "pyproject.toml"


@dataclass(frozen=True)
class Manifests:
    """File name -> document, in the order kustomize should list them."""

    documents: tuple[tuple[str, dict[str, Any]], ...]


def validate_name(name: str) -> str:
    """A DNS-1123 label (Services need one): lowercase, digits and '-', at most 63 chars."""
    if len(name) > 63 or not _DNS_LABEL.match(name):
        raise UsageError(
            f"{name!r} is not a valid Kubernetes name",
            hint="use lowercase letters, digits and '-', start and end with a letter or digit, "
            "at most 63 characters (--name)",
        )
    return name


def name_from(text: str) -> str:
    """A project name made into a DNS-1123 label (`My_Project` -> `my-project`)."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:63].strip("-")
    return cleaned or "hermetic"


def validate_quantity(value: str, what: str) -> str:
    if not _QUANTITY.match(value):
        raise UsageError(
            f"{what} {value!r} is not a Kubernetes quantity",
            hint="e.g. cpu 500m or 2, memory 512Mi or 4Gi",
        )
    return value


def _check(spec: WorkloadSpec) -> None:
    validate_name(spec.name)
    for res, label in ((spec.requests, "request"), (spec.limits, "limit")):
        if res.cpu:
            validate_quantity(res.cpu, f"cpu {label}")
        if res.memory:
            validate_quantity(res.memory, f"memory {label}")
    if spec.shm_size:
        validate_quantity(spec.shm_size, "shm size")
    if spec.gpus < 0:
        raise UsageError("--gpus must be 0 or more")
    if spec.port is not None and not 0 < spec.port < 65536:
        raise UsageError(f"--port {spec.port} is not a TCP port")
    if spec.kind == "cronjob" and not spec.schedule:
        raise UsageError("--kind cronjob needs --schedule, e.g. --schedule '0 3 * * *'")
    if spec.schedule and len(spec.schedule.split()) != 5 and not spec.schedule.startswith("@"):
        raise UsageError(
            f"--schedule {spec.schedule!r} is not a cron schedule", hint="five fields: '0 3 * * *'"
        )
    if spec.kind == "build" and not spec.push:
        raise UsageError(
            "--kind build needs --push REPOSITORY[:TAG], where the built image goes",
            hint="--image is the builder image (one with hermetic installed)",
        )


def _labels(spec: WorkloadSpec) -> dict[str, str]:
    return {"app.kubernetes.io/name": spec.name, LABEL_ENV: spec.environment, **MANAGED_BY}


def _metadata(spec: WorkloadSpec, name: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": _labels(spec)}
    if spec.namespace:
        meta["namespace"] = spec.namespace
    if spec.annotations:
        meta["annotations"] = dict(spec.annotations)
    return meta


def _security_context() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
    }


def _pod_security(spec: WorkloadSpec) -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": spec.uid,
        "runAsGroup": spec.gid,
        "fsGroup": spec.gid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _container(spec: WorkloadSpec) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    limits: dict[str, str] = spec.limits.to_dict()
    if spec.gpus:
        limits[GPU_RESOURCE] = str(spec.gpus)
    resources: dict[str, Any] = {}
    if spec.requests.to_dict():
        resources["requests"] = spec.requests.to_dict()
    if limits:
        resources["limits"] = limits
    env = [
        {"name": "TMPDIR", "value": "/tmp"},
        # caches (pip, torch, huggingface) go where the read-only root lets them
        {"name": "XDG_CACHE_HOME", "value": "/tmp/.cache"},
        *({"name": k, "value": v} for k, v in spec.env_vars),
    ]
    mounts: list[dict[str, Any]] = [{"name": "tmp", "mountPath": "/tmp"}]
    volumes: list[dict[str, Any]] = [{"name": "tmp", "emptyDir": {}}]
    shm = spec.shm_size or ("1Gi" if spec.gpus else None)
    if shm:
        mounts.append({"name": "dshm", "mountPath": "/dev/shm"})
        volumes.append({"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": shm}})
    container: dict[str, Any] = {
        "name": "main",
        "image": spec.image,
        "imagePullPolicy": "IfNotPresent",
        "env": env,
        "resources": resources,
        "securityContext": _security_context(),
        "volumeMounts": mounts,
    }
    if spec.args:
        container["args"] = list(spec.args)
    if spec.port is not None:
        container["ports"] = [{"name": "http", "containerPort": spec.port, "protocol": "TCP"}]
    return container, volumes


def _pod_spec(spec: WorkloadSpec, restart: str) -> dict[str, Any]:
    container, volumes = _container(spec)
    pod: dict[str, Any] = {
        "automountServiceAccountToken": False,
        "restartPolicy": restart,
        "securityContext": _pod_security(spec),
        "containers": [container],
        "volumes": volumes,
    }
    if spec.gpus:
        pod["tolerations"] = [{"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}]
    if spec.placement is not None:
        pod["affinity"] = {"nodeAffinity": spec.placement.to_node_affinity()}
    return pod


def _job_spec(spec: WorkloadSpec, pod: dict[str, Any]) -> dict[str, Any]:
    return {
        "backoffLimit": spec.backoff_limit,
        "ttlSecondsAfterFinished": spec.ttl_seconds,
        "template": {"metadata": {"labels": _labels(spec)}, "spec": pod},
    }


def job(spec: WorkloadSpec) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _metadata(spec, spec.name),
        "spec": _job_spec(spec, _pod_spec(spec, "Never")),
    }


def cronjob(spec: WorkloadSpec) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": _metadata(spec, spec.name),
        "spec": {
            "schedule": spec.schedule,
            "concurrencyPolicy": "Forbid",
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "metadata": {"labels": _labels(spec)},
                "spec": _job_spec(spec, _pod_spec(spec, "Never")),
            },
        },
    }


def _probe(spec: WorkloadSpec, initial: int) -> dict[str, Any]:
    action: dict[str, Any] = (
        {"httpGet": {"path": spec.probe_path, "port": "http"}}
        if spec.probe_path
        else {"tcpSocket": {"port": "http"}}
    )
    return {**action, "initialDelaySeconds": initial, "periodSeconds": 10, "failureThreshold": 3}


def deployment(spec: WorkloadSpec) -> dict[str, Any]:
    pod = _pod_spec(spec, "Always")
    if spec.port is not None:
        main = pod["containers"][0]
        main["readinessProbe"] = _probe(spec, 5)
        main["livenessProbe"] = _probe(spec, 30)
    selector = {"app.kubernetes.io/name": spec.name, LABEL_ENV: spec.environment}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(spec, spec.name),
        "spec": {
            "replicas": spec.replicas,
            "selector": {"matchLabels": selector},
            "template": {"metadata": {"labels": _labels(spec)}, "spec": pod},
        },
    }


def service(spec: WorkloadSpec) -> dict[str, Any]:
    assert spec.port is not None
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(spec, spec.name),
        "spec": {
            "type": "ClusterIP",
            "selector": {"app.kubernetes.io/name": spec.name, LABEL_ENV: spec.environment},
            "ports": [{"name": "http", "port": spec.port, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def build_job(spec: WorkloadSpec) -> dict[str, Any]:
    """A Job that builds and pushes the environment's image with hermetic: no Docker, no root.

    The project's spec and lock come from a ConfigMap; registry credentials from a
    `kubernetes.io/dockerconfigjson` Secret mounted as a file (never an env value or an arg).
    """
    assert spec.push is not None
    configmap = spec.project_configmap or f"{spec.name}-project"
    pod = _pod_spec(spec, "Never")
    main = pod["containers"][0]
    main["name"] = "build"
    main["workingDir"] = "/project"
    main["args"] = [
        *("hermetic", "image", "build", "-e", spec.environment, "--tag", spec.push, "--push")
    ]
    main["env"] += [
        # where docker-style clients (and hermetic) look for registry auth: a path, not a secret
        {"name": "DOCKER_CONFIG", "value": CONFIG_DIR},
        {"name": "REGISTRY_AUTH_FILE", "value": f"{CONFIG_DIR}/config.json"},
        {"name": "HERMETIC_CACHE_DIR", "value": "/cache"},
    ]
    main["volumeMounts"] += [
        {"name": "project", "mountPath": "/project", "readOnly": True},
        {"name": "registry-auth", "mountPath": CONFIG_DIR, "readOnly": True},
        {"name": "cache", "mountPath": "/cache"},
    ]
    pod["volumes"] += [
        {"name": "project", "configMap": {"name": configmap}},
        {
            "name": "registry-auth",
            "secret": {
                "secretName": spec.registry_secret,
                "items": [{"key": ".dockerconfigjson", "path": "config.json"}],
                "defaultMode": 0o440,
            },
        },
        {"name": "cache", "emptyDir": {}},
    ]
    pod.pop("tolerations", None)
    pod.pop("affinity", None)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _metadata(spec, f"{spec.name}-build"),
        "spec": _job_spec(spec, pod),
    }


def manifests(spec: WorkloadSpec) -> Manifests:
    """The documents of one `hermetic k8s` run, by file name."""
    _check(spec)
    docs: list[tuple[str, dict[str, Any]]] = []
    if spec.kind == "job":
        docs.append(("job.yaml", job(spec)))
    elif spec.kind == "cronjob":
        docs.append(("cronjob.yaml", cronjob(spec)))
    elif spec.kind == "deployment":
        docs.append(("deployment.yaml", deployment(spec)))
        if spec.port is not None:
            docs.append(("service.yaml", service(spec)))
    else:
        docs.append(("build-job.yaml", build_job(spec)))
    return Manifests(tuple(docs))


def kustomization(resources: list[str], namespace: str | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": sorted(dict.fromkeys(resources)),
    }
    if namespace:
        doc["namespace"] = namespace
    return doc
