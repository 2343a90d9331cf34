"""hermetic.settings: every variable in one place, one cache default, a current reference page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import hermetic
from hermetic import settings
from hermetic.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]


def test_defaults(tmp_path):
    s = settings.from_environ({"XDG_CACHE_HOME": str(tmp_path)})
    assert s.cache_dir == tmp_path / "hermetic"
    assert s.package_cache_dir == tmp_path / "rattler" / "cache" / "pkgs"
    assert s.repodata_cache_dir is None
    assert s.channel_alias == "https://conda.anaconda.org/" and not s.channel_alias_set
    assert s.solve_timeout_s == settings.DEFAULT_SOLVE_TIMEOUT_S and s.test_kill_at is None


def test_hermetic_cache_dir_holds_every_cache(tmp_path):
    s = settings.from_environ({"HERMETIC_CACHE_DIR": str(tmp_path), "RATTLER_CACHE_DIR": "/r"})
    assert s.cache_dir == tmp_path
    assert s.package_cache_dir == tmp_path / "pkgs"
    assert s.repodata_cache_dir == tmp_path / "repodata"
    r = settings.from_environ({"RATTLER_CACHE_DIR": "/r"})
    assert r.package_cache_dir == Path("/r/pkgs")


def test_values_are_parsed():
    s = settings.from_environ(
        {
            "HERMETIC_CHANNEL_ALIAS": "https://m.example/c",
            "HERMETIC_SOLVE_TIMEOUT": "12.5",
        }
    )
    assert s.channel_alias == "https://m.example/c/" and s.channel_alias_set
    assert s.solve_timeout_s == 12.5
    with pytest.raises(UsageError, match="HERMETIC_SOLVE_TIMEOUT"):
        settings.from_environ({"HERMETIC_SOLVE_TIMEOUT": "soon"})


def test_current_follows_the_environment(monkeypatch):
    monkeypatch.setenv("HERMETIC_SOLVE_TIMEOUT", "7")
    assert settings.current().solve_timeout_s == 7
    monkeypatch.setenv("HERMETIC_SOLVE_TIMEOUT", "8")
    assert settings.current().solve_timeout_s == 8


def test_only_settings_reads_hermetic_variables():
    src = Path(hermetic.__file__).parent
    pattern = re.compile(r"""environ(\.get\(|\[)\s*["'](HERMETIC_|XDG_|RATTLER_)""")
    readers = sorted(
        str(p.relative_to(src)) for p in src.rglob("*.py") if pattern.search(p.read_text())
    )
    assert readers == []  # settings.py reads them through VARIABLES, by name
    # a family of variables (`HERMETIC_AUTH_<HOST>`) is used in code by its prefix
    declared = {v.name.split("<")[0] for v in settings.VARIABLES}
    used = set()
    for p in src.rglob("*.py"):
        used |= set(re.findall(r"\bHERMETIC_[A-Z_]+\b", p.read_text()))
    # names that are not variables hermetic reads: written into activated envs, or placeholders
    not_read = {"HERMETIC_TOML", "HERMETIC_ENV", "HERMETIC_CURRENT_PATH"}
    assert used - not_read <= declared


def test_reference_page_is_current():
    page = ROOT / "docs" / "reference" / "settings.md"
    assert page.read_text() == settings.reference_page(), (
        "regenerate it: python -m hermetic.settings > docs/reference/settings.md"
    )
