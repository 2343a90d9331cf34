"""`hermetic check`: a policy lint of the spec and the lock."""

from hermetic.policy.rules import Finding, lint

__all__ = ["Finding", "lint"]
