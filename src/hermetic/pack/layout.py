"""The members of a pack: the environment tree with its placeholders intact, and the
relocation manifest that `bin/hermetic-unpack` follows.

Nothing in the archive depends on where it was made:

* plain files stream from the staging prefix (hard links of the verified cache entries);
* files with a prefix placeholder are taken from the cache entry itself, placeholder intact
  (the staging prefix holds a copy patched for the staging path);
* entry points rattler generated, the activation script and conda-meta records are read
  from the staging prefix with its path turned back into the placeholder (and the
  path-dependent keys dropped from conda-meta);
* PyPI wheels are laid out by `wheel.py`.

For every file holding a placeholder the manifest lists the byte offsets of each occurrence,
so relocating is splicing at known offsets: no search, no regex, no python on the target.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from hermetic.condapkg import PREFIX_PLACEHOLDER, TarEntry
from hermetic.condapkg.tar import check_member_name
from hermetic.errors import HermeticError
from hermetic.layout import ACTIVATION_SCRIPT
from hermetic.manifest.model import Activation
from hermetic.pack.stage import StagedEnv
from hermetic.pack.wheel import wheel_members

PACK_DIR = ".hermetic-pack"
MANIFEST = f"{PACK_DIR}/relocate"
UNPACK_SCRIPT = "bin/hermetic-unpack"
SCRIPT_SOURCE = Path(__file__).with_name("hermetic-unpack.sh")
_DROP_META = ("extracted_package_dir", "link", "requested_spec")


@dataclass
class Relocation:
    """What `bin/hermetic-unpack` rewrites, with byte offsets into each file."""

    text: list[tuple[str, bytes, bytes, bool, bool]] = field(default_factory=list)
    # (path, content, placeholder, executable, is entry point)
    binary: list[tuple[str, bytes, bytes]] = field(default_factory=list)

    def render(self) -> bytes:
        out = ["hermetic-relocate 1"]
        for path, content, ph, executable, ep in sorted(self.text):
            offsets = _offsets(content, ph)
            _check_path(path)
            # a: awk rewrites it line by line (a text file ending with a newline), n: the
            # same without the final newline, d: dd splices it at the offsets (NUL bytes)
            simple = (
                b"\0" not in content and ph.isascii() and not any(c.isspace() for c in ph.decode())
            )
            mode = ("a" if content.endswith(b"\n") or not content else "n") if simple else "d"
            out += [
                f"T {len(ph)} {len(content)} {int(ep)} {int(executable)} {mode} "
                f"{ph.decode() if simple else '-'}",
                path,
                " ".join(map(str, offsets)),
            ]
        for path, content, ph in sorted(self.binary):
            _check_path(path)
            occurrences = []
            for off in _offsets(content, ph):
                end = content.find(b"\0", off)
                end = len(content) if end < 0 else end
                suffix = content[off + len(ph) : end]
                occurrences.append(f"{off} {end - off} {len(suffix)} x{_octal(suffix)}")
            out += [f"B {len(ph)} {len(occurrences)}", path, *occurrences]
        return ("\n".join(out) + "\n").encode()


def _check_path(path: str) -> None:
    if "\n" in path or "\r" in path:
        raise HermeticError(f"cannot pack {path!r}: a file name with a line break")


def _offsets(content: bytes, placeholder: bytes) -> list[int]:
    out, i = [], content.find(placeholder)
    while i >= 0:
        out.append(i)
        i = content.find(placeholder, i + len(placeholder))
    return out


def _octal(data: bytes) -> str:
    """`data` as a printf format: safe characters as they are, every other byte as \\ooo."""
    safe = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/+-"
    return "".join(chr(b) if b in safe else f"\\{b:03o}" for b in data)


@dataclass(frozen=True)
class PackLayout:
    members: tuple[TarEntry, ...]
    #: sha256 of files streamed from the verified cache, from their packages' paths.json
    #: (so packing reads each byte once)
    known_sha256: dict[str, str]


def pack_members(env: StagedEnv, spec_activation: SpecActivation | None = None) -> PackLayout:
    """Every member of the archive, for `write_tar` (which sorts them).

    `spec_activation` is the manifest's `[activation.env]` of the environment, exported by
    `bin/activate` after the packages' part, as `hermetic run` does."""
    members: dict[str, TarEntry] = {}
    known: dict[str, str] = {}
    reloc = Relocation()
    staging = str(env.prefix).encode()
    ph = PREFIX_PLACEHOLDER.encode()

    def from_staging(rel: str, *, ep: bool, executable: bool) -> None:
        content = (env.prefix / rel).read_bytes().replace(staging, ph)
        members[rel] = TarEntry.data(rel, content, executable=executable)
        if ph in content:
            reloc.text.append((rel, content, ph, executable, ep))

    for record in env.records:
        meta_name = f"{record.name.normalized}-{record.version}-{record.build}.json"
        meta_path = env.prefix / "conda-meta" / meta_name
        meta = json.loads(meta_path.read_text())
        noarch_python = meta.get("noarch") == "python"
        entry = env.cache_entry(record)
        for p in meta.get("paths_data", {}).get("paths", []):
            rel = check_member_name(p["_path"])  # never read outside the staging prefix
            kind = p.get("path_type", "hardlink")
            staged = env.prefix / rel
            if kind == "softlink":
                members[rel] = TarEntry.symlink(rel, os.readlink(staged))
            elif kind == "directory":
                members[rel] = TarEntry.directory(rel)
            elif kind == "unix_python_entry_point":
                from_staging(rel, ep=True, executable=True)
                p.pop("sha256", None)  # of the staging path's copy
                p.pop("size_in_bytes", None)
            elif p.get("prefix_placeholder"):
                original = _original(entry, rel, noarch_python, env.python_xy)
                content = original.read_bytes()
                executable = bool(os.stat(original).st_mode & 0o111)
                members[rel] = TarEntry.data(rel, content, executable=executable)
                known.pop(rel, None)
                placeholder = p["prefix_placeholder"].encode()
                if p.get("file_mode") == "binary":
                    reloc.binary.append((rel, content, placeholder))
                else:
                    reloc.text.append((rel, content, placeholder, executable, False))
            else:
                members[rel] = TarEntry.file(rel, staged)
                if p.get("sha256"):
                    known[rel] = p["sha256"]
                else:
                    known.pop(rel, None)
            p.pop("sha256_in_prefix", None)
        for key in _DROP_META:
            meta.pop(key, None)
        doc = json.dumps(meta, indent=2, sort_keys=True).encode() + b"\n"
        members[f"conda-meta/{meta_name}"] = TarEntry.data(f"conda-meta/{meta_name}", doc)
    members["conda-meta/history"] = TarEntry.data("conda-meta/history", b"")

    if env.wheels:
        xy = env.python_xy or ""
        for w_entry, placeholder_ep in wheel_members(env.wheels, env.pypi, xy):
            if w_entry.name in members:
                raise HermeticError(
                    f"{w_entry.name}: both a conda package and a PyPI wheel install this file"
                )
            members[w_entry.name] = w_entry
            if placeholder_ep is not None and w_entry.content is not None:
                reloc.text.append(
                    (w_entry.name, w_entry.content, ph, w_entry.executable, placeholder_ep)
                )

    _add_activation(env, members, reloc, spec_activation)
    script = SCRIPT_SOURCE.read_bytes()
    members[UNPACK_SCRIPT] = TarEntry.data(UNPACK_SCRIPT, script, executable=True)
    members[MANIFEST] = TarEntry.data(MANIFEST, reloc.render())
    for name in list(members):
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            parent = "/".join(parts[:i])
            if parent not in members:
                members[parent] = TarEntry.directory(parent)
    return PackLayout(tuple(members.values()), known)


@dataclass(frozen=True)
class SpecActivation:
    """The manifest's activation of the packed environment (its scripts stay behind: they
    live in the project, not in the environment)."""

    environment: str
    activation: Activation


def _add_activation(
    env: StagedEnv,
    members: dict[str, TarEntry],
    reloc: Relocation,
    spec: SpecActivation | None,
) -> None:
    """The packages' activation script (as `install` writes it), plus `bin/activate`, which
    sources it and exports the manifest's variables (literal unless marked `expand`)."""
    from hermetic.env.activate import package_script, spec_script

    ph = PREFIX_PLACEHOLDER.encode()
    script = package_script(env.prefix, "bash", env.platform).encode()
    script = script.replace(str(env.prefix).encode(), ph)
    rel = ACTIVATION_SCRIPT.as_posix()
    members[rel] = TarEntry.data(rel, script)
    reloc.text.append((rel, script, ph, False, False))
    activate = (
        b"# source this file (`. bin/activate`) to activate the environment\n"
        b'. "' + ph + b"/" + rel.encode() + b'"\n'
    )
    if spec is not None:
        variables = dataclasses.replace(spec.activation, scripts=())
        activate += spec_script(variables, "bash", env.prefix, spec.environment).encode()
    members["bin/activate"] = TarEntry.data("bin/activate", activate)
    reloc.text.append(("bin/activate", activate, ph, False, False))


def _original(entry: Path, rel: str, noarch_python: bool, xy: str | None) -> Path:
    """The cache entry's file that rattler linked to `rel` (noarch python paths mapped back)."""
    candidates = [entry / rel]
    if noarch_python and xy:
        sp = f"lib/python{xy}/site-packages/"
        if rel.startswith(sp):
            candidates.insert(0, entry / "site-packages" / rel[len(sp) :])
        elif rel.startswith("bin/"):
            candidates.insert(0, entry / "python-scripts" / rel[len("bin/") :])
    for c in candidates:
        if c.is_file():
            return c
    raise HermeticError(f"{rel}: not found in the package cache entry {entry}")
