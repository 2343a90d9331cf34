"""Golden files for representative specs, and every generated file through its validator."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest
import yaml
from validators import DEVCONTAINER_SCHEMA, devcontainer_errors, k8s_errors, workflow_errors

from hermetic.deploy.k8s import WorkloadSpec
from hermetic.project.deploy import generate_ci, generate_devcontainer, generate_k8s
from hermetic.project.project import Project

GOLDEN = Path(__file__).with_name("golden")
DIGEST = "sha256:" + "ab" * 32
IMAGE = f"registry.example.com/team/trainer@{DIGEST}"

SPECS = {
    "cpu-only": """
        name = "cpu-app"
        channels = ["conda-forge"]
        platforms = ["linux-64", "osx-arm64"]
        [dependencies]
        python = "3.12.*"
        numpy = ">=2"
        """,
    "cuda-12.4": """
        name = "trainer"
        channels = ["conda-forge"]
        platforms = ["linux-64"]
        [dependencies]
        python = "3.12.*"
        pytorch = { version = "2.5.*", build = "cuda124*" }
        [system-requirements]
        cuda = "12.4"
        """,
    "cuda-13.0": """
        name = "trainer13"
        channels = ["conda-forge"]
        platforms = ["linux-64"]
        [dependencies]
        python = "3.13.*"
        [pypi-dependencies]
        torch = ">=2.9"
        [system-requirements]
        cuda = "13.0"
        """,
    "multi-env": """
        name = "Multi Env"
        channels = ["conda-forge"]
        platforms = ["linux-64", "osx-arm64"]
        [dependencies]
        python = "3.12.*"
        pytest = "*"
        [feature.cpu.dependencies]
        pytorch = { version = "2.*", build = "cpu*" }
        [feature.gpu]
        platforms = ["linux-64"]
        [feature.gpu.dependencies]
        pytorch = { version = "2.*", build = "cuda*" }
        [feature.gpu.system-requirements]
        cuda = "12.6"
        [environments]
        cpu = ["cpu"]
        gpu = ["gpu"]
        [devcontainer]
        forwardPorts = [8888]
        [devcontainer.customizations.vscode]
        extensions = ["charliermarsh.ruff"]
        """,
}


def _generate(root: Path, body: str) -> dict[str, bytes]:
    root.mkdir(parents=True, exist_ok=True)
    (root / "hermetic.toml").write_text(textwrap.dedent(body))
    view = Project.open(root / "hermetic.toml")
    generate_devcontainer(view, None)
    cuda = view.spec.environment("gpu" if "gpu" in view.spec.environment_names else "default")
    gpus = 1 if cuda.system_requirements.cuda else 0
    name = "app"
    generate_k8s(
        view, None, WorkloadSpec(name, "", IMAGE, "job", ("python", "train.py"), gpus=gpus)
    )
    generate_k8s(
        view, None, WorkloadSpec(name, "", IMAGE, "deployment", gpus=gpus, port=8000, replicas=2)
    )
    generate_ci(view)
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.name != "hermetic.toml" and ".hermetic" not in p.parts:
            out[p.relative_to(root).as_posix()] = p.read_bytes()
    return out


@pytest.mark.parametrize("case", sorted(SPECS))
def test_golden(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    got = _generate(tmp_path / case, SPECS[case])
    want_dir = GOLDEN / case
    if os.environ.get("HERMETIC_UPDATE_GOLDEN"):
        for rel, data in got.items():
            (want_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            (want_dir / rel).write_bytes(data)
    want = {
        p.relative_to(want_dir).as_posix(): p.read_bytes()
        for p in sorted(want_dir.rglob("*"))
        if p.is_file()
    }
    assert sorted(got) == sorted(want)
    for rel in got:
        assert got[rel].decode() == want[rel].decode(), rel


@pytest.mark.parametrize("case", sorted(SPECS))
def test_every_generated_file_validates(case: str) -> None:
    root = GOLDEN / case
    files = sorted(p for p in root.rglob("*") if p.is_file())
    assert files
    for path in files:
        if path.name == "devcontainer.json":
            if not DEVCONTAINER_SCHEMA.exists():
                pytest.skip("../shared/schemas is not beside this checkout")
            assert devcontainer_errors(json.loads(path.read_text())) == [], path
        elif path.name == "hermetic.yml":
            assert workflow_errors(path) is None
        elif path.name == "kustomization.yaml":
            doc = yaml.safe_load(path.read_text())
            assert doc["kind"] == "Kustomization"
            for res in doc["resources"]:
                assert (path.parent / res).is_file(), res
        else:
            for doc in yaml.safe_load_all(path.read_text()):
                assert k8s_errors(doc) == [], path


def test_golden_gpu_job_is_pinned_hardened_and_placed() -> None:
    job = yaml.safe_load((GOLDEN / "cuda-12.4" / "k8s/default/job.yaml").read_text())
    pod = job["spec"]["template"]["spec"]
    main = pod["containers"][0]
    assert main["image"] == IMAGE
    assert main["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert pod["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    ]
    keys = {
        e["key"]
        for t in pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
            "nodeSelectorTerms"
        ]
        for e in t["matchExpressions"]
    }
    assert "nvidia.com/cuda.driver-version.major" in keys
    assert "nvidia.com/cuda.driver.major" in keys
    sc = main["securityContext"]
    assert sc == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
    }
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert {"name": "tmp", "mountPath": "/tmp"} in main["volumeMounts"]
    assert job["spec"]["backoffLimit"] == 2
    assert job["spec"]["ttlSecondsAfterFinished"] == 86400


def test_golden_cpu_job_has_no_gpu_anything() -> None:
    text = (GOLDEN / "cpu-only" / "k8s/default/job.yaml").read_text()
    assert "nvidia" not in text
    dc = json.loads((GOLDEN / "cpu-only" / ".devcontainer/devcontainer.json").read_text())
    assert "hostRequirements" not in dc and "runArgs" not in dc


def test_golden_multi_env_uses_cpu_for_laptops_and_ci_gpu_for_the_cluster() -> None:
    root = GOLDEN / "multi-env"
    dc = json.loads((root / ".devcontainer/devcontainer.json").read_text())
    assert dc["containerEnv"]["HERMETIC_ENV"] == "cpu"
    assert dc["forwardPorts"] == [8888]  # from [devcontainer]
    assert dc["customizations"]["vscode"]["extensions"] == [
        "ms-python.python",
        "ms-toolsai.jupyter",
        "charliermarsh.ruff",
    ]
    wf = yaml.safe_load((root / ".github/workflows/hermetic.yml").read_text())
    steps = [s.get("run", "") for s in wf["jobs"]["check"]["steps"]]
    assert "hermetic lock --check" in steps and "hermetic check" in steps
    assert "hermetic run -e cpu -- python -m pytest -q" in steps
    assert (root / "k8s/gpu/job.yaml").exists()
    deploy = yaml.safe_load((root / "k8s/gpu/deployment.yaml").read_text())
    main = deploy["spec"]["template"]["spec"]["containers"][0]
    assert main["readinessProbe"]["tcpSocket"] == {"port": "http"}
    assert "livenessProbe" in main
    svc = yaml.safe_load((root / "k8s/gpu/service.yaml").read_text())
    assert svc["spec"]["selector"] == deploy["spec"]["selector"]["matchLabels"]
    kust = yaml.safe_load((root / "k8s/gpu/kustomization.yaml").read_text())
    assert kust["resources"] == ["deployment.yaml", "job.yaml", "service.yaml"]


def test_cuda_13_devcontainer_gpu_is_optional() -> None:
    dc = json.loads((GOLDEN / "cuda-13.0" / ".devcontainer/devcontainer.json").read_text())
    assert dc["hostRequirements"] == {"gpu": "optional"}
    assert "runArgs" not in dc
    assert dc["remoteUser"] != "root"
    assert dc["customizations"]["vscode"]["settings"]["python.defaultInterpreterPath"].endswith(
        "/bin/python"
    )
