"""Assembling an OCI image from locked packages: layers, config, manifest, index.

Nothing is solved and nothing from the env runs. Each layer is remembered in the image
cache under a key of its inputs (the locked artifacts' sha256, the prefix, the compressor),
so a rebuild after an app-only change stages nothing and compresses only the app layer.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hermetic.env.activate import export_line
from hermetic.errors import UsageError
from hermetic.image import layers as layering
from hermetic.image import oci
from hermetic.image.base import BaseImage, resolve_base
from hermetic.image.compress import MEDIA_TYPES, Compression, compressor_id
from hermetic.image.store import CachedLayer, Store, checkpoint
from hermetic.image.tarlayer import data, tree_layer_entries, write_layer_blob
from hermetic.mirrors import Mirrors

if TYPE_CHECKING:
    from hermetic.image.stage import StagedEnv

#: bump when what a layer holds for the same packages changes
LAYER_FORMAT = "1"
DEFAULT_PREFIX = "/opt/env"
DEFAULT_USER = "65532:65532"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
ENTRYPOINT = "bin/hermetic-entrypoint"
Reporter = Callable[[str], None]


def oci_platform(conda_platform: str) -> oci.Platform:
    """The OCI platform of a conda platform (the ground `platform` module's mapping)."""
    from hermetic.platform import oci_platform as mapping

    found = mapping(conda_platform)
    if found is None or not found.startswith("linux/"):
        raise UsageError(
            f"cannot build an image for {conda_platform}: images are Linux only",
            hint="use --platform linux-64 and/or linux-aarch64",
        )
    os_name, arch, *variant = found.split("/")
    return oci.Platform(os_name, arch, variant[0] if variant else None)


@dataclass(frozen=True)
class ImageOptions:
    base: str = "scratch"
    prefix: str = DEFAULT_PREFIX
    app_root: Path | None = None
    app: tuple[str, ...] = ()  # paths relative to app_root (files or directories)
    workdir: str = "/app"
    cmd: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    user: str = DEFAULT_USER
    env: tuple[tuple[str, str], ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    ports: tuple[str, ...] = ()
    compression: Compression = "gzip"
    created_epoch: int = 0
    source: str | None = None
    revision: str | None = None
    insecure: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlatformInput:
    platform: str  # conda platform
    records: Sequence[Any]  # rattler RepoDataRecords from the lock
    pypi: Sequence[Any]  # locked PyPI packages (name, version, url, sha256)
    activation_env: tuple[tuple[str, str], ...] = ()  # the spec's [activation.env], literal
    cuda: str | None = None  # the declared system requirement (`cuda = "12.4"`)
    #: the spec's `{ value = "...", expand = true }` variables not overridden by `--env`: an
    #: OCI config's Env is never expanded, so the entrypoint exports them through the shell
    activation_expand: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class LayerInfo:
    name: str
    descriptor: oci.Descriptor
    diff_id: str
    packages: tuple[str, ...]
    blob: Path
    reused: bool  # from the layer cache (or the base)
    from_base: bool = False


@dataclass(frozen=True)
class PlatformImage:
    platform: str
    manifest: bytes
    descriptor: oci.Descriptor
    config: bytes
    layers: tuple[LayerInfo, ...]
    base: BaseImage


@dataclass(frozen=True)
class BuiltImage:
    root: oci.Descriptor  # the manifest (one platform) or the index
    images: tuple[PlatformImage, ...]
    index: bytes | None
    created: str
    annotations: tuple[tuple[str, str], ...]
    seconds: float = 0.0
    staged: bool = False
    blobs: Mapping[str, Path | bytes] = field(default_factory=dict)

    @property
    def manifests(self) -> tuple[tuple[str, bytes], ...]:
        """(media type, bytes) of every manifest, children before the root."""
        out = tuple((oci.MANIFEST, i.manifest) for i in self.images)
        return (*out, (oci.INDEX, self.index)) if self.index is not None else out


def rfc3339(epoch: int) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def check_prefix(prefix: str) -> str:
    norm = os.path.normpath(prefix)
    if not prefix.startswith("/") or norm != prefix or norm == "/" or "\0" in prefix:
        raise UsageError(
            f"the env prefix {prefix!r} must be a normalized absolute path (not /)",
            hint="e.g. /opt/env",
        )
    return prefix


def build_image(
    *,
    environment: str,
    lock_hash: str,
    inputs: Sequence[PlatformInput],
    options: ImageOptions,
    store: Store,
    reporter: Reporter | None = None,
    mirrors: Mirrors | None = None,
) -> BuiltImage:
    start = time.monotonic()
    say = reporter or (lambda _m: None)
    check_prefix(options.prefix)
    created = rfc3339(options.created_epoch)
    annotations = _annotations(environment, lock_hash, created, options)
    images = []
    staged_any = False
    for inp in inputs:
        image, staged = _build_platform(
            inp, environment, options, store, annotations, created, say, mirrors
        )
        images.append(image)
        staged_any = staged_any or staged
    blobs: dict[str, Path | bytes] = {}
    for image in images:
        for layer in image.layers:
            blobs[layer.descriptor.digest] = layer.blob
        blobs[oci.sha256_digest(image.config)] = image.config
    index_bytes = None
    if len(images) == 1:
        root = images[0].descriptor
    else:
        ann = tuple(sorted(annotations))
        index = oci.Index(
            tuple(
                oci.Descriptor(
                    oci.MANIFEST,
                    i.descriptor.digest,
                    i.descriptor.size,
                    (),
                    oci_platform(i.platform),
                )
                for i in images
            ),
            ann,
        )
        index_bytes = index.to_bytes()
        root = oci.descriptor_of(oci.INDEX, index_bytes)
    return BuiltImage(
        root,
        tuple(images),
        index_bytes,
        created,
        tuple(sorted(annotations)),
        time.monotonic() - start,
        staged_any,
        blobs,
    )


def _annotations(
    environment: str, lock_hash: str, created: str, options: ImageOptions
) -> list[tuple[str, str]]:
    out = [
        (oci.ANN_CREATED, created),
        (oci.ANN_LOCK_HASH, lock_hash),
        (oci.ANN_ENVIRONMENT, environment),
    ]
    if options.source:
        out.append((oci.ANN_SOURCE, options.source))
    if options.revision:
        out.append((oci.ANN_REVISION, options.revision))
    return out


def _packages(inp: PlatformInput) -> list[layering.Package]:
    out = [
        layering.Package(
            "conda",
            r.name.normalized,
            str(r.version),
            r.sha256.hex() if r.sha256 else f"{r.url}",
            int(r.size or 0),
        )
        for r in inp.records
    ]
    from packaging.utils import canonicalize_name

    out += [
        layering.Package("pypi", str(canonicalize_name(p.name)), p.version, p.sha256 or p.url, 0)
        for p in inp.pypi
    ]
    return out


def _layer_key(
    group: layering.Group, inp: PlatformInput, options: ImageOptions, xy: str | None
) -> str:
    noarch = {r.name.normalized for r in inp.records if r.noarch.python}
    needs_python = any(p.kind == "pypi" or p.name in noarch for p in group.packages)
    doc = {
        "format": LAYER_FORMAT,
        "prefix": options.prefix,
        "compressor": compressor_id(options.compression),
        "platform": inp.platform,
        "python": xy if needs_python else None,
        "packages": [[p.kind, p.name, p.version, p.sha256] for p in group.packages],
    }
    return hashlib.sha256(oci.canonical(doc)).hexdigest()


def _build_platform(
    inp: PlatformInput,
    environment: str,
    options: ImageOptions,
    store: Store,
    annotations: list[tuple[str, str]],
    created: str,
    say: Reporter,
    mirrors: Mirrors | None,
) -> tuple[PlatformImage, bool]:
    plat = oci_platform(inp.platform)
    base = resolve_base(options.base, plat, store, insecure=options.insecure)
    xy = layering.python_xy(inp.records)
    groups = layering.plan(_packages(inp))
    keys = [_layer_key(g, inp, options, xy) for g in groups]
    cached: dict[str, CachedLayer | None] = {k: store.layer(k) for k in keys}
    missing = [(g, k) for g, k in zip(groups, keys, strict=True) if cached[k] is None]
    staged = False
    if missing:
        # staging imports rattler: only when a layer has to be written
        from hermetic.env.wheelfetch import fetch_wheels
        from hermetic.image.stage import remove_stage, stage_env

        say(
            f"{inp.platform}: laying out {len(inp.records) + len(inp.pypi)} package(s) for {options.prefix}"
        )
        cache = _package_cache()
        wheels = list(fetch_wheels(inp.pypi, store.root))
        stage_dir = store.tmp / f"stage-{inp.platform}-{os.getpid()}"
        remove_stage(stage_dir)
        try:
            env = stage_env(
                inp.records,
                wheels,
                platform=inp.platform,
                prefix=options.prefix,
                stage=stage_dir,
                cache=cache,
                mirrors=mirrors,
            )
            say(f"{inp.platform}: writing {len(missing)} layer(s) of {len(groups)}")
            with ThreadPoolExecutor(max_workers=min(4, len(missing))) as pool:
                done = list(
                    pool.map(lambda gk: _write_group(gk[0], gk[1], env, options, store), missing)
                )
            for (_, key), layer in zip(missing, done, strict=True):
                cached[key] = layer
        finally:
            remove_stage(stage_dir)
        staged = True
    ours: list[LayerInfo] = []
    metas: list[Mapping[str, Any]] = []
    for group, key in zip(groups, keys, strict=True):
        entry = cached[key]
        assert entry is not None  # every missing layer was just written
        metas.append(entry.meta)
        ours.append(_info(group.name, entry, store, reused=not any(k == key for _, k in missing)))
    activation_scripts = sorted(s for m in metas for s in m.get("activate", ()))
    env_vars: dict[str, str] = {}
    for m in sorted(metas, key=lambda m: m.get("env_vars_order", "")):
        env_vars.update(m.get("env_vars", {}))
    expand = list(inp.activation_expand)
    needs_entrypoint = bool(activation_scripts or expand) and options.base != "scratch"
    if needs_entrypoint:
        ours.append(_entrypoint_layer(options, activation_scripts, expand, store))
    if options.app:
        ours.append(_app_layer(options, store))
    base_layers = tuple(
        LayerInfo(f"base-{i}", b.descriptor, b.diff_id, (), b.blob, True, True)
        for i, b in enumerate(base.layers)
    )
    all_layers = (*base_layers, *ours)
    config = _config(
        inp,
        environment,
        options,
        base,
        all_layers,
        env_vars,
        needs_entrypoint,
        annotations,
        created,
    )
    config_bytes = config.to_bytes()
    ann = list(annotations)
    if base.digest:
        ann.append((oci.ANN_BASE_DIGEST, base.digest))
    if base.name:
        ann.append((oci.ANN_BASE_NAME, base.name))
    manifest = oci.Manifest(
        oci.descriptor_of(oci.CONFIG, config_bytes),
        tuple(layer.descriptor for layer in all_layers),
        tuple(sorted(ann)),
    )
    manifest_bytes = manifest.to_bytes()
    desc = oci.descriptor_of(oci.MANIFEST, manifest_bytes, platform=plat)
    return PlatformImage(inp.platform, manifest_bytes, desc, config_bytes, all_layers, base), staged


def _package_cache() -> Path:
    from hermetic.settings import current

    return current().package_cache_dir


def _info(name: str, layer: CachedLayer, store: Store, reused: bool) -> LayerInfo:
    packages = tuple(layer.meta.get("packages", ()))
    ann = [(oci.ANN_TITLE, name)]
    if packages:
        ann.append((oci.ANN_PACKAGES, ",".join(packages)))
    desc = oci.Descriptor(layer.media_type, layer.digest, layer.size, tuple(sorted(ann)))
    return LayerInfo(name, desc, layer.diff_id, packages, store.blob(layer.digest), reused)


def _write_group(
    group: layering.Group, key: str, env: StagedEnv, options: ImageOptions, store: Store
) -> CachedLayer:
    from hermetic.image.stage import package_key

    rels: list[str] = []
    for p in group.packages:
        rels.extend(env.files.get(package_key(p.kind, p.name), ()))
    entries = tree_layer_entries(env.root, options.prefix, sorted(set(rels)))
    layer = _write_blob(entries, options, store, f"layer-{key[:16]}")
    activate = sorted(
        f"{options.prefix}/{r}"
        for r in rels
        if r.startswith("etc/conda/activate.d/") and r.endswith(".sh")
    )
    env_vars: dict[str, str] = {}
    env_files = sorted(
        r for r in rels if r.startswith("etc/conda/env_vars.d/") and r.endswith(".json")
    )
    for r in env_files:
        try:
            doc = json.loads((env.root / r).read_text())
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict):
            env_vars.update({str(k): str(v) for k, v in doc.items()})
    meta = {
        "packages": [p.label for p in group.packages],
        "activate": activate,
        "env_vars": env_vars,
        "env_vars_order": env_files[0] if env_files else "",
    }
    result = CachedLayer(layer.digest, layer.diff_id, layer.size, layer.media_type, meta)
    store.remember(key, result)
    checkpoint("image-layer-written")
    return result


def _write_blob(entries: list[Any], options: ImageOptions, store: Store, name: str) -> CachedLayer:
    blob = write_layer_blob(store.new_blob_path(name), options.compression, entries)
    store.adopt(blob.path, blob.digest)
    return CachedLayer(blob.digest, blob.diff_id, blob.size, MEDIA_TYPES[options.compression], {})


def _entrypoint_layer(
    options: ImageOptions,
    scripts: list[str],
    expand: list[tuple[str, str]],
    store: Store,
) -> LayerInfo:
    """A tiny POSIX-sh entrypoint that sources the packages' activate.d scripts, exports the
    spec's variables that ask for expansion, then execs."""
    lines = ["#!/bin/sh", "# generated by hermetic: activation scripts of the env's packages"]
    lines += [f'. "{s}"' for s in scripts]
    lines += [export_line("bash", key, value, expand=True) for key, value in expand]
    lines += ['exec "$@"', ""]
    name = f"{options.prefix.strip('/')}/{ENTRYPOINT}"
    layer = _write_blob(
        [data(name, "\n".join(lines).encode(), executable=True)], options, store, "entrypoint"
    )
    return _info("entrypoint", layer, store, reused=False)


def _app_layer(options: ImageOptions, store: Store) -> LayerInfo:
    from hermetic.condapkg import tree_entries

    root = options.app_root or Path.cwd()
    entries = []
    dest = options.workdir.strip("/")
    for rel in options.app:
        src = root / rel
        if not src.exists():
            raise UsageError(f"app file {rel!r} does not exist in {root}")
        if src.is_dir() and not src.is_symlink():
            entries += tree_entries(
                src,
                prefix=f"{dest}/{rel}".strip("/") if rel not in (".", "") else dest,
                skip=(".git", ".hermetic", "__pycache__"),
            )
        else:
            entries += tree_layer_entries(root, dest, [rel])
    from hermetic.condapkg import TarEntry

    names: dict[str, Any] = {}
    for e in entries:
        names.setdefault(e.name, e)
        parts = e.name.split("/")
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            names.setdefault(parent, TarEntry.directory(parent))
    layer = _write_blob(list(names.values()), options, store, "app")
    return _info("app", layer, store, reused=False)


def _config(
    inp: PlatformInput,
    environment: str,
    options: ImageOptions,
    base: BaseImage,
    layers: Sequence[LayerInfo],
    env_vars: Mapping[str, str],
    needs_entrypoint: bool,
    annotations: list[tuple[str, str]],
    created: str,
) -> oci.ImageConfig:
    base_cfg = dict(base.config.get("config") or {})
    base_env = [str(e) for e in base_cfg.get("Env") or []]
    base_path = next((e[5:] for e in base_env if e.startswith("PATH=")), DEFAULT_PATH)
    merged: dict[str, str] = {}
    for e in base_env:
        k, _, v = e.partition("=")
        merged[k] = v
    merged["PATH"] = f"{options.prefix}/bin:{base_path}"
    merged["CONDA_PREFIX"] = options.prefix
    merged["CONDA_DEFAULT_ENV"] = environment
    merged.update(env_vars)
    merged.update(dict(inp.activation_env))
    if inp.cuda:
        # what the NVIDIA container toolkit checks against the node's driver at start
        merged["NVIDIA_REQUIRE_CUDA"] = f"cuda>={inp.cuda}"
        merged["NVIDIA_DRIVER_CAPABILITIES"] = "compute,utility"
        merged.setdefault("NVIDIA_VISIBLE_DEVICES", "all")
    if options.user == DEFAULT_USER and "HOME" not in merged:
        merged["HOME"] = "/tmp"  # the non-root user has no home directory in the base
    merged.update(dict(options.env))
    entrypoint = options.entrypoint
    if needs_entrypoint:
        entrypoint = (f"{options.prefix}/{ENTRYPOINT}", *(entrypoint or ()))
    cmd = options.cmd
    if cmd is None and entrypoint is None and not base_cfg.get("Cmd"):
        cmd = (f"{options.prefix}/bin/python",) if layering.python_xy(inp.records) else None
    history = list(base.config.get("history") or [])
    for layer in layers:
        if not layer.from_base:
            history.append(
                {"created": created, "created_by": f"hermetic image build: {layer.name}"}
            )
    labels = [*annotations, *options.labels]
    return oci.ImageConfig(
        platform=oci_platform(inp.platform),
        diff_ids=tuple(layer.diff_id for layer in layers),
        env=tuple(f"{k}={v}" for k, v in merged.items()),
        entrypoint=entrypoint,
        cmd=cmd,
        user=options.user,
        workdir=options.workdir,
        labels=tuple(labels),
        exposed_ports=tuple(p if "/" in p else f"{p}/tcp" for p in options.ports),
        created=created,
        history=tuple(history),
        base=base.config,
    )
