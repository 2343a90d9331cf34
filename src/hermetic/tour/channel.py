"""A small real conda channel, built on the spot for the offline tour.

The packages are written by hermetic's conda package writer (`hermetic.condapkg`) and the
channel is indexed with rattler:

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

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from hermetic.condapkg import PackageSpec
from hermetic.condapkg import build_channel as _build_channel
from hermetic.condapkg.python import python_package, version_string
from hermetic.errors import HermeticError


def _pkg(name: str, subdir: str, **kw: object) -> PackageSpec:
    return PackageSpec(
        name,
        "1.0",
        "py_0" if subdir == "noarch" else "h0_0",
        subdir=subdir,
        fmt="tar.bz2",
        summary=f"{name} (hermetic tour)",
        **kw,  # type: ignore[arg-type]  # PackageSpec's keyword fields
    )


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
    specs = [
        _pkg(
            "tour-libtiny",
            "linux-64",
            files={"lib/libtiny.so.1": lib, "include/tiny.h": TINY_H},
            executable_files=("lib/libtiny.so.1",),
            symlinks={"lib/libtiny.so": "libtiny.so.1"},
        ),
        _pkg(
            "tour-tool",
            "linux-64",
            depends=("tour-libtiny >=1.0,<2",),
            files={"bin/tour-tool": tool},
            executable_files=("bin/tour-tool",),
        ),
        _pkg(
            "tour-demo",
            "noarch",
            depends=("python >=3.8", "tour-tool >=1.0"),
            files={"site-packages/tour_demo/__init__.py": DEMO_PY},
            noarch="python",
            dist_info=False,
            entry_points=("tour-demo = tour_demo:main",),
        ),
        # osx-arm64 stand-ins: enough to lock the example for a second platform
        _pkg("tour-libtiny", "osx-arm64", files={"lib/libtiny.1.dylib": b"stand-in\n"}),
        _pkg(
            "tour-tool",
            "osx-arm64",
            depends=("tour-libtiny >=1.0,<2",),
            files={"bin/tour-tool": b"stand-in\n"},
        ),
        PackageSpec(
            "python",
            version_string(),
            "h0_0_cpython",
            subdir="osx-arm64",
            fmt="tar.bz2",
            files={f"lib/python{xy}/README": b"stand-in\n"},
        ),
        python_package(),
    ]
    _build_channel(channel, specs, cache_dir=cache)
    return tuple(channel / s.subdir / s.filename for s in specs)
