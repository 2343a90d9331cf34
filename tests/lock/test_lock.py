"""`hermetic lock`: the lock is right, deterministic, stable, readable by rattler."""

from __future__ import annotations

import textwrap

import pytest
from rattler import LockFile

from clirun import assert_clean_error, hermetic
from fixtures.channels import PackageSpec, build_channel
from hermetic.lock.read import load_lock
from projects import base_spec, locked, write_spec


def test_lock_writes_rattler_readable_lock_for_each_platform(tmp_path, conda_channel):
    write_spec(
        tmp_path, base_spec(conda_channel, 'tinytool = "*"', platforms='["linux-64", "osx-arm64"]')
    )
    proc = hermetic("lock", cwd=tmp_path)
    assert "linux-64" in proc.stdout and "osx-arm64" in proc.stdout
    lf = LockFile.from_path(str(tmp_path / "hermetic.lock"))
    env = lf.default_environment()
    plats = {str(p.name): p for p in env.platforms()}
    assert set(plats) == {"linux-64", "osx-arm64"}
    for p in plats.values():
        names = {r.name.normalized for r in env.conda_repodata_records_for_platform(p)}
        assert {"tinytool", "libtiny"} <= names
        for r in env.conda_repodata_records_for_platform(p):
            assert r.sha256 and len(r.sha256.hex()) == 64
            assert str(r.url)
    # rattler writes back exactly the body hermetic wrote (the hermetic: block is extra)
    text = (tmp_path / "hermetic.lock").read_text()
    lf.to_path(str(tmp_path / "roundtrip.lock"))
    assert text[: text.index("\nhermetic:\n") + 1] == (tmp_path / "roundtrip.lock").read_text()


def test_lock_is_deterministic(tmp_path, conda_channel):
    body = base_spec(
        conda_channel,
        'tinytool = "*"\npyhello = "*"\npython = "*"',
        platforms='["linux-64", "osx-arm64"]',
    )
    a, b = tmp_path / "a", tmp_path / "b"
    write_spec(a, body)
    write_spec(b, body)
    hermetic("lock", cwd=a)
    hermetic("lock", cwd=b)
    assert (a / "hermetic.lock").read_bytes() == (b / "hermetic.lock").read_bytes()
    before = (a / "hermetic.lock").read_bytes()
    proc = hermetic("lock", cwd=a)
    assert "unchanged" in proc.stdout
    assert (a / "hermetic.lock").read_bytes() == before


def test_relock_is_stable_and_update_frees_packages(tmp_path):
    channel = tmp_path / "channel"
    build_channel(
        channel, [PackageSpec("aaa", "1.0"), PackageSpec("bbb", "1.0"), PackageSpec("ccc", "1.0")]
    )
    proj = tmp_path / "proj"
    write_spec(proj, base_spec(channel, 'aaa = "*"'))
    hermetic("lock", cwd=proj)
    assert locked(proj)["aaa"].startswith("1.0=")
    # newer versions appear upstream; an unrelated dependency is added
    build_channel(channel, [PackageSpec("aaa", "2.0"), PackageSpec("bbb", "2.0")])
    write_spec(proj, base_spec(channel, 'aaa = "*"\nbbb = "*"'))
    proc = hermetic("lock", cwd=proj)
    now = locked(proj)
    assert now["aaa"].startswith("1.0="), "an unrelated package moved on re-lock"
    assert now["bbb"].startswith("2.0=")
    assert "+ bbb 2.0" in proc.stdout
    proc = hermetic("lock", "--update", "aaa", cwd=proj)
    assert locked(proj)["aaa"].startswith("2.0=")
    assert "aaa 1.0 -> 2.0" in proc.stdout
    proc = hermetic("lock", "--update", "aab", cwd=proj, check=2)
    assert "aaa" in proc.stderr  # did you mean


def test_cuda_build_only_when_cuda_declared(tmp_path, conda_channel):
    write_spec(tmp_path / "cpu", base_spec(conda_channel, 'gpukernel = "*"'))
    hermetic("lock", cwd=tmp_path / "cpu")
    assert locked(tmp_path / "cpu")["gpukernel"] == "1.0=cpu_0"
    assert "cuda-version" not in locked(tmp_path / "cpu")

    write_spec(
        tmp_path / "gpu",
        base_spec(conda_channel, 'gpukernel = "*"', extra='[system-requirements]\ncuda = "12.6"'),
    )
    hermetic("lock", cwd=tmp_path / "gpu")
    got = locked(tmp_path / "gpu")
    assert got["gpukernel"] == "1.0=cuda124_1"
    assert got["cuda-version"].startswith("12.6")
    # the lock records what it was solved against
    lock = load_lock(tmp_path / "gpu" / "hermetic.lock")
    assert lock.system_requirements("default").cuda == "12.6"

    # too old a driver for every cuda build: the cpu build, never a broken gpu one
    write_spec(
        tmp_path / "old",
        base_spec(conda_channel, 'gpukernel = "*"', extra='[system-requirements]\ncuda = "12.2"'),
    )
    hermetic("lock", cwd=tmp_path / "old")
    assert locked(tmp_path / "old")["gpukernel"] == "1.0=cpu_0"


def test_features_and_environments(tmp_path, conda_channel):
    # gpukernel exists for linux-64 only: the gpu feature narrows its environment to linux-64
    write_spec(
        tmp_path,
        base_spec(conda_channel, 'tinytool = "*"', platforms='["linux-64", "osx-arm64"]')
        + textwrap.dedent("""
        [feature.gpu]
        platforms = ["linux-64"]
        [feature.gpu.system-requirements]
        cuda = "12.4"
        [feature.gpu.dependencies]
        gpukernel = "*"
        [environments]
        gpu = ["gpu"]
        """),
    )
    hermetic("lock", cwd=tmp_path)
    lock = load_lock(tmp_path / "hermetic.lock")
    assert lock.environment_names() == ("default", "gpu")
    assert lock.platforms("default") == ("linux-64", "osx-arm64")
    assert lock.platforms("gpu") == ("linux-64",)
    gpu = locked(tmp_path, "gpu")
    assert gpu["gpukernel"] == "1.0=cuda124_1" and "tinytool" in gpu
    assert "gpukernel" not in locked(tmp_path, "default")


def test_lock_check(tmp_path, conda_channel):
    write_spec(tmp_path, base_spec(conda_channel, 'tinytool = "*"'))
    proc = hermetic("lock", "--check", cwd=tmp_path, check=1)
    assert "no lock file" in proc.stdout
    hermetic("lock", cwd=tmp_path)
    hermetic("lock", "--check", cwd=tmp_path, check=0)
    # a new dependency makes it stale, and the message names it
    write_spec(tmp_path, base_spec(conda_channel, 'tinytool = "*"\npinner = "*"'))
    proc = hermetic("lock", "--check", cwd=tmp_path, check=1)
    assert "pinner" in proc.stdout
    # a constraint the locked version still meets is fine
    write_spec(tmp_path, base_spec(conda_channel, 'tinytool = ">=2"'))
    hermetic("lock", "--check", cwd=tmp_path, check=0)
    # one it does not meet is stale
    write_spec(tmp_path, base_spec(conda_channel, 'tinytool = ">=3"'))
    proc = hermetic("lock", "--check", cwd=tmp_path, check=1)
    assert "tinytool >=3" in proc.stdout and "2.1" in proc.stdout
    # a new platform is stale
    write_spec(
        tmp_path, base_spec(conda_channel, 'tinytool = "*"', platforms='["linux-64", "osx-arm64"]')
    )
    proc = hermetic("lock", "--check", cwd=tmp_path, check=1)
    assert "osx-arm64" in proc.stdout
    # so is a changed system requirement
    write_spec(
        tmp_path,
        base_spec(conda_channel, 'tinytool = "*"', extra='[system-requirements]\ncuda = "12.4"'),
    )
    proc = hermetic("lock", "--check", cwd=tmp_path, check=1)
    assert "system-requirements" in proc.stdout


def test_environment_yml_is_locked_as_is(tmp_path, conda_channel):
    (tmp_path / "environment.yml").write_text(
        textwrap.dedent(f"""
        name: demo
        channels:
          - {conda_channel}
        dependencies:
          - tinytool=2.1   # conda fuzzy: 2.1.*
          - libtiny>=1.0
          - pyhello
          - python
        """)
    )
    hermetic("lock", cwd=tmp_path)
    got = locked(tmp_path)
    assert got["tinytool"].startswith("2.1=") and got["libtiny"].startswith("1.0=")
    assert "pyhello" in got and "python" in got


# ---- errors: one clear message, no traceback, the old lock kept ----


def test_unsatisfiable_explained_and_good_lock_kept(tmp_path, conda_channel):
    write_spec(tmp_path, base_spec(conda_channel, 'tinytool = "*"'))
    hermetic("lock", cwd=tmp_path)
    good = (tmp_path / "hermetic.lock").read_bytes()
    write_spec(tmp_path, base_spec(conda_channel, 'tinytool = "*"\npinner = "*"'))
    proc = hermetic("lock", cwd=tmp_path, check=1)
    assert_clean_error(proc)
    assert "pinner" in proc.stderr and "libtiny" in proc.stderr
    assert proc.stderr.count("Cannot solve") <= 1 and proc.stderr.count("incompatible") == 1
    assert (tmp_path / "hermetic.lock").read_bytes() == good
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_unknown_package_did_you_mean(tmp_path, conda_channel):
    write_spec(tmp_path, base_spec(conda_channel, 'tinytoool = "*"'))
    proc = hermetic("lock", cwd=tmp_path, check=1)
    assert_clean_error(proc)
    assert "tinytoool" in proc.stderr and "did you mean 'tinytool'" in proc.stderr


def test_cuda_package_without_declared_cuda_says_how(tmp_path, conda_channel):
    write_spec(tmp_path, base_spec(conda_channel, 'gpukernel = "*=cuda*"'))
    proc = hermetic("lock", cwd=tmp_path, check=1)
    assert_clean_error(proc)
    assert "__cuda" in proc.stderr and "system-requirements" in proc.stderr


def test_unreachable_channel_named_with_url(tmp_path):
    write_spec(tmp_path, base_spec("http://127.0.0.1:9/nochannel", 'tinytool = "*"'))
    proc = hermetic(
        "lock", cwd=tmp_path, env={"HERMETIC_CACHE_DIR": str(tmp_path / "cache")}, check=1
    )
    assert_clean_error(proc)
    assert "http://127.0.0.1:9/nochannel/" in proc.stderr


def test_invalid_platform_lists_valid_ones(tmp_path, conda_channel):
    write_spec(tmp_path, base_spec(conda_channel, 'tinytool = "*"', platforms='["linux-46"]'))
    proc = hermetic("lock", cwd=tmp_path, check=2)
    assert_clean_error(proc)
    assert "linux-46" in proc.stderr and "osx-arm64" in proc.stderr and "linux-64" in proc.stderr


@pytest.mark.parametrize("missing", ["hermetic.toml"])
def test_no_manifest_is_a_usage_error(tmp_path, missing):
    proc = hermetic("lock", cwd=tmp_path, check=2)
    assert_clean_error(proc)
    assert missing in proc.stderr


def test_damaged_hermetic_block_is_named_with_its_line(tmp_path, conda_channel):
    write_spec(tmp_path, base_spec(conda_channel, 'tinytool = "*"'))
    hermetic("lock", cwd=tmp_path)
    lock = tmp_path / "hermetic.lock"
    text = lock.read_text()
    line = text[: text.index("\nhermetic:\n")].count("\n") + 2
    lock.write_text(text.replace("  environments:\n", "  environments: [\n", 1))
    for args in (("lock", "--check"), ("check",), ("install",)):
        proc = hermetic(*args, cwd=tmp_path, check=1)
        assert_clean_error(proc)
        assert f"hermetic.lock:{line}" in proc.stderr and "hermetic lock" in proc.stderr


def test_known_package_without_matching_version_says_so(tmp_path, conda_channel):
    write_spec(tmp_path, base_spec(conda_channel, 'tinytool = ">=9"'))
    proc = hermetic("lock", cwd=tmp_path, check=1)
    assert_clean_error(proc)
    assert "tinytool is in the channels" in proc.stderr and ">=9" in proc.stderr
    assert "did you mean" not in proc.stderr


def test_channel_pkg_names_a_local_channel_reached_through_a_symlink(tmp_path, conda_channel):
    """The folder is kept as the user wrote it (normalized, not resolved): `linked::tinytool`
    is the listed channel `./linked`, and the lock records the path the user wrote."""
    (tmp_path / "linked").symlink_to(conda_channel)
    (tmp_path / "environment.yml").write_text(
        textwrap.dedent(f"""
        name: demo
        channels:
          - {tmp_path}/linked
        platforms: [linux-64]
        dependencies:
          - python
          - {tmp_path}/sub/../linked::tinytool
        """)
    )
    hermetic("lock", cwd=tmp_path)
    lock = load_lock(tmp_path / "hermetic.lock")
    channels = {str(r.channel) for r in lock.conda_records("default", "linux-64")}
    assert channels == {(tmp_path / "linked").as_uri() + "/"}
    (tmp_path / "environment.yml").unlink()
    write_spec(
        tmp_path,
        base_spec("./linked", 'python = "*"\ntinytool = { version = "2.1", channel = "./linked" }'),
    )
    hermetic("lock", cwd=tmp_path)
    assert locked(tmp_path)["tinytool"].startswith("2.1=")


CUDA_HINT_KINDS = {
    "environment.yml": (
        "name: gpu\nchannels:\n  - {ch}\nplatforms: [linux-64]\ndependencies:\n"
        "  - python=3.11\n  - gpukernel=*=cuda*\n",
        'add a top-level key to {path}: system-requirements: {{cuda: "12.4"}}',
        'system-requirements: {cuda: "12.4"}\n',
    ),
    "pixi.toml": (
        '[workspace]\nchannels = ["{ch}"]\nplatforms = ["linux-64"]\n\n[dependencies]\n'
        'python = "3.11.*"\n\n[feature.gpu.dependencies]\ngpukernel = {{ version = "*", '
        'build = "cuda*" }}\n\n[environments]\ngpu = ["gpu"]\n',
        'add [feature.gpu.system-requirements] with cuda = "12.4" to {path} (its feature '
        "starts at line 8)",
        '[feature.gpu.system-requirements]\ncuda = "12.4"\n',
    ),
    "hermetic.toml": (
        'channels = ["{ch}"]\nplatforms = ["linux-64"]\n[dependencies]\npython = "3.11.*"\n'
        'gpukernel = "*=cuda*"\n[system-requirements]\nglibc = "2.28"\n',
        'add cuda = "12.4" to [system-requirements] at {path}:6',
        None,
    ),
    "pyproject.toml": (
        '[project]\nname = "x"\n\n[tool.pixi.workspace]\nchannels = ["{ch}"]\n'
        'platforms = ["linux-64"]\n\n[tool.pixi.dependencies]\npython = "3.11.*"\n'
        'gpukernel = {{ version = "*", build = "cuda*" }}\n',
        'add [tool.pixi.system-requirements] with cuda = "12.4" to {path}',
        None,
    ),
}


@pytest.mark.parametrize("name", CUDA_HINT_KINDS)
def test_missing_cuda_hint_says_what_to_write_in_the_users_own_file(tmp_path, conda_channel, name):
    """The hint names the table of the manifest at hand (not [tool.hermetic...]), with the
    version the package needs; written as told, the lock succeeds."""
    text, hint, fix = CUDA_HINT_KINDS[name]
    path = tmp_path / name
    path.write_text(text.format(ch=conda_channel))
    proc = hermetic("lock", cwd=tmp_path, check=1)
    assert_clean_error(proc)
    assert "a package needs __cuda >= 12.4 but the spec declares no cuda" in proc.stderr
    assert hint.format(path=path) in proc.stderr
    assert "tool.hermetic" not in proc.stderr
    if fix is not None:
        path.write_text(path.read_text() + fix)
        hermetic("lock", cwd=tmp_path)
        env = "default" if name == "environment.yml" else "gpu"
        assert locked(tmp_path, env)["gpukernel"].endswith("=cuda124_1")


def test_cuda_declared_too_low_says_which_line_to_raise(tmp_path, conda_channel):
    write_spec(
        tmp_path,
        base_spec(
            conda_channel, 'gpukernel = "*=cuda*"', extra='[system-requirements]\ncuda = "12.0"'
        ),
    )
    proc = hermetic("lock", cwd=tmp_path, check=1)
    assert "needs __cuda >= 12.4 but the spec declares cuda 12.0" in proc.stderr
    assert f'set cuda = "12.4" in [system-requirements] at {tmp_path / "hermetic.toml"}:4' in (
        proc.stderr
    )


def test_a_default_glibc_too_low_is_added_in_pixis_spelling(tmp_path):
    """glibc 2.28 is a default, not a declaration: the hint adds the key (pixi's `libc`)."""
    channel = build_channel(
        tmp_path / "chan",
        [PackageSpec("newlibc", "1.0", depends=("__glibc >=2.34",), files={"share/x": b"x"})],
    )
    (tmp_path / "pixi.toml").write_text(
        f'[workspace]\nchannels = ["{channel}"]\nplatforms = ["linux-64"]\n'
        '[dependencies]\nnewlibc = "*"\n'
    )
    proc = hermetic("lock", cwd=tmp_path, check=1)
    assert "needs __glibc >= 2.34 but the spec declares no libc (2.28 is assumed)" in proc.stderr
    assert f'add [system-requirements] with libc = "2.34" to {tmp_path / "pixi.toml"}' in (
        proc.stderr
    )
