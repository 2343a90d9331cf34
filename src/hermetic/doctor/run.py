"""One doctor run: gather the facts, judge them, return a DoctorReport. Prints nothing."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hermetic.doctor import compat, reach
from hermetic.doctor.causes import machine_findings
from hermetic.doctor.driver import DriverInfo, detect_driver, what_if
from hermetic.doctor.elf import ElfInfo, ElfProblem
from hermetic.doctor.elfcache import ElfCache, default_cache_path
from hermetic.doctor.envscan import is_env, scan_env
from hermetic.doctor.fatbin import FatbinInfo, parse_sm
from hermetic.doctor.frameworks import Framework, find_frameworks, load_map
from hermetic.doctor.ldcache import LdCache, read_ld_cache, supported_hwcaps
from hermetic.doctor.ldso import Closure, Edge, Resolver, platform_tokens
from hermetic.doctor.libcheck import (
    LinkContext,
    closure_families,
    edge_findings,
    env_families,
)
from hermetic.doctor.report import DoctorReport, ObjectReport, Stats, TargetInfo
from hermetic.doctor.runtimes import Runtime, scan_runtimes
from hermetic.doctor.verdict import Verdict, decide
from hermetic.errors import UsageError
from hermetic.findings import SEVERITY_ORDER, Finding

_CUDART_FILE = re.compile(r"^libcudart\.so\.(\d+)\.(\d+)")
MAX_GRAPH_EDGES = 600


@dataclass(frozen=True)
class DoctorOptions:
    prefix: Path | None = None  # the env to inspect (None with a lock check)
    env: str | None = None
    how: str = "--prefix"
    module: Path | None = None
    driver: str | None = None  # what-if driver version
    gpu: str | None = None  # what-if GPU, e.g. "sm_80"
    lock: Path | None = None  # a lock to check from metadata (with lock_env)
    lock_env: str | None = None
    platform: str | None = None
    project_lock: Path | None = None  # the project's lock, for its declared system requirements
    root: str = "/"  # the file system root for /etc/ld.so.cache and /proc (tests use a fake one)
    ld_library_path: tuple[str, ...] | None = None  # None: this process's LD_LIBRARY_PATH
    cache: Path | None = field(default_factory=default_cache_path)
    nvml: object | None = None  # the pynvml module; tests pass a stand-in
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


def run_doctor(opts: DoctorOptions) -> DoctorReport:
    started = time.perf_counter()
    driver = _driver(opts)
    if opts.lock is not None:
        return _lock_report(opts, driver, started)

    assert opts.prefix is not None
    ldlp = opts.ld_library_path
    if ldlp is None:
        ldlp = tuple(p for p in opts.environ.get("LD_LIBRARY_PATH", "").split(":") if p)
    target = TargetInfo(
        kind="module" if opts.module else "env",
        prefix=str(opts.prefix),
        env=opts.env,
        how=opts.how,
        module=str(opts.module) if opts.module else None,
        lock=str(opts.project_lock) if opts.project_lock else None,
        ld_library_path=ldlp,
    )
    findings: list[Finding] = []
    prefix = str(opts.prefix)
    if opts.module is None and not is_env(prefix):
        what = "does not exist" if not os.path.exists(prefix) else "is not an environment"
        findings.append(
            Finding(
                "target.not-env",
                "error",
                f"{prefix} {what} (no conda-meta/, pyvenv.cfg, bin/ or lib/)",
                hint="name an installed env with -e ENV, or an env directory with --prefix PATH",
                subject=prefix,
            )
        )
        return _report(target, driver, (), (), None, (), (), findings, 0, 0, started)

    cache = ElfCache(opts.cache)
    real_memo: dict[str, str] = {}

    def realpath(p: str) -> str:
        r = real_memo.get(p)
        if r is None:
            r = real_memo[p] = os.path.realpath(p)
        return r

    read_memo: dict[str, ElfInfo | ElfProblem] = {}

    def read(p: str) -> ElfInfo | ElfProblem:
        got = read_memo.get(p)
        if got is None:
            try:
                st = os.stat(p)
            except OSError as exc:
                got = ElfProblem(p, f"cannot read: {exc.strerror}")
            else:
                got = cache.read(p, st)
            read_memo[p] = got
        return got

    if opts.module is not None:
        module = str(opts.module.absolute())
        if not os.path.isfile(module):
            raise UsageError(f"--module {opts.module}: no such file")
        files: tuple[str, ...] = (module,)
        broken: tuple[str, ...] = ()
    else:
        scanned = scan_env(prefix)
        files, broken = scanned.elf, scanned.broken_links
    for link in broken:
        findings.append(
            Finding(
                "file.broken-symlink",
                "warning",
                f"{link} points to {os.readlink(link)}, which does not exist",
                hint="reinstall the package that owns it",
                subject=link,
            )
        )

    lib_token, platform_token = platform_tokens(opts.root)
    hwcaps = supported_hwcaps(opts.root)
    resolver = Resolver(
        read,
        ld_library_path=ldlp,
        cache=LdCache(read_ld_cache(opts.root), hwcaps),
        hwcaps=hwcaps,
        lib_token=lib_token,
        platform_token=platform_token,
    )
    host = _python_host(prefix, read)

    infos: dict[str, ElfInfo] = {}
    for f in files:
        info = read(f)
        if isinstance(info, ElfProblem):
            findings.append(
                Finding(
                    "elf.unreadable",
                    "warning",
                    f"{f}: {info.reason}",
                    hint="reinstall the package that owns it",
                    subject=f,
                )
            )
        else:
            infos[f] = info

    env_real = realpath(prefix)
    env_names: dict[str, list[str]] = {}
    for f, info in infos.items():
        for n in {os.path.basename(f), info.soname}:
            if n:
                env_names.setdefault(n, []).append(f)
    ctx = LinkContext(env_real, {k: tuple(v) for k, v in env_names.items()}, read, realpath)

    closures: list[Closure] = []
    direct: dict[str, tuple[Edge, ...]] = {}
    for f, info in infos.items():
        if info.kind == "rel" or info.static:
            direct[f] = ()
            continue
        use_host = host if host is not None and "/python" in f and f != host.path else None
        c = resolver.closure(info, use_host)
        closures.append(c)
        direct[f] = tuple(e for e in c.edges if e.source == f)

    all_edges = list(dict.fromkeys(e for c in closures for e in c.edges))
    for e in all_edges:
        realpath(e.source)
        if e.target is not None:
            realpath(e.target)
    conda = os.path.isdir(os.path.join(prefix, "conda-meta"))
    roots = {
        f
        for f, info in infos.items()
        if opts.module is not None or reach.is_entry_point(f, info, prefix, conda)
    }
    if not roots:  # a bare library dir: nothing says what is optional, so all of it counts
        roots = set(infos)
    loaded = reach.reachable(closures, roots, real_memo)
    live = [e for e in all_edges if realpath(e.source) in loaded]
    dormant = [e for e in all_edges if e.target is None and realpath(e.source) not in loaded]
    findings += edge_findings(live, ctx)
    findings += reach.optional_findings(
        dormant, {e.source: reach.package_of(e.source, prefix) for e in dormant}
    )
    for c in closures:
        if c.root in roots:
            findings += closure_families(c, ctx)
    if opts.module is None:
        findings += env_families([c for c in closures if c.root in roots], ctx)

    fatbins: dict[str, FatbinInfo] = {}
    for f, info in infos.items():
        if info.fatbin is not None:
            fatbins[f] = cache.fatbin(f, os.stat(f), info.fatbin)

    frameworks = find_frameworks(Path(prefix)) if opts.module is None else ()
    installer = frameworks[0].installer if frameworks else ("conda" if conda else "pip")
    runtimes = scan_runtimes(Path(prefix)) if opts.module is None else ()
    runtimes += _cudart_files(infos)
    checks, rfindings = compat.check_runtimes(runtimes, driver, installer)
    findings += rfindings
    wants_gpu = bool(runtimes) or any(not fw.cpu_only for fw in frameworks)
    machine = machine_findings(driver, opts.environ, wants_gpu)
    findings += machine
    skip: set[tuple[int, int]] = set()
    for g in driver.gpus:
        cc = g.compute_capability
        if cc is not None and cc not in skip:
            dropped = compat.stack_unsupported(frameworks, fatbins, runtimes, cc, driver)
            if dropped is not None:
                findings.append(dropped)
                skip.add(cc)
    findings += compat.check_gpu_code(fatbins, driver, tuple(checks), loaded, real_memo, skip)
    findings += _cpu_only(frameworks, driver)
    by_root = {c.root: c for c in closures}
    verdicts = tuple(
        decide(
            fw,
            driver,
            fatbins.get(fw.gpu_library or ""),
            machine,
            load_map(by_root[fw.gpu_library].objects, real_memo)
            if fw.gpu_library in by_root
            else (),
        )
        for fw in frameworks
    )
    declared, dfindings = _declared_cuda(opts, runtimes, driver)
    findings += dfindings
    cache.save()

    objects = tuple(
        ObjectReport(
            path=f,
            inside_env=realpath(f).startswith(env_real + os.sep),
            soname=info.soname if isinstance(info, ElfInfo) else None,
            arch=info.arch if isinstance(info, ElfInfo) else None,
            needed=direct.get(f, ()),
            fatbin=fatbins.get(f),
            problem=info.reason if isinstance(info, ElfProblem) else None,
        )
        for f in files
        for info in (read(f),)
    )
    graph = _graph(opts, closures, all_edges, frameworks)
    outside = sum(
        1
        for edges in direct.values()
        for e in edges
        if e.target is not None
        and e.via != "loaded"
        and not realpath(e.target).startswith(env_real + os.sep)
    )
    return _report(
        target,
        driver,
        runtimes,
        checks,
        declared,
        objects,
        graph,
        findings,
        len(files),
        len(all_edges),
        started,
        outside,
        verdicts,
        len(loaded),
    )


def _driver(opts: DoctorOptions) -> DriverInfo:
    gpu = None
    if opts.gpu is not None:
        try:
            gpu = parse_sm(opts.gpu)
        except ValueError as exc:
            raise UsageError(str(exc), hint="e.g. --gpu sm_80 or --gpu 8.6") from None
    if opts.driver is not None and not re.fullmatch(r"\d+(\.\d+){0,2}", opts.driver.strip()):
        raise UsageError(f"--driver {opts.driver}: not a driver version", hint="e.g. 535.104.05")
    # A full what-if needs no probing of this machine.
    detected = (
        DriverInfo(None, None, (), "what-if")
        if opts.driver is not None and gpu is not None
        else detect_driver(opts.root, nvml=opts.nvml)
    )
    return what_if(detected, opts.driver, gpu)


def _lock_report(opts: DoctorOptions, driver: DriverInfo, started: float) -> DoctorReport:
    from hermetic.doctor import lockcheck

    assert opts.lock is not None
    lock = lockcheck.load(opts.lock)
    env = opts.lock_env or ("default" if "default" in lock.environment_names() else None)
    if env is None:
        names = lock.environment_names()
        if len(names) != 1:
            raise UsageError(
                "the lock has several environments; pick one with -e",
                hint="environments: " + ", ".join(names),
            )
        env = names[0]
    platform = opts.platform or lockcheck.default_platform()
    locked = lockcheck.locked_runtimes(lock, env, platform)
    checks, findings = compat.check_runtimes(locked.runtimes, driver)
    findings += compat.check_declared(locked.declared_cuda, locked.runtimes, driver)
    target = TargetInfo("lock", None, env, "--lock", lock=str(opts.lock), platform=platform)
    return _report(
        target,
        driver,
        locked.runtimes,
        checks,
        locked.declared_cuda,
        (),
        (),
        findings,
        0,
        0,
        started,
    )


def _declared_cuda(
    opts: DoctorOptions, runtimes: tuple[Runtime, ...], driver: DriverInfo
) -> tuple[str | None, list[Finding]]:
    if opts.project_lock is None or opts.env is None:
        return None, []
    from hermetic.doctor import lockcheck
    from hermetic.errors import HermeticError

    try:
        declared = getattr(
            lockcheck.load(opts.project_lock).system_requirements(opts.env), "cuda", None
        )
    except HermeticError as exc:
        return None, [
            Finding(
                "lock.unreadable",
                "info",
                f"cannot read the lock: {exc.message}",
                hint="run `hermetic lock`",
                subject=str(opts.project_lock),
            )
        ]
    return declared, compat.check_declared(declared, runtimes, driver)


def _python_host(prefix: str, read) -> ElfInfo | None:  # type: ignore[no-untyped-def]
    """The env's python: extension modules are dlopened by it, so its RPATH counts."""
    for name in ("bin/python3", "bin/python"):
        p = os.path.join(prefix, name)
        if os.path.exists(p):
            info = read(os.path.realpath(p))
            return info if isinstance(info, ElfInfo) else None
    return None


def _cudart_files(infos: dict[str, ElfInfo]) -> tuple[Runtime, ...]:
    out = []
    for f in infos:
        m = _CUDART_FILE.match(os.path.basename(f))
        if m:
            out.append(
                Runtime(
                    "cudart",
                    f"{m.group(1)}.{m.group(2)}",
                    os.path.basename(f).split(".so.", 1)[1],
                    "file",
                    f,
                )
            )
    return tuple(out)


def _graph(
    opts: DoctorOptions,
    closures: list[Closure],
    edges: list[Edge],
    frameworks: tuple[Framework, ...],
) -> tuple[Edge, ...]:
    """The edges worth drawing: the closures of the frameworks' GPU libraries (or of the
    module), else of the env's entry points, up to a budget."""
    if opts.module is not None:
        return tuple(edges)
    by_root = {c.root: c for c in closures}
    picked: list[Edge] = []
    for fw in frameworks:
        if fw.gpu_library in by_root:
            picked += by_root[fw.gpu_library].edges
    if not picked:
        for c in closures:
            if len(picked) >= MAX_GRAPH_EDGES:
                break
            picked += [e for e in c.edges if e.source == c.root]
    return tuple(dict.fromkeys(picked[:MAX_GRAPH_EDGES]))


def _cpu_only(frameworks: tuple[Framework, ...], driver: DriverInfo) -> list[Finding]:
    out: list[Finding] = []
    for fw in frameworks:
        if fw.cpu_only:
            out.append(
                Finding(
                    "framework.cpu-only",
                    "error" if driver.present else "info",
                    f"{fw.label} is a CPU-only build ({fw.evidence} names no CUDA): "
                    f"{fw.probe} is always False/empty"
                    + (", although the target has an NVIDIA driver" if driver.present else ""),
                    hint=(
                        "install a CUDA build: `pip install torch --index-url "
                        "https://download.pytorch.org/whl/cuXYZ`"
                        if fw.name == "torch" and fw.installer != "conda"
                        else f"install the CUDA build of {fw.name}"
                    ),
                    subject=fw.name,
                )
            )
    return out


# Findings that decide whether the framework uses the GPU at all come first.
_IMPACT = (
    "framework.",
    "driver.",
    "env.",
    "cuda.driver",
    "cuda.forward",
    "gpu.unsupported",
    "lock.",
    "lib.missing",
    "lib.symbol",
    "lib.duplicate",
    "gpu.no-kernel",
    "gpu.ptx",
    "cuda.",
    "lib.",
    "env.",
    "gpu.",
)


def order_findings(findings: list[Finding]) -> tuple[Finding, ...]:
    def impact(f: Finding) -> int:
        return next((i for i, p in enumerate(_IMPACT) if f.id.startswith(p)), len(_IMPACT))

    unique = dict.fromkeys(findings)
    return tuple(
        sorted(unique, key=lambda f: (SEVERITY_ORDER[f.severity], impact(f), f.id, f.message))
    )


def _report(
    target: TargetInfo,
    driver: DriverInfo,
    runtimes: tuple[Runtime, ...],
    checks: tuple[compat.RuntimeCheck, ...],
    declared: str | None,
    objects: tuple[ObjectReport, ...],
    graph: tuple[Edge, ...],
    findings: list[Finding],
    n_files: int,
    n_edges: int,
    started: float,
    outside: int = 0,
    verdicts: tuple[Verdict, ...] = (),
    reachable: int = 0,
) -> DoctorReport:
    return DoctorReport(
        target=target,
        driver=driver,
        runtimes=tuple(runtimes),
        runtime_checks=tuple(checks),
        declared_cuda=declared,
        objects=tuple(objects),
        graph=tuple(graph),
        findings=order_findings(findings),
        stats=Stats(n_files, n_edges, outside, round(time.perf_counter() - started, 3), reachable),
        verdicts=verdicts,
    )
