"""Editable PyPI path dependencies: locked as editable, installed in development mode.

The project under development is a source tree made in the test with an in-tree PEP 660
backend (`fixtures.sources`), so uv builds and installs it offline.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from clirun import assert_clean_error
from fixtures.sources import local_project
from hermetic.lock.read import load_lock
from projects import h, write_project

PROBE = "import mine; print(mine.__version__, mine.__file__)"


def _mine(lock: Path, env: str = "default"):
    return {p.name: p for p in load_lock(lock).pypi_packages(env, "linux-64")}["mine"]


def test_editable_path_dependency_end_to_end(tmp_path, conda_channel, wheelhouse):
    cache = tmp_path / "cache"
    mine = local_project(tmp_path / "mine", "mine", "0.3.0", ("pyusesnum>=1",))
    root = write_project(
        tmp_path / "p",
        conda_channel,
        wheelhouse,
        deps='python = "*"\npynum = "*"',
        pypi=f'mine = {{ path = "{mine}", editable = true }}\nhellowheel = "*"',
    )
    h("lock", cwd=root, cache=cache)
    lock = root / "hermetic.lock"
    text = lock.read_text()
    # a directory beside the project is recorded relative to it, as pixi.lock writes it
    entry = text[text.index("\n- pypi: ../mine\n") + 1 :].split("\n- ", 1)[0]
    assert str(tmp_path) not in text  # the lock holds in another checkout of the monorepo
    assert "\n  editable: true" in entry, entry
    assert text.count("editable: true") == 1  # only the editable one
    assert "pypi-editable:" in text and "      - mine" in text  # what the spec asked
    locked = _mine(lock)
    assert locked.editable and locked.sha256 is None and locked.version == "0.3.0"
    assert {p.name: p.editable for p in load_lock(lock).pypi_packages("default", "linux-64")}[
        "hellowheel"
    ] is False

    # the whole monorepo moved: the lock is still fresh and names the moved source tree
    moved = tmp_path / "moved"
    moved.mkdir()
    shutil.copytree(mine, moved / "mine")
    shutil.copytree(root, moved / "p", ignore=shutil.ignore_patterns(".hermetic"))
    spec = moved / "p" / "hermetic.toml"
    spec.write_text(spec.read_text().replace(str(mine), "../mine"))
    assert h("lock", "--check", cwd=moved / "p", cache=cache).returncode == 0
    assert _mine(moved / "p" / "hermetic.lock").url == (moved / "mine").as_uri()

    # exported as pip writes it, so `conda env create` installs it editable too
    exported = h("export", "-f", "environment-yml", cwd=root, cache=cache).stdout
    assert f"- -e {mine}\n" in exported and "hellowheel==0.1" in exported

    h("install", cwd=root, cache=cache)
    out = h("run", "python", "-c", PROBE, cwd=root, cache=cache).stdout
    assert out.split() == ["0.3.0", str(mine / "src" / "mine" / "__init__.py")]
    prefix = root / ".hermetic" / "envs" / "default"
    direct = next(prefix.glob("lib/python*/site-packages/mine-0.3.0.dist-info/direct_url.json"))
    assert json.loads(direct.read_text())["dir_info"] == {"editable": True}

    # an edit in the source tree is live at once: no re-install, and install is a no-op
    (mine / "src" / "mine" / "__init__.py").write_text('__version__ = "edited"\n')
    proc = h("run", "python", "-c", PROBE, cwd=root, cache=cache)
    assert proc.stdout.split()[0] == "edited"
    assert "installing" not in proc.stderr + proc.stdout
    again = h("install", cwd=root, cache=cache)
    assert "is up to date" in again.stdout, again.stdout + again.stderr
    assert h("lock", "--check", cwd=root, cache=cache).returncode == 0
    # re-locking an unchanged spec writes the same bytes
    h("lock", cwd=root, cache=cache)
    assert lock.read_text() == text

    # the project gains a dependency in its pyproject.toml: stale, and `run` re-locks first
    pyproject = mine / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n[tool.whatever]\nx = 1\n")
    assert h("lock", "--check", cwd=root, cache=cache).returncode == 0  # not metadata
    pyproject.write_text(
        pyproject.read_text().replace('"pyusesnum>=1"', '"pyusesnum>=1", "renamed-dist"')
    )
    check = h("lock", "--check", cwd=root, cache=cache, check=None)
    assert check.returncode == 1 and "metadata of PyPI source 'mine' changed" in check.stdout
    probe = "import mine, renamed_dist; print(mine.__version__)"
    assert h("run", "python", "-c", probe, cwd=root, cache=cache).stdout.split() == ["edited"]
    assert "renamed-dist" in {p.name for p in load_lock(lock).pypi_packages("default", "linux-64")}
    text = lock.read_text()

    # editable off: the lock is stale, and install re-locks and installs a copy
    spec = root / "hermetic.toml"
    spec.write_text(spec.read_text().replace(", editable = true", ""))
    check = h("lock", "--check", cwd=root, cache=cache, check=None)
    assert check.returncode == 1 and "'mine' is now not editable" in check.stdout + check.stderr
    h("install", cwd=root, cache=cache)
    assert "editable: true" not in lock.read_text() and not _mine(lock).editable
    out = h("run", "python", "-c", PROBE, cwd=root, cache=cache).stdout.split()
    assert out[0] == "edited" and str(prefix) in out[1]  # the copy in site-packages
    (mine / "src" / "mine" / "__init__.py").write_text('__version__ = "later"\n')
    assert h("run", "python", "-c", PROBE, cwd=root, cache=cache).stdout.split()[0] == "edited"

    # and on again: back to the source tree
    spec.write_text(
        spec.read_text().replace(f'path = "{mine}"', f'path = "{mine}", editable = true')
    )
    h("install", cwd=root, cache=cache)
    out = h("run", "python", "-c", PROBE, cwd=root, cache=cache).stdout.split()
    assert out == ["later", str(mine / "src" / "mine" / "__init__.py")]


def test_pixi_manifest_editable_self_dependency_and_packs_refuse_it(tmp_path, conda_channel):
    """pixi's usual layout: the workspace is the Python project, `{ path = ".", editable = true }`."""
    cache = tmp_path / "cache"
    root = local_project(tmp_path / "proj", "mine", "1.0.0")
    (root / "pixi.toml").write_text(
        textwrap.dedent(f"""
        [workspace]
        name = "mine"
        channels = [{json.dumps(str(conda_channel))}]
        platforms = ["linux-64"]

        [dependencies]
        python = "*"

        [pypi-dependencies]
        mine = {{ path = ".", editable = true }}

        [feature.serve.dependencies]
        python = "*"

        [environments]
        serve = {{ features = ["serve"], no-default-feature = true }}
        """)
    )
    h("lock", cwd=root, cache=cache)
    assert _mine(root / "hermetic.lock").editable
    out = h("run", "python", "-c", PROBE, cwd=root, cache=cache).stdout.split()
    assert out == ["1.0.0", str(root / "src" / "mine" / "__init__.py")]
    # recorded relative to the project, as pixi.lock does: the lock holds in any checkout
    text = (root / "hermetic.lock").read_text()
    assert "\n- pypi: .\n  name: mine\n" in text and "        - mine @ .\n" in text
    assert str(root) not in text.replace(str(conda_channel), "")
    moved = tmp_path / "elsewhere" / "proj"
    shutil.copytree(root, moved, ignore=shutil.ignore_patterns(".hermetic"))
    assert h("lock", "--check", cwd=moved, cache=cache).returncode == 0
    out = h("run", "--frozen", "python", "-c", PROBE, cwd=moved, cache=cache).stdout.split()
    assert out == ["1.0.0", str(moved / "src" / "mine" / "__init__.py")]

    # a pack (like an image) is laid out from wheels: an editable install cannot go in it
    proc = h("pack", "-o", str(tmp_path / "env.tar.gz"), cwd=root, cache=cache, check=None)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert_clean_error(proc)
    assert "mine 1.0.0 is an editable install of" in proc.stderr
    # a bundle too, before it copies anything
    proc = h("bundle", "-o", str(tmp_path / "bundle"), cwd=root, cache=cache, check=None)
    assert proc.returncode == 1 and "mine 1.0.0 is an editable install of" in proc.stderr
    assert not (tmp_path / "bundle").exists()
    assert "feature" in proc.stderr  # the way out: keep it out of the shipped environment
    assert not (tmp_path / "env.tar.gz").exists()
    # the environment without the editable project packs
    h("pack", "-e", "serve", "-o", str(tmp_path / "serve.tar.gz"), cwd=root, cache=cache)
    assert (tmp_path / "serve.tar.gz").stat().st_size > 0


def test_one_directory_cannot_be_editable_in_one_environment_only(
    tmp_path, conda_channel, wheelhouse
):
    mine = local_project(tmp_path / "mine", "mine", "0.3.0")
    root = write_project(
        tmp_path / "p",
        conda_channel,
        wheelhouse,
        deps='python = "*"',
        pypi=f'mine = {{ path = "{mine}", editable = true }}',
        extra="",
    )
    with (root / "hermetic.toml").open("a") as fh:
        fh.write(
            textwrap.dedent(f"""
            [feature.ci.dependencies]
            python = "*"
            [feature.ci.pypi-dependencies]
            mine = {{ path = "{mine}" }}
            [environments]
            ci = {{ features = ["ci"], no-default-feature = true }}
            """)
        )
    proc = h("lock", cwd=root, cache=tmp_path / "cache", check=None)
    assert proc.returncode == 1
    assert_clean_error(proc)
    assert "editable in environment 'default' but not in 'ci'" in proc.stderr
    assert not (root / "hermetic.lock").exists()


def test_environment_yml_pip_e_dot_installs_the_project_editable(
    tmp_path, conda_channel, wheelhouse
):
    """`pip: [-e .]` as `conda env create` runs it: the project, editable, by its own name."""
    cache = tmp_path / "cache"
    root = local_project(tmp_path / "proj", "mine", "2.0.0", ("hellowheel",))
    (root / "environment.yml").write_text(
        textwrap.dedent(f"""\
        name: mine
        channels: [{json.dumps(str(conda_channel))}]
        platforms: [linux-64]
        dependencies:
          - python
          - pip:
            - --no-index
            - --find-links {wheelhouse}
            - -e .
        """)
    )
    proc = h("lock", cwd=root, cache=cache)
    assert "editable install" not in proc.stderr  # no "not locked" warning any more
    locked = _mine(root / "hermetic.lock")
    assert locked.editable and locked.url == root.as_uri()
    assert "hellowheel" in {
        p.name for p in load_lock(root / "hermetic.lock").pypi_packages("default", "linux-64")
    }
    out = h("run", "python", "-c", PROBE, cwd=root, cache=cache).stdout.split()
    assert out == ["2.0.0", str(root / "src" / "mine" / "__init__.py")]

    # a project without a static name stays a warning that says why
    (root / "pyproject.toml").write_text('[project]\ndynamic = ["name"]\n')
    (root / "hermetic.lock").unlink()
    proc = h("lock", "--check", cwd=root, cache=cache, check=None)
    assert "'-e .' is an editable install of a local project: not locked" in proc.stderr
    assert "declares no [project] name" in proc.stderr


@pytest.mark.parametrize(
    ("url", "editable", "says"),
    [
        ("file:///src/mine", True, "is an editable install of /src/mine"),
        ("file:///src/mine", False, "is a source directory (/src/mine)"),
        ("git+https://bot:tok@host/org/mine.git@" + "a" * 40, False, "is a git checkout"),
    ],
)
def test_image_and_pack_wheel_fetch_refuses_sources_with_the_way_out(tmp_path, url, editable, says):
    """`hermetic image build` and `hermetic pack` take every PyPI package through fetch_wheel."""
    from hermetic.env.wheelfetch import fetch_wheel, fetch_wheels
    from hermetic.errors import LockError
    from hermetic.lock.model import PypiArtifact

    pkg = PypiArtifact("mine", "1.0", url, None, editable=editable)
    with pytest.raises(LockError) as info:
        fetch_wheel(pkg, tmp_path)
    text = str(info.value)
    assert f"mine 1.0 {says}" in text and "uv build" in text and "feature" in text
    assert "tok" not in text
    # several at once: one error names them all, before anything is fetched
    other = PypiArtifact("other", "2.0", "file:///src/other", None)
    with pytest.raises(LockError) as info:
        fetch_wheels((pkg, other), tmp_path)
    assert "these PyPI packages have none" in str(info.value)
    assert f"mine 1.0 {says}" in str(info.value) and "other 2.0 is a source directory" in str(
        info.value
    )
