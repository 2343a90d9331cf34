"""OCI image layout directories (`oci:DIR[:TAG]`) and `docker-archive:FILE` tarballs.

Writes are crash-safe: blobs are content-addressed and land by rename, and `index.json`
(the only file that makes an image visible) is replaced atomically last, so an interrupted
write leaves the previous image intact and a re-run reuses the blobs already there.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from hermetic.errors import HermeticError, UsageError
from hermetic.fs import atomic_write_bytes
from hermetic.image import oci
from hermetic.image.store import checkpoint

LAYOUT_FILE = "oci-layout"
LAYOUT_VERSION = b'{"imageLayoutVersion":"1.0.0"}'

#: where a blob's bytes come from when writing: a file (hardlinked or copied) or bytes
BlobSource = Path | bytes


@dataclass(frozen=True)
class OciRef:
    """`oci:DIR[:TAG]` (TAG may be empty: the single image in the layout)."""

    path: Path
    tag: str | None

    def __str__(self) -> str:
        return f"oci:{self.path}" + (f":{self.tag}" if self.tag else "")


def parse_oci_ref(text: str) -> OciRef:
    body = text[len("oci:") :] if text.startswith("oci:") else text
    if not body:
        raise UsageError(f"{text!r}: no directory after oci:", hint="write oci:DIR[:TAG]")
    path, sep, tag = body.rpartition(":")
    if not sep or "/" in tag:
        return OciRef(Path(body), None)
    return OciRef(Path(path), tag or None)


def blob_path(root: Path, digest: str) -> Path:
    return Path(root) / "blobs" / "sha256" / oci.digest_hex(digest)


def put_blob(root: Path, digest: str, source: BlobSource) -> None:
    """Place one blob (no-op when an intact one of that size is already there)."""
    dest = blob_path(root, digest)
    size = len(source) if isinstance(source, bytes) else os.stat(source).st_size
    with contextlib.suppress(OSError):
        if dest.stat().st_size == size:
            return
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    if isinstance(source, bytes):
        tmp.write_bytes(source)
    else:
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
    os.replace(tmp, dest)


def write_layout(
    ref: OciRef, root: oci.Descriptor, blobs: Mapping[str, BlobSource]
) -> oci.Descriptor:
    """Write the image (or index) `root` and its `blobs` into the layout, tagged `ref.tag`.

    Other images already in the layout stay; an entry with the same tag is replaced."""
    path = ref.path
    try:
        path.mkdir(parents=True, exist_ok=True)
        if not (path / LAYOUT_FILE).exists():
            atomic_write_bytes(path / LAYOUT_FILE, LAYOUT_VERSION)
        for digest, source in sorted(blobs.items()):
            put_blob(path, digest, source)
        # an entry with the same tag (or, untagged, the previous untagged one) is replaced
        entries = [
            d for d in _index_entries(path) if d.annotation(oci.ANN_REF_NAME) not in (None, ref.tag)
        ]
        ann = ((oci.ANN_REF_NAME, ref.tag),) if ref.tag else ()
        entry = oci.Descriptor(root.media_type, root.digest, root.size, ann, root.platform)
        index = oci.Index((*entries, entry))
        checkpoint("image-before-index")
        atomic_write_bytes(path / "index.json", index.to_bytes())
    except OSError as exc:
        raise HermeticError(
            f"cannot write {ref}: {exc.strerror} ({exc.filename})",
            hint="check the permissions and free space of that directory",
        ) from None
    return entry


def _index_entries(path: Path) -> list[oci.Descriptor]:
    try:
        data = (path / "index.json").read_bytes()
    except FileNotFoundError:
        return []
    return list(oci.Index.from_bytes(data, str(path / "index.json")).manifests)


@dataclass(frozen=True)
class LayoutReader:
    """Read access to one layout directory."""

    path: Path

    def read_blob(self, digest: str) -> bytes:
        try:
            data = blob_path(self.path, digest).read_bytes()
        except FileNotFoundError:
            raise HermeticError(
                f"oci:{self.path}: blob {digest} is missing",
                hint="the layout is incomplete; re-create it",
            ) from None
        if oci.sha256_digest(data) != digest:
            raise HermeticError(f"oci:{self.path}: blob {digest} does not match its digest")
        return data

    def blob_file(self, digest: str) -> Path:
        p = blob_path(self.path, digest)
        if not p.is_file():
            raise HermeticError(f"oci:{self.path}: blob {digest} is missing")
        return p

    def root(self, tag: str | None) -> oci.Descriptor:
        """The index.json entry for `tag` (or the only one when no tag is given)."""
        if not (self.path / "index.json").is_file():
            raise UsageError(
                f"oci:{self.path}: not an OCI image layout (no index.json)",
                hint="give a directory written by `hermetic image build`, skopeo or umoci",
            )
        entries = _index_entries(self.path)
        if tag is not None:
            for d in entries:
                if d.annotation(oci.ANN_REF_NAME) == tag:
                    return d
            tags = sorted(t for d in entries if (t := d.annotation(oci.ANN_REF_NAME)))
            raise UsageError(
                f"oci:{self.path}:{tag}: no such tag in the layout",
                hint="tags there: " + (", ".join(tags) or "(none)"),
            )
        if len(entries) != 1:
            tags = sorted(t for d in entries if (t := d.annotation(oci.ANN_REF_NAME)))
            raise UsageError(
                f"oci:{self.path}: the layout holds {len(entries)} images; name one with :TAG",
                hint="tags there: " + (", ".join(tags) or "(none)"),
            )
        return entries[0]


# ---------------------------------------------------------------------------------------------
# docker-archive (what `docker save` writes and `docker load` / `podman load` read)


def write_docker_archive(
    dest: Path,
    repo_tags: tuple[str, ...],
    config: bytes,
    layers: tuple[oci.Descriptor, ...],
    open_layer: Callable[[oci.Descriptor], Iterator[bytes]],
) -> None:
    """Write one image as a docker-archive tarball, atomically.

    Layers are stored uncompressed (`<diff_id>/layer.tar`), which every loader accepts;
    `open_layer` yields a layer's uncompressed bytes."""
    from hermetic.image.compress import StreamingHash

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
            layer_names = []
            for desc in layers:
                # the uncompressed size is only known after reading: spool to a temp file
                with tempfile.TemporaryFile(dir=dest.parent) as spool:
                    h = StreamingHash()
                    for chunk in open_layer(desc):
                        h.update(chunk)
                        spool.write(chunk)
                    name = f"{h.hexdigest()}/layer.tar"
                    layer_names.append(name)
                    spool.seek(0)
                    _add(tar, name, spool, h.size)
            config_name = oci.digest_hex(oci.sha256_digest(config)) + ".json"
            _add_bytes(tar, config_name, config)
            manifest = [{"Config": config_name, "RepoTags": list(repo_tags), "Layers": layer_names}]
            _add_bytes(tar, "manifest.json", json.dumps(manifest).encode())
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _add(tar: tarfile.TarFile, name: str, fh: object, size: int) -> None:
    ti = tarfile.TarInfo(name)
    ti.size = size
    ti.mode = 0o644
    tar.addfile(ti, fh)  # type: ignore[arg-type]  # a binary file object


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    import io

    _add(tar, name, io.BytesIO(data), len(data))


@dataclass(frozen=True)
class DockerArchive:
    """A docker-archive read as a base: its config and layer members."""

    path: Path
    config: bytes
    layer_members: tuple[str, ...]


def read_docker_archive(path: Path) -> DockerArchive:
    where = f"docker-archive:{path}"
    try:
        with tarfile.open(path, "r:*") as tar:
            manifest = json.loads(_member(tar, "manifest.json", where))
            if not isinstance(manifest, list) or len(manifest) != 1:
                raise UsageError(f"{where}: expected exactly one image in manifest.json")
            entry = manifest[0]
            config = _member(tar, str(entry["Config"]), where)
            layers = tuple(str(x) for x in entry["Layers"])
    except FileNotFoundError:
        raise UsageError(f"{where}: no such file") from None
    except (tarfile.TarError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{where}: not a docker archive ({exc})") from None
    return DockerArchive(Path(path), config, layers)


def _member(tar: tarfile.TarFile, name: str, where: str) -> bytes:
    try:
        fh = tar.extractfile(name)
    except KeyError:
        fh = None
    if fh is None:
        raise UsageError(f"{where}: {name} is missing")
    return fh.read()
