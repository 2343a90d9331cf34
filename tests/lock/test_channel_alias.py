"""HERMETIC_CHANNEL_ALIAS is a real alias: solving, the lock and installing use its URL."""

from __future__ import annotations

import shutil

from fixtures.serve import serve_directory
from hermetic.lock.read import load_lock
from projects import h, write_spec


def test_alias_url_is_solved_from_recorded_and_installed(tmp_path, conda_channel):
    served = tmp_path / "www"
    shutil.copytree(conda_channel, served / "tinychan")
    root = tmp_path / "proj"
    write_spec(
        root,
        """
        channels = ["tinychan"]
        platforms = ["linux-64"]
        [dependencies]
        tinytool = "*"
        """,
    )
    cache = tmp_path / "cache"
    with serve_directory(served) as url:
        h("lock", cwd=root, cache=cache, HERMETIC_CHANNEL_ALIAS=url)
        text = (root / "hermetic.lock").read_text()
        channel_url = f"{url}tinychan/"
        assert f"- url: {channel_url}\n" in text
        lock = load_lock(root / "hermetic.lock")
        urls = [str(r.url) for r in lock.conda_records("default", "linux-64")]
        assert urls and all(u.startswith(f"{channel_url}linux-64/") for u in urls), urls
        assert "conda.anaconda.org" not in text
        h("install", "--locked", cwd=root, cache=cache, HERMETIC_CHANNEL_ALIAS=url)
    assert (root / ".hermetic/envs/default/bin/tinytool").exists()
