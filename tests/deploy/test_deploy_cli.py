"""The deploy commands as a user runs them: warnings, refusals, edited files, the lock's CUDA."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from nodes import gfd_labels, node_matches
from validators import k8s_errors

from clirun import assert_clean_error, hermetic
from projects import base_spec, write_spec

IMAGE = "registry.example.com/team/app@sha256:" + "cd" * 32
CPU = 'name = "app"\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n'
CUDA = CPU + '[system-requirements]\ncuda = "12.4"\n'


def project(tmp_path: Path, body: str = CPU) -> Path:
    (tmp_path / "hermetic.toml").write_text(body)
    return tmp_path


def test_gpus_on_an_env_without_cuda_warns(tmp_path: Path) -> None:
    out = hermetic("k8s", "--image", IMAGE, "--gpus", "1", cwd=project(tmp_path))
    assert "warning: --gpus 1 on environment 'default'" in out.stderr
    job = yaml.safe_load((tmp_path / "k8s/default/job.yaml").read_text())
    pod = job["spec"]["template"]["spec"]
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    # nothing declared to place on but the image's architecture
    terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert terms["nodeSelectorTerms"] == [
        {"matchExpressions": [{"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}]}
    ]


def test_cuda_env_without_gpus_warns(tmp_path: Path) -> None:
    out = hermetic("k8s", "--image", IMAGE, cwd=project(tmp_path, CUDA))
    assert "needs CUDA 12.4 but no GPU is requested" in out.stderr


def test_a_cuda_lock_places_on_new_enough_drivers(tmp_path: Path, conda_channel: Path) -> None:
    # a real lock, whose hermetic: block declares system-requirements.cuda
    write_spec(
        tmp_path,
        base_spec(conda_channel, 'python = "*"', extra='[system-requirements]\ncuda = "12.4"'),
    )
    hermetic("lock", cwd=tmp_path)
    # the spec changes afterwards: the lock is what gets deployed
    text = (tmp_path / "hermetic.toml").read_text().replace('cuda = "12.4"', 'cuda = "12.8"')
    (tmp_path / "hermetic.toml").write_text(text)
    hermetic("k8s", "--image", IMAGE, "--gpus", "2", cwd=tmp_path)
    job = yaml.safe_load((tmp_path / "k8s/default/job.yaml").read_text())
    assert k8s_errors(job) == []
    affinity = job["spec"]["template"]["spec"]["affinity"]["nodeAffinity"]
    assert node_matches(gfd_labels("550.54.14"), affinity)  # CUDA 12.4's minimum
    assert not node_matches(gfd_labels("550.54.13"), affinity)
    assert len(job["metadata"]["annotations"]["hermetic.dev/lock-sha256"]) == 64


def test_regenerating_is_silent_and_an_edit_is_refused(tmp_path: Path) -> None:
    project(tmp_path)
    first = hermetic("k8s", "--image", IMAGE, cwd=tmp_path)
    assert "created" in first.stdout
    again = hermetic("k8s", "--image", IMAGE, cwd=tmp_path)
    assert "unchanged k8s/default/job.yaml" in again.stdout
    # a change of options rewrites an untouched file silently
    hermetic("k8s", "--image", IMAGE, "--memory", "4Gi", cwd=tmp_path)
    job = tmp_path / "k8s/default/job.yaml"
    assert "memory: 4Gi" in job.read_text()
    job.write_text(job.read_text() + "# my tweak\n")
    refused = hermetic("k8s", "--image", IMAGE, "--memory", "8Gi", cwd=tmp_path, check=2)
    assert_clean_error(refused)
    assert "k8s/default/job.yaml was changed since hermetic wrote it" in refused.stderr
    assert "--force" in refused.stderr
    assert job.read_text().endswith("# my tweak\n")
    # nothing of that run was written, not even the untouched kustomization
    assert "memory: 8Gi" not in job.read_text()
    hermetic("k8s", "--image", IMAGE, "--memory", "8Gi", "--force", cwd=tmp_path)
    assert "memory: 8Gi" in job.read_text() and "# my tweak" not in job.read_text()


def test_a_file_hermetic_did_not_write_is_not_overwritten(tmp_path: Path) -> None:
    project(tmp_path)
    (tmp_path / ".devcontainer").mkdir()
    mine = tmp_path / ".devcontainer/devcontainer.json"
    mine.write_text('{"image": "mine"}\n')
    out = hermetic("devcontainer", cwd=tmp_path, check=2)
    assert_clean_error(out)
    assert json.loads(mine.read_text()) == {"image": "mine"}


def test_build_job_keeps_credentials_in_a_mounted_secret(tmp_path: Path) -> None:
    project(tmp_path)
    hermetic(
        "k8s",
        "--kind",
        "build",
        "--image",
        IMAGE,
        "--push",
        "registry.example.com/team/app:v2",
        cwd=tmp_path,
    )
    job = yaml.safe_load((tmp_path / "k8s/default/build-job.yaml").read_text())
    assert k8s_errors(job) == []
    pod = job["spec"]["template"]["spec"]
    main = pod["containers"][0]
    assert main["args"][:3] == ["hermetic", "image", "build"]
    assert "--push" in main["args"]
    secret = next(v for v in pod["volumes"] if "secret" in v)["secret"]
    assert secret["secretName"] == "registry-credentials"
    assert secret["items"] == [{"key": ".dockerconfigjson", "path": "config.json"}]
    # credentials only as a file: no env var takes its value from a secret
    assert all("valueFrom" not in e for e in main["env"])
    assert main["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--memory", "lots"], "is not a Kubernetes quantity"),
        (["--kind", "cronjob"], "needs --schedule"),
        (["--kind", "cronjob", "--schedule", "daily"], "is not a cron schedule"),
        (["--name", "Bad_Name"], "is not a valid Kubernetes name"),
        (["--port", "8080"], "--port is for --kind deployment"),
        (["--kind", "build"], "needs --push"),
        (["-e", "gpu"], "no environment named 'gpu'"),
        (["--gpu-arch", "sm_80+"], "--gpu-arch needs --gpus"),
    ],
)
def test_bad_input_is_one_clear_message(tmp_path: Path, args: list[str], message: str) -> None:
    out = hermetic("k8s", "--image", IMAGE, *args, cwd=project(tmp_path), check=None)
    assert out.returncode == 2, out.stderr
    assert_clean_error(out)
    assert message in out.stderr


def test_cronjob_and_kustomization_accumulate(tmp_path: Path) -> None:
    project(tmp_path)
    hermetic("k8s", "--image", IMAGE, cwd=tmp_path)
    hermetic("k8s", "--image", IMAGE, "--kind", "cronjob", "--schedule", "0 3 * * *", cwd=tmp_path)
    kust = yaml.safe_load((tmp_path / "k8s/default/kustomization.yaml").read_text())
    assert kust["resources"] == ["cronjob.yaml", "job.yaml"]
    cron = yaml.safe_load((tmp_path / "k8s/default/cronjob.yaml").read_text())
    assert k8s_errors(cron) == []
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"


def test_devcontainer_with_pre_commit_and_a_required_gpu(tmp_path: Path) -> None:
    project(tmp_path, CUDA)
    (tmp_path / ".pre-commit-config.yaml").write_text("repos: []\n")
    out = hermetic("devcontainer", "--gpu", "required", "--image", IMAGE, cwd=tmp_path)
    assert "does not list pre-commit" in out.stderr
    dc = json.loads((tmp_path / ".devcontainer/devcontainer.json").read_text())
    assert dc["image"] == IMAGE
    assert dc["runArgs"] == ["--gpus", "all"]
    assert dc["hostRequirements"] == {"gpu": True}


def test_cuda_13_keeps_pods_off_gpus_it_dropped(tmp_path: Path) -> None:
    project(tmp_path, CPU + '[system-requirements]\ncuda = "13.0"\n')
    hermetic("k8s", "--image", IMAGE, "--gpus", "1", cwd=tmp_path)
    job = yaml.safe_load((tmp_path / "k8s/default/job.yaml").read_text())
    affinity = job["spec"]["template"]["spec"]["affinity"]["nodeAffinity"]
    assert node_matches(gfd_labels("580.65.06", cc="7.5"), affinity)  # Turing
    assert node_matches(gfd_labels("580.65.06", cc="10.0"), affinity)  # Blackwell
    assert not node_matches(gfd_labels("580.65.06", cc="7.0"), affinity)  # Volta: dropped
    assert not node_matches(gfd_labels("575.51.03", cc="9.0"), affinity)  # driver too old
    out = hermetic("k8s", "--image", IMAGE, "--gpus", "1", "--gpu-arch", "sm_70+", cwd=tmp_path)
    assert "admits GPUs older than sm_75" in out.stderr


def test_devcontainer_builds_from_the_image_dockerfile(tmp_path: Path, conda_channel: Path) -> None:
    write_spec(tmp_path, base_spec(conda_channel, 'python = "*"'))
    hermetic("lock", cwd=tmp_path)
    out = hermetic("devcontainer", "--dockerfile", cwd=tmp_path)
    assert "hermetic image dockerfile" in out.stdout
    dockerfile = tmp_path / ".devcontainer" / "Dockerfile"
    dc = json.loads((tmp_path / ".devcontainer/devcontainer.json").read_text())
    assert dc["build"] == {"dockerfile": "Dockerfile", "context": ".."}
    text = dockerfile.read_text()
    assert "USER 65532:65532" in text and "/opt/env" in text
    # every file the Dockerfile copies is inside the build context the devcontainer names
    for line in text.splitlines():
        if line.startswith("COPY --chown"):
            assert (tmp_path / line.split()[2]).is_file(), line
    lint = subprocess.run(
        [str(Path(sys.executable).with_name("hadolint")), str(dockerfile)],
        capture_output=True,
        text=True,
    )
    assert lint.returncode == 0, lint.stdout


def test_pods_run_as_the_image_user(tmp_path: Path) -> None:
    project(tmp_path, CPU + '[image]\nuser = "1234:2345"\n')
    hermetic("k8s", "--image", IMAGE, cwd=tmp_path)
    hermetic("devcontainer", "--image", IMAGE, cwd=tmp_path)
    job = yaml.safe_load((tmp_path / "k8s/default/job.yaml").read_text())
    sc = job["spec"]["template"]["spec"]["securityContext"]
    assert (sc["runAsUser"], sc["runAsGroup"], sc["fsGroup"]) == (1234, 2345, 2345)
    dc = json.loads((tmp_path / ".devcontainer/devcontainer.json").read_text())
    assert dc["remoteUser"] == "1234"
    project(tmp_path, CPU + '[image]\nuser = "0"\n')
    refused = hermetic("k8s", "--image", IMAGE, cwd=tmp_path, check=2)
    assert_clean_error(refused)
    assert "never run as root" in refused.stderr


def test_deploy_agrees_with_the_image_defaults() -> None:
    from hermetic.deploy.devcontainer import IMAGE_ENV_PREFIX, REMOTE_USER
    from hermetic.deploy.k8s import UID
    from hermetic.image.build import DEFAULT_PREFIX, DEFAULT_USER

    assert f"{UID}:{UID}" == DEFAULT_USER and str(UID) == REMOTE_USER
    assert DEFAULT_PREFIX == IMAGE_ENV_PREFIX
