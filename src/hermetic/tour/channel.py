"""A small real conda channel, built on the spot for the offline tour.

rattler reads packages but cannot write them, so this writes `.tar.bz2` archives with the
standard library alone (info/index.json, paths.json, files, has_prefix, link.json + the
payload) and indexes the channel with `rattler.index.index_fs`:

* `tour-libtiny`: a shared library compiled with the system `cc`;
* `tour-tool`: a program linked against it with RPATH `$ORIGIN/../lib`, which prints the
  path the dynamic loader resolved the library to (`dladdr`);
* `tour-demo`: a `noarch: python` package whose entry point runs the tool and reports where
  itself and its interpreter were loaded from;
* `python`: a relocatable CPython made from the interpreter running hermetic (the archive
  is cached, it is the only slow part);
* osx-arm64 stand-ins (metadata and a dummy payload), so the example locks for two platforms.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hermetic.errors import HermeticError
from hermetic.fs import sha256_file

PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3"
TIMESTAMP_MS = 1_700_000_000_000
BUILDER_VERSION = "1"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    build: str
    subdir: str  # "linux-64", "osx-arm64" or "noarch"
    depends: tuple[str, ...] = ()
    files: dict[str, bytes] = field(default_factory=dict)
    executable: tuple[str, ...] = ()
    symlinks: dict[str, str] = field(default_factory=dict)
    text_placeholders: tuple[str, ...] = ()
    noarch_python: bool = False
    entry_points: tuple[str, ...] = ()
    tree: Callable[[Path], list[str]] | None = None  # adds files; returns text placeholder paths

    @property
    def filename(self) -> str:
        return f"{self.name}-{self.version}-{self.build}.tar.bz2"


def write_package(pkg: Package, channel: Path, compresslevel: int = 9) -> Path:
    """Stage and pack one `.tar.bz2` into `channel/<subdir>/`; returns its path."""
    out_dir = Path(channel) / pkg.subdir
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / pkg.filename
    with tempfile.TemporaryDirectory(prefix=f"tour-{pkg.name}-") as tmp:
        stage = Path(tmp)
        for rel, data in pkg.files.items():
            (stage / rel).parent.mkdir(parents=True, exist_ok=True)
            (stage / rel).write_bytes(data)
        for rel in pkg.executable:
            os.chmod(stage / rel, 0o755)
        for rel, target in pkg.symlinks.items():
            (stage / rel).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(target, stage / rel)
        text_ph = set(pkg.text_placeholders)
        if pkg.tree is not None:
            text_ph |= set(pkg.tree(stage))
        payload = sorted(
            (Path(r) / n).relative_to(stage).as_posix()
            for r, dirs, names in os.walk(stage)
            for n in names + [d for d in dirs if (Path(r) / d).is_symlink()]
        )
        _write_info(pkg, stage, payload, text_ph)
        info = sorted(p for p in os.listdir(stage / "info"))
        tmp_out = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        with tarfile.open(tmp_out, "w:bz2", compresslevel=compresslevel) as tar:
            for rel in [f"info/{n}" for n in info] + payload:
                tar.add(stage / rel, arcname=rel, recursive=False, filter=_normalize)
        os.replace(tmp_out, out)
    return out


def _normalize(ti: tarfile.TarInfo) -> tarfile.TarInfo:
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    ti.mtime = TIMESTAMP_MS // 1000
    return ti


def _write_info(pkg: Package, stage: Path, payload: list[str], text_ph: set[str]) -> None:
    paths = []
    for rel in payload:
        p = stage / rel
        if p.is_symlink():
            paths.append(
                {
                    "_path": rel,
                    "path_type": "softlink",
                    "sha256": hashlib.sha256(os.readlink(p).encode()).hexdigest(),
                    "size_in_bytes": 0,
                }
            )
            continue
        entry = {
            "_path": rel,
            "path_type": "hardlink",
            "sha256": sha256_file(p),
            "size_in_bytes": p.stat().st_size,
        }
        if rel in text_ph:
            entry.update(file_mode="text", prefix_placeholder=PLACEHOLDER)
        paths.append(entry)
    arch, plat = {"linux-64": ("x86_64", "linux"), "osx-arm64": ("arm64", "osx")}.get(
        pkg.subdir, (None, None)
    )
    index = {
        "name": pkg.name,
        "version": pkg.version,
        "build": pkg.build,
        "build_number": 0,
        "depends": list(pkg.depends),
        "license": "MIT",
        "subdir": pkg.subdir,
        "timestamp": TIMESTAMP_MS,
        "arch": arch,
        "platform": plat,
    }
    if pkg.noarch_python:
        index["noarch"] = "python"
    info = stage / "info"
    info.mkdir()
    (info / "index.json").write_text(json.dumps(index, indent=2, sort_keys=True))
    (info / "paths.json").write_text(
        json.dumps({"paths": paths, "paths_version": 1}, indent=2, sort_keys=True)
    )
    (info / "files").write_text("".join(f"{p}\n" for p in payload))
    (info / "about.json").write_text(json.dumps({"summary": f"{pkg.name} (hermetic tour)"}))
    if text_ph:
        (info / "has_prefix").write_text(
            "".join(f"{PLACEHOLDER} text {p}\n" for p in sorted(text_ph))
        )
    if pkg.noarch_python:
        link = {
            "noarch": {"type": "python", "entry_points": list(pkg.entry_points)},
            "package_metadata_version": 1,
        }
        (info / "link.json").write_text(json.dumps(link, indent=2, sort_keys=True))


def index(channel: Path) -> None:
    import asyncio

    from rattler.index import index_fs

    for sub in ("noarch", "linux-64"):
        (Path(channel) / sub).mkdir(parents=True, exist_ok=True)
    asyncio.run(index_fs(Path(channel), write_zst=False, write_shards=False, force=True))
    shutil.rmtree(Path(channel) / ".tmp", ignore_errors=True)


# ---- the native parts -------------------------------------------------------------------

TINY_H = b"int tiny_answer(void);\nconst char *tiny_version(void);\n"
TINY_C = b"""#include "tiny.h"
int tiny_answer(void) { return 42; }
const char *tiny_version(void) { return "1.0"; }
"""
TOOL_C = b"""#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include "tiny.h"
int main(void) {
    Dl_info info;
    char resolved[PATH_MAX];
    if (!dladdr((void *)tiny_answer, &info) || !realpath(info.dli_fname, resolved)) {
        fprintf(stderr, "tour-tool: cannot tell where libtiny came from\\n");
        return 1;
    }
    printf("native: %s\\n", resolved);
    printf("answer: %d (libtiny %s)\\n", tiny_answer(), tiny_version());
    return 0;
}
"""
DEMO_PY = b'''"""The tour's program: proves where its parts were loaded from."""

import os
import subprocess
import sys


def main():
    print(f"python: {os.path.realpath(__file__)}")
    print(f"interpreter: {os.path.realpath(sys.executable)}")
    print(f"greeting: {os.environ.get('TOUR_GREETING', '')}")
    out = subprocess.run(["tour-tool"], capture_output=True, text=True)
    sys.stdout.write(out.stdout)
    sys.stderr.write(out.stderr)
    return out.returncode
'''


def compile_native(work: Path) -> tuple[bytes, bytes]:
    """(libtiny.so.1, tour-tool) compiled with the system C compiler."""
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise HermeticError(
            "the tour compiles a small C library and needs a C compiler (cc), none was found",
            hint="install one (e.g. `apt-get install gcc`) or set CC",
        )
    (work / "tiny.h").write_bytes(TINY_H)
    (work / "tiny.c").write_bytes(TINY_C)
    (work / "tool.c").write_bytes(TOOL_C)
    lib = work / "libtiny.so.1"
    tool = work / "tour-tool"
    for args in (
        ["-shared", "-fPIC", "-O1", "-Wl,-soname,libtiny.so.1", "-o", str(lib), "tiny.c"],
        [
            "-O1",
            "-o",
            str(tool),
            "tool.c",
            f"-L{work}",
            "-l:libtiny.so.1",
            "-ldl",
            "-Wl,-rpath,$ORIGIN/../lib",
        ],
    ):
        proc = subprocess.run([cc, *args], cwd=work, capture_output=True, text=True)
        if proc.returncode != 0:
            raise HermeticError(f"compiling the tour's C code failed:\n{proc.stderr.strip()}")
    return lib.read_bytes(), tool.read_bytes()


# ---- the python package ------------------------------------------------------------------

_SKIP_TOP = {
    "idlelib",
    "tkinter",
    "turtledemo",
    "ensurepip",
    "site-packages",
    "test",
    "lib2to3",
    "pydoc_data",
    "distutils",
}
_SKIP_ANY = {"__pycache__", "test", "tests", "idle_test"}


def python_version() -> str:
    return ".".join(str(v) for v in sys.version_info[:3])


def _python_tree(stage: Path) -> list[str]:
    """bin/, lib/libpython and a trimmed stdlib of the running interpreter."""
    xy = f"{sys.version_info[0]}.{sys.version_info[1]}"
    exe = stage / "bin" / f"python{xy}"
    exe.parent.mkdir(parents=True)
    shutil.copyfile(os.path.realpath(sys.executable), exe)
    os.chmod(exe, 0o755)
    os.symlink(f"python{xy}", stage / "bin" / "python3")
    os.symlink(f"python{xy}", stage / "bin" / "python")
    patch = [(exe, "$ORIGIN/../lib")]
    libdir = stage / "lib"
    libdir.mkdir()
    if sysconfig.get_config_var("Py_ENABLE_SHARED"):
        soname = sysconfig.get_config_var("INSTSONAME") or sysconfig.get_config_var("LDLIBRARY")
        src = Path(sysconfig.get_config_var("LIBDIR")) / soname
        if src.exists():
            shutil.copyfile(src, libdir / soname)
            os.chmod(libdir / soname, 0o755)
            patch.append((libdir / soname, "$ORIGIN"))
    stdlib = Path(sysconfig.get_config_var("LIBDEST") or sysconfig.get_path("stdlib"))
    dst = libdir / f"python{xy}"
    placeholders = []
    for root, dirs, names in os.walk(stdlib):
        rel = Path(root).relative_to(stdlib)
        if not rel.parts:
            dirs[:] = [d for d in dirs if d not in _SKIP_TOP]
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_ANY)
        (dst / rel).mkdir(parents=True, exist_ok=True)
        for n in names:
            if n.endswith((".pyc", ".pyo", ".a")):
                continue
            s, d = Path(root) / n, dst / rel / n
            if s.is_symlink():
                os.symlink(os.readlink(s), d)
                continue
            shutil.copyfile(s, d)
            shutil.copymode(s, d)
            if n.startswith("_sysconfigdata_") and n.endswith(".py"):
                text = s.read_text()
                if sys.base_prefix in text:  # made relocatable: rattler writes the real prefix
                    d.write_text(text.replace(sys.base_prefix, PLACEHOLDER))
                    placeholders.append(f"lib/python{xy}/{(rel / n).as_posix()}")
    (dst / "site-packages").mkdir(exist_ok=True)
    (dst / "site-packages" / "README.txt").write_text("conda's site-packages\n")
    if shutil.which("patchelf"):
        for path, rpath in patch:
            subprocess.run(["patchelf", "--set-rpath", rpath, str(path)], capture_output=True)
    return placeholders


def python_package(cache: Path) -> Path:
    """The `python` archive of the running interpreter, built once and cached in `cache`."""
    key_src = "|".join(
        [python_version(), os.path.realpath(sys.executable), sys.base_prefix, BUILDER_VERSION]
    )
    key = hashlib.sha256(key_src.encode()).hexdigest()[:12]
    pkg = Package(
        "python",
        python_version(),
        f"h{key}_tour",
        "linux-64",
        tree=_python_tree,
    )
    cached = Path(cache) / pkg.filename
    if not cached.is_file():
        Path(cache).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="tour-python-", dir=cache) as tmp:
            built = write_package(pkg, Path(tmp), compresslevel=1)
            os.replace(built, cached)
    return cached


# ---- the channel ----------------------------------------------------------------------------


def build_channel(channel: Path, cache: Path) -> tuple[Path, ...]:
    """Build and index the tour channel in `channel`; returns the archives written."""
    if not sys.platform.startswith("linux"):
        raise HermeticError(
            "the tour builds Linux packages from this machine's compiler and Python",
            hint="run `hermetic tour` on Linux",
        )
    channel = Path(channel)
    with tempfile.TemporaryDirectory(prefix="tour-native-") as tmp:
        lib, tool = compile_native(Path(tmp))
    xy = f"{sys.version_info[0]}.{sys.version_info[1]}"
    packages = [
        Package(
            "tour-libtiny",
            "1.0",
            "h0_0",
            "linux-64",
            files={"lib/libtiny.so.1": lib, "include/tiny.h": TINY_H},
            executable=("lib/libtiny.so.1",),
            symlinks={"lib/libtiny.so": "libtiny.so.1"},
        ),
        Package(
            "tour-tool",
            "1.0",
            "h0_0",
            "linux-64",
            depends=("tour-libtiny >=1.0,<2",),
            files={"bin/tour-tool": tool},
            executable=("bin/tour-tool",),
        ),
        Package(
            "tour-demo",
            "1.0",
            "py_0",
            "noarch",
            depends=("python >=3.8", "tour-tool >=1.0"),
            files={"site-packages/tour_demo/__init__.py": DEMO_PY},
            noarch_python=True,
            entry_points=("tour-demo = tour_demo:main",),
        ),
        # osx-arm64 stand-ins: enough to lock the example for a second platform
        Package(
            "tour-libtiny",
            "1.0",
            "h0_0",
            "osx-arm64",
            files={"lib/libtiny.1.dylib": b"stand-in\n"},
        ),
        Package(
            "tour-tool",
            "1.0",
            "h0_0",
            "osx-arm64",
            depends=("tour-libtiny >=1.0,<2",),
            files={"bin/tour-tool": b"stand-in\n"},
        ),
        Package(
            "python",
            python_version(),
            "h0_tour",
            "osx-arm64",
            files={f"lib/python{xy}/README": b"stand-in\n"},
        ),
    ]
    written = [write_package(p, channel) for p in packages]
    py = python_package(cache)
    target = channel / "linux-64" / py.name
    target.unlink(missing_ok=True)
    try:
        os.link(py, target)
    except OSError:
        shutil.copyfile(py, target)
    written.append(target)
    index(channel)
    return tuple(written)
