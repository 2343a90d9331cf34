"""CUDA runtimes from metadata and files; `--lock` from a hand-made lock; the CLI."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from click.testing import CliRunner

from hermetic.doctor import DoctorOptions, run_doctor
from hermetic.doctor.lockcheck import locked_runtimes
from hermetic.doctor.runtimes import runtime_from_conda, runtime_from_pypi, scan_runtimes
from hermetic.manifest import SystemRequirements


def test_classifiers() -> None:
    assert runtime_from_conda("cuda-version", "12.4", "h3060b56_3").cuda == "12.4"
    assert runtime_from_conda("cudatoolkit", "11.8.0", "h6a678d5_0").component == "cudart"
    assert runtime_from_conda("pytorch", "2.1.0", "py3.11_cuda12.1_cudnn8.9.2_0").cuda == "12.1"
    assert runtime_from_conda("pytorch", "2.5.1", "cuda126_mkl_py312_h1234_300").cuda == "12.6"
    assert runtime_from_conda("pytorch", "2.5.1", "cpu_mkl_py312_h1234_100") is None
    assert runtime_from_conda("numpy", "2.0", "py312") is None
    r = runtime_from_pypi("nvidia-cuda-runtime-cu12", "12.1.105")
    assert (r.component, r.cuda, r.major_only) == ("cudart", "12.1", False)
    r = runtime_from_pypi("nvidia_cudnn_cu12", "9.1.0.70")
    assert (r.component, r.cuda, r.major_only) == ("cudnn", "12.0", True)
    assert runtime_from_pypi("torch", "2.3.0+cu121").cuda == "12.1"
    assert (
        runtime_from_pypi(
            "torch", "2.3.0", "https://download.pytorch.org/whl/cu118/torch-2.3.0%2Bcu118-cp311.whl"
        ).cuda
        == "11.8"
    )
    assert runtime_from_pypi("cupy-cuda12x", "13.0.0").cuda == "12.0"
    assert runtime_from_pypi("cupy-cuda117", "11.0.0").cuda == "11.7"
    assert runtime_from_pypi("jax-cuda12-plugin", "0.4.30").cuda == "12.0"
    assert runtime_from_pypi("requests", "2.0") is None


def test_scan_files_without_importing(tmp_path: Path) -> None:
    sp = tmp_path / "lib/python3.11/site-packages"
    (sp / "torch").mkdir(parents=True)
    # A version.py that would fail if imported: the doctor must only read it.
    (sp / "torch/version.py").write_text(
        "raise SystemExit('imported!')\n__version__ = '2.3.0+cu121'\ncuda: Optional[str] = '12.1'\n"
    )
    (sp / "tensorflow/python/platform").mkdir(parents=True)
    (sp / "tensorflow/python/platform/build_info.py").write_text(
        "build_info = {'cuda_version': '12.2', 'cudnn_version': '8'}\n"
    )
    (sp / "nvidia_cuda_runtime_cu12-12.1.105.dist-info").mkdir()
    (sp / "cupy_cuda11x-12.0.0.dist-info").mkdir()
    (tmp_path / "conda-meta").mkdir()
    (tmp_path / "conda-meta/cuda-version-12.4-0.json").write_text(
        json.dumps({"name": "cuda-version", "version": "12.4", "build": "0"})
    )
    (tmp_path / "conda-meta/broken.json").write_text("{not json")
    got = {(r.component, r.cuda, r.source) for r in scan_runtimes(tmp_path)}
    assert got == {
        ("torch", "12.1", "file"),
        ("tensorflow", "12.2", "file"),
        ("cudart", "12.1", "pypi"),
        ("cupy", "11.0", "pypi"),
        ("cuda-version", "12.4", "conda"),
    }


@dataclass
class HandLock:
    """The slice of hermetic.lock.read.Lock the doctor uses."""

    records: list = field(default_factory=list)
    pypi: tuple = ()
    cuda: str | None = None

    def environment_names(self) -> tuple[str, ...]:
        return ("default",)

    def platforms(self, env: str) -> tuple[str, ...]:
        return ("linux-64",)

    def conda_records(self, env: str, platform: str) -> list:
        return self.records

    def pypi_packages(self, env: str, platform: str) -> tuple:
        return self.pypi

    def system_requirements(self, env: str) -> SystemRequirements:
        return SystemRequirements(cuda=self.cuda)


def record(name: str, version: str, build: str) -> SimpleNamespace:
    return SimpleNamespace(
        name=SimpleNamespace(normalized=name),
        version=version,
        build=build,
        depends=[],
        constrains=[],
    )


def test_locked_runtimes() -> None:
    lock = HandLock(
        records=[record("cuda-version", "12.6", "h7480c83_3"), record("python", "3.12.0", "h1")],
        pypi=(
            SimpleNamespace(
                name="nvidia-cudnn-cu12", version="9.1.0.70", url="", sha256=None, requires_dist=()
            ),
        ),
        cuda="12.4",
    )
    locked = locked_runtimes(lock, "default", "linux-64")
    assert locked.declared_cuda == "12.4"
    assert {(r.component, r.cuda) for r in locked.runtimes} == {
        ("cuda-version", "12.6"),
        ("cudnn", "12.0"),
    }


def test_lock_check_through_run_doctor(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from hermetic.doctor import lockcheck

    lock = HandLock(records=[record("cuda-version", "12.6", "h0")], cuda="12.6")
    monkeypatch.setattr(lockcheck, "load", lambda path: lock)
    report = run_doctor(
        DoctorOptions(lock=tmp_path / "hermetic.lock", driver="470.82.01", gpu="sm_80", cache=None)
    )
    assert report.target.kind == "lock" and report.target.env == "default"
    assert {"cuda.driver-too-old", "lock.cuda-above-driver"} <= {f.id for f in report.findings}


def test_cli_json_html_and_exit_code(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from hermetic.cli.doctor_cmd import command

    monkeypatch.setenv("HERMETIC_CACHE_DIR", str(tmp_path / "cache"))
    env = tmp_path / "env"
    (env / "conda-meta").mkdir(parents=True)
    (env / "conda-meta/cuda-version-13.0-0.json").write_text(
        json.dumps({"name": "cuda-version", "version": "13.0", "build": "0"})
    )
    runner = CliRunner()
    html = tmp_path / "r.html"
    res = runner.invoke(
        command,
        [
            "--prefix",
            str(env),
            "--driver",
            "535.104.05",
            "--gpu",
            "sm_80",
            "--json",
            "--html",
            str(html),
        ],
    )
    assert res.exit_code == 1, res.output
    data = json.loads(res.output)
    assert data["schema"] == 2 and data["failed"] is True
    assert {
        "target",
        "driver",
        "runtimes",
        "runtime_checks",
        "objects",
        "findings",
        "stats",
    } <= set(data)
    assert data["findings"][0]["id"] == "cuda.driver-too-old"
    assert "<svg" in html.read_text()
    human = runner.invoke(
        command, ["--prefix", str(env), "--driver", "580.65.06", "--gpu", "sm_80"]
    )
    assert human.exit_code == 0, human.output
    assert "Driver" in human.output and "CUDA 13.0" in human.output
    bad = runner.invoke(command, ["--prefix", str(tmp_path / "nope")])
    assert bad.exit_code == 1 and "target.not-env" in bad.output
    usage = runner.invoke(command, ["--prefix", str(env), "--gpu", "hopper"])
    assert usage.exit_code != 0 and "Traceback" not in usage.output


def test_conda_meta_files_that_are_not_records_are_skipped(tmp_path: Path) -> None:
    meta = tmp_path / "conda-meta"
    meta.mkdir(parents=True)
    (meta / "history").write_text("")
    (meta / "state.json").write_text(json.dumps({"env_vars": {"A": "1"}}))  # conda's own state
    (meta / "broken.json").write_text("{not json")
    (meta / "cuda-version-12.4-h0_0.json").write_text(
        json.dumps({"name": "cuda-version", "version": "12.4", "build": "h0_0"})
    )
    found = scan_runtimes(tmp_path)
    assert [r.version for r in found if r.source == "conda"] == ["12.4"]
