"""`hermetic run` and `hermetic shell-hook`: an up-to-date environment, activated."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hermetic.env.activate import activation_script
from hermetic.env.run import RunPlan, plan_run
from hermetic.manifest.model import Activation
from hermetic.project.project import Project
from hermetic.project.sync import Mode, Reporter, SyncResult, sync


def activation(project: Project, environment: str, platform: str) -> Activation:
    """The spec's `[activation]` for this environment and platform.

    With `--frozen` the lock may name an environment the spec no longer has: the packages'
    activation still applies, the spec's part is empty.
    """
    if environment not in project.spec.environment_names:
        return Activation()
    return project.environment(environment).activation(platform)


@dataclass(frozen=True)
class Prepared:
    sync: SyncResult
    plan: RunPlan


def prepare_run(
    project: Project,
    environment: str,
    command: Sequence[str],
    *,
    mode: Mode | None = None,
    reporter: Reporter | None = None,
) -> Prepared:
    """Sync the environment, then plan `command` inside it (the CLI execs the plan)."""
    synced = sync(project, environment, mode=mode or Mode(), reporter=reporter)
    env = synced.install
    plan = plan_run(
        env.prefix,
        environment,
        activation(project, environment, env.platform),
        project.root,
        list(command),
    )
    return Prepared(synced, plan)


@dataclass(frozen=True)
class Hook:
    sync: SyncResult
    script: str


def shell_hook(
    project: Project,
    environment: str,
    shell: str,
    *,
    mode: Mode | None = None,
    reporter: Reporter | None = None,
) -> Hook:
    """Sync the environment, then its activation script for `shell`."""
    synced = sync(project, environment, mode=mode or Mode(), reporter=reporter)
    env = synced.install
    script = activation_script(
        env.prefix, activation(project, environment, env.platform), shell, project.root, environment
    )
    return Hook(synced, script)
