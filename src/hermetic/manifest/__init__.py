"""Manifests in, one validated `Spec` out."""

from hermetic.manifest.model import (
    DEFAULT,
    Activation,
    CondaDependency,
    Environment,
    EnvironmentDecl,
    Feature,
    Policy,
    PypiDependency,
    PypiOptions,
    Spec,
    SystemRequirements,
    Target,
)

__all__ = [
    "DEFAULT",
    "Activation",
    "CondaDependency",
    "Environment",
    "EnvironmentDecl",
    "Feature",
    "Policy",
    "PypiDependency",
    "PypiOptions",
    "Spec",
    "SystemRequirements",
    "Target",
]
