"""PyPI dependency metadata from a private index: the lock's `requires_dist` of a wheel that
lives behind basic auth is read with the manifest's in-memory credentials, whichever way
the server offers it (PEP 658 file, byte ranges, or only the whole file), so `tree` and the
exports have its edges. The secret is in no file hermetic writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clirun import hermetic
from fixtures.serve import serve_directory
from fixtures.wheels import build_wheel, write_simple_index
from hermetic.lock.read import load_lock

USER, SECRET = "alice", "pr1vate-1ndex-S3CRET"


@pytest.mark.parametrize("server", ["pep658", "ranges", "whole-file"])
def test_private_wheels_get_their_requires_dist(tmp_path: Path, conda_channel: Path, server):
    www = tmp_path / "www"
    wheels = [
        build_wheel(tmp_path / "w", "privwheel", "1.0", requires=["privdep>=1"]),
        build_wheel(tmp_path / "w", "privdep", "1.0"),
    ]
    write_simple_index(www, wheels, pep658=server == "pep658")
    root, cache = tmp_path / "proj", tmp_path / "cache"
    root.mkdir()
    log: list[tuple[str, str | None]] = []
    ranges = server == "ranges"
    with serve_directory(www, auth=(USER, SECRET), ranges=ranges, log=log) as url:
        index = url.replace("http://", f"http://{USER}:{SECRET}@") + "simple"
        (root / "hermetic.toml").write_text(
            f'channels = [{json.dumps(str(conda_channel))}]\nplatforms = ["linux-64"]\n'
            '[dependencies]\npython = "*"\n[pypi-dependencies]\nprivwheel = "*"\n'
            f"[pypi-options]\nindex-url = {json.dumps(index)}\n"
        )
        env = {"HERMETIC_CACHE_DIR": str(cache), "UV_CACHE_DIR": str(tmp_path / "uv")}
        hermetic("lock", cwd=root, env=env)
    lock = load_lock(root / "hermetic.lock")
    (priv,) = [p for p in lock.pypi_packages("default", "linux-64") if p.name == "privwheel"]
    assert priv.requires_dist == ("privdep>=1",)
    # every wheel request carried the credentials (none was answered 401)
    wheel_requests = [auth for path, auth in log if path.startswith("/files/")]
    assert wheel_requests and all(auth is not None for auth in wheel_requests)
    tree = hermetic("tree", "privdep", cwd=root, env=env).stdout
    assert "privwheel" in tree and "<- spec: privwheel" in tree
    written = [p for p in (root / "hermetic.lock", *cache.rglob("*")) if p.is_file()]
    assert not [p for p in written if SECRET.encode() in p.read_bytes()]
