"""The use cases: what a command does, composed from the layers below.

The layers (`manifest` → `resolve` → `lock` → `env`, and `doctor`) each do one thing and
never decide for each other: the installer does not re-solve, the lock writer does not
install. Deciding *when* to do what is a use case, and lives here, as uv keeps
`commands/project/{lock,sync,run}.rs` apart from its resolver and installer crates:

- `Project` (`project.py`): the layout, the manifest and the lock, each loaded once;
- `pick.py`: which environment and which platform a command means;
- `lock.py`: solve, or check freshness (`hermetic lock`, `lock --check`);
- `sync.py`: check → re-lock → install (`install`, and `run`/`shell-hook` before they start);
- `run.py`: the activation and the command plan of `run` and `shell-hook`;
- `query.py`: the read-only commands (`list`, `tree`, `export`, `check`);
- `doctor.py`: what the doctor inspects.

The CLI calls these and renders what they return; image, deploy and pack orchestration
(build → push → deploy) will live here too, as `image.py`, `deploy.py` and `pack.py`.
"""

from hermetic.project.project import Project

__all__ = ["Project"]
