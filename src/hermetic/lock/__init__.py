"""The lock: read, write, check, export. `hermetic.lock` is rattler's lock format (pixi.lock v7).

hermetic adds two things rattler's Python API cannot write: the sha256 (and requires_python)
of each PyPI artifact, which the format has fields for, and a top-level `hermetic:` block with
the inputs each environment was locked from (see docs/lock-format.md). rattler and pixi read
the file as it is and ignore the extra block.
"""

from hermetic.layout import LOCK_NAME  # noqa: F401  (the name is the layout's)
