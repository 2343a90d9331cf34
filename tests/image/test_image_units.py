"""Image building blocks on their own: layer plan, wheels, references, credentials, layouts."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from fixtures.wheels import build_wheel
from hermetic.errors import HermeticError, UsageError
from hermetic.image import oci
from hermetic.image.auth import find_credentials
from hermetic.image.layers import MAX_LAYERS, Package, plan
from hermetic.image.ocidir import LayoutReader, OciRef, parse_oci_ref, write_layout
from hermetic.image.registry import _is_local, parse_reference
from hermetic.image.sbom import SbomEntry, render, validate
from hermetic.image.wheels import install_wheel
from hermetic.pkgpaths import UnsafePackageError, check_wheel, check_wheel_member


def pkgs(n: int, prefix: str = "lib") -> list[Package]:
    return [Package("conda", f"{prefix}{i:03d}", "1.0", f"{i:064x}", 1000 + i) for i in range(n)]


def test_big_packages_own_layers_and_small_ones_share_stable_buckets():
    small = pkgs(300)
    big = [
        Package("conda", "python", "3.12", "a" * 64, 30_000_000),
        Package("conda", "libcublas", "12.4", "b" * 64, 400_000_000),
        Package("pypi", "torch", "2.5", "c" * 64, 0),
        Package("conda", "huge-data", "1", "d" * 64, 64 * 1024 * 1024),
    ]
    groups = plan(small + big)
    names = [g.name for g in groups]
    assert {"conda-python", "conda-libcublas", "pypi-torch", "conda-huge-data"} <= set(names)
    assert len(groups) <= MAX_LAYERS
    # upgrading one small package changes exactly one group
    changed = [*small]
    changed[17] = Package("conda", changed[17].name, "2.0", "e" * 64, changed[17].size)
    before, after = plan(small + big), plan(changed + big)
    assert sum(1 for a, b in zip(before, after, strict=True) if a != b) == 1
    # adding a package touches one bucket too, never shifts the others
    added = plan([*small, Package("conda", "newpkg", "1", "f" * 64, 10), *big])
    assert len({g.name for g in added} ^ {g.name for g in before}) <= 1
    assert sum(1 for g in added if g not in before) == 1


def test_many_big_packages_stay_under_the_layer_cap():
    big = [Package("conda", f"cuda-lib{i}", "1", f"{i:064x}", 100_000_000 + i) for i in range(200)]
    groups = plan(big)
    assert len(groups) <= MAX_LAYERS
    assert sum(len(g.packages) for g in groups) == 200


def test_wheel_layout_with_entry_points_and_scripts(tmp_path):
    whl = build_wheel(
        tmp_path / "w",
        "clitool",
        "1.0",
        files={
            "clitool/__init__.py": "def main():\n    return 0\n",
            "clitool-1.0.dist-info/entry_points.txt": "[console_scripts]\nclitool = clitool:main\n",
            "clitool-1.0.data/scripts/helper": "#!python\nprint('x')\n",
            "clitool-1.0.data/data/share/clitool/a.txt": "data\n",
        },
    )
    stage = tmp_path / "stage"
    got = install_wheel(whl, stage, "3.12", "/opt/env")
    site = stage / "lib/python3.12/site-packages"
    assert (site / "clitool/__init__.py").is_file()
    script = stage / "bin/clitool"
    assert script.read_text().startswith("#!/opt/env/bin/python\n")
    assert "from clitool import main" in script.read_text()
    assert stat.S_IMODE(script.stat().st_mode) == 0o755
    assert (stage / "bin/helper").read_text() == "#!/opt/env/bin/python\nprint('x')\n"
    assert (stage / "share/clitool/a.txt").read_text() == "data\n"
    assert (site / "clitool-1.0.dist-info/INSTALLER").read_text() == "hermetic\n"
    record = (site / "clitool-1.0.dist-info/RECORD").read_text()
    assert "../../../bin/clitool,sha256=" in record
    assert "lib/python3.12/site-packages/clitool/__init__.py" in got.files


def test_wheel_with_a_path_out_of_the_prefix_is_refused(tmp_path):
    import zipfile

    whl = tmp_path / "evil-1.0-py3-none-any.whl"
    with zipfile.ZipFile(whl, "w") as zf:
        zf.writestr("evil-1.0.dist-info/METADATA", "Name: evil\nVersion: 1.0\n")
        zf.writestr("../../../etc/cron.d/evil", "x")
    with pytest.raises(UnsafePackageError, match=r"evil-1\.0.*\.\./\.\./\.\./etc/cron\.d/evil"):
        check_wheel(whl)
    with pytest.raises(UnsafePackageError):
        install_wheel(whl, tmp_path / "stage", "3.12", "/opt/env")
    assert not (tmp_path / "etc").exists()


@pytest.mark.parametrize("path", ["../x", "/etc/passwd", "a/../../b", "a//b", "a\\b", ""])
def test_unsafe_wheel_member_paths(path):
    with pytest.raises(UnsafePackageError, match=r"refusing package w-1\.0"):
        check_wheel_member("w-1.0-py3-none-any.whl", path)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("ubuntu", ("registry-1.docker.io", "library/ubuntu", "latest", None)),
        ("docker.io/library/debian:12", ("registry-1.docker.io", "library/debian", "12", None)),
        ("ghcr.io/org/app:1.2", ("ghcr.io", "org/app", "1.2", None)),
        ("localhost:5000/app", ("localhost:5000", "app", "latest", None)),
        (
            "127.0.0.1:5000/a/b@sha256:" + "0" * 64,
            ("127.0.0.1:5000", "a/b", None, "sha256:" + "0" * 64),
        ),
    ],
)
def test_parse_reference(text, want):
    r = parse_reference(text)
    assert (r.registry, r.repository, r.tag, r.digest) == want


@pytest.mark.parametrize("bad", ["UPPER/case", "a@sha256:zz", "host:5000/", "a:b:c"])
def test_bad_references_are_usage_errors(bad):
    with pytest.raises(UsageError):
        parse_reference(bad)


def test_only_loopback_hosts_may_skip_tls():
    assert _is_local("127.0.0.1:5000") and _is_local("localhost:80")
    assert not _is_local("registry.example.com") and not _is_local("10.0.0.1:5000")


def test_credentials_come_from_env_auth_file_docker_config_and_helpers(tmp_path):
    host = "reg.example:5000"
    docker = tmp_path / "docker"
    docker.mkdir()
    (docker / "config.json").write_text(
        json.dumps({"auths": {host: {"auth": base64.b64encode(b"bob:pw1").decode()}}})
    )
    env = {"DOCKER_CONFIG": str(docker), "HOME": str(tmp_path)}
    c = find_credentials(host, env)
    assert c is not None and (c.username, c.password) == ("bob", "pw1")
    assert "pw1" not in repr(c) and "config.json" in c.source

    authfile = tmp_path / "auth.json"
    authfile.write_text(
        json.dumps({"auths": {host: {"auth": base64.b64encode(b"carol:pw2").decode()}}})
    )
    c = find_credentials(host, {**env, "REGISTRY_AUTH_FILE": str(authfile)})
    assert c is not None and c.username == "carol" and "REGISTRY_AUTH_FILE" in c.source

    c = find_credentials(
        host,
        {**env, "HERMETIC_REGISTRY_USERNAME": "dan", "HERMETIC_REGISTRY_PASSWORD": "pw3"},
    )
    assert c is not None and c.username == "dan"

    # credHelpers: the helper gets the host on stdin, never in argv
    bindir = tmp_path / "bin"
    bindir.mkdir()
    helper = bindir / "docker-credential-fake"
    helper.write_text(
        '#!/bin/sh\nread host\n[ "$1" = get ] && [ "$host" = "reg.example:5000" ] && '
        'echo \'{"Username":"erin","Secret":"pw4"}\'\n'
    )
    helper.chmod(0o755)
    (docker / "config.json").write_text(json.dumps({"credHelpers": {host: "fake"}}))
    old = os.environ["PATH"]
    os.environ["PATH"] = f"{bindir}:{old}"
    try:
        c = find_credentials(host, env)
    finally:
        os.environ["PATH"] = old
    assert c is not None and (c.username, c.password) == ("erin", "pw4")
    assert "credHelpers" in c.source
    assert find_credentials("other.example", env) is None


def test_layout_write_is_atomic_and_keeps_other_tags(tmp_path):
    blob = b"layer"
    cfg = oci.canonical({"architecture": "amd64", "os": "linux"})
    m = oci.Manifest(
        oci.descriptor_of(oci.CONFIG, cfg), (oci.descriptor_of(oci.LAYER_TAR, blob),)
    ).to_bytes()
    desc = oci.descriptor_of(oci.MANIFEST, m)
    blobs = {oci.sha256_digest(b): b for b in (blob, cfg, m)}
    write_layout(OciRef(tmp_path, "a"), desc, blobs)
    write_layout(OciRef(tmp_path, "b"), desc, blobs)
    reader = LayoutReader(tmp_path)
    assert reader.root("a").digest == reader.root("b").digest == desc.digest
    with pytest.raises(UsageError):
        reader.root(None)  # two tags: ambiguous
    # a crash after the blobs, before index.json: the old image is still what is visible
    other = oci.descriptor_of(oci.MANIFEST, b"{}")
    import unittest.mock

    with (
        unittest.mock.patch(
            "hermetic.image.ocidir.atomic_write_bytes", side_effect=OSError(28, "No space")
        ),
        pytest.raises(HermeticError),
    ):
        write_layout(OciRef(tmp_path, "a"), other, {other.digest: b"{}"})
    assert LayoutReader(tmp_path).root("a").digest == desc.digest
    assert parse_oci_ref("oci:/x/y:tag") == OciRef(Path("/x/y"), "tag")
    assert parse_oci_ref("oci:/x/y") == OciRef(Path("/x/y"), None)


def test_sbom_is_valid_cyclonedx_and_deterministic():
    entries = [
        SbomEntry(
            "conda",
            "numpy",
            "2.0",
            "linux-64",
            "a" * 64,
            "BSD-3-Clause",
            "py312_0",
            "linux-64",
            "https://user:tok@conda.example/t/SECRET/main",
        ),
        SbomEntry("pypi", "requests", "2.32.3", "linux-64", "b" * 64),
        SbomEntry("conda", "weird", "1", "linux-64", None, "Some Custom License 1.0"),
    ]
    a = render(entries, image_name="img", lock_hash="c" * 64, created_epoch=0)
    b = render(list(reversed(entries)), image_name="img", lock_hash="c" * 64, created_epoch=0)
    assert a == b
    assert validate(a) is None
    assert b"SECRET" not in a and b"tok@" not in a
    doc = json.loads(a)
    assert {c["purl"].split("?")[0] for c in doc["components"]} == {
        "pkg:conda/numpy@2.0",
        "pkg:pypi/requests@2.32.3",
        "pkg:conda/weird@1",
    }


def _layer(tmp_path: Path, name: str, members: list[tuple[str, bytes | None, str | None]]):
    """A gzip layer blob of (name, data or None for a dir, symlink target)."""
    import gzip
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for mname, data, link in members:
            ti = tarfile.TarInfo(mname)
            if link is not None:
                ti.type, ti.linkname = tarfile.SYMTYPE, link
                tar.addfile(ti)
            elif data is None:
                ti.type = tarfile.DIRTYPE
                tar.addfile(ti)
            else:
                ti.size = len(data)
                tar.addfile(ti, io.BytesIO(data))
    raw = buf.getvalue()
    return gzip.compress(raw, mtime=0), oci.sha256_digest(raw)


def _layout_with(tmp_path: Path, layers: list[tuple[bytes, str]]) -> str:
    cfg = oci.canonical(
        {"architecture": "amd64", "os": "linux", "rootfs": {"diff_ids": [d for _, d in layers]}}
    )
    descs = tuple(oci.descriptor_of(oci.LAYER_GZIP, blob) for blob, _ in layers)
    m = oci.Manifest(oci.descriptor_of(oci.CONFIG, cfg), descs).to_bytes()
    blobs = {oci.sha256_digest(b): b for b, _ in layers}
    blobs.update({oci.sha256_digest(cfg): cfg, oci.sha256_digest(m): m})
    write_layout(OciRef(tmp_path / "lay", "t"), oci.descriptor_of(oci.MANIFEST, m), blobs)
    return f"oci:{tmp_path / 'lay'}:t"


def test_unpack_applies_layers_and_whiteouts(tmp_path):
    from hermetic.image.rootfs import unpack

    one = _layer(
        tmp_path,
        "1",
        [
            ("etc", None, None),
            ("etc/a", b"a", None),
            ("etc/b", b"b", None),
            ("opt", None, None),
            ("opt/x", b"x", None),
        ],
    )
    two = _layer(
        tmp_path,
        "2",
        [
            ("etc/.wh.a", b"", None),
            ("opt/.wh..wh..opq", b"", None),
            ("opt/y", b"y", None),
            ("etc/b", b"B", None),
        ],
    )
    dest = unpack(_layout_with(tmp_path, [one, two]), tmp_path / "root")
    assert not (dest / "etc/a").exists() and (dest / "etc/b").read_bytes() == b"B"
    assert sorted(p.name for p in (dest / "opt").iterdir()) == ["y"]


def test_unpack_refuses_a_layer_escaping_the_root(tmp_path):
    from hermetic.image.rootfs import unpack

    evil = _layer(tmp_path, "e", [("link", None, "/etc"), ("link/passwd", b"pwned", None)])
    with pytest.raises(HermeticError, match="refusing"):
        unpack(_layout_with(tmp_path, [evil]), tmp_path / "root")
    assert not (tmp_path / "root").exists()  # nothing that looks complete
