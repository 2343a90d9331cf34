"""A real pixi project, made lockable offline: its manifest, its lock, its channels rebuilt.

The project is skrub (skrub-data/skrub @ 9fb3ac55, 2026-08-20, BSD-3-Clause, see
`bench/data/skrub/SOURCE.md`): a `pyproject.toml` with `[tool.pixi]`, 13 environments
(features, `no-default-feature`, a feature limited to 3 platforms, per-feature
`pypi-options`), 4 platforms (linux-64, osx-64, osx-arm64, win-64), conda-forge + pytorch,
an editable path dependency on the project itself and, in `ci-nightly-deps`, 11 PyPI
requirements. Its own `pixi.lock` (written by pixi) is committed next to it, xz-compressed.

No conda channel is reachable here, so every conda record of that lock becomes a
`repodata.json` record of a local channel per subdir (noarch too), as `../shared/corpus/`
does: real names, versions, builds, dependencies, constraints and hashes, no package files
(enough to solve and lock, not to install). Each channel of the manifest gets one, even when
the lock holds nothing from it (pytorch). The manifest keeps its canonical channel names; a
hermetic config file with a `[mirrors]` table points them at the local folders (`file://`),
which is what a company with an offline copy of conda-forge does, and the lock keeps the
canonical URLs.

One change to the manifest, named by `prepare`: `ci-nightly-deps`'s two nightly wheel indexes
(pypi.anaconda.org, pypi.fury.io) are not reachable from here, so that feature resolves
against PyPI alone (its real lock took every one of its wheels from files.pythonhosted.org).
"""

from __future__ import annotations

import json
import lzma
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).resolve().parent / "data" / "skrub"
SOURCE = "skrub-data/skrub@9fb3ac55e1d5ee1e1e3d15108c852aef8fe5955c"
VERSION_TXT = "0.11.dev0"  # skrub/VERSION.txt at that commit: the editable's dynamic version
CONDA_ANACONDA = "https://conda.anaconda.org/"

Conda = tuple[str, str, str]  # name, version, build
Pypi = tuple[str, str]  # normalized name, version ("" for the editable project)


@dataclass(frozen=True)
class Locked:
    """One environment x platform of a lock: its conda and PyPI sets."""

    conda: frozenset[Conda]
    pypi: frozenset[Pypi]


@dataclass(frozen=True)
class RealProject:
    manifest: Path  # the project's pyproject.toml, as a user runs `hermetic lock -m` on it
    config: Path  # a hermetic config whose [mirrors] point the channels at local folders
    channels: dict[str, Path]  # canonical channel URL -> local folder
    environments: dict[str, dict[str, Locked]]  # the real pixi.lock: env -> platform -> sets
    records: int  # conda records rebuilt


def load_pixi_lock() -> dict[str, Any]:
    with lzma.open(DATA / "pixi.lock.xz", "rt") as f:
        data: dict[str, Any] = yaml.load(f, Loader=yaml.CSafeLoader)
    return data


def _split_filename(url: str) -> tuple[str, str, str, str]:
    """(subdir, name, version, build) of a conda package URL."""
    *_, subdir, filename = url.split("/")
    stem = re.sub(r"\.(conda|tar\.bz2)$", "", filename)
    name, version, build = stem.rsplit("-", 2)
    return subdir, name, version, build


def _channel_url(url: str) -> str:
    return url.rsplit("/", 2)[0] + "/"


def repodata_record(pkg: dict[str, Any]) -> tuple[str, str, str, dict[str, Any]]:
    """(channel URL, subdir, filename, repodata record) of one conda entry of a pixi.lock.

    pixi.lock v6+ leaves out what the file name says (name, version, build), a build number
    that the build string ends with, and a noarch kind that follows from the subdir and build
    (noarch `py*` builds are python, other noarch builds generic): put them back.
    """
    url: str = pkg["conda"]
    subdir, name, version, build = _split_filename(url)
    tail = build.rsplit("_", 1)[-1]
    number = pkg.get("build_number", int(tail) if tail.isdigit() else 0)
    noarch = pkg.get("noarch")
    if noarch is None and subdir == "noarch":
        noarch = "python" if build.startswith("py") else "generic"
    rec: dict[str, Any] = {
        "name": name,
        "version": version,
        "build": build,
        "build_number": number,
        "subdir": subdir,
        "depends": pkg.get("depends", []),
    }
    for key in ("constrains", "md5", "sha256", "size", "license", "license_family", "timestamp"):
        if key in pkg:
            rec[key] = pkg[key]
    if noarch:
        rec["noarch"] = noarch
    if pkg.get("track_features"):
        tf = pkg["track_features"]
        rec["track_features"] = " ".join(tf) if isinstance(tf, list) else tf
    if "python_site_packages_path" in pkg:
        rec["python_site_packages_path"] = pkg["python_site_packages_path"]
    return _channel_url(url), subdir, url.rsplit("/", 1)[1], rec


def write_channels(lock: dict[str, Any], dest: Path) -> tuple[dict[str, Path], int]:
    """One local channel per channel of the lock, one repodata.json per subdir (noarch too)."""
    repodata: dict[tuple[str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
    n = 0
    for pkg in lock["packages"]:
        if "conda" in pkg:
            channel, subdir, filename, rec = repodata_record(pkg)
            repodata[channel, subdir][filename] = rec
            n += 1
    channels = {c["url"] for env in lock["environments"].values() for c in env["channels"]}
    subdirs = {"noarch", *(p["name"] for p in lock["platforms"])}
    local: dict[str, Path] = {}
    for channel in sorted(channels):
        if not channel.startswith(CONDA_ANACONDA):
            raise SystemExit(f"unexpected channel {channel}")
        folder = dest / channel[len(CONDA_ANACONDA) :].strip("/")
        local[channel] = folder
        for subdir in sorted(subdirs):
            recs = repodata.get((channel, subdir), {})
            body = {
                "info": {"subdir": subdir},
                "packages": {k: v for k, v in recs.items() if k.endswith(".tar.bz2")},
                "packages.conda": {k: v for k, v in recs.items() if k.endswith(".conda")},
                "repodata_version": 1,
            }
            (folder / subdir).mkdir(parents=True, exist_ok=True)
            (folder / subdir / "repodata.json").write_text(json.dumps(body))
    return local, n


def _pypi_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_sets(lock: dict[str, Any]) -> dict[str, dict[str, Locked]]:
    """env -> platform -> (conda set, PyPI set) of a pixi.lock."""
    pypi_versions: dict[str, Pypi] = {}
    for pkg in lock["packages"]:
        if "pypi" in pkg:
            pypi_versions[pkg["pypi"]] = (_pypi_name(pkg["name"]), str(pkg.get("version", "")))
    out: dict[str, dict[str, Locked]] = {}
    for env, body in lock["environments"].items():
        out[env] = {}
        for platform, entries in body["packages"].items():
            conda = frozenset(_split_filename(e["conda"])[1:] for e in entries if "conda" in e)
            pypi = frozenset(pypi_versions[e["pypi"]] for e in entries if "pypi" in e)
            out[env][platform] = Locked(conda, pypi)
    return out


def _manifest_text() -> str:
    text = (DATA / "pyproject.toml").read_text()
    # the nightly wheel indexes are unreachable from here (see the module docstring)
    nightly = re.compile(
        r"(\[tool\.pixi\.feature\.nightly-dependencies\.pypi-options\]\n)(.*?)(?=\n\[)", re.S
    )
    if not nightly.search(text):
        raise SystemExit("the nightly pypi-options table moved: update bench/real_project.py")
    return nightly.sub(r"\1# (nightly indexes removed: unreachable from the benchmark)\n", text)


def prepare(work: Path) -> RealProject:
    """Write the project, its channels and a mirrors config under `work`."""
    lock = load_pixi_lock()
    channels, n = write_channels(lock, work / "channels")
    project = work / "skrub"
    (project / "skrub").mkdir(parents=True)
    (project / "pyproject.toml").write_text(_manifest_text())
    (project / "LICENSE.txt").write_text((DATA / "LICENSE.txt").read_text())
    # what the editable build reads: its readme, its package and its dynamic version
    (project / "README.rst").write_text("skrub\n=====\n")
    (project / "skrub" / "__init__.py").write_text("")
    (project / "skrub" / "VERSION.txt").write_text(VERSION_TXT + "\n")
    config = work / "config.toml"
    lines = ["[mirrors]"]
    for canonical, folder in sorted(channels.items()):
        lines.append(f"{json.dumps(canonical.rstrip('/'))} = [{json.dumps(folder.as_uri())}]")
    config.write_text("\n".join(lines) + "\n")
    return RealProject(
        manifest=project / "pyproject.toml",
        config=config,
        channels=channels,
        environments=locked_sets(lock),
        records=n,
    )
