"""`hermetic.pkgpaths`: the one check every package layout goes through (table tests)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures.hostile import HostilePackage, write_hostile
from hermetic.env.verify import prepare_cache
from hermetic.errors import UsageError
from hermetic.pkgpaths import (
    PackageLayout,
    UnsafePackageError,
    check_packages,
    check_relative,
    max_unpacked_bytes,
    parse_info,
    read_archive,
    read_info,
)


@pytest.mark.parametrize(
    "path",
    ["../x", "a/../../x", "/etc/passwd", "a//b", "./a", "a/./b", "a/", "", "a\0b", "C:/x", ".."],
)
def test_bad_relative_paths_are_refused(path: str) -> None:
    with pytest.raises(UnsafePackageError) as err:
        check_relative("pkg-1-0", path)
    assert "refusing package pkg-1-0" in str(err.value)


@pytest.mark.parametrize("path", ["a", "lib/libz.so.1", "a/b..c/d", "..a", "bin/x.."])
def test_good_relative_paths_pass(path: str) -> None:
    assert check_relative("pkg", path) == path


def _lay(name: str, paths: tuple[str, ...], links: dict[str, str] | None = None) -> PackageLayout:
    return PackageLayout(name, paths, links or {})


@pytest.mark.parametrize(
    ("links", "paths", "ok"),
    [
        ({"lib/x": "/usr/lib"}, ("lib/x",), False),  # a file written onto a link out
        ({"lib/x": "/usr/lib"}, ("lib/x/y",), False),
        ({"lib/x": "../.."}, ("lib/x/y",), False),
        ({"lib/x": "../share"}, ("lib/x/y",), True),  # stays inside
        ({"a": "b", "b": "a"}, ("a/y",), False),  # a loop
        ({"a": "b/c", "b": "../.."}, ("a/y",), False),  # out through a second link
        ({"lib/x": "/usr/lib"}, ("etc/y",), True),
    ],
)
def test_symlinks_of_other_packages_in_one_transaction(
    tmp_path: Path, links: dict[str, str], paths: tuple[str, ...], ok: bool
) -> None:
    layouts = [_lay("links-1-0", tuple(links), links), _lay("files-1-0", paths)]
    for order in (layouts, layouts[::-1]):  # linking order does not matter
        if ok:
            check_packages(tmp_path / "env", order)
        else:
            with pytest.raises(UnsafePackageError, match="files-1-0"):
                check_packages(tmp_path / "env", order)


def test_prefix_absolute_symlink_stays_inside(tmp_path: Path) -> None:
    prefix = tmp_path / "env"
    check_packages(
        prefix, [_lay("a", ("lib/x",), {"lib/x": f"{prefix}/share"}), _lay("b", ("lib/x/y",))]
    )


def test_symlink_on_disk_counts(tmp_path: Path) -> None:
    prefix = tmp_path / "env"
    (prefix / "lib").mkdir(parents=True)
    os.symlink(str(tmp_path), prefix / "lib" / "out")
    with pytest.raises(UnsafePackageError, match="lib/out"):
        check_packages(prefix, [_lay("b-1-0", ("lib/out/.bashrc",))])
    with pytest.raises(UnsafePackageError, match="written through"):
        check_packages(prefix, [_lay("b-1-0", ("lib/out",))])


def test_noarch_python_paths_are_placed_before_the_check(tmp_path: Path) -> None:
    site = "lib/python3.11/site-packages"
    links = _lay("l", ("lib/python3.11",), {"lib/python3.11": "/home"})
    noarch = PackageLayout("n-1-0", ("site-packages/m.py",), {}, noarch_python=True)
    with pytest.raises(UnsafePackageError, match="n-1-0"):
        check_packages(tmp_path / "env", [links, noarch], site_packages=site)


def test_unpack_limit_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HERMETIC_MAX_UNPACK_RATIO", raising=False)
    assert max_unpacked_bytes(10 << 20) == 1000 << 20
    assert max_unpacked_bytes(1) == 256 << 20
    monkeypatch.setenv("HERMETIC_MAX_UNPACK_RATIO", "0")
    assert max_unpacked_bytes(1 << 30) is None
    monkeypatch.setenv("HERMETIC_MAX_UNPACK_RATIO", "lots")
    with pytest.raises(UsageError, match="whole number"):
        max_unpacked_bytes(1)


@pytest.mark.parametrize("fmt", ["tar.bz2", "conda"])
def test_read_archive_both_formats(tmp_path: Path, fmt: str) -> None:
    ok = write_hostile(
        HostilePackage("ok", fmt=fmt, members={"share/a": b"a", "lib/l": ("symlink", "../share")}),
        tmp_path,
    )
    lay = read_archive(ok)
    assert set(lay.paths) == {"share/a", "lib/l"} and lay.symlinks == {"lib/l": "../share"}
    bad = write_hostile(
        HostilePackage("bad", fmt=fmt, members={"share/a": b"a"}, paths=[{"_path": "/etc/x"}]),
        tmp_path,
    )
    with pytest.raises(UnsafePackageError, match="'/etc/x'"):
        read_archive(bad)


def test_cache_entry_with_an_escaping_path_is_not_trusted(tmp_path: Path) -> None:
    """verify.py never joins an unchecked path: such an entry counts as corrupted."""

    class Rec:
        class name:
            normalized = "evil"

        version, build = "1.0", "0"
        sha256 = bytes(32)
        url = "file:///nonexistent/evil-1.0-0.tar.bz2"

    cache = tmp_path / "pkgs"
    entry = cache / "evil-1.0-0"
    (entry / "info").mkdir(parents=True)
    (entry / "info" / "index.json").write_text("{}")
    (entry / "info" / "paths.json").write_text('{"paths": [{"_path": "../../../../etc/passwd"}]}')
    (cache / "evil-1.0-0.lock").write_bytes((1).to_bytes(8, "big") + bytes(32))
    plan = prepare_cache([Rec()], cache)
    assert plan.intact == {} and len(plan.refetched) == 1
    assert "outside" in plan.refetched[0].reason
    assert not entry.exists()
    with pytest.raises(UnsafePackageError):
        (entry / "info").mkdir(parents=True)
        (entry / "info" / "paths.json").write_text('{"paths": [{"_path": "/etc/passwd"}]}')
        parse_info("evil-1.0-0", read_info(entry, "evil-1.0-0"))


def _inside_by_components(path: str) -> bool:
    """The rule, spelled out component by component (the reference for check_relative)."""
    if not path or "\0" in path or path.startswith("/") or path[1:2] == ":":
        return False
    return all(part not in ("", ".", "..") for part in path.split("/"))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="a.:/\0\\", max_size=12))
def test_check_relative_agrees_with_the_rule(path: str) -> None:
    """check_relative's fast substring test accepts exactly what the rule accepts."""
    if _inside_by_components(path):
        assert check_relative("p", path) == path
    else:
        with pytest.raises(UnsafePackageError):
            check_relative("p", path)
