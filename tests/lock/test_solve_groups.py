"""Solve groups: the environments of one group agree on every version they share."""

from __future__ import annotations

import dataclasses
import json
import textwrap
from pathlib import Path

from clirun import hermetic
from hermetic.lock.check import check_lock
from hermetic.lock.read import Lock, load_lock
from hermetic.lock.update import lock_spec
from hermetic.manifest.load import load_spec
from hermetic.manifest.model import Spec


def project(root: Path, channel: Path, wheelhouse: Path) -> Spec:
    """train pins libtiny below 1.0 (through `pinner`) and PyPI pynum below 2; serve asks
    for neither pin, so on its own it gets libtiny 1.0 and pynum 2.0."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "hermetic.toml").write_text(
        textwrap.dedent(f"""
        channels = [{json.dumps(str(channel))}]
        platforms = ["linux-64"]
        [dependencies]
        python = "*"
        [pypi-options]
        find-links = [{json.dumps(str(wheelhouse))}]
        no-index = true
        [feature.train.dependencies]
        pinner = "*"
        libtiny = "*"
        [feature.train.pypi-dependencies]
        pynum = "<2"
        [feature.serve.dependencies]
        libtiny = "*"
        [feature.serve.pypi-dependencies]
        pyusesnum = "*"
        [environments]
        train = ["train"]
        serve = ["serve"]
        """)
    )
    return load_spec(root / "hermetic.toml")


def in_group(spec: Spec, group: str, *names: str) -> Spec:
    decls = tuple(
        dataclasses.replace(d, solve_group=group) if d.name in names else d
        for d in spec.environments
    )
    return dataclasses.replace(spec, environments=decls)


def versions(lock: Lock, env: str) -> dict[str, str]:
    out = {r.name.normalized: str(r.version) for r in lock.conda_records(env, "linux-64")}
    out |= {f"pypi:{p.name}": p.version for p in lock.pypi_packages(env, "linux-64")}
    return out


def pixi_group(channel: Path, tables: str, wheelhouse: Path | None = None) -> str:
    """A pixi.toml whose `train` and `serve` environments (features of the same names, in
    `tables`) are one solve group, `prod`; `wheelhouse` is the workspace's find-links."""
    links = (
        f"[pypi-options]\nfind-links = [{{ path = {json.dumps(str(wheelhouse))} }}]\n"
        if wheelhouse
        else ""
    )
    return (
        f'[workspace]\nname = "demo"\nchannels = [{json.dumps(str(channel))}]\n'
        f'platforms = ["linux-64"]\n[dependencies]\npython = "*"\n{links}'
        + textwrap.dedent(tables)
        + "[environments]\n"
        'train = { features = ["train"], solve-group = "prod" }\n'
        'serve = { features = ["serve"], solve-group = "prod" }\n'
    )


def test_group_members_get_the_same_versions(tmp_path, conda_channel, wheelhouse):
    spec = project(tmp_path / "p", conda_channel, wheelhouse)
    alone = tmp_path / "alone.lock"
    lock_spec(spec, alone)
    separate = load_lock(alone)
    # what separate solves give: the case a solve group exists for
    assert versions(separate, "train")["libtiny"] == "0.9"
    assert versions(separate, "serve")["libtiny"] == "1.0"
    assert versions(separate, "train")["pypi:pynum"] == "1.5"
    assert versions(separate, "serve")["pypi:pynum"] == "2.0"

    grouped_spec = in_group(spec, "prod", "train", "serve")
    path = tmp_path / "grouped.lock"
    messages: list[str] = []
    lock_spec(grouped_spec, path, reporter=messages.append)
    assert any("1 solve group" in m for m in messages), messages
    lock = load_lock(path)
    train, serve = versions(lock, "train"), versions(lock, "serve")
    assert train["libtiny"] == serve["libtiny"] == "0.9"
    assert train["pypi:pynum"] == serve["pypi:pynum"] == "1.5"
    # each member takes only what its own requirements reach
    assert "pinner" in train and "pinner" not in serve
    assert "pypi:pyusesnum" in serve and "pypi:pyusesnum" not in train
    assert "python" in serve and "python" in train
    # an environment outside the group is solved alone, as before
    assert versions(lock, "default") == versions(separate, "default")

    # the lock records the group; it is fresh, and stale when a sibling changes
    assert check_lock(grouped_spec, path).fresh
    assert not check_lock(spec, path).fresh
    assert "solve-group:\n" in path.read_text()
    sibling = dataclasses.replace(
        grouped_spec,
        features=tuple(
            dataclasses.replace(f, dependencies=f.dependencies[:1]) if f.name == "train" else f
            for f in grouped_spec.features
        ),
    )
    reasons = [s.reason for s in check_lock(sibling, path).stale if s.environment == "serve"]
    assert any("another environment of solve group 'prod' changed" in r for r in reasons)

    # re-locking keeps the group's pins and writes the same bytes
    before = path.read_bytes()
    result = lock_spec(grouped_spec, path)
    assert not result.written and path.read_bytes() == before
    from rattler import LockFile

    LockFile.from_path(path)


def test_pixi_manifest_solve_group_from_the_command_line(tmp_path, conda_channel, wheelhouse):
    """The same case written as a pixi user writes it, run as a user runs it."""
    root = tmp_path / "px"
    root.mkdir()
    (root / "pixi.toml").write_text(
        pixi_group(
            conda_channel,
            """
            [feature.train.dependencies]
            pinner = "*"
            libtiny = "*"
            [feature.serve.dependencies]
            libtiny = "*"
            [feature.serve.pypi-dependencies]
            pyusesnum = "*"
            """,
            wheelhouse,
        )
    )
    proc = hermetic("lock", cwd=root)
    assert "1 solve group" in proc.stdout + proc.stderr
    lock = load_lock(root / "hermetic.lock")
    assert versions(lock, "serve")["libtiny"] == versions(lock, "train")["libtiny"] == "0.9"
    assert "pinner" not in versions(lock, "serve")
    assert "pypi:pyusesnum" in versions(lock, "serve")
    hermetic("lock", "--check", cwd=root)
    # the serve environment's dependency graph, from the lock alone
    tree = hermetic("tree", "pynum", "-e", "serve", cwd=root).stdout
    assert "pyusesnum" in tree


def test_a_group_that_cannot_agree_is_named_with_its_environments(
    tmp_path, conda_channel, wheelhouse
):
    """Messages name the group and its environments as the user wrote them, never an
    internal label, for the conda solve and for the PyPI resolution."""
    root = tmp_path / "px"
    root.mkdir()
    manifest = pixi_group(
        conda_channel,
        """
        [feature.train.dependencies]
        libtiny = "0.9"
        [feature.train.pypi-dependencies]
        pynum = "<2"
        [feature.serve.dependencies]
        libtiny = "SERVE"
        [feature.serve.pypi-dependencies]
        pynum = ">=2"
        """,
        wheelhouse,
    )
    group = "solve group 'prod' (environments train, serve)"
    (root / "pixi.toml").write_text(manifest.replace("SERVE", ">=1.0"))
    proc = hermetic("lock", cwd=root, check=1)
    assert f"no conda solution for {group}, platform linux-64" in proc.stderr
    assert "solved as one" in proc.stderr and "solve-group:" not in proc.stderr
    (root / "pixi.toml").write_text(manifest.replace("SERVE", "*"))
    proc = hermetic("lock", cwd=root, check=1)
    assert f"cannot resolve the PyPI dependencies of {group} for linux-64" in proc.stderr
    assert "solve-group:" not in proc.stderr
    assert not (root / "hermetic.lock").exists()


def test_group_pypi_options_are_merged_as_pixi_merges_them(tmp_path, conda_channel, wheelhouse):
    """Each member's find-links (and extra indexes) serve the whole group; two different
    index-urls cannot, and are refused when the manifest is read, naming both."""
    root = tmp_path / "px"
    for sub, wheel in (("a", "pynum-1.5"), ("b", "hellowheel-0.1")):
        (root / sub).mkdir(parents=True)
        (root / sub / f"{wheel}-py3-none-any.whl").write_bytes(
            (wheelhouse / f"{wheel}-py3-none-any.whl").read_bytes()
        )
    manifest = pixi_group(
        conda_channel,
        """
        [feature.train.pypi-dependencies]
        pynum = "*"
        [feature.train.pypi-options]
        find-links = [{ path = "a" }]
        [feature.serve.pypi-dependencies]
        hellowheel = "*"
        [feature.serve.pypi-options]
        find-links = [{ path = "b" }]
        """,
    )
    (root / "pixi.toml").write_text(manifest)
    hermetic("lock", cwd=root)
    lock = load_lock(root / "hermetic.lock")
    assert versions(lock, "train")["pypi:pynum"] == "1.5"
    assert versions(lock, "serve")["pypi:hellowheel"] == "0.1"

    secret = "https://alice:s3cret@pypi.corp.example/simple"
    (root / "pixi.toml").write_text(
        manifest.replace(
            'find-links = [{ path = "a" }]', f'index-url = "{secret}"\nfind-links = []'
        ).replace('find-links = [{ path = "b" }]', 'index-url = "https://pypi.org/simple"')
    )
    for command in ("lock", "check"):
        proc = hermetic(command, cwd=root, check=2)
        assert "pixi.toml:" in proc.stderr and "solve group 'prod'" in proc.stderr
        assert "'train' uses index-url" in proc.stderr and "pypi.corp.example" in proc.stderr
        assert "'serve' uses https://pypi.org/simple" in proc.stderr
        assert "s3cret" not in proc.stderr
