"""Shared fixtures: a real conda channel and a local PyPI wheelhouse, built once per session.

See tests/fixtures/channels.py and tests/fixtures/wheels.py for what they contain."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from fixtures.channels import python_package, standard_channel
from fixtures.wheels import standard_wheelhouse


@pytest.fixture(scope="session")
def conda_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of the standard test channel (indexed; linux-64, noarch, osx-arm64)."""
    return standard_channel(tmp_path_factory.mktemp("conda-channel"))


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a find-links folder with the standard test wheels."""
    return standard_wheelhouse(tmp_path_factory.mktemp("wheelhouse"))


@pytest.fixture(scope="session")
def fixture_python_version() -> str:
    """ "X.Y.Z" of the `python` package in `conda_channel` (the interpreter running the tests)."""
    return python_package(sys.version_info).version
