"""Every artifact is checked, and a refused install leaves the working env as it was."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from clirun import assert_clean_error
from projects import h, write_project

PREFIX = Path(".hermetic/envs/default")
MARKER = PREFIX / "conda-meta" / "hermetic-complete"


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hermetic-cache")


def _listing(prefix: Path) -> dict[str, int]:
    return {str(p.relative_to(prefix)): p.lstat().st_mtime_ns for p in sorted(prefix.rglob("*"))}


def _set_sha256(lock: Path, artifact: str, value: str | None) -> None:
    """Replace (or, with None, drop) the sha256 line of the lock entry of `artifact`."""
    lines = lock.read_text().splitlines(keepends=True)
    out, in_entry = [], False
    for line in lines:
        if line.startswith("- "):
            in_entry = line.rstrip().endswith(artifact)
        if in_entry and line.startswith("  sha256: "):
            if value is None:
                continue
            line = f"  sha256: {value}\n"
        out.append(line)
    assert out != lines, f"{artifact} has no sha256 line in the lock"
    lock.write_text("".join(out))


def _refused_untouched(root: Path, cache: Path, *expect: str) -> None:
    prefix = root / PREFIX
    marker = (root / MARKER).read_bytes()
    before = _listing(prefix)
    proc = h("install", "--frozen", cwd=root, cache=cache, check=1)
    assert_clean_error(proc)
    for text in expect:
        assert text in proc.stderr, proc.stderr
    assert (root / MARKER).read_bytes() == marker
    assert _listing(prefix) == before


def test_wrong_pypi_sha256_over_an_installed_env_is_refused(
    tmp_path: Path, conda_channel: Path, wheelhouse: Path, cache: Path
) -> None:
    root = write_project(tmp_path / "p", conda_channel, wheelhouse)
    h("install", cwd=root, cache=cache)
    _set_sha256(root / "hermetic.lock", "hellowheel-0.1-py3-none-any.whl", "0" * 64)
    _refused_untouched(root, cache, "does not match the lock", "hellowheel")


def test_refused_conda_artifact_keeps_the_env_and_its_marker(
    tmp_path: Path, conda_channel: Path, cache: Path
) -> None:
    root = write_project(tmp_path / "p", conda_channel, deps='tinytool = "*"', pypi="")
    h("install", cwd=root, cache=cache)
    _set_sha256(root / "hermetic.lock", "tinytool-2.1-h0_0.conda", "ab" * 32)
    _refused_untouched(root, cache, "does not match the lock", "sha256")


def test_md5_only_entry_is_checked_by_md5_warned_and_flagged(
    tmp_path: Path, conda_channel: Path
) -> None:
    channel = tmp_path / "channel"
    shutil.copytree(conda_channel, channel)
    cache = tmp_path / "cache"
    root = write_project(tmp_path / "p", channel, deps='tinytool = "*"', pypi="")
    h("lock", cwd=root, cache=cache)
    lock = root / "hermetic.lock"
    _set_sha256(lock, "tinytool-2.1-h0_0.conda", None)
    ok = h("install", "--frozen", cwd=root, cache=cache)
    assert "tinytool-2.1-h0_0.conda is pinned by md5 only" in ok.stdout + ok.stderr
    check = h("check", cwd=root, cache=cache, check=None)
    assert "lock-md5-only" in check.stdout + check.stderr

    # the archive is swapped: md5 catches it, nothing is linked
    shutil.rmtree(root / ".hermetic")
    shutil.rmtree(cache)
    archive = channel / "linux-64" / "tinytool-2.1-h0_0.conda"
    archive.write_bytes(archive.read_bytes() + b"\0")
    proc = h("install", "--frozen", cwd=root, cache=cache, check=1)
    assert_clean_error(proc)
    assert re.search(r"does not match the lock: md5 [0-9a-f]{32}", proc.stderr), proc.stderr
    assert not (root / PREFIX / "bin" / "tinytool").exists()


def test_entry_without_any_hash_is_refused(tmp_path: Path, conda_channel: Path) -> None:
    cache = tmp_path / "cache"
    root = write_project(tmp_path / "p", conda_channel, deps='tinytool = "*"', pypi="")
    h("lock", cwd=root, cache=cache)
    lock = root / "hermetic.lock"
    _set_sha256(lock, "tinytool-2.1-h0_0.conda", None)
    lock.write_text(
        re.sub(
            r"(- conda: \S+tinytool-2\.1-h0_0\.conda\n(?:  .*\n)*?)  md5: \S+\n",
            r"\1",
            lock.read_text(),
        )
    )
    proc = h("install", "--frozen", cwd=root, cache=cache, check=1)
    assert_clean_error(proc)
    assert "no sha256 (and no md5)" in proc.stderr
    check = h("check", cwd=root, cache=cache, check=None)
    assert check.returncode == 1 and "lock-unpinned" in check.stdout + check.stderr
