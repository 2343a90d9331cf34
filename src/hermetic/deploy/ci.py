"""A GitHub Actions workflow, as data: prove the lock is current, test inside the locked env,
build and push the image by digest with its SBOM, and hand the digest to the k8s step.

Jobs: `check` (every push and pull request) → `image` (pushes to the default branch) →
`k8s` (renders the manifests for exactly that digest and keeps them as an artifact).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hermetic import __version__

PROVIDERS = ("github",)
CACHE_PATHS = ("~/.cache/rattler/cache/pkgs", "~/.cache/hermetic", "~/.cache/uv")


@dataclass(frozen=True)
class WorkflowSpec:
    name: str
    test_environment: str  # tests run here (GPU-less runners: a cpu env)
    image_environment: str  # the image the cluster runs
    registry_image: str = "ghcr.io/${{ github.repository }}"
    test_command: str = "python -m pytest -q"
    install_hermetic: str = f"pip install hermetic=={__version__}"
    python_version: str = "3.12"
    gpus: int = 0
    manifest: str = "pyproject.toml"
    k8s_kind: str = "job"


def _setup(spec: WorkflowSpec) -> list[dict[str, Any]]:
    return [
        {"uses": "actions/checkout@v4"},
        {"uses": "actions/setup-python@v5", "with": {"python-version": spec.python_version}},
        {"name": "Install hermetic", "run": spec.install_hermetic},
        {
            "name": "Cache packages",
            "uses": "actions/cache@v4",
            "with": {
                "path": "\n".join(CACHE_PATHS),
                "key": "hermetic-${{ runner.os }}-${{ hashFiles('hermetic.lock') }}",
                "restore-keys": "hermetic-${{ runner.os }}-",
            },
        },
    ]


def workflow(spec: WorkflowSpec) -> dict[str, Any]:
    test_env = spec.test_environment
    image_env = spec.image_environment
    on_main = "github.event_name == 'push' && github.ref == format('refs/heads/{0}', github.event.repository.default_branch)"
    check = {
        "runs-on": "ubuntu-latest",
        "steps": [
            *_setup(spec),
            {"name": "The lock matches the spec", "run": "hermetic lock --check"},
            {"name": "Policy", "run": "hermetic check"},
            {"name": f"Install {test_env}", "run": f"hermetic install -e {test_env}"},
            {"name": "Tests", "run": f"hermetic run -e {test_env} -- {spec.test_command}"},
        ],
    }
    image = {
        "needs": "check",
        "if": on_main,
        "runs-on": "ubuntu-latest",
        "permissions": {"contents": "read", "packages": "write"},
        "outputs": {"image": "${{ steps.push.outputs.image }}"},
        "steps": [
            *_setup(spec),
            {
                "name": "Log in to the registry",
                "uses": "docker/login-action@v3",
                "with": {
                    "registry": "ghcr.io",
                    "username": "${{ github.actor }}",
                    "password": "${{ secrets.GITHUB_TOKEN }}",
                },
            },
            {
                "name": f"Build and push the {image_env} image with its SBOM",
                "id": "push",
                "env": {"IMAGE": f"{spec.registry_image}:${{{{ github.sha }}}}"},
                "run": "\n".join(
                    (
                        'IMAGE="$(echo "$IMAGE" | tr "[:upper:]" "[:lower:]")"',
                        # pushes the image and attaches its CycloneDX SBOM as a referrer
                        f'hermetic image build -e {image_env} --tag "$IMAGE" --push',
                        # the digest the registry stored, not what a tag points at later
                        'DIGEST="$(skopeo inspect --format "{{.Digest}}" "docker://$IMAGE")"',
                        'echo "image=${IMAGE%:*}@${DIGEST}" >> "$GITHUB_OUTPUT"',
                        'echo "${IMAGE%:*}@${DIGEST}" > image-digest.txt',
                    )
                ),
            },
            {
                "name": "Keep the digest",
                "uses": "actions/upload-artifact@v4",
                "with": {"name": "image", "path": "image-digest.txt"},
            },
        ],
    }
    gpus = f" --gpus {spec.gpus}" if spec.gpus else ""
    k8s = {
        "needs": "image",
        "runs-on": "ubuntu-latest",
        "steps": [
            *_setup(spec),
            {
                "name": "Kubernetes manifests for this digest",
                "env": {"IMAGE": "${{ needs.image.outputs.image }}"},
                "run": f'hermetic k8s -e {image_env} --kind {spec.k8s_kind} --image "$IMAGE"'
                f"{gpus} -o k8s-rendered --force",
            },
            {
                "uses": "actions/upload-artifact@v4",
                "with": {"name": "k8s-manifests", "path": "k8s-rendered/"},
            },
        ],
    }
    return {
        "name": f"hermetic ({spec.name})",
        "on": {"push": {"branches": ["main"]}, "pull_request": {}, "workflow_dispatch": {}},
        "permissions": {"contents": "read"},
        "concurrency": {
            "group": "hermetic-${{ github.ref }}",
            "cancel-in-progress": True,
        },
        "jobs": {"check": check, "image": image, "k8s": k8s},
    }
