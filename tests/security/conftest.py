"""Shared by the security tests: a fake user's home to attack (`fixtures.hostile.fake_home`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.hostile import fake_home


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return fake_home(tmp_path / "home")
