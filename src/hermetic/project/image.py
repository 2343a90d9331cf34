"""`hermetic image build`: project + lock + settings → image → outputs (the use case).

Also the tour's image step, which composes the same build with a locally made base.

Composes the layers: the project layout and spec, the lock (read, never re-solved: a stale
lock is an error), the image builder, the SBOM, and the writers (OCI layout,
docker-archive, registry push).
"""

from __future__ import annotations

import hashlib
import io
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from hermetic.errors import LockError, UsageError
from hermetic.image import oci
from hermetic.image.base import DEFAULT_BASE
from hermetic.image.build import BuiltImage, ImageOptions, PlatformInput, build_image
from hermetic.image.compress import check_compression
from hermetic.image.ocidir import OciRef, parse_oci_ref, write_docker_archive, write_layout
from hermetic.image.push import PushResult, fallback_tag, sbom_manifest
from hermetic.image.store import Store
from hermetic.lock.read import Lock
from hermetic.manifest.image import ImageSettings, read_image_settings
from hermetic.project.project import Project

Reporter = Callable[[str], None]


@dataclass(frozen=True)
class BuildRequest:
    """What `hermetic image build` was asked; `settings` (the flags) win over the manifest's."""

    manifest: Path | None = None
    environment: str = "default"
    settings: ImageSettings = field(default_factory=ImageSettings)
    output: str | None = None
    push: bool = False
    insecure: tuple[str, ...] = ()
    sbom: Path | None = None
    frozen: bool = False


@dataclass(frozen=True)
class BuildOutcome:
    image: BuiltImage
    outputs: tuple[str, ...]
    sbom_path: Path
    pushed: PushResult | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)


def image_store() -> Store:
    from hermetic.settings import current

    return Store(current().cache_dir / "image")


def build(
    req: BuildRequest, reporter: Reporter | None = None, project: Project | None = None
) -> BuildOutcome:
    from hermetic.condapkg import default_mtime

    say = reporter or (lambda _m: None)
    project = project or Project.open(req.manifest)
    settings = req.settings.over(read_image_settings(project.manifest_path))
    spec = project.spec
    if not req.frozen:
        from hermetic.project.lock import check

        check_result = check(project)
        if not check_result.fresh:
            reasons = "; ".join(s.reason for s in check_result.stale)
            raise LockError(
                f"{project.lock_path} is stale: {reasons}",
                hint="an image is built from the lock as it is: run `hermetic lock` first "
                "(or pass --frozen to build from the stale lock)",
            )
    lock = project.lock
    lock.require_environment(req.environment)
    platforms = settings.platforms or _default_platforms(lock, req.environment)
    sysreq = lock.system_requirements(req.environment)
    env_decl = spec.environment(req.environment)
    overridden = {key for key, _ in settings.env}
    inputs = []
    for plat in platforms:
        activation = env_decl.activation(plat)
        inputs.append(
            PlatformInput(
                platform=plat,
                records=lock.conda_records(req.environment, plat),
                pypi=lock.pypi_packages(req.environment, plat),
                activation_env=activation.literal_env(),
                # `--env`/`[image] env` win over the spec's variables, as over every other
                activation_expand=tuple(
                    kv for kv in activation.expanded_env() if kv[0] not in overridden
                ),
                cuda=sysreq.cuda,
            )
        )
    lock_hash = hashlib.sha256(lock.text.encode()).hexdigest()
    source, revision = _git(project.root)
    tag = settings.tag
    options = ImageOptions(
        base=settings.base or DEFAULT_BASE,
        prefix=settings.prefix or "/opt/env",
        app_root=project.root,
        app=settings.app,
        workdir=settings.workdir or "/app",
        cmd=settings.cmd,
        entrypoint=settings.entrypoint,
        user=settings.user or "65532:65532",
        env=settings.env,
        labels=settings.labels,
        ports=settings.ports,
        compression=check_compression(settings.compression or "gzip"),
        created_epoch=default_mtime(),
        source=source,
        revision=revision,
        insecure=req.insecure,
    )
    expanded = [k for i in inputs for k, _ in i.activation_expand]
    if expanded and options.base == "scratch":
        raise UsageError(
            f"[activation.env] {expanded[0]} asks for shell expansion (expand = true), and a "
            "scratch image has no shell to expand it",
            hint="use a base with /bin/sh (the default), give the value literally, or set it "
            "with `--env`",
        )
    store = image_store()
    try:
        image = build_image(
            environment=req.environment,
            lock_hash=lock_hash,
            inputs=inputs,
            options=options,
            store=store,
            reporter=say,
            mirrors=project.mirrors,
        )
    finally:
        store.clean_tmp()
    from hermetic.image import sbom

    entries = [e for inp in inputs for e in sbom.entries_for(inp)]
    name = tag or f"{spec.name or project.root.name}-{req.environment}"
    sbom_bytes = sbom.cached_render(
        store.root / "sbom",
        entries,
        image_name=name,
        lock_hash=lock_hash,
        created_epoch=options.created_epoch,
    )
    output = req.output
    if output is None and not req.push:
        output = f"oci:{project.root / '.hermetic' / 'image'}:{req.environment}"
    outputs: list[str] = []
    sbom_path = req.sbom
    if output is not None:
        dest = _write_output(output, image, sbom_bytes, tag)
        outputs.append(dest)
        if sbom_path is None:
            target = Path(output.split(":", 1)[1])
            if output.startswith("oci:"):
                target = parse_oci_ref(output).path
            sbom_path = target.with_name(target.name + ".cdx.json")
    if sbom_path is None:
        sbom_path = project.root / ".hermetic" / f"image-{req.environment}.cdx.json"
    from hermetic.fs import atomic_write_bytes

    atomic_write_bytes(sbom_path, sbom_bytes)
    pushed = None
    if req.push:
        if not tag:
            raise UsageError(
                "--push needs a registry reference to push to",
                hint="pass --tag HOST/NAME:TAG, or set `tag` in the image settings",
            )
        from hermetic.image.push import Artifact, push

        artifact = Artifact(
            blobs=image.blobs,
            manifests=image.manifests,
            root=image.root,
            mount_from=_mount_from(options.base, tag),
        )
        say(f"pushing to {tag}")
        pushed = push(artifact, tag, sbom=sbom_bytes, insecure=req.insecure, reporter=say)
    warnings = []
    if options.base == "scratch" and any(
        "activate" in str(layer.packages) for i in image.images for layer in i.layers
    ):
        warnings.append("activate.d scripts are not sourced: the scratch base has no /bin/sh")
    for script in dict.fromkeys(s for p in platforms for s in env_decl.activation(p).scripts):
        warnings.append(
            f"the activation script {script} lives in the project and is not in the image; "
            "the image sets the manifest's variables only"
        )
    return BuildOutcome(image, tuple(outputs), sbom_path, pushed, tuple(warnings))


def _default_platforms(lock: Lock, environment: str) -> tuple[str, ...]:
    from hermetic.platform import current_platform

    have = lock.platforms(environment)
    here = current_platform()
    if here in have and here.startswith("linux-"):
        return (here,)
    linux = [p for p in have if p.startswith("linux-")]
    if not linux:
        raise UsageError(
            f"environment {environment!r} is not locked for any Linux platform",
            hint="add linux-64 to `platforms` and run `hermetic lock`",
        )
    return ("linux-64",) if "linux-64" in linux else (linux[0],)


def _git(root: Path) -> tuple[str | None, str | None]:
    """The repository URL (credentials removed) and commit of the project, when it has one."""
    from hermetic.credentials import redact_url

    def run(*args: str) -> str | None:
        try:
            proc = subprocess.run(
                ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return proc.stdout.strip() or None if proc.returncode == 0 else None

    revision = run("rev-parse", "HEAD")
    if revision is None:
        return None, None
    url = run("config", "--get", "remote.origin.url")
    return (redact_url(url) if url else None), revision


def _mount_from(base: str, tag: str) -> str | None:
    if base == "scratch" or (":" in base.split("/", 1)[0] and base.startswith(("oci:", "docker-"))):
        return None
    if base.startswith(("oci:", "docker-archive:")):
        return None
    from hermetic.image.registry import parse_reference

    b, t = parse_reference(base), parse_reference(tag)
    return b.repository if b.registry == t.registry else None


def _write_output(output: str, image: BuiltImage, sbom_bytes: bytes, tag: str | None) -> str:
    if output.startswith("oci:"):
        ref = parse_oci_ref(output)
        blobs = dict(image.blobs)
        for _, data in image.manifests:
            blobs[oci.sha256_digest(data)] = data
        entry = write_layout(ref, image.root, blobs)
        _add_sbom_to_layout(ref, image, sbom_bytes)
        return f"{ref}@{entry.digest}"
    if output.startswith("docker-archive:"):
        if len(image.images) != 1:
            raise UsageError(
                "a docker-archive holds one platform; build one --platform, or write oci:DIR"
            )
        from hermetic.image.compress import decompress_stream

        one = image.images[0]
        path = Path(output[len("docker-archive:") :])

        def open_layer(desc: oci.Descriptor) -> Iterator[bytes]:
            blob = image.blobs[desc.digest]
            if isinstance(blob, bytes):
                yield from decompress_stream(io.BytesIO(blob), desc.media_type)
                return
            with open(blob, "rb") as fh:
                yield from decompress_stream(fh, desc.media_type)

        write_docker_archive(
            path,
            (tag,) if tag else (),
            one.config,
            tuple(layer.descriptor for layer in one.layers),
            open_layer,
        )
        return f"docker-archive:{path}"
    raise UsageError(
        f"unknown output {output!r}", hint="write oci:DIR[:TAG] or docker-archive:FILE"
    )


def _add_sbom_to_layout(ref: OciRef, image: BuiltImage, sbom_bytes: bytes) -> None:
    """The SBOM as a referrer of the image inside the layout, under the fallback tag name."""
    manifest = sbom_manifest(image.root, sbom_bytes, image.created)
    data = manifest.to_bytes()
    desc = oci.Descriptor(
        oci.MANIFEST, oci.sha256_digest(data), len(data), artifact_type=oci.SBOM_ARTIFACT
    )
    write_layout(
        OciRef(ref.path, fallback_tag(image.root.digest)),
        desc,
        {
            oci.sha256_digest(sbom_bytes): sbom_bytes,
            oci.sha256_digest(oci.EMPTY_BLOB): oci.EMPTY_BLOB,
            desc.digest: data,
        },
    )


def tour_step(directory: Path, manifest: Path, prefix: Path) -> tuple[tuple[str, ...], str]:
    """The tour's image step: (lines to show, the image by digest for the later steps).

    A base made locally (this machine's C library and /bin/sh), the image built from the
    tour's lock, unpacked, and the tour's program run in it with bwrap when installed."""
    import shutil

    from hermetic.image.rootfs import unpack
    from hermetic.image.tour import local_base, run_in_rootfs

    work = directory / "image"
    base = local_base(work / "base", [prefix / "bin" / "python"], prefix)
    out = f"oci:{work / 'oci'}:tour"
    result = build(
        BuildRequest(
            manifest=manifest,
            settings=ImageSettings(base=base, platforms=("linux-64",)),
            output=out,
        )
    )
    image = result.image
    one = image.images[0]
    ours = [layer for layer in one.layers if not layer.from_base]
    lines = [
        f"base made locally from this machine's C library: {base}",
        f"built {out}@{image.root.digest} in {image.seconds:.2f}s, no daemon, nothing from "
        "the env ran",
        f"{len(one.layers)} layers: {len(one.layers) - len(ours)} base, "
        + ", ".join(f"{layer.name} ({layer.descriptor.size / 1e6:.1f} MB)" for layer in ours),
        f"SBOM: {result.sbom_path}",
    ]
    rootfs = work / "rootfs"
    shutil.rmtree(rootfs, ignore_errors=True)
    unpack(out, rootfs)
    lines += run_in_rootfs(rootfs, one.config, ["/opt/env/bin/tour-demo"])
    return tuple(lines), f"localhost/hermetic-tour@{image.root.digest}"
