"""`[mirrors]`: solve, fetch and install from a mirror; the lock keeps the canonical URLs."""

from __future__ import annotations

import shutil

import pytest

from fixtures.serve import serve_directory
from hermetic.errors import UsageError
from hermetic.lock.read import load_lock
from hermetic.mirrors import load_mirrors
from projects import h, write_spec

CANONICAL = "https://conda.example.invalid/tinychan"  # never resolvable: only the mirror answers


def _project(root):
    write_spec(
        root,
        f"""
        channels = ["{CANONICAL}"]
        platforms = ["linux-64"]
        [dependencies]
        tinytool = "*"
        """,
    )
    return root


def _assert_canonical(root):
    text = (root / "hermetic.lock").read_text()
    assert f"- url: {CANONICAL}/\n" in text
    urls = [
        str(r.url) for r in load_lock(root / "hermetic.lock").conda_records("default", "linux-64")
    ]
    assert urls and all(u.startswith(f"{CANONICAL}/linux-64/") for u in urls), urls
    assert "127.0.0.1" not in text and "file://" not in text


def _ship_from_the_mirror(root, tmp_path, env):
    """pack, bundle and image build fetch the archives afresh (empty caches): through the
    mirror, as install does, since the canonical URL does not resolve."""
    meta = next((root / ".hermetic/envs/default/conda-meta").glob("tinytool-*.json"))
    assert f'"{CANONICAL}/linux-64/' in meta.read_text()  # conda-meta names the canonical URL
    for name, args in [
        ("pack", ("pack", "-o", str(tmp_path / "env.tar.gz"))),
        ("bundle", ("bundle", "-o", str(tmp_path / "bundle"))),
        ("image", ("image", "build", "--base", "scratch", "-o", f"oci:{tmp_path / 'img'}:v1")),
    ]:
        h(*args, cwd=root, cache=tmp_path / f"cache-{name}", **env)
    assert (tmp_path / "env.tar.gz").stat().st_size > 0
    assert list((tmp_path / "bundle" / "channel").rglob("tinytool-*"))
    assert (tmp_path / "img" / "index.json").is_file()


def test_http_mirror_from_the_user_config(tmp_path, conda_channel):
    served = tmp_path / "www"
    shutil.copytree(conda_channel, served / "tinychan")
    root = _project(tmp_path / "proj")
    config = tmp_path / "config.toml"
    with serve_directory(served) as url:
        config.write_text(f'[mirrors]\n"{CANONICAL}" = ["{url}tinychan"]\n')
        env = {"HERMETIC_CONFIG": str(config)}
        h("lock", cwd=root, cache=tmp_path / "cache", **env)
        _assert_canonical(root)
        h("install", "--locked", cwd=root, cache=tmp_path / "cache", **env)
        assert (root / ".hermetic/envs/default/bin/tinytool").exists()
        _ship_from_the_mirror(root, tmp_path, env)


def test_file_mirror_from_the_project_config(tmp_path, conda_channel):
    copy = tmp_path / "srv" / "tinychan"
    shutil.copytree(conda_channel, copy)
    root = _project(tmp_path / "proj")
    (root / ".hermetic").mkdir()
    (root / ".hermetic" / "config.toml").write_text(
        f'[mirrors]\n"{CANONICAL}/" = ["{copy.as_uri()}/"]\n'
    )
    env = {"HERMETIC_CONFIG": str(tmp_path / "absent.toml")}
    h("lock", cwd=root, cache=tmp_path / "cache", **env)
    _assert_canonical(root)
    h("install", "--locked", cwd=root, cache=tmp_path / "cache", **env)
    assert (root / ".hermetic/envs/default/bin/tinytool").exists()
    proc = h("run", "--frozen", "tinytool", cwd=root, cache=tmp_path / "cache", **env, check=None)
    assert proc.returncode == 0, proc.stderr
    _ship_from_the_mirror(root, tmp_path, env)


def test_project_config_wins_and_bad_tables_are_named(tmp_path):
    user, project = tmp_path / "user.toml", tmp_path / "project.toml"
    user.write_text('[mirrors]\n"https://a.example/x" = ["https://m1.example/x"]\n')
    project.write_text('[mirrors]\n"https://a.example/x/" = "file:///srv/x"\n')
    m = load_mirrors([user, project, tmp_path / "missing.toml"])
    assert m.fetch_url("https://a.example/x/linux-64/repodata.json") == (
        "file:///srv/x/linux-64/repodata.json"
    )
    assert m.fetch_url("https://other.example/y/z") == "https://other.example/y/z"
    bad = tmp_path / "bad.toml"
    bad.write_text('\n[mirrors]\n"conda-forge" = ["https://m.example/cf"]\n')
    with pytest.raises(UsageError, match="no http") as err:
        load_mirrors([bad])
    assert str(err.value.location) == f"{bad}:3"
