"""`hermetic list` and `hermetic tree`."""

from __future__ import annotations

from clirun import assert_clean_error
from projects import h, write_project


def test_list_and_tree(tmp_path, conda_channel, wheelhouse):
    cache = tmp_path / "cache"
    root = write_project(
        tmp_path / "p",
        conda_channel,
        wheelhouse,
        deps='python = "*"\ntinytool = "*"',
        pypi='pyusesnum = "*"',
    )
    h("install", cwd=root, cache=cache)
    listing = h("list", cwd=root, cache=cache).stdout
    rows = {line.split()[0]: line.split() for line in listing.splitlines() if line.strip()}
    assert rows["libtiny"][1:4] == ["1.0", "h0_0", "conda"]
    assert rows["tinytool"][3] == "conda"
    assert rows["pyusesnum"][1:3] == ["1.0", "pypi"]
    assert "pynum" in rows

    tree = h("tree", "libtiny", cwd=root, cache=cache).stdout
    assert "libtiny 1.0" in tree and "tinytool 2.1" in tree and "spec: tinytool" in tree
    pypi_tree = h("tree", "pynum", cwd=root, cache=cache).stdout
    assert "pyusesnum" in pypi_tree
    missing = h("tree", "libtinny", cwd=root, cache=cache, check=2)
    assert_clean_error(missing)
    assert "did you mean 'libtiny'" in missing.stderr
