"""Wheels laid out into an environment without running anything (PEP 427 / 491).

What `uv pip install` does into the env, done in memory so it works for any target
platform: `purelib`/`platlib` into `lib/pythonX.Y/site-packages`, `.data/scripts` into
`bin/` (a `#!python` shebang pointing at the env's interpreter), `.data/data` into the
prefix, `.data/headers` into `include/`, console and GUI scripts generated from
`entry_points.txt`, and the dist-info marked as uv marks it (`INSTALLER` = `uv`,
`direct_url.json`, a rewritten `RECORD`), so a later `hermetic install` into the unpacked
env sees them as its own. The interpreter's path is the conda placeholder, relocated on
unpack like every other shebang. No bytecode is compiled (the interpreter does it lazily).
"""

from __future__ import annotations

import base64
import configparser
import hashlib
import json
import posixpath
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from hermetic.condapkg import PREFIX_PLACEHOLDER, TarEntry
from hermetic.env.pypi import requirement_url
from hermetic.errors import HermeticError
from hermetic.lock.model import PypiArtifact

_SCRIPT = """\
# -*- coding: utf-8 -*-
import re
import sys
from {module} import {attr}
if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])
    sys.exit({call}())
"""


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def wheel_members(
    wheels: tuple[Path, ...], packages: tuple[PypiArtifact, ...], xy: str
) -> Iterator[tuple[TarEntry, bool | None]]:
    """(entry, None) for plain files; (entry, is_entry_point) for files holding the prefix
    placeholder (scripts)."""
    for wheel, package in zip(wheels, packages, strict=True):
        yield from _one(wheel, package, xy)


def _safe(name: str, wheel: Path) -> str:
    p = PurePosixPath(name)
    if name.startswith("/") or ".." in p.parts or "\\" in name or not p.parts:
        raise HermeticError(f"{wheel.name}: unsafe member name {name!r}; refusing the wheel")
    return p.as_posix()


def _one(wheel: Path, package: PypiArtifact, xy: str) -> Iterator[tuple[TarEntry, bool | None]]:
    site = f"lib/python{xy}/site-packages"
    shebang = f"#!{PREFIX_PLACEHOLDER}/bin/python{xy}\n".encode()
    record: list[str] = []
    out: list[tuple[TarEntry, bool | None]] = []

    def add(rel: str, data: bytes, executable: bool = False, ep: bool | None = None) -> None:
        out.append((TarEntry.data(rel, data, executable=executable), ep))
        record.append(f"{posixpath.relpath(rel, site)},{_record_hash(data)},{len(data)}")

    try:
        zf = zipfile.ZipFile(wheel)
    except zipfile.BadZipFile:
        raise HermeticError(f"{wheel}: not a valid wheel (zip) file") from None
    with zf:
        names = [_safe(n, wheel) for n in zf.namelist() if not n.endswith("/")]
        dist_info = sorted(
            {n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info")}
        )
        if len(dist_info) != 1:
            raise HermeticError(f"{wheel.name}: expected one .dist-info directory")
        di = dist_info[0]
        data_dir = di.removesuffix(".dist-info") + ".data"
        for name in sorted(names):
            info = zf.getinfo(name)
            executable = bool((info.external_attr >> 16) & 0o111)
            content = zf.read(name)
            if name in (f"{di}/RECORD", f"{di}/INSTALLER") or name.startswith(f"{di}/RECORD."):
                continue  # rewritten below; RECORD.jws/.p7s no longer match
            if name.startswith(data_dir + "/"):
                kind, _, rest = name[len(data_dir) + 1 :].partition("/")
                if kind in ("purelib", "platlib"):
                    add(f"{site}/{rest}", content, executable)
                elif kind == "scripts":
                    if content.startswith((b"#!python", b"#!/usr/bin/env python")):
                        _shebang, _, body = content.partition(b"\n")
                        add(f"bin/{rest}", shebang + body, True, True)
                    else:
                        add(f"bin/{rest}", content, True)
                elif kind == "data":
                    add(rest, content, executable)
                elif kind == "headers":
                    add(f"include/python{xy}/{package.name}/{rest}", content)
                else:
                    raise HermeticError(f"{wheel.name}: unknown wheel data directory {kind!r}")
            else:
                add(f"{site}/{name}", content, executable)
            if name == f"{di}/entry_points.txt":
                for script, data in _entry_points(content, shebang, wheel):
                    add(f"bin/{script}", data, True, True)
        add(f"{site}/{di}/INSTALLER", b"uv\n")
        direct = {
            "url": requirement_url(package.url),
            "archive_info": {"hashes": {"sha256": package.sha256}},
        }
        add(f"{site}/{di}/direct_url.json", json.dumps(direct, sort_keys=True).encode())
    record.append(f"{di}/RECORD,,")
    out.append((TarEntry.data(f"{site}/{di}/RECORD", ("\n".join(record) + "\n").encode()), None))
    yield from out


def _entry_points(content: bytes, shebang: bytes, wheel: Path) -> Iterator[tuple[str, bytes]]:
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep names' case
    try:
        parser.read_string(content.decode())
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise HermeticError(f"{wheel.name}: unreadable entry_points.txt ({exc})") from None
    for section in ("console_scripts", "gui_scripts"):
        if not parser.has_section(section):
            continue
        for script, target in sorted(parser.items(section)):
            module, _, attr = target.strip().partition(":")
            attr = attr.split("[")[0].strip()
            if not module or not attr or "/" in script:
                raise HermeticError(f"{wheel.name}: bad entry point {script} = {target}")
            top = attr.split(".")[0]
            body = _SCRIPT.format(module=module.strip(), attr=top, call=attr)
            yield script, shebang + body.encode()
