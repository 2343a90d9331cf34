"""A git dependency keeps its locked commit across re-locks until the spec or --update moves it.

The repositories are made in the test and reached by `file://` URLs; nothing is fetched.
"""

from __future__ import annotations

import shutil

import pytest

from clirun import assert_clean_error
from fixtures.sources import GitRepo, git_project, local_project
from hermetic.lock.read import load_lock
from projects import h, write_project

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _locked(root):
    return {
        p.name: p.url
        for p in load_lock(root / "hermetic.lock").pypi_packages("default", "linux-64")
    }


def _bump(repo: GitRepo, note: str) -> str:
    """A new upstream commit that keeps the project's version (as most commits do)."""
    (repo.root / "src" / "gitdep" / "__init__.py").write_text(f'NOTE = "{note}"\n')
    return repo.commit(note)


def _locked_on_main(tmp_path, conda_channel, wheelhouse):
    """A project whose `gitdep` follows the `main` branch of a repository, locked."""
    cache = tmp_path / "cache"
    repo = git_project(tmp_path / "gitdep", "gitdep", "1.2.0", "v1")
    root = write_project(
        tmp_path / "p",
        conda_channel,
        wheelhouse,
        deps='python = "*"',
        pypi=f'gitdep = {{ git = "{repo.url}", branch = "main" }}',
    )
    h("lock", cwd=root, cache=cache)
    return repo, root, cache


def test_git_commit_is_kept_until_the_spec_or_update_moves_it(tmp_path, conda_channel, wheelhouse):
    cache = tmp_path / "cache"
    repo = git_project(tmp_path / "gitdep", "gitdep", "1.2.0", "v1")
    first = repo.head()
    # a second project in a subdirectory of another repository
    mono = GitRepo(tmp_path / "mono")
    local_project(mono.root / "py", "subpkg", "0.1.0")
    mono_first = mono.commit("init")
    root = write_project(
        tmp_path / "p",
        conda_channel,
        wheelhouse,
        deps='python = "*"',
        pypi=f'gitdep = {{ git = "{repo.url}", branch = "main" }}\n'
        f'subpkg = {{ git = "{mono.url}", subdirectory = "py" }}',
    )
    spec = root / "hermetic.toml"
    h("lock", cwd=root, cache=cache)
    assert _locked(root) == {
        "gitdep": f"git+{repo.url}@{first}",
        "subpkg": f"git+{mono.url}@{mono_first}#subdirectory=py",
    }
    text = (root / "hermetic.lock").read_text()

    # upstream moves: a re-lock keeps both commits (same bytes), and the lock is fresh
    second = _bump(repo, "second")
    (mono.root / "py" / "README").write_text("x\n")
    mono.commit("more")
    h("lock", cwd=root, cache=cache)
    assert (root / "hermetic.lock").read_text() == text
    assert h("lock", "--check", cwd=root, cache=cache).returncode == 0

    # --update NAME moves that one only, and says so with the commits (the version is the same)
    proc = h("lock", "--update", "gitdep", cwd=root, cache=cache)
    assert f"gitdep 1.2.0 ({first[:12]}) -> 1.2.0 ({second[:12]})" in proc.stdout
    assert _locked(root)["gitdep"] == f"git+{repo.url}@{second}"
    assert _locked(root)["subpkg"].endswith(f"@{mono_first}#subdirectory=py")

    # a full --update moves everything
    third = _bump(repo, "third")
    h("lock", "--update", cwd=root, cache=cache)
    assert _locked(root)["gitdep"] == f"git+{repo.url}@{third}"
    assert f"@{mono.head()}#subdirectory=py" in _locked(root)["subpkg"]

    # another branch in the spec: stale, and the re-lock resolves the new branch
    repo.git("checkout", "-q", "-b", "dev", first)
    dev = _bump(repo, "dev")
    spec.write_text(spec.read_text().replace('branch = "main"', 'branch = "dev"'))
    check = h("lock", "--check", cwd=root, cache=cache, check=None)
    assert check.returncode == 1 and "'gitdep' changed its source" in check.stdout
    h("lock", cwd=root, cache=cache)
    assert _locked(root)["gitdep"] == f"git+{repo.url}@{dev}"

    # a tag: resolved once, then kept even when the tag is moved upstream
    spec.write_text(spec.read_text().replace('branch = "dev"', 'tag = "v1"'))
    h("lock", cwd=root, cache=cache)
    assert _locked(root)["gitdep"] == f"git+{repo.url}@{first}"
    repo.git("tag", "-f", "v1", dev)
    h("lock", cwd=root, cache=cache)
    assert _locked(root)["gitdep"] == f"git+{repo.url}@{first}"
    h("lock", "--update", "gitdep", cwd=root, cache=cache)
    assert _locked(root)["gitdep"] == f"git+{repo.url}@{dev}"


def test_unfetchable_git_source_names_the_url_without_credentials_and_keeps_the_lock(
    tmp_path, conda_channel, wheelhouse
):
    repo, root, cache = _locked_on_main(tmp_path, conda_channel, wheelhouse)
    before = (root / "hermetic.lock").read_bytes()

    # the repository is gone: a re-lock (at the locked commit, or updating) fails clearly
    # (uv's own cache is left out: it may still hold the commit, and then needs no fetch)
    shutil.rmtree(repo.root)
    for update in ((), ("--update", "gitdep")):
        uv_cache = str(tmp_path / f"uv{len(update)}")
        proc = h("lock", *update, cwd=root, cache=cache, check=None, UV_CACHE_DIR=uv_cache)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert_clean_error(proc)
        assert f"cannot fetch git+{repo.url}@main" in proc.stderr
        assert "previous lock is unchanged" in proc.stderr
        assert (root / "hermetic.lock").read_bytes() == before

    # a private repository that cannot be reached: its URL, never the token
    spec = root / "hermetic.toml"
    spec.write_text(
        spec.read_text().replace(
            f'git = "{repo.url}", branch = "main"',
            'git = "https://bot:s3cr3t-t0ken@127.0.0.1:9/org/private.git", tag = "v2"',
        )
    )
    proc = h("lock", cwd=root, cache=cache, check=None, GIT_TERMINAL_PROMPT="0")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert_clean_error(proc)
    assert "127.0.0.1:9/org/private.git" in proc.stderr, proc.stderr
    assert "s3cr3t" not in proc.stdout + proc.stderr
    assert (root / "hermetic.lock").read_bytes() == before


def test_adopted_pixi_lock_keeps_its_git_commit(tmp_path, conda_channel, wheelhouse):
    """pixi records a git source as `git+URL?branch=main#<commit>`: the commit is kept."""
    repo, root, cache = _locked_on_main(tmp_path, conda_channel, wheelhouse)
    first = repo.head()
    text = (root / "hermetic.lock").read_text()
    pixi = text[: text.index("\nhermetic:\n") + 1].replace(
        f"git+{repo.url}@{first}", f"git+{repo.url}?branch=main#{first}"
    )
    (root / "hermetic.lock").unlink()
    (root / "pixi.lock").write_text(pixi)
    _bump(repo, "second")
    h("lock", cwd=root, cache=cache)
    assert _locked(root)["gitdep"] == f"git+{repo.url}@{first}"
    # another branch than pixi locked: resolved afresh
    (root / "hermetic.lock").unlink()
    repo.git("branch", "other")
    spec = root / "hermetic.toml"
    spec.write_text(spec.read_text().replace('branch = "main"', 'branch = "other"'))
    h("lock", cwd=root, cache=cache)
    assert _locked(root)["gitdep"] == f"git+{repo.url}@{repo.head()}"
