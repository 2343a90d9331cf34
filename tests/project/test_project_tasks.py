"""`hermetic run TASK`: pixi's [tasks] with cmd, depends-on, cwd and env, in a real env."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from clirun import assert_clean_error
from hermetic.errors import UsageError
from hermetic.manifest.load import load_spec
from hermetic.project.tasks import plan_tasks
from projects import h


def pixi_project(root: Path, channel: Path, tasks: str, extra: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pixi.toml").write_text(
        textwrap.dedent(
            f"""\
            [workspace]
            channels = [{json.dumps(str(channel))}]
            platforms = ["linux-64"]

            [dependencies]
            python = "*"
            pyhello = "*"

            [tasks]
            """
        )
        + textwrap.dedent(tasks)
        + textwrap.dedent(extra)
    )
    return root


TASKS = """\
gen = { cmd = "python -c 'import pyhello, os; print(os.environ[\\"STAGE\\"])' > gen.txt", env = { STAGE = "generated $HOME" } }
show = { cmd = "cat ../gen.txt; pwd", depends-on = ["gen"], cwd = "sub" }
args = "python -c 'import sys; print(sys.argv[1:])'"
all = { depends-on = ["show", "gen", { task = "args" }] }
fail = "exit 3"
after = { cmd = "echo never > never.txt", depends-on = ["fail"] }
"""


def test_a_task_runs_after_its_dependencies_in_the_env(tmp_path, conda_channel):
    root = pixi_project(tmp_path / "p", conda_channel, TASKS)
    (root / "sub").mkdir()
    cache = tmp_path / "cache"
    proc = h("run", "show", cwd=root, cache=cache)
    # gen ran first, in the environment (it imports pyhello), with its literal env value
    assert (root / "gen.txt").read_text() == "generated $HOME\n"
    assert proc.stdout.splitlines() == ["generated $HOME", str(root / "sub")]
    assert "task gen (default)" in proc.stderr and "task show (default)" in proc.stderr


def test_extra_arguments_go_to_the_task_and_plain_commands_still_run(tmp_path, conda_channel):
    root = pixi_project(tmp_path / "p", conda_channel, TASKS)
    cache = tmp_path / "cache"
    proc = h("run", "args", "one", "two words", cwd=root, cache=cache)
    assert proc.stdout.strip() == "['one', 'two words']"
    proc = h("run", "python", "-c", "print('plain')", cwd=root, cache=cache)
    assert proc.stdout.strip() == "plain"


def test_a_failing_dependency_stops_the_run_with_its_code(tmp_path, conda_channel):
    root = pixi_project(tmp_path / "p", conda_channel, TASKS)
    proc = h("run", "after", cwd=root, cache=tmp_path / "cache", check=3)
    assert not (root / "never.txt").exists()
    assert "task fail failed with exit code 3" in proc.stderr


def test_plan_is_topological_each_task_once(tmp_path, conda_channel):
    spec = load_spec(pixi_project(tmp_path / "p", conda_channel, TASKS) / "pixi.toml")
    steps = plan_tasks(spec, "all", None)
    assert [s.task.name for s in steps] == ["gen", "show", "args"]
    with pytest.raises(UsageError, match="only runs other tasks"):
        plan_tasks(spec, "all", None, ["x"])


def test_a_cycle_is_a_clear_error(tmp_path, conda_channel):
    root = pixi_project(
        tmp_path / "p",
        conda_channel,
        """\
        a = { cmd = "true", depends-on = ["b"] }
        b = { cmd = "true", depends-on = ["c"] }
        c = { cmd = "true", depends-on = ["a"] }
        d = { cmd = "true", depends-on = ["nope"] }
        """,
    )
    proc = h("run", "a", cwd=root, cache=tmp_path / "cache", check=2)
    assert_clean_error(proc)
    assert "cycle: a -> b -> c -> a" in proc.stderr and "pixi.toml:10" in proc.stderr
    proc = h("run", "d", cwd=root, cache=tmp_path / "cache", check=2)
    assert "depends on 'nope'" in proc.stderr


def test_tasks_per_feature_and_platform_target(tmp_path, conda_channel):
    root = pixi_project(
        tmp_path / "p",
        conda_channel,
        'hi = "echo default"\n',
        """
        [target.linux.tasks]
        hi = "echo linux"

        [feature.extra.tasks]
        only-extra = "echo extra"

        [environments]
        extra = ["extra"]
        """,
    )
    spec = load_spec(root / "pixi.toml")
    assert plan_tasks(spec, "hi", None, platform="linux-64")[0].command == "echo linux"
    assert plan_tasks(spec, "hi", None, platform="osx-arm64")[0].command == "echo default"
    step = plan_tasks(spec, "only-extra", None)[0]
    assert step.environment == "extra"
    with pytest.raises(UsageError, match="has no task 'only-extra'"):
        plan_tasks(spec, "only-extra", "default")
