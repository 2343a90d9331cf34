"""Findings about what the dynamic linker loads: missing, shadowed, duplicated, mismatched."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass

from hermetic.doctor.elf import ElfInfo, ElfProblem
from hermetic.doctor.ldso import Closure, Edge
from hermetic.findings import Finding

# Libraries the NVIDIA driver installs on the host; an env cannot and should not carry them.
DRIVER_LIBS = re.compile(r"^lib(cuda|nvidia-[\w-]+|nvcuvid|nvoptix)\.so(\.\d+)*$")
# glibc is the host's; a conda sysroot's copies are for compiling and are never loaded.
GLIBC_LIBS = re.compile(
    r"^(libc|libm|libdl|librt|libpthread|libresolv|libutil|libanl|libmvec|ld-linux[\w-]*)\.so(\.\d+)*$"
)

# family -> pattern on a loaded file's basename. Two different files of one family in one
# process is the "two runtimes" problem: two CUDA runtimes, two OpenMP pools, two libstdc++.
FAMILIES: dict[str, re.Pattern[str]] = {
    "cudart": re.compile(r"^libcudart(-[0-9a-f]+)?\.so"),
    "cudnn": re.compile(r"^libcudnn(-[0-9a-f]+)?\.so"),
    "openmp": re.compile(r"^lib(gomp|iomp5|omp)(-[0-9a-f]+)?\.so"),
    "libstdc++": re.compile(r"^libstdc\+\+(-[0-9a-f]+)?\.so"),
}
FAMILY_REMEDY: dict[str, str] = {
    "cudart": "keep one CUDA runtime: take cuda-cudart from one source (conda or pip nvidia-*), not both",
    "cudnn": "keep one cuDNN: remove the pip nvidia-cudnn wheel or the conda cudnn package",
    "openmp": "use one OpenMP runtime (e.g. `llvm-openmp` or `intel-openmp`, not both); "
    "KMP_DUPLICATE_LIB_OK=TRUE only hides the crash",
    "libstdc++": "load one libstdc++: the newest one, from the env (libstdcxx-ng), first",
}


@dataclass(frozen=True)
class LinkContext:
    prefix: str  # the env's real path
    env_names: dict[str, tuple[str, ...]]  # basename or SONAME -> env files with it
    read: Callable[[str], ElfInfo | ElfProblem]
    realpath: Callable[[str], str]


def inside(path: str, ctx: LinkContext) -> bool:
    real = ctx.realpath(path)
    return real == ctx.prefix or real.startswith(ctx.prefix + os.sep)


def edge_findings(edges: list[Edge], ctx: LinkContext) -> list[Finding]:
    """Missing, shadowed and version-mismatched dependencies; each edge is judged once."""
    out: list[Finding] = []
    missing: dict[str, list[str]] = {}
    for e in edges:
        if e.target is None:
            missing.setdefault(e.name, []).append(e.source)
            continue
        if e.via in ("loaded", "interpreter"):
            continue
        src = ctx.read(e.source)
        if not inside(e.target, ctx) and not GLIBC_LIBS.match(e.name):
            copies = [c for c in ctx.env_names.get(e.name, ()) if c != e.target]
            if copies and inside(e.source, ctx):
                out.append(
                    Finding(
                        "lib.shadowed",
                        "warning",
                        f"{e.name} needed by {e.source} resolves to {e.target} ({e.via}), "
                        f"outside the env, although the env has {copies[0]}",
                        hint=_shadow_remedy(e),
                        subject=e.source,
                    )
                )
        if isinstance(src, ElfInfo):
            out += _version_findings(e, src, ctx)
    # One finding per missing name: without a driver, every CUDA library misses libcuda.
    for name, sources in sorted(missing.items()):
        out.append(_missing(name, sorted(set(sources))))
    return out


def _missing(name: str, sources: list[str]) -> Finding:
    who = sources[0] + (f" and {len(sources) - 1} more" if len(sources) > 1 else "")
    if DRIVER_LIBS.match(name):
        return Finding(
            "lib.missing-driver",
            "warning",
            f"{name} is not found (needed by {who}): it comes with the NVIDIA driver",
            hint="install the NVIDIA driver on this machine (not in the env); on a machine "
            "without a GPU this is expected",
            subject=name,
        )
    return Finding(
        "lib.missing",
        "error",
        f"{name} is not found by the dynamic linker (needed by {who})",
        hint=f"add the package that provides {name} to the spec, or fix the RPATH of the file",
        subject=sources[0],
    )


def _shadow_remedy(e: Edge) -> str:
    if e.via == "ld_library_path":
        return "unset LD_LIBRARY_PATH (or drop that directory from it) inside the env"
    if e.via in ("ld.so.cache", "default"):
        return "the file lacks an RPATH to the env's lib dir: rebuild with $ORIGIN-relative RPATH"
    return f"the {e.via} of the file points outside the env: rebuild or patch it (patchelf)"


def _version_findings(e: Edge, src: ElfInfo, ctx: LinkContext) -> list[Finding]:
    wanted = [v for need in src.verneed if need.file == e.name for v in need.versions]
    if not wanted or e.target is None:
        return []
    target = ctx.read(e.target)
    if not isinstance(target, ElfInfo):
        return []
    have = set(target.verdef)
    lacking = [v for v in wanted if v not in have]
    if not lacking:
        return []
    better = [
        c
        for c in ctx.env_names.get(e.name, ())
        if isinstance(info := ctx.read(c), ElfInfo) and set(lacking) <= set(info.verdef)
    ]
    newest = _newest(target.verdef, lacking[0])
    remedy = (
        f"the env's {better[0]} has it but {e.via} picks {e.target}: {_shadow_remedy(e)}"
        if better
        else f"add a newer {e.name} to the env (e.g. libstdcxx-ng for GLIBCXX, a newer base image for GLIBC)"
    )
    return [
        Finding(
            "lib.symbol-version",
            "error",
            f"{e.source} needs {', '.join(sorted(lacking))} from {e.name}, but {e.target} "
            f"does not define it" + (f" (newest: {newest})" if newest else ""),
            hint=remedy,
            subject=e.source,
        )
    ]


def _newest(defined: tuple[str, ...], like: str) -> str | None:
    stem = like.rstrip("0123456789.")
    same = [v for v in defined if v.startswith(stem) and v[len(stem) :][:1].isdigit()]

    def key(v: str) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\d+", v[len(stem) :]))

    return max(same, key=key) if same else None


def family_of(path: str) -> str | None:
    base = os.path.basename(path)
    for family, pattern in FAMILIES.items():
        if pattern.match(base):
            return family
    return None


def closure_families(closure: Closure, ctx: LinkContext) -> list[Finding]:
    """Two different files of one family loaded into the root's process."""
    groups: dict[str, set[str]] = {}
    for obj in closure.objects:
        fam = family_of(obj)
        if fam:
            groups.setdefault(fam, set()).add(ctx.realpath(obj))
    out: list[Finding] = []
    for fam, files in sorted(groups.items()):
        if len(files) < 2:
            continue
        kinds = [_omp_kind(f) for f in files]
        # libiomp5 and libomp are one runtime (LLVM's), so either pair aborts with
        # "OMP: Error #15"; libgomp beside one of them only competes for threads.
        clash = fam != "openmp" or len(kinds) != len(set(kinds)) or {"iomp5", "omp"} <= set(kinds)
        out.append(
            Finding(
                f"lib.duplicate-{fam}",
                "error" if clash else "warning",
                f"{closure.root} loads {len(files)} {fam} libraries into one process: "
                + ", ".join(sorted(files)),
                hint=FAMILY_REMEDY[fam],
                subject=closure.root,
            )
        )
    return out


def env_families(closures: list[Closure], ctx: LinkContext) -> list[Finding]:
    """Copies of one family that different modules load: one process importing both gets two."""
    groups: dict[str, set[str]] = {}
    for c in closures:
        for obj in c.objects[1:]:
            fam = family_of(obj)
            if fam:
                groups.setdefault(fam, set()).add(ctx.realpath(obj))
    out: list[Finding] = []
    for fam, files in sorted(groups.items()):
        if len(files) > 1:
            out.append(
                Finding(
                    f"env.duplicate-{fam}",
                    "warning",
                    f"modules of this env load {len(files)} different {fam} libraries; a "
                    "process that imports two of those modules gets two copies: "
                    + ", ".join(sorted(files)),
                    hint=FAMILY_REMEDY[fam],
                    subject=fam,
                )
            )
    return out


def _omp_kind(path: str) -> str:
    return re.sub(r"^lib(gomp|iomp5|omp).*$", r"\1", os.path.basename(path))
