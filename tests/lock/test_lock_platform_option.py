"""`hermetic lock -p PLATFORM` (repeatable) replaces the manifest's platforms, as conda-lock's -p."""

from __future__ import annotations

import json

from clirun import assert_clean_error, hermetic
from hermetic.lock.read import load_lock
from projects import write_spec


def test_platform_option_overrides_and_is_recorded(tmp_path, conda_channel):
    (tmp_path / "environment.yml").write_text(
        f"channels:\n  - {json.dumps(str(conda_channel))}\ndependencies:\n  - tinytool\n"
    )
    env = {"HERMETIC_CACHE_DIR": str(tmp_path / "cache")}
    hermetic("lock", "-p", "osx-arm64", "--platform", "linux-64", cwd=tmp_path, env=env)
    lock = load_lock(tmp_path / "hermetic.lock")
    assert lock.platforms("default") == ("linux-64", "osx-arm64")
    assert {r.name.normalized for r in lock.conda_records("default", "osx-arm64")} >= {"tinytool"}
    text = (tmp_path / "hermetic.lock").read_text()
    assert "- osx-arm64" in text or "osx-arm64:" in text
    # fresh for the same platforms, stale for the manifest's own
    hermetic("lock", "--check", "-p", "linux-64", "-p", "osx-arm64", cwd=tmp_path, env=env)
    hermetic("lock", "--check", cwd=tmp_path, env=env, check=None)
    only = hermetic("lock", "-p", "osx-arm64", cwd=tmp_path, env=env)
    assert "osx-arm64" in only.stdout
    assert load_lock(tmp_path / "hermetic.lock").platforms("default") == ("osx-arm64",)


def test_unknown_platform_option_is_a_usage_error(tmp_path, conda_channel):
    write_spec(
        tmp_path, f'channels = [{json.dumps(str(conda_channel))}]\n[dependencies]\ntinytool = "*"\n'
    )
    proc = hermetic("lock", "-p", "linux-arm64", cwd=tmp_path, check=2)
    assert_clean_error(proc)
    assert "linux-arm64" in proc.stderr and "did you mean 'linux-aarch64'" in proc.stderr
    assert not (tmp_path / "hermetic.lock").exists()


def test_lock_made_with_platform_option_is_fresh_for_install_and_check(tmp_path, conda_channel):
    write_spec(
        tmp_path,
        f"channels = [{json.dumps(str(conda_channel))}]\n"
        'platforms = ["linux-64", "osx-arm64"]\n[dependencies]\ntinytool = "*"\n',
    )
    env = {"HERMETIC_CACHE_DIR": str(tmp_path / "cache")}
    hermetic("lock", "-p", "linux-64", cwd=tmp_path, env=env)
    lock_file = tmp_path / "hermetic.lock"
    made = lock_file.read_bytes()
    assert "platform-override:\n  - linux-64\n" in made.decode()
    # the recorded override covers this machine: no re-lock, the lock stays as -p wrote it
    installed = hermetic("install", cwd=tmp_path, env=env)
    assert "stale" not in installed.stdout + installed.stderr
    assert "re-locking" not in installed.stdout + installed.stderr
    assert lock_file.read_bytes() == made
    hermetic("lock", "--check", cwd=tmp_path, env=env)
    # for other platforms than the recorded ones it is stale
    hermetic("lock", "--check", "-p", "osx-arm64", cwd=tmp_path, env=env, check=1)
    # a plain `hermetic lock` locks for the manifest's platforms again, and records no override
    hermetic("lock", cwd=tmp_path, env=env)
    assert load_lock(lock_file).platforms("default") == ("linux-64", "osx-arm64")
    assert "platform-override" not in lock_file.read_text()
    hermetic("lock", "--check", cwd=tmp_path, env=env)
