"""Conda tokens and mirrors with credentials, end to end against servers on 127.0.0.1.

* A channel that only answers under `/t/<token>/` (anaconda.org style): lock, install and
  pack work, and the token is in no file (project, env and conda-meta, caches and rattler's
  repodata cache, the lock, exports), no output and no argv. rattler only ever sees the
  canonical URL; the token is added per request, in memory (`hermetic.httpclient`).
* A channel behind an HTTP `[mirrors]` entry whose server wants basic auth: the credentials
  come from the mirror URL in the config, from `HERMETIC_AUTH_<HOST>`, or from the manifest
  URL when the mirror is on the channel's own host. The lock records the canonical URL, and
  the credentials of the canonical host never reach a mirror on another host.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures.secrets import ArgvWatch, files_containing, private_channel, run_isolated
from fixtures.serve import serve_directory
from hermetic import credentials
from hermetic.httpclient import rewrite_table
from hermetic.mirrors import load_mirrors

TOKEN = "tk-9f8e7d6c5b4a-SECRET"
USER, PASSWORD = "alice", "mirr0r-PASS-5150"
CANONICAL = "https://conda.example.invalid/private"  # never resolvable: only mirrors answer


@pytest.fixture(scope="module")
def private_www(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with one small channel, `private/`."""
    root = tmp_path_factory.mktemp("private-www")
    private_channel(root / "private")
    return root


def _project(root: Path, channel: str, allowed: str | None = None) -> Path:
    root.mkdir(parents=True)
    policy = f"[policy]\nallowed-channels = [{json.dumps(allowed)}]\n" if allowed else ""
    (root / "hermetic.toml").write_text(
        f"channels = [{json.dumps(channel)}]\n"
        'platforms = ["linux-64"]\n'
        '[dependencies]\nprivpkg = "*"\n' + policy
    )
    return root


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_a_conda_token_never_reaches_a_file(tmp_path: Path, private_www: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    log: list[tuple[str, str | None]] = []
    with serve_directory(private_www, token=TOKEN, log=log) as url:
        canonical = f"{url}private"
        # the policy names the channel without its token, as `check` compares channels
        root = _project(tmp_path / "proj", f"{url}t/{TOKEN}/private", allowed=canonical)
        commands = [
            ("lock",),
            ("lock", "--check"),
            ("export", "-f", "explicit"),
            ("export", "-f", "environment-yml", "-o", "env-export.yml"),
            ("export", "-f", "conda-lock", "-o", "conda-lock.yml"),
            ("check",),
            ("install", "--frozen"),
            ("list",),
            ("pack", "-o", "env.tar.gz"),
        ]
        outputs: list[str] = []
        with ArgvWatch(TOKEN) as watch:
            for args in commands:
                proc = run_isolated(root, home, *args)
                outputs.append(proc.stdout + proc.stderr)
                assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    env = root / ".hermetic/envs/default"
    assert (env / "share/priv.txt").read_text() == "p\n"
    # the server was reached through the token, for repodata and for the archive
    paths = [p for p, _ in log]
    assert any(p.endswith("repodata.json") for p in paths), paths
    assert any(p.endswith("privpkg-1.0-0.conda") for p in paths), paths
    assert all(p.startswith(f"/t/{TOKEN}/private/") for p in paths), paths
    # rattler's repodata cache was written, with the canonical URL in it
    infos = list((home / "hcache").rglob("*.info.json"))
    assert infos and all(f"{canonical}/" in p.read_text() for p in infos), infos
    meta = next((env / "conda-meta").glob("privpkg-*.json")).read_text()
    assert f"{canonical}/noarch/privpkg-1.0-0.conda" in meta
    lock = (root / "hermetic.lock").read_text()
    assert f"{canonical}/" in lock and "/t/" not in lock
    assert watch.samples > 10 and watch.hits == [], watch.hits[:3]
    for args, out in zip(commands, outputs, strict=True):
        assert TOKEN not in out, (args, out)
    leaked = files_containing(TOKEN, [root, home], skip=[root / "hermetic.toml"])
    assert leaked == [], f"the token was written to {leaked}"


def test_a_wrong_token_is_refused_with_a_credentials_hint(
    tmp_path: Path, private_www: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with serve_directory(private_www, token=TOKEN) as url:
        root = _project(tmp_path / "proj", f"{url}t/not-the-token-42/private", allowed=None)
        proc = run_isolated(root, home, "lock")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "not-the-token-42" not in proc.stderr
    assert "401" in proc.stderr and "wants credentials" in proc.stderr, proc.stderr
    assert not (root / "hermetic.lock").exists()


@pytest.mark.parametrize("source", ["mirror-url", "environment", "manifest-same-host"])
def test_a_private_channel_behind_a_mirror(tmp_path: Path, private_www: Path, source: str) -> None:
    """Basic auth on the mirror; the canonical host's own credentials (written in the
    manifest) must not be sent to the mirror, which is on another host."""
    home = tmp_path / "home"
    home.mkdir()
    log: list[tuple[str, str | None]] = []
    env: dict[str, str] = {}
    with serve_directory(private_www, auth=(USER, PASSWORD), log=log) as url:
        mirror = f"{url}private"
        if source == "manifest-same-host":
            # an Artifactory-style path rewrite on the channel's own server: the manifest's
            # credentials are that host's, so the mirror gets them
            canonical = f"{url}canonical"
            written = f"http://{USER}:{PASSWORD}@{canonical.removeprefix('http://')}"
        else:
            canonical, written = CANONICAL, CANONICAL.replace("://", "://bob:CANON-PW@")
        if source == "mirror-url":
            mirror_in_config = mirror.replace("://", f"://{USER}:{PASSWORD}@")
        else:
            mirror_in_config = mirror
        if source == "environment":
            env["HERMETIC_AUTH_127_0_0_1"] = f"{USER}:{PASSWORD}"
        (home / "config.toml").write_text(f'[mirrors]\n"{canonical}" = ["{mirror_in_config}"]\n')
        root = _project(tmp_path / "proj", written)
        outputs = []
        for args in [("lock",), ("install", "--frozen")]:
            proc = run_isolated(root, home, *args, **env)
            outputs.append(proc.stdout + proc.stderr)
            assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    assert (root / ".hermetic/envs/default/share/priv.txt").read_text() == "p\n"
    lock = (root / "hermetic.lock").read_text()
    assert f"- url: {canonical}/\n" in lock, lock
    assert f"{canonical}/noarch/privpkg-1.0-0.conda" in lock
    assert "127.0.0.1" not in lock or source == "manifest-same-host"
    assert USER not in lock and "bob" not in lock
    # every request went to the mirror with the mirror's credentials, and only those
    assert any(p.endswith("privpkg-1.0-0.conda") for p, _ in log), log
    assert {h for _, h in log} == {_basic(USER, PASSWORD)}, log
    for secret in (PASSWORD, "CANON-PW"):
        assert not any(secret in out for out in outputs), outputs
        written_to = files_containing(secret, [root, home], skip=[root / "hermetic.toml"])
        assert written_to == [] or written_to == [str(home / "config.toml")], written_to


@pytest.fixture
def fresh_memory(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The credentials remembered in this process, emptied for one test."""
    monkeypatch.setattr(credentials, "_REMEMBERED", {})
    monkeypatch.setattr(credentials, "_TOKENS", {})
    monkeypatch.setenv("NETRC", "/nonexistent/netrc")  # the runner's own netrc is no source
    yield


def test_where_a_token_and_a_mirror_credential_go(tmp_path: Path, fresh_memory: None) -> None:
    credentials.remember(
        [
            "https://conda.anaconda.org/t/TOK1/private",
            "https://bob:CANON@conda.anaconda.org/other",
            "https://repo.example/t/TOK2/team",
        ]
    )
    config = tmp_path / "config.toml"
    config.write_text(
        "[mirrors]\n"
        # another host: neither the token nor bob's password may follow the channel there
        '"https://conda.anaconda.org/private" = ["https://u:MIRROR@art.example/cf/private"]\n'
        # the same host, another path: the token is kept, after the host
        '"https://repo.example/team" = ["https://repo.example/mirror/team"]\n'
    )
    table = rewrite_table(load_mirrors([config]))
    assert table == {
        "https://conda.anaconda.org/private/": ["https://art.example/cf/private/"],
        "https://repo.example/team/": ["https://repo.example/t/TOK2/mirror/team/"],
    }
    assert "MIRROR" not in repr(load_mirrors([config]))
    # headers follow the host actually requested (after the mirror rewrite)
    assert credentials.auth_headers("art.example", "/cf/private/noarch/x.conda") == {
        "Authorization": _basic("u", "MIRROR")
    }
    assert credentials.auth_headers("conda.anaconda.org", "/t/TOK9/other/x.conda") == {
        "Authorization": _basic("bob", "CANON")
    }
    assert credentials.auth_headers("unrelated.example", "/x") is None
    # no mirror: the token rewrite alone
    assert rewrite_table(None) == {
        "https://conda.anaconda.org/private/": ["https://conda.anaconda.org/t/TOK1/private/"],
        "https://repo.example/team/": ["https://repo.example/t/TOK2/team/"],
    }
