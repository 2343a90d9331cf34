"""`hermetic run TASK`: a manifest's `[tasks]`, run as pixi runs them.

A task is found in the features of the environment (the default feature unless the
environment leaves it out, then the listed features; a later feature's task of the same name
wins, and a `[target.<platform>.tasks]` entry for this machine wins over the feature's own).
Its `depends-on` tasks run first, each once, in dependency order (a cycle is an error that
names it); then the task. Each runs with its environment activated, in its `cwd` (default:
the project root), with its `env` set, through `bash -c`, so pipes and `&&` work. Extra
arguments go to the last task's command. The first task that fails stops the run, and its
exit code is hermetic's.

Task `env` values are literal, like activation variables: `$HOME` in a value is the four
characters, not the home directory (pixi expands them in its shell).
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hermetic.errors import UsageError, did_you_mean
from hermetic.manifest.model import DEFAULT, Activation, Spec, Task
from hermetic.platform import current_platform


@dataclass(frozen=True)
class TaskStep:
    task: Task
    environment: str
    args: tuple[str, ...] = ()  # the user's extra arguments, for the last step only

    @property
    def command(self) -> str:
        assert self.task.cmd is not None
        if not self.args:
            return self.task.cmd
        return f"{self.task.cmd} {shlex.join(self.args)}"


def tasks_of(spec: Spec, environment: str, platform: str) -> dict[str, Task]:
    """The tasks an environment has on `platform`, by name."""
    decl = next((e for e in spec.environments if e.name == environment), None)
    if decl is None:
        return {}
    names = ([] if decl.no_default_feature else [DEFAULT]) + [
        f for f in decl.features if f != DEFAULT
    ]
    out: dict[str, Task] = {}
    for fname in names:
        feature = spec.feature(fname)
        for task in feature.tasks:
            out[task.name] = task
        for target in feature.targets:
            if target.platform == platform:
                for task in target.tasks:
                    out[task.name] = task
    return out


def all_task_names(spec: Spec, platform: str | None = None) -> set[str]:
    platform = platform or current_platform()
    return {n for env in spec.environment_names for n in tasks_of(spec, env, platform)}


def is_task(spec: Spec, name: str) -> bool:
    """Whether `hermetic run NAME` means a task of this spec (else it is a command)."""
    return name in all_task_names(spec)


def plan_tasks(
    spec: Spec,
    name: str,
    environment: str | None,
    args: Sequence[str] = (),
    platform: str | None = None,
) -> tuple[TaskStep, ...]:
    """The steps that run task `name`: its dependencies first, each once, then the task."""
    platform = platform or current_platform()
    env = _environment_of(spec, name, environment, platform)
    steps: list[TaskStep] = []
    done: set[tuple[str, str]] = set()

    def visit(task_name: str, env_name: str, path: tuple[tuple[str, str], ...]) -> None:
        key = (env_name, task_name)
        if key in done:
            return
        if key in path:
            cycle = " -> ".join(n for _, n in (*path[path.index(key) :], key))
            task = tasks_of(spec, env_name, platform).get(task_name)
            where = f" ({task.location})" if task and task.location else ""
            raise UsageError(
                f"tasks depend on each other in a cycle: {cycle}{where}",
                hint="remove one of these depends-on entries",
            )
        known = tasks_of(spec, env_name, platform)
        task = known.get(task_name)
        if task is None:
            parent = path[-1][1] if path else None
            guess = did_you_mean(task_name, tuple(known))
            raise UsageError(
                f"task {parent!r} depends on {task_name!r}, which environment {env_name!r} "
                "does not have",
                location=known[parent].location if parent in known else None,
                hint=(f"did you mean {guess!r}? " if guess else "")
                + "tasks: "
                + (", ".join(sorted(known)) or "none"),
            )
        for dep in task.depends_on:
            dep_env = dep.environment or env_name
            if dep_env not in spec.environment_names:
                raise UsageError(
                    f"task {task_name!r} depends on {dep.task!r} in environment {dep_env!r}, "
                    "which the manifest does not define",
                    location=task.location,
                    hint="environments: " + ", ".join(spec.environment_names),
                )
            visit(dep.task, dep_env, (*path, key))
        done.add(key)
        if task.cmd is not None:
            steps.append(TaskStep(task, env_name))

    visit(name, env, ())
    if args:
        if not steps or steps[-1].task.name != name:
            raise UsageError(
                f"task {name!r} only runs other tasks: it takes no arguments",
                hint="run the task it ends with and give the arguments there",
            )
        steps[-1] = TaskStep(steps[-1].task, steps[-1].environment, tuple(args))
    return tuple(steps)


def _environment_of(spec: Spec, name: str, environment: str | None, platform: str) -> str:
    """The environment a task runs in: the one asked for, else `default` when it has the task,
    else the only environment that has it."""
    if environment is not None:
        if name not in tasks_of(spec, environment, platform):
            raise UsageError(
                f"environment {environment!r} has no task {name!r}",
                hint="tasks there: "
                + (", ".join(sorted(tasks_of(spec, environment, platform))) or "none"),
            )
        return environment
    having = [e for e in spec.environment_names if name in tasks_of(spec, e, platform)]
    if DEFAULT in having or len(having) == 1:
        return DEFAULT if DEFAULT in having else having[0]
    if not having:
        raise UsageError(f"no task named {name!r}")
    raise UsageError(
        f"task {name!r} is in several environments: {', '.join(having)}",
        hint=f"name one: hermetic run -e {having[0]} {name}",
    )


# How a step's environment is made ready: (prefix, activation) after installing if needed.
Prepare = Callable[[str], tuple[Path, Activation]]


def run_steps(
    steps: Sequence[TaskStep],
    prepare: Prepare,
    root: Path,
    say: Callable[[str], None] = lambda _msg: None,
) -> int:
    """Run the steps in order; the exit code of the first that fails, else 0."""
    from hermetic.env.run import plan_run

    ready: dict[str, tuple[Path, Activation]] = {}
    for step in steps:
        if step.environment not in ready:
            ready[step.environment] = prepare(step.environment)
        prefix, activation = ready[step.environment]
        say(f"task {step.task.name} ({step.environment}): {step.command}")
        plan = plan_run(
            prefix, step.environment, activation, root, ["bash", "-c", step.command, step.task.name]
        )
        env = {**plan.env, **dict(step.task.env)}
        cwd = Path(step.task.cwd) if step.task.cwd else Path(root)
        if not cwd.is_dir():
            raise UsageError(
                f"task {step.task.name!r}: its cwd {cwd} is no directory",
                location=step.task.location,
            )
        code = subprocess.run(list(plan.argv), env=env, cwd=cwd, check=False).returncode
        if code != 0:
            say(f"task {step.task.name} failed with exit code {code}")
            return code
    return 0


__all__ = [
    "TaskStep",
    "all_task_names",
    "is_task",
    "plan_tasks",
    "run_steps",
    "tasks_of",
]
