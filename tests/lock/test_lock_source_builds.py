"""A local source tree with dynamic metadata is built once per lock, and not at all while
it is unchanged; an edit to it is seen by the next lock. A lock that already satisfies the
spec (and whose source trees are unchanged) is kept without a solve.

A real project (skrub: 13 environments x 4 platforms, `skrub = { path = ".", editable = true }`
in every one) used to build its own tree 41 times per lock, a few seconds each.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from clirun import hermetic
from hermetic.lock.read import load_lock
from projects import write_project

# A PEP 517 backend with no requirements (uv builds it offline) whose version is dynamic,
# read from a VERSION file. It logs which hook ran: uv's own resolution asks for the
# metadata (prepare_metadata_for_build_wheel); hermetic's read of the locked metadata builds
# the wheel (build_wheel).
BACKEND = """
import base64, hashlib, os, zipfile

LOG = {log!r}

def _meta():
    version = open("VERSION").read().strip()
    return ["Metadata-Version: 2.1", "Name: dyn", f"Version: {{version}}",
            "Requires-Dist: hellowheel"], version

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    lines, version = _meta()
    info = os.path.join(metadata_directory, f"dyn-{{version}}.dist-info")
    os.makedirs(info)
    open(os.path.join(info, "METADATA"), "w").write("\\n".join(lines) + "\\n")
    open(LOG, "a").write("metadata\\n")
    return f"dyn-{{version}}.dist-info"

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    lines, version = _meta()
    info = f"dyn-{{version}}.dist-info"
    files = {{
        "dyn/__init__.py": b"",
        f"{{info}}/METADATA": ("\\n".join(lines) + "\\n").encode(),
        f"{{info}}/WHEEL": b"Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    }}
    name = f"dyn-{{version}}-py3-none-any.whl"
    record = []
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as zf:
        for arc, data in sorted(files.items()):
            zf.writestr(arc, data)
            h = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{{arc}},sha256={{h}},{{len(data)}}")
        zf.writestr(f"{{info}}/RECORD", "\\n".join(record + [f"{{info}}/RECORD,,"]) + "\\n")
    open(LOG, "a").write("wheel\\n")
    return name
"""


def dynamic_project(root: Path, log: Path, version: str) -> Path:
    root.mkdir(parents=True)
    (root / "inbackend.py").write_text(BACKEND.format(log=str(log)))
    (root / "VERSION").write_text(version + "\n")
    (root / "pyproject.toml").write_text(
        textwrap.dedent("""
        [project]
        name = "dyn"
        dynamic = ["version", "dependencies"]
        [build-system]
        requires = []
        build-backend = "inbackend"
        backend-path = ["."]
        """)
    )
    return root


def test_a_dynamic_source_tree_is_built_once_and_rebuilt_only_when_edited(
    tmp_path, conda_channel, wheelhouse
):
    log = tmp_path / "hooks.log"
    src = dynamic_project(tmp_path / "dyn", log, "1.0")
    root = write_project(
        tmp_path / "p", conda_channel, wheelhouse, pypi=f'dyn = {{ path = "{src}" }}'
    )
    # three environments, two distinct PyPI requests (b adds a requirement): two
    # resolutions lock the same source tree
    with (root / "hermetic.toml").open("a") as fh:
        fh.write(
            textwrap.dedent("""
            [feature.a.dependencies]
            tinytool = "*"
            [feature.b.pypi-dependencies]
            hellowheel = "*"
            [environments]
            a = ["a"]
            b = ["b"]
            """)
        )
    env = {"HERMETIC_CACHE_DIR": str(tmp_path / "cache"), "UV_CACHE_DIR": str(tmp_path / "uv")}

    def wheel_builds() -> int:
        return log.read_text().splitlines().count("wheel") if log.exists() else 0

    def locked_dyn() -> set[tuple[str, tuple[str, ...]]]:
        lock = load_lock(root / "hermetic.lock")
        return {
            (p.version, p.requires_dist)
            for e in ("default", "a", "b")
            for p in lock.pypi_packages(e, "linux-64")
            if p.name == "dyn"
        }

    proc = hermetic("lock", cwd=root, env=env)
    assert "(2 distinct)" in proc.stdout + proc.stderr
    assert locked_dyn() == {("1.0", ("hellowheel",))}
    assert wheel_builds() == 1, log.read_text()

    # a lock that satisfies the spec, over an unchanged tree, is kept as it is: no solve
    before = (root / "hermetic.lock").stat().st_mtime_ns
    proc = hermetic("lock", cwd=root, env=env)
    assert "nothing was re-solved" in proc.stdout, proc.stdout + proc.stderr
    assert "solving conda packages" not in proc.stdout + proc.stderr
    assert (root / "hermetic.lock").stat().st_mtime_ns == before
    assert "default" in proc.stdout and "linux-64" in proc.stdout  # the summary still shows

    # unchanged tree, no lock: the solve reads the tree's metadata from the cache
    (root / "hermetic.lock").unlink()
    hermetic("lock", cwd=root, env=env)
    assert wheel_builds() == 1, log.read_text()

    # an edit the metadata depends on: the fresh-looking lock is re-solved, the tree rebuilt
    (src / "VERSION").write_text("1.1\n")
    proc = hermetic("lock", cwd=root, env=env)
    assert "nothing was re-solved" not in proc.stdout
    assert locked_dyn() == {("1.1", ("hellowheel",))}
    assert wheel_builds() == 2, log.read_text()

    # --update always re-solves
    proc = hermetic("lock", "--update", cwd=root, env=env)
    assert "solving conda packages" in proc.stdout + proc.stderr
