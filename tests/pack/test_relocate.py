"""`bin/hermetic-unpack` on its own: every kind of placeholder file, under dash and `env -i`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from hermetic.condapkg import PREFIX_PLACEHOLDER
from hermetic.pack.layout import MANIFEST, SCRIPT_SOURCE, UNPACK_SCRIPT, Relocation

PH = PREFIX_PLACEHOLDER.encode()
LONG = b"/opt/" + b"p" * 120
FILES = {
    "etc/a.conf": b"x=" + PH + b"/lib:" + PH + b"\ny=1\n",  # awk, final newline
    "etc/n.conf": b"p=" + PH,  # awk, no final newline
    "etc/nul.dat": b"\0head " + PH + b"/x\0" + PH + b" tail",  # dd splice
    "etc/empty.conf": b"",
    "bin/tool": b"#!" + PH + b"/bin/python3.11\nprint('hi & \\\\1 $x')\n",  # entry point
}
BINARY = b"\x7fELF\0\0" + LONG + b"/share/data\0more\0" + LONG + b"\0end"


def make_env(root: Path) -> Path:
    reloc = Relocation()
    for rel, content in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(content)
        reloc.text.append((rel, content, PH, rel.startswith("bin/"), rel.startswith("bin/")))
    (root / "lib").mkdir()
    (root / "lib" / "libx.so").write_bytes(BINARY)
    reloc.binary.append(("lib/libx.so", BINARY, LONG))
    (root / MANIFEST).parent.mkdir(parents=True)
    (root / MANIFEST).write_bytes(reloc.render())
    (root / UNPACK_SCRIPT).write_bytes(SCRIPT_SOURCE.read_bytes())
    return root


@pytest.mark.parametrize("shell", ["/bin/sh", shutil.which("dash") or "/bin/sh"])
def test_every_placeholder_kind(tmp_path: Path, shell: str) -> None:
    dest = make_env(tmp_path / "a & b")  # a shell/awk/sed special character in the path
    proc = subprocess.run(
        ["env", "-i", shell, str(dest / UNPACK_SCRIPT)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    d = str(dest.resolve()).encode()
    assert (dest / "etc/a.conf").read_bytes() == b"x=" + d + b"/lib:" + d + b"\ny=1\n"
    assert (dest / "etc/n.conf").read_bytes() == b"p=" + d
    assert (dest / "etc/nul.dat").read_bytes() == b"\0head " + d + b"/x\0" + d + b" tail"
    assert (dest / "etc/empty.conf").read_bytes() == b""
    assert (
        dest / "bin/tool"
    ).read_bytes() == b"#!" + d + b"/bin/python3.11\nprint('hi & \\\\1 $x')\n"
    lib = (dest / "lib/libx.so").read_bytes()
    assert len(lib) == len(BINARY)
    want = d + b"/share/data" + b"\0" * (len(LONG) - len(d)) + b"\0more\0"
    assert lib.startswith(b"\x7fELF\0\0" + want)
    assert lib.endswith(d + b"\0" * (len(LONG) - len(d)) + b"\0end")


def test_refuses_quotes_and_dollars(tmp_path: Path) -> None:
    dest = make_env(tmp_path / 'we"ird')
    proc = subprocess.run(["/bin/sh", str(dest / UNPACK_SCRIPT)], capture_output=True, text=True)
    assert proc.returncode == 1 and "quote" in proc.stderr
    assert (dest / "etc/a.conf").read_bytes() == FILES["etc/a.conf"]
