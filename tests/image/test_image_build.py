"""`hermetic image build` end to end: a Debian base, the locked env, run from the image."""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path

from imagefix import bwrap_run, image_config, unpack

from clirun import assert_clean_error
from fixtures.podman import podman_env
from hermetic.image.sbom import validate
from projects import h


def build(project: Path, cache: Path, *args: str, check: int | None = 0, **env: str):
    proc = h("image", "build", "--json", *args, cwd=project, cache=cache, check=check, **env)
    return json.loads(proc.stdout) if proc.returncode == 0 else proc


def test_build_on_debian_base_and_run_from_the_unpacked_image(
    project, image_cache, base_ref, tmp_path
):
    out = f"oci:{tmp_path / 'img'}:v1"
    result = build(project, image_cache, "--base", base_ref, "-o", out)
    assert result["outputs"][0].startswith(out)
    layers = result["platforms"][0]["layers"]
    names = [layer["name"] for layer in layers]
    assert names[0] == "base-0" and names[-1] == "app" and "conda-python" in names
    assert "entrypoint" in names  # tinytool ships an activate.d script

    config = image_config(out)
    cfg = config["config"]
    assert cfg["User"] == "65532:65532"
    env = dict(e.split("=", 1) for e in cfg["Env"])
    assert env["PATH"].startswith("/opt/env/bin:")
    assert env["CONDA_PREFIX"] == "/opt/env"
    assert env["TINYTOOL_HOME"]  # from the package's etc/conda/env_vars.d
    assert env["GREETING"] == "hi"  # [image] env
    assert env["LITERAL_VALUE"] == "pa$$word $(id)"  # [activation.env]: literal
    assert "DATA_DIR" not in env  # expand = true: the entrypoint's shell sets it at start
    assert env["NVIDIA_REQUIRE_CUDA"] == "cuda>=12.4"
    assert env["NVIDIA_DRIVER_CAPABILITIES"] == "compute,utility"
    assert cfg["Entrypoint"] == ["/opt/env/bin/hermetic-entrypoint"]
    assert cfg["Cmd"] == ["python", "/app/app.py"]
    assert cfg["ExposedPorts"] == {"8080/tcp": {}}
    assert cfg["Labels"]["team"] == "ml"
    assert len(cfg["Labels"]["dev.hermetic.lock.sha256"]) == 64
    assert config["created"] == "1970-01-01T00:00:00Z"

    rootfs = unpack(out, tmp_path / "bundle")
    # the compiled program finds its library through RPATH $ORIGIN/../lib (needs /proc)
    assert "libtiny 1.0 answer 42" in bwrap_run(rootfs, ["/opt/env/bin/tinytool"])
    # the entrypoint sources the activate.d script, then runs the command
    got = bwrap_run(
        rootfs, ["/opt/env/bin/hermetic-entrypoint", "/bin/sh", "-c", "echo $TINYTOOL_ACTIVATED"]
    )
    assert got.strip() == "yes"
    got = bwrap_run(
        rootfs,
        ["/opt/env/bin/hermetic-entrypoint", "/bin/sh", "-c", 'echo "$DATA_DIR|$LITERAL_VALUE"'],
        env={"HOME": "/home/someone", "LITERAL_VALUE": "pa$$word $(id)"},
    )
    assert got.strip() == "/home/someone/data|pa$$word $(id)"
    # python, a noarch conda package, the wheels and the wheel's entry point script
    got = bwrap_run(
        rootfs,
        ["/opt/env/bin/python", "-c", "import sys, pyhello, hellowheel; print(sys.prefix)"],
    )
    assert got.strip() == "/opt/env"
    assert bwrap_run(rootfs, ["/opt/env/bin/hellocli"]).strip() == "hello from hellocli"
    assert (rootfs / "opt/env/bin/hellocli").read_text().startswith("#!/opt/env/bin/python\n")
    assert "app ok" in bwrap_run(rootfs, ["/opt/env/bin/python", "/app/app.py"])
    # nothing of the build machine leaks into the image
    meta = (rootfs / "opt/env/conda-meta").glob("*.json")
    for m in meta:
        text = m.read_text()
        assert str(image_cache) not in text
        assert "extracted_package_dir" not in text

    sbom = (tmp_path / "img.cdx.json").read_bytes()
    assert validate(sbom) is None
    doc = json.loads(sbom)
    purls = {c["purl"].split("@")[0] for c in doc["components"]}
    assert {"pkg:conda/tinytool", "pkg:pypi/hellowheel", "pkg:pypi/hellocli"} <= purls

    report = json.loads(h("image", "inspect", "--json", out, cwd=project, cache=image_cache).stdout)
    assert report["lock_hash"] == cfg["Labels"]["dev.hermetic.lock.sha256"]
    assert report["sbom"]["components"] == {"conda": len(doc["components"]) - 2, "pypi": 2}
    by_name = {layer["name"]: layer for layer in report["images"][0]["layers"]}
    assert by_name["conda-python"]["packages"][0].startswith("python=")


def test_same_lock_same_digest_in_another_dir_cache_and_time(
    project, base_ref, tmp_path, image_cache
):
    first = build(project, image_cache, "--base", base_ref, "-o", f"oci:{tmp_path / 'a'}")
    other = tmp_path / "elsewhere"
    shutil.copytree(project, other, ignore=shutil.ignore_patterns(".hermetic"))
    second = build(
        other, tmp_path / "fresh-cache", "--base", base_ref, "-o", f"oci:{tmp_path / 'b'}"
    )
    assert first["digest"] == second["digest"]
    assert not any(layer["reused"] for layer in second["platforms"][0]["layers"][1:])


def test_app_only_change_rebuilds_only_the_app_layer(project, base_ref, tmp_path, image_cache):
    work = tmp_path / "p"
    shutil.copytree(project, work, ignore=shutil.ignore_patterns(".hermetic"))
    first = build(work, image_cache, "--base", base_ref, "-o", f"oci:{tmp_path / 'x'}")
    (work / "app.py").write_text('print("changed")\n')
    second = build(work, image_cache, "--base", base_ref, "-o", f"oci:{tmp_path / 'x'}")
    a, b = first["platforms"][0]["layers"], second["platforms"][0]["layers"]
    changed = [y["name"] for x, y in zip(a, b, strict=True) if x["digest"] != y["digest"]]
    assert changed == ["app"]
    assert all(layer["reused"] for layer in b if layer["name"] not in ("app", "entrypoint"))
    assert second["seconds"] < 2.0


def test_docker_archive_loads_and_runs_in_podman(project, base_ref, tmp_path, image_cache):
    archive = tmp_path / "img.tar"
    build(
        project,
        image_cache,
        "--base",
        base_ref,
        "--tag",
        "localhost/hermetic-test:v1",
        "-o",
        f"docker-archive:{archive}",
    )
    env = podman_env(tmp_path / "podman", "127.0.0.1:1")
    subprocess.run(["podman", "load", "-i", str(archive)], env=env, check=True, capture_output=True)
    proc = subprocess.run(
        ["podman", "run", "--rm", "localhost/hermetic-test:v1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "hello from hellowheel" in proc.stdout and "app ok" in proc.stdout


def test_sbom_and_layers_of_a_multi_platform_index(tmp_path, aarch64_project, image_cache):
    out = tmp_path / "multi"
    result = build(
        aarch64_project,
        image_cache,
        "--platform",
        "linux-64,linux-aarch64",
        "--base",
        "scratch",
        "-o",
        f"oci:{out}:m",
    )
    assert result["media_type"] == "application/vnd.oci.image.index.v1+json"
    plats = {p["platform"]: p for p in result["platforms"]}
    assert set(plats) == {"linux-64", "linux-aarch64"}
    machines = {}
    for plat, entry in plats.items():
        for layer in entry["layers"]:
            blob = out / "blobs" / "sha256" / layer["digest"].split(":")[1]
            with tarfile.open(blob, "r:gz") as tar:
                for member in tar.getmembers():
                    if member.name == "opt/env/bin/archtool":
                        head = tar.extractfile(member).read(20)  # type: ignore[union-attr]
                        machines[plat] = int.from_bytes(head[18:20], "little")
    assert machines == {"linux-64": 62, "linux-aarch64": 183}  # EM_X86_64, EM_AARCH64


def test_refusals_name_the_reference(project, image_cache, tmp_path, base_ref):
    proc = build(project, image_cache, "--base", f"oci:{tmp_path}/nope", check=2)
    assert isinstance(proc, subprocess.CompletedProcess)
    assert_clean_error(proc)
    proc = build(
        project,
        image_cache,
        "--base",
        "oci:" + base_ref[4:],
        "--platform",
        "linux-aarch64",
        check=2,
    )
    assert_clean_error(proc)
    proc = build(project, image_cache, "--base", base_ref, "--platform", "osx-arm64", check=2)
    assert "Linux only" in proc.stderr or "not locked" in proc.stderr
    port = __import__("imagefix").free_port()
    proc = build(project, image_cache, "--base", f"127.0.0.1:{port}/nothing:1", check=1)
    assert f"127.0.0.1:{port}" in proc.stderr and "cannot reach" in proc.stderr
    assert_clean_error(proc)


def test_dockerfile_passes_hadolint(project, image_cache, tmp_path):
    work = tmp_path / "p"
    shutil.copytree(project, work, ignore=shutil.ignore_patterns(".hermetic"))
    with open(work / "hermetic.toml", "a"):
        pass
    proc = h("image", "dockerfile", cwd=work, cache=image_cache, check=None)
    # the PyPI part needs pip in the env: a clear refusal without it
    assert proc.returncode == 2 and "pip" in proc.stderr
    text = (work / "hermetic.toml").read_text().replace('hellocli = "*"', "")
    text = text.replace('hellowheel = "*"', "")
    (work / "hermetic.toml").write_text(text)
    h("lock", cwd=work, cache=image_cache)
    h("image", "dockerfile", cwd=work, cache=image_cache)
    dockerfile = (work / "Dockerfile").read_text()
    assert "@sha256:" in dockerfile.split("\nFROM ", 2)[2].splitlines()[0]
    assert "USER 65532:65532" in dockerfile and "ENV PATH=/opt/env/bin:" in dockerfile
    assert "@EXPLICIT" in (work / "hermetic-default-linux-64.explicit.txt").read_text()
    hadolint = shutil.which("hadolint") or str(
        Path(__import__("sys").executable).parent / "hadolint"
    )
    proc2 = subprocess.run([hadolint, "Dockerfile"], cwd=work, capture_output=True, text=True)
    assert proc2.returncode == 0, proc2.stdout + proc2.stderr
    assert proc2.stdout == ""
    # the spec's [activation.env] is there, literal; the expand one is named in a comment
    assert "LITERAL_VALUE='pa$$word $(id)'" in dockerfile
    assert "# [activation.env] DATA_DIR asks for shell expansion" in dockerfile
    assert "GREETING='hi'" in dockerfile


def test_dockerfile_env_values_survive_a_real_builder(tmp_path):
    """ENV expands `$` and reads escapes inside double quotes: buildah (Docker's rules) must
    end up with every value exactly as written."""
    from hermetic.image.dockerfile import _env_assignment

    values = {
        "A": "pa$$word",
        "B": "it's $(id) `x`",
        "C": 'back\\slash "quoted" $HOME',
        "D": "café ✓",
        "E": "",
    }
    (tmp_path / "Containerfile").write_text(
        "FROM scratch\nENV " + " \\\n    ".join(_env_assignment(k, v) for k, v in values.items())
    )
    env = podman_env(tmp_path / "c", "127.0.0.1:1")
    subprocess.run(
        ["buildah", "build", "-q", "-t", "envcheck", "-f", "Containerfile", "."],
        cwd=tmp_path, env=env, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    out = subprocess.run(
        ["buildah", "inspect", "envcheck"], env=env, check=True, capture_output=True, text=True
    ).stdout
    got = dict(e.split("=", 1) for e in json.loads(out)["OCIv1"]["config"]["Env"])
    assert {k: got[k] for k in values} == values


def test_a_symlink_out_of_the_prefix_that_nothing_goes_through_is_kept(tmp_path, image_cache):
    # the one rule of hermetic.pkgpaths, as for install: a symlink may point anywhere, nothing
    # may be written through one that leads out (tests/security/test_hostile_layouts.py)
    from hermetic.condapkg import PackageSpec, build_channel
    from projects import write_project

    channel = build_channel(
        tmp_path / "channel",
        [
            PackageSpec(
                "sneaky",
                "1.0",
                "h0",
                files={"share/sneaky/README": b"hi\n"},
                symlinks={"share/sneaky/shadow": "../../../../../etc/shadow"},
            )
        ],
    )
    root = write_project(tmp_path / "p", channel, None, deps='sneaky = "*"', pypi="")
    h("lock", cwd=root, cache=image_cache)
    build(root, image_cache, "--base", "scratch", "-o", f"oci:{tmp_path / 'out'}")
    assert (tmp_path / "out" / "index.json").exists()
    assert not (tmp_path / "etc").exists()


def test_an_interrupted_build_leaves_the_old_image_and_the_rerun_continues(
    project, base_ref, tmp_path, image_cache
):
    work = tmp_path / "p"
    shutil.copytree(project, work, ignore=shutil.ignore_patterns(".hermetic"))
    out = f"oci:{tmp_path / 'img'}:v1"
    cache = tmp_path / "cache"
    good = build(work, cache, "--base", base_ref, "-o", out)
    # killed after the first new layer is written: nothing visible changes
    (work / "hermetic.toml").write_text(
        (work / "hermetic.toml").read_text().replace('pyhello = "*"\n', "")
    )
    h("lock", cwd=work, cache=cache)
    (work / "app.py").write_text('print("v2")\n')
    proc = build(
        work,
        cache,
        "--base",
        base_ref,
        "-o",
        out,
        check=None,
        HERMETIC_TEST_KILL_AT="image-before-index",
    )
    assert proc.returncode == -9
    index = json.loads((tmp_path / "img" / "index.json").read_text())
    assert [
        m["digest"]
        for m in index["manifests"]
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == "v1"
    ] == [good["digest"]]
    # the re-run reuses every layer the killed run finished
    again = build(work, cache, "--base", base_ref, "-o", out)
    rebuilt = [x["name"] for x in again["platforms"][0]["layers"] if not x["reused"]]
    assert rebuilt == ["entrypoint", "app"]
    assert again["digest"] != good["digest"]
    assert not list((cache / "image" / "tmp").glob("*"))  # no staging left behind


def test_a_variable_to_expand_is_refused_on_scratch_before_any_work(project, image_cache, tmp_path):
    proc = build(
        project, image_cache, "--base", "scratch", "-o", f"oci:{tmp_path / 'i'}:v", check=2
    )
    assert "DATA_DIR" in proc.stderr and "no shell" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "i").exists()
    # `--env` gives it literally instead, and the build goes on
    result = build(
        project, image_cache, "--base", "scratch", "--env", "DATA_DIR=/data",
        "-o", f"oci:{tmp_path / 'j'}:v",
    )  # fmt: skip
    assert result["outputs"]
