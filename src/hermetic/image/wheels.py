"""Laying out verified PyPI wheels into an env's site-packages, running no code.

A wheel is a zip with a RECORD and an optional entry_points.txt (PEP 427/491): hermetic
unpacks it by hand, so a wheel for another architecture lays out as easily as a native one.
`*.data/scripts` and console/gui entry points land in `bin/` with a shebang pointing at the
env's interpreter *at its final path* (`/opt/env/bin/python`), not the staging dir.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from hermetic.errors import LockError
from hermetic.pkgpaths import check_wheel_member

#: what the installer writes into the INSTALLER file (pip/uv leave hermetic's alone)
INSTALLER = "hermetic"

_SCRIPT = """\
#!{python}
# -*- coding: utf-8 -*-
import re
import sys
from {module} import {attr_head}
if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])
    sys.exit({call}())
"""


@dataclass(frozen=True)
class InstalledWheel:
    name: str
    version: str
    files: tuple[str, ...]  # relative to the prefix, sorted


def install_wheel(
    wheel: Path,
    stage: Path,
    python_xy: str,
    final_prefix: str,
) -> InstalledWheel:
    """Unpack `wheel` into the env staged at `stage` (which will live at `final_prefix`)."""
    site = f"lib/python{python_xy}/site-packages"
    written: dict[str, bytes | None] = {}  # prefix-relative path -> content (None: unchanged)
    where = wheel.name
    try:
        zf = zipfile.ZipFile(wheel)
    except (OSError, zipfile.BadZipFile) as exc:
        raise LockError(f"{where}: not a wheel ({exc})") from None
    with zf:
        names = [i for i in zf.infolist() if not i.is_dir()]
        dist_info = _dist_info_dir(zf.namelist(), where)
        data_dir = dist_info[: -len(".dist-info")] + ".data"
        meta = _metadata(zf, dist_info, where)
        python = f"{final_prefix}/bin/python"
        for info in names:
            check_wheel_member(where, info.filename)
            target = _target(info.filename, data_dir, site, python_xy, meta[0])
            if target is None:
                continue
            if target.endswith(f"{dist_info}/RECORD") or target.endswith(f"{dist_info}/INSTALLER"):
                continue
            data = zf.read(info)
            is_script = info.filename.startswith(f"{data_dir}/scripts/")
            if is_script and data.startswith(b"#!python"):
                _first, _, rest = data.partition(b"\n")
                data = b"#!" + python.encode() + b"\n" + rest
            executable = is_script or bool((info.external_attr >> 16) & 0o111)
            _write(stage / target, data, executable)
            written[target] = data
        for script, body in _entry_points(zf, dist_info, python).items():
            target = f"bin/{script}"
            check_wheel_member(where, target)
            _write(stage / target, body, True)
            written[target] = body
    installer = INSTALLER.encode() + b"\n"
    _write(stage / site / dist_info / "INSTALLER", installer, False)
    written[f"{site}/{dist_info}/INSTALLER"] = installer
    record = _record(written, site, dist_info)
    _write(stage / site / dist_info / "RECORD", record, False)
    written[f"{site}/{dist_info}/RECORD"] = record
    return InstalledWheel(meta[0], meta[1], tuple(sorted(written)))


def _dist_info_dir(names: list[str], where: str) -> str:
    tops = {n.split("/", 1)[0] for n in names if n.split("/", 1)[0].endswith(".dist-info")}
    if len(tops) != 1:
        raise LockError(f"{where}: expected one .dist-info directory, found {len(tops)}")
    return tops.pop()


def _metadata(zf: zipfile.ZipFile, dist_info: str, where: str) -> tuple[str, str]:
    from email.parser import HeaderParser

    try:
        msg = HeaderParser().parsestr(zf.read(f"{dist_info}/METADATA").decode("utf-8"))
    except (KeyError, UnicodeDecodeError):
        raise LockError(f"{where}: no readable {dist_info}/METADATA") from None
    name, version = msg.get("Name"), msg.get("Version")
    if not name or not version:
        raise LockError(f"{where}: METADATA has no Name or Version")
    return str(name), str(version)


def _target(member: str, data_dir: str, site: str, python_xy: str, name: str) -> str | None:
    """Where a wheel member goes, relative to the prefix."""
    if not member.startswith(data_dir + "/"):
        return f"{site}/{member}"
    rest = member[len(data_dir) + 1 :]
    scheme, _, path = rest.partition("/")
    if not path:
        return None
    if scheme in ("purelib", "platlib"):
        return f"{site}/{path}"
    if scheme == "scripts":
        return f"bin/{path}"
    if scheme == "data":
        return path
    if scheme == "headers":
        return f"include/python{python_xy}/{name}/{path}"
    raise LockError(f"{member}: unknown wheel data scheme {scheme!r}")


def _entry_points(zf: zipfile.ZipFile, dist_info: str, python: str) -> dict[str, bytes]:
    import configparser

    try:
        text = zf.read(f"{dist_info}/entry_points.txt").decode("utf-8")
    except KeyError:
        return {}
    cp = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    cp.optionxform = str  # type: ignore[assignment,method-assign]  # names are case-sensitive
    cp.read_string(text)
    out: dict[str, bytes] = {}
    for section in ("console_scripts", "gui_scripts"):
        if not cp.has_section(section):
            continue
        for script, target in cp.items(section):
            module, _, attr = target.strip().partition(":")
            attr = attr.split("[", 1)[0].strip()
            if not module or not attr:
                continue
            head = attr.split(".", 1)[0]
            out[script.strip()] = _SCRIPT.format(
                python=python, module=module.strip(), attr_head=head, call=attr
            ).encode()
    return out


def _write(path: Path, data: bytes, executable: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink():
        path.unlink()
    with open(path, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o755 if executable else 0o644)


def _record(written: dict[str, bytes | None], site: str, dist_info: str) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for target in sorted(written):
        rel = os.path.relpath(target, site)
        data = written[target]
        if data is None or target.endswith("/RECORD"):
            w.writerow([rel, "", ""])
            continue
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        w.writerow([rel, f"sha256={digest}", len(data)])
    w.writerow([f"{dist_info}/RECORD", "", ""])
    return buf.getvalue().encode()
