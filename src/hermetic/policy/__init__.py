"""`hermetic check`: a policy lint of the spec and the lock."""

from hermetic.findings import Finding
from hermetic.policy.rules import lint

__all__ = ["Finding", "lint"]
