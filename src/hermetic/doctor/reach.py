"""What the env really loads: the DT_NEEDED closure of its entry points.

An entry point is what a user starts or imports: a Python extension module, a program in the
env's bin/, and, in a conda env, a public library in lib/ (C/C++ programs link those). Every
other file is loaded only by dlopen when some feature asks for it (NVSHMEM's MPI bootstrap,
cuFile's RDMA plugin, Triton's plugins, test programs). A missing dependency of such a file is
not an error of the env: it is an optional feature that needs something more, reported per
package, with the feature named.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from hermetic.doctor.elf import ElfInfo
from hermetic.doctor.ldso import Closure, Edge
from hermetic.findings import Finding, Severity

_EXT_MODULE = re.compile(r"\.(cpython-\d+[\w-]*|abi3|pypy\d*[\w-]*)\.so$")


@dataclass(frozen=True)
class OptionalFeature:
    pattern: re.Pattern[str]  # on the file's path
    package: str
    feature: str
    severity: Severity


# Files known to be dlopen'ed on demand, and what they are for. First match wins.
OPTIONAL_FEATURES: tuple[OptionalFeature, ...] = (
    OptionalFeature(
        re.compile(r"nvshmem_(bootstrap|transport)_\w+"),
        "nvshmem",
        "bootstrap/transport plugins for multi-node NVSHMEM (MPI, UCX, libfabric, PMIx)",
        "info",
    ),
    OptionalFeature(re.compile(r"libcufile_rdma"), "cufile", "GPUDirect Storage over RDMA", "info"),
    OptionalFeature(re.compile(r"libcufile\."), "cufile", "GPUDirect Storage", "info"),
    OptionalFeature(re.compile(r"/triton/.*plugin"), "triton", "Triton compiler plugins", "info"),
    OptionalFeature(
        re.compile(r"libcusolverMg"), "cusolver", "multi-GPU cuSOLVER (cusolverMg)", "info"
    ),
    OptionalFeature(
        re.compile(r"/(tests?|testing)/|/test_[^/]*$|_test(\.so)?$"), "tests", "tests", "info"
    ),
    OptionalFeature(
        re.compile(r"lib(cupti|nvperf_\w+|pcsamplingutil|checkpoint)\b"),
        "cupti",
        "profiling and tracing (CUPTI, Nsight)",
        "info",
    ),
    OptionalFeature(
        re.compile(r"libcudnn_\w+"),
        "cudnn",
        "cuDNN engine sub-libraries, loaded by libcudnn on first use",
        "warning",
    ),
)


def feature_of(path: str) -> OptionalFeature | None:
    for f in OPTIONAL_FEATURES:
        if f.pattern.search(path):
            return f
    return None


def is_entry_point(path: str, info: ElfInfo, prefix: str, conda: bool) -> bool:
    name = os.path.basename(path)
    rel = os.path.relpath(path, prefix)
    if _EXT_MODULE.search(name) or "/lib-dynload/" in path:
        return feature_of(path) is None
    top = rel.split(os.sep, 1)[0]
    if top in ("bin", "sbin") and os.sep not in rel[len(top) + 1 :]:
        return info.kind in ("exec", "dyn") and (info.interp is not None or info.kind == "exec")
    if conda and top in ("lib", "lib64") and rel.count(os.sep) == 1 and ".so" in name:
        return feature_of(path) is None
    return False


def reachable(closures: Iterable[Closure], roots: set[str], realpath: dict[str, str]) -> set[str]:
    """Real paths of every object some entry point loads (the roots included)."""
    out: set[str] = set()
    for c in closures:
        if c.root in roots:
            out.update(realpath.get(o, o) for o in c.objects)
    return out


def optional_findings(missing: Iterable[Edge], package_of: dict[str, str]) -> list[Finding]:
    """Missing dependencies of files nothing loads: one finding per package and feature."""
    groups: dict[tuple[str, str, str], dict[str, set[str]]] = {}
    for e in missing:
        feat = feature_of(e.source)
        pkg = feat.package if feat else package_of.get(e.source, "?")
        what = feat.feature if feat else "files no module or program of the env loads"
        sev: str = feat.severity if feat else "info"
        groups.setdefault((pkg, what, sev), {}).setdefault(e.source, set()).add(e.name)
    out: list[Finding] = []
    for (pkg, what, sev), files in sorted(groups.items()):
        names = sorted({n for ns in files.values() for n in ns})
        shown = ", ".join(os.path.basename(f) for f in sorted(files)[:4])
        more = f" and {len(files) - 4} more" if len(files) > 4 else ""
        out.append(
            Finding(
                "lib.optional-missing",
                "warning" if sev == "warning" else "info",
                f"{pkg}: {len(files)} file(s) ({shown}{more}) need {', '.join(names[:6])}"
                + (" …" if len(names) > 6 else "")
                + f", which the env does not have; only for {what}",
                hint="nothing to do unless you use that feature; no module or program of the "
                "env loads these files (they are dlopen'ed on demand)",
                subject=pkg,
            )
        )
    return out


def package_of(path: str, prefix: str) -> str:
    """A readable owner for a file: the top-level Python package, or the library name."""
    rel = os.path.relpath(path, prefix)
    parts = rel.split(os.sep)
    if "site-packages" in parts:
        i = parts.index("site-packages")
        rest = parts[i + 1 :]
        if len(rest) > 2 and rest[0] == "nvidia":
            return f"nvidia-{rest[1]}"
        return rest[0] if rest else "site-packages"
    return re.sub(r"\.so.*$", "", os.path.basename(path))
