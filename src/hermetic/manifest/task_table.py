"""`[tasks]`, as pixi writes them: a command string, or a table with cmd, depends-on, cwd, env.

```toml
[tasks]
fmt = "ruff format ."
test = { cmd = "pytest -q", depends-on = ["fmt"], cwd = "tests", env = { CI = "1" } }
all = { depends-on = ["fmt", { task = "test" }] }     # an alias: only dependencies
```

pixi's keys that change how a task runs but not what is installed (`inputs`, `outputs`,
`clean-env`, `args`, `default-environment`) go into the reader's one "not supported yet"
warning; the task still runs without them.
"""

from __future__ import annotations

import re

from hermetic.manifest.fields import ENV_VAR_NAME, describe, resolve_path
from hermetic.manifest.model import Task, TaskDependency
from hermetic.manifest.toml_locator import Key
from hermetic.manifest.toml_values import TomlValues

TASK_KEYS = ("cmd", "depends-on", "depends_on", "cwd", "env", "description")
TASK_FOREIGN_KEYS = ("inputs", "outputs", "clean-env", "args", "default-environment")
TASK_NAME = re.compile(r"^[^\s$]+$")


def read_tasks(values: TomlValues, value: object, keys: Key) -> tuple[Task, ...]:
    table = values.table(value, keys, "a table of task name = command or { cmd = … }")
    return tuple(read_task(values, name, body, (*keys, name)) for name, body in table.items())


def read_task(values: TomlValues, name: str, body: object, keys: Key) -> Task:
    w = values.at(*keys)
    if not TASK_NAME.match(name):
        raise w.error(f"invalid task name {name!r}", hint="a task name has no spaces and no '$'")
    if isinstance(body, str):
        return Task(name=name, cmd=_cmd(values, body, keys), location=w.location)
    if isinstance(body, list):  # pixi's shorthand alias: `all = [{ task = "a" }, "b"]`
        return Task(name=name, depends_on=_depends_on(values, body, keys), location=w.location)
    if not isinstance(body, dict):
        raise w.error(
            f"{w.key}: expected a command string or a table {{cmd, depends-on, cwd, env}}, "
            f"got {describe(body)}",
            hint=f'e.g. {name} = "pytest -q" or {name} = {{ cmd = "pytest", depends-on = ["build"] }}',
        )
    values.known_keys(body, keys, TASK_KEYS, foreign=TASK_FOREIGN_KEYS)
    if "depends-on" in body and "depends_on" in body:
        raise w.error(f"{w.key}: give depends-on once (depends_on is its old spelling)")
    dep_key = "depends-on" if "depends-on" in body else "depends_on"
    depends = _depends_on(values, body.get(dep_key, []), (*keys, dep_key))
    cmd = _cmd(values, body["cmd"], (*keys, "cmd")) if "cmd" in body else None
    if cmd is None and not depends:
        raise w.error(
            f"{w.key}: a task needs a cmd, or depends-on for an alias",
            hint=f'e.g. {name} = {{ cmd = "pytest" }}',
        )
    env = values.table(body.get("env", {}), (*keys, "env"), "a table of variable = value")
    for k, v in env.items():
        values.string(v, (*keys, "env", k))
        if not ENV_VAR_NAME.fullmatch(k):
            ew = values.at(*keys, "env", k)
            raise ew.error(f"{ew.key}: {k!r} is no environment variable name")
    cwd = values.optional_string(body, keys, "cwd")
    return Task(
        name=name,
        cmd=cmd,
        depends_on=depends,
        cwd=resolve_path(cwd, values.base) if cwd is not None else None,
        env=tuple(env.items()),
        description=values.optional_string(body, keys, "description"),
        location=w.location,
    )


def _cmd(values: TomlValues, value: object, keys: Key) -> str:
    """pixi's cmd: a string, or a list of words joined with spaces (as pixi does)."""
    if isinstance(value, list):
        text = " ".join(values.strings(value, keys))
    else:
        text = values.string(value, keys, "a command string")
    if not text.strip():
        w = values.at(*keys)
        raise w.error(f"{w.key}: empty command")
    return text


def _depends_on(values: TomlValues, value: object, keys: Key) -> tuple[TaskDependency, ...]:
    items = [value] if isinstance(value, (str, dict)) else value
    if not isinstance(items, list):
        w = values.at(*keys)
        raise w.error(f"{w.key}: expected a list of task names, got {describe(value)}")
    out = []
    for i, item in enumerate(items):
        ik = (*keys, i) if items is value else keys
        if isinstance(item, str):
            out.append(TaskDependency(item))
            continue
        entry = values.table(item, ik, "a task name or a table { task = … }")
        values.known_keys(entry, ik, ("task", "environment"), foreign=("args",))
        task = values.string(entry.get("task"), (*ik, "task"), "a task name")
        env = values.optional_string(entry, ik, "environment")
        out.append(TaskDependency(task, env))
    return tuple(out)
