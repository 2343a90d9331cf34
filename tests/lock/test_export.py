"""`hermetic export`: explicit, environment-yml, conda-lock and requirements."""

from __future__ import annotations

import asyncio

import yaml

from clirun import assert_clean_error
from hermetic.lock.read import load_lock
from projects import h, write_project


def test_export_explicit_round_trips_through_rattler(tmp_path, conda_channel, wheelhouse):
    from rattler import PrefixRecord, RepoDataRecord
    from rattler.explicit_environment import ExplicitEnvironmentSpec
    from rattler.install import install

    from hermetic.env.verify import local_path

    cache = tmp_path / "cache"
    root = write_project(tmp_path / "p", conda_channel, wheelhouse)
    h("lock", cwd=root, cache=cache)
    proc = h("export", "--format", "explicit", "-o", "env.txt", cwd=root, cache=cache)
    assert "PyPI package(s) cannot be part" in proc.stderr
    text = (root / "env.txt").read_text()
    assert "@EXPLICIT" in text and "# platform: linux-64" in text

    spec = ExplicitEnvironmentSpec.from_str(text)
    assert str(spec.platform) == "linux-64"
    locked = {
        r.name.normalized: (str(r.version), str(r.build), r.sha256.hex())
        for r in load_lock(root / "hermetic.lock").conda_records("default", "linux-64")
    }
    records = []
    for entry in spec.packages:
        url, _, digest = entry.url.partition("#")
        rec = asyncio.run(RepoDataRecord.from_package_archive(local_path(url)))
        assert rec.sha256.hex() == digest
        records.append(rec)
    prefix = tmp_path / "explicit-env"
    asyncio.run(
        install(records, target_prefix=str(prefix), cache_dir=str(cache / "x"), show_progress=False)
    )
    installed = {
        r.name.normalized: (str(r.version), str(r.build), r.sha256.hex())
        for r in (PrefixRecord.from_path(str(p)) for p in (prefix / "conda-meta").glob("*.json"))
    }
    assert installed == locked


def test_export_environment_yml_conda_lock_and_requirements(tmp_path, conda_channel, wheelhouse):
    cache = tmp_path / "cache"
    root = write_project(
        tmp_path / "p", conda_channel, wheelhouse, platforms='["linux-64", "osx-arm64"]'
    )
    h("lock", cwd=root, cache=cache)
    lock = load_lock(root / "hermetic.lock")
    records = lock.conda_records("default", "linux-64")
    pypi = lock.pypi_packages("default", "linux-64")

    env = yaml.safe_load(h("export", "-f", "environment-yml", cwd=root, cache=cache).stdout)
    assert env["name"] == "default"
    pins = [d for d in env["dependencies"] if isinstance(d, str)]
    assert sorted(pins) == sorted(f"{r.name.normalized}={r.version}={r.build}" for r in records)
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip == [f"{p.name}=={p.version}" for p in pypi]

    cl = yaml.safe_load(h("export", "-f", "conda-lock", cwd=root, cache=cache).stdout)
    assert cl["version"] == 1
    assert cl["metadata"]["platforms"] == ["linux-64", "osx-arm64"]
    linux = [p for p in cl["package"] if p["platform"] == "linux-64"]
    assert {p["name"] for p in linux if p["manager"] == "conda"} == {
        r.name.normalized for r in records
    }
    assert {p["name"] for p in linux if p["manager"] == "pip"} == {p.name for p in pypi}
    tool = next(p for p in linux if p["name"] == "tinytool")
    assert tool["dependencies"] == {"libtiny": ">=1.0,<2"}
    assert len(tool["hash"]["sha256"]) == 64 and len(tool["hash"]["md5"]) == 32
    one = yaml.safe_load(
        h("export", "-f", "conda-lock", "-p", "osx-arm64", cwd=root, cache=cache).stdout
    )
    assert {p["platform"] for p in one["package"]} == {"osx-arm64"}

    req = h("export", "-f", "requirements", cwd=root, cache=cache).stdout
    for p in pypi:
        assert f"--hash=sha256:{p.sha256}" in req and f"{p.name} @ file://" in req

    bad = h("export", "-f", "explicit", "-p", "win-64", cwd=root, cache=cache, check=2)
    assert_clean_error(bad)
    assert "linux-64, osx-arm64" in bad.stderr
    unknown = h("export", "-f", "explicit", "-e", "gpu", cwd=root, cache=cache, check=2)
    assert_clean_error(unknown)
