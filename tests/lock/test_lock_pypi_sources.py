"""PyPI path and git dependencies, dependency metadata in the lock, and uv's interpreter.

Every project and git repository here is made in the test; nothing is fetched.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
import yaml

from clirun import assert_clean_error, hermetic
from fixtures.sources import git_project, local_project
from hermetic.lock.read import load_lock
from projects import write_project


def pypi_entries(root: Path) -> dict[str, object]:
    lock = load_lock(root / "hermetic.lock")
    return {p.name: p for p in lock.pypi_packages("default", "linux-64")}


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_path_and_git_dependencies_lock_relock_and_install(tmp_path, conda_channel, wheelhouse):
    mine = local_project(tmp_path / "mine", "mine", "0.3.0", ("pyusesnum>=1",))
    repo = git_project(tmp_path / "gitdep", "gitdep", "1.2.0", "v1.2.0", ("pynum>=1.0",))
    root = write_project(
        tmp_path / "p",
        conda_channel,
        wheelhouse,
        deps='python = "*"\npynum = "*"',
        pypi=f'mine = {{ path = "{mine}" }}\n'
        f'gitdep = {{ url = "git+{repo.url}@v1.2.0" }}\nhellowheel = "*"',
    )
    hermetic("lock", cwd=root)
    pypi = pypi_entries(root)
    assert set(pypi) == {"mine", "gitdep", "hellowheel", "pyusesnum"}
    local = pypi["mine"]
    assert (local.version, local.sha256, local.url) == ("0.3.0", None, mine.as_uri())
    assert local.requires_dist == ("pyusesnum>=1",) and local.requires_python == ">=3.8"
    git = pypi["gitdep"]
    commit = repo.head()
    # locked at the commit the tag named, not at the movable tag
    assert git.url == f"git+{repo.url}@{commit}" and git.version == "1.2.0"
    assert git.sha256 is None
    first = (root / "hermetic.lock").read_bytes()

    # re-locking over a lock with hashless entries: no crash, same bytes
    proc = hermetic("lock", cwd=root)
    assert (root / "hermetic.lock").read_bytes() == first, proc.stdout + proc.stderr
    # and the lock is still rattler's format
    from rattler import LockFile

    LockFile.from_path(root / "hermetic.lock")

    # both install: the directory and the checkout at the locked commit (no hashes)
    hermetic("install", cwd=root, env={"HERMETIC_CACHE_DIR": str(tmp_path / "cache")})
    out = hermetic(
        "run", "python", "-c", "import mine, gitdep; print(mine.__version__, gitdep.__version__)",
        cwd=root, env={"HERMETIC_CACHE_DIR": str(tmp_path / "cache")},
    ).stdout  # fmt: skip
    assert "0.3.0 1.2.0" in out


def test_unfetchable_sources_are_clear_errors_and_keep_the_old_lock(
    tmp_path, conda_channel, wheelhouse
):
    root = write_project(tmp_path / "p", conda_channel, wheelhouse, deps='python = "*"')
    hermetic("lock", cwd=root)
    before = (root / "hermetic.lock").read_bytes()
    missing_repo = (tmp_path / "no-such-repo").as_uri()
    body = (root / "hermetic.toml").read_text()
    for dep, url in (
        (f'gone = {{ url = "git+{missing_repo}@main" }}', missing_repo),
        (f'gone = {{ path = "{tmp_path / "no-such-dir"}" }}', str(tmp_path / "no-such-dir")),
    ):
        (root / "hermetic.toml").write_text(
            body.replace('hellowheel = "*"', f'hellowheel = "*"\n{dep}')
        )
        proc = hermetic("lock", cwd=root, check=None)
        assert proc.returncode in (1, 2), proc.stderr
        assert_clean_error(proc)
        assert url in proc.stderr, proc.stderr
        assert (root / "hermetic.lock").read_bytes() == before


def test_tree_and_conda_lock_export_from_the_lock_alone(tmp_path, conda_channel, wheelhouse):
    """requires_dist is in the lock: no environment is installed, none is read."""
    root = write_project(
        tmp_path / "p",
        conda_channel,
        wheelhouse,
        deps='python = "*"\ntinytool = "*"',
        pypi='pyusesnum = "*"\npyneedsnum-free = { path = "'
        + str(local_project(tmp_path / "free", "pyneedsnum-free", "1.0", ("pyusesnum",)))
        + '" }',
    )
    hermetic("lock", cwd=root)
    assert not (root / ".hermetic").exists()
    pypi = pypi_entries(root)
    assert pypi["pyusesnum"].requires_dist == ("pynum>=1.0",)  # read from the wheel's METADATA
    text = (root / "hermetic.lock").read_text()
    assert "  requires_dist:\n  - pynum>=1.0\n" in text

    tree = hermetic("tree", "pynum", cwd=root).stdout
    # pynum (conda) <- pyusesnum (pypi) <- pyneedsnum-free (pypi, the spec's)
    assert "pyusesnum 1.0" in tree and "pyneedsnum-free 1.0" in tree, tree
    assert not (root / ".hermetic").exists()

    out = hermetic("export", "-f", "conda-lock", cwd=root).stdout
    pip = {p["name"]: p for p in yaml.safe_load(out)["package"] if p["manager"] == "pip"}
    assert pip["pyusesnum"]["dependencies"] == {"pynum": ">=1.0"}
    assert pip["pyneedsnum-free"]["dependencies"] == {"pyusesnum": "*"}

    # a path source is exported by its URL (no index has it), and has no hash to require
    env_yml = hermetic("export", "-f", "environment-yml", cwd=root).stdout
    free = (tmp_path / "free").as_uri()
    assert f"pyneedsnum-free @ {free}" in env_yml and "pyusesnum==1.0" in env_yml
    reqs = hermetic("export", "-f", "requirements", cwd=root)
    assert f"pyneedsnum-free @ {free}\n" in reqs.stdout
    assert "pyneedsnum-free: a path or git source has no hash" in reqs.stderr


def test_identical_pypi_requests_are_resolved_once(tmp_path, conda_channel, wheelhouse):
    root = write_project(
        tmp_path / "p",
        conda_channel,
        wheelhouse,
        deps='python = "*"',
        extra="",
    )
    with (root / "hermetic.toml").open("a") as fh:
        fh.write(
            textwrap.dedent("""
            [feature.a.dependencies]
            tinytool = "*"
            [feature.b.dependencies]
            libtiny = "*"
            [environments]
            a = ["a"]
            b = ["b"]
            """)
        )
    proc = hermetic("lock", cwd=root)
    # three environments, one PyPI question (libtiny and tinytool provide no Python dist)
    assert "3 environment x platform resolutions (1 distinct)" in proc.stdout + proc.stderr
    lock = load_lock(root / "hermetic.lock")
    urls = {e: [p.url for p in lock.pypi_packages(e, "linux-64")] for e in ("default", "a", "b")}
    assert urls["default"] == urls["a"] == urls["b"] and urls["a"]


def test_uv_neither_searches_for_nor_downloads_an_interpreter(tmp_path, wheelhouse):
    """The conda solve chose the Python: uv must resolve for it without looking for one."""
    from hermetic.manifest.model import PypiOptions
    from hermetic.resolve.pypi import PypiRequest, resolve_pypi

    probe = tmp_path / "bin"
    probe.mkdir()
    touched = tmp_path / "touched"
    for name in ("python", "python3", "python3.13"):
        exe = probe / name
        exe.write_text(f"#!/bin/sh\necho {name} >> {touched}\nexit 1\n")
        exe.chmod(0o755)
    req = PypiRequest(
        environment="default",
        platform="linux-64",
        python_version="3.13.1",  # an interpreter this machine does not have
        requirements=("hellowheel",),
        provided=(),
        options=PypiOptions(find_links=(str(wheelhouse),), no_index=True),
    )
    mp = pytest.MonkeyPatch()
    try:
        mp.setenv("PATH", f"{probe}:/usr/bin:/bin")
        mp.setenv("UV_PYTHON_INSTALL_DIR", str(tmp_path / "pythons"))
        mp.setenv("UV_PYTHON_DOWNLOADS", "automatic")  # hermetic must override it
        mp.setenv("UV_PYTHON_INSTALL_MIRROR", "http://127.0.0.1:9/")  # and never get here
        mp.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
        result = resolve_pypi(req)
    finally:
        mp.undo()
    assert [p.name for p in result] == ["hellowheel"]
    assert not touched.exists(), "uv queried an interpreter on PATH"
    assert not (tmp_path / "pythons").exists() or not any((tmp_path / "pythons").iterdir())


def test_metadata_of_a_remote_wheel_comes_from_pep658_and_is_cached(tmp_path, monkeypatch):
    """A served index: the `.metadata` file is fetched once, then read from the cache."""
    import hashlib
    import http.server
    import threading

    from hermetic.resolve.pypi_metadata import remote_wheel_metadata

    meta = "Metadata-Version: 2.1\nName: far\nVersion: 1.0\nRequires-Dist: near>=2\n"
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            body = meta.encode() if self.path.endswith(".whl.metadata") else b""
            self.send_response(200 if body else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("HERMETIC_CACHE_DIR", str(tmp_path / "cache"))
    try:
        url = f"http://127.0.0.1:{server.server_port}/far-1.0-py3-none-any.whl"
        sha = hashlib.sha256(b"far").hexdigest()
        for _ in range(2):
            got = remote_wheel_metadata(url, sha)
            assert got is not None and got.requires_dist == ("near>=2",)
    finally:
        server.shutdown()
    assert hits == ["/far-1.0-py3-none-any.whl.metadata"]


@pytest.mark.parametrize("version", [6, 7])
def test_adopt_a_pixi_lock_with_pypi_entries(tmp_path, conda_channel, wheelhouse, version):
    """A pixi.lock beside the manifest is the previous lock: its conda and PyPI pins stay."""
    pinned = write_project(
        tmp_path / "pinned",
        conda_channel,
        wheelhouse,
        deps='python = "*"\nlibtiny = "==0.9"',
        pypi='pynum = "==1.5"\nhellowheel = "*"',
    )
    hermetic("lock", cwd=pinned)
    text = (pinned / "hermetic.lock").read_text()
    body = text[: text.index("\nhermetic:\n") + 1]  # pixi writes no hermetic: block
    body = body.replace("version: 7\n", f"version: {version}\n", 1)
    # pixi records the package index of each environment
    body = body.replace(
        "    packages:\n", "    indexes:\n    - https://pypi.org/simple\n    packages:\n", 1
    )
    assert "  sha256: " in body and "- pypi: " in body

    loose = write_project(
        tmp_path / "loose",
        conda_channel,
        wheelhouse,
        deps='python = "*"\nlibtiny = "*"',
        pypi='pynum = "*"\nhellowheel = "*"',
    )
    hermetic("lock", cwd=loose)  # a fresh lock takes the newest
    fresh = load_lock(loose / "hermetic.lock")
    assert {r.name.normalized: str(r.version) for r in fresh.conda_records("default", "linux-64")}[
        "libtiny"
    ] == "1.0"
    assert pypi_entries(loose)["pynum"].version == "2.0"

    (loose / "hermetic.lock").unlink()
    (loose / "pixi.lock").write_text(body)
    proc = hermetic("lock", cwd=loose)
    assert "pixi.lock" in proc.stdout + proc.stderr
    adopted = load_lock(loose / "hermetic.lock")
    conda = {
        r.name.normalized: str(r.version) for r in adopted.conda_records("default", "linux-64")
    }
    assert conda["libtiny"] == "0.9"
    assert pypi_entries(loose)["pynum"].version == "1.5"
    assert (loose / "pixi.lock").read_text() == body  # the other tool's file is left alone

    # a spec that no longer allows the pin wins over it
    (loose / "hermetic.lock").unlink()
    (loose / "hermetic.toml").write_text(
        (loose / "hermetic.toml").read_text().replace('pynum = "*"', 'pynum = ">=2"')
    )
    hermetic("lock", cwd=loose)
    assert pypi_entries(loose)["pynum"].version == "2.0"
    conda = {
        r.name.normalized: str(r.version)
        for r in load_lock(loose / "hermetic.lock").conda_records("default", "linux-64")
    }
    assert conda["libtiny"] == "0.9"
