"""`hermetic tour`: the whole pipeline on a bundled example, offline.

The tour is a list of steps (`STEPS`); each takes the shared `TourContext` and returns the
lines that say what it did. Later features (doctor, image, deploy) add their own steps.
Nothing here prints: `run_tour` returns a `TourResult` and the CLI renders it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hermetic.errors import HermeticError, UsageError
from hermetic.manifest.model import Spec

EXAMPLE = Path(__file__).with_name("example.toml")
STAMP = ".hermetic-tour"
ENVIRONMENT = "default"


@dataclass(frozen=True)
class TourStep:
    name: str
    title: str
    lines: tuple[str, ...]
    seconds: float


@dataclass(frozen=True)
class Artifact:
    label: str
    path: Path


@dataclass(frozen=True)
class Proof:
    native: str  # the library file the loader resolved for the program
    python: str  # the module file of the program's Python package
    interpreter: str
    output: str

    def under(self, prefix: Path) -> bool:
        root = os.path.realpath(prefix) + os.sep
        return self.native.startswith(root) and self.python.startswith(root)


@dataclass(frozen=True)
class TourResult:
    directory: Path
    steps: tuple[TourStep, ...]
    artifacts: tuple[Artifact, ...]
    proof: Proof | None
    ok: bool


@dataclass
class TourContext:
    """What the steps share (mutable, internal to the tour)."""

    directory: Path
    channel: Path
    manifest: Path
    lock: Path
    prefix: Path
    package_cache: Path
    tour_cache: Path
    spec: Spec | None = None
    proof: Proof | None = None
    archives: tuple[Path, ...] = ()
    artifacts: list[Artifact] = field(default_factory=list)
    image: str | None = None  # the tour's image, by digest (set by the image step)


Step = tuple[str, str, Callable[[TourContext], tuple[str, ...]]]


def _channel(ctx: TourContext) -> tuple[str, ...]:
    from hermetic.tour.channel import build_channel

    ctx.archives = build_channel(ctx.channel, ctx.tour_cache)
    ctx.artifacts.append(Artifact("channel", ctx.channel))
    names = sorted(f"{p.parent.name}/{p.name}" for p in ctx.archives)
    return (f"{len(names)} packages built and indexed in {ctx.channel}", *names)


def _spec(ctx: TourContext) -> tuple[str, ...]:
    from hermetic.fs import atomic_write_text
    from hermetic.manifest.load import load_spec

    atomic_write_text(ctx.manifest, EXAMPLE.read_text())
    ctx.spec = load_spec(ctx.manifest)
    ctx.artifacts.append(Artifact("spec", ctx.manifest))
    env = ctx.spec.environment(ENVIRONMENT)
    deps = ", ".join(d.spec for d in env.conda_dependencies(env.platforms[0]))
    return (f"wrote {ctx.manifest}", f"asks for: {deps}; platforms: {', '.join(env.platforms)}")


def _loaded_spec(ctx: TourContext) -> Spec:
    if ctx.spec is None:
        raise HermeticError("the tour's spec step has not run")
    return ctx.spec


def _lock(ctx: TourContext) -> tuple[str, ...]:
    from hermetic.lock.update import lock_spec

    result = lock_spec(_loaded_spec(ctx), ctx.lock)
    ctx.artifacts.append(Artifact("lock", ctx.lock))
    return (
        *tuple(
            f"{s.environment} {s.platform}: {s.conda} conda package(s)" for s in result.environments
        ),
        f"{'wrote' if result.written else 'unchanged:'} {ctx.lock}",
    )


def _install(ctx: TourContext) -> tuple[str, ...]:
    from hermetic.env.install import install_environment

    result = install_environment(
        ctx.lock, ctx.directory, ENVIRONMENT, prefix=ctx.prefix, cache=ctx.package_cache
    )
    ctx.artifacts.append(Artifact("environment", ctx.prefix))
    ctx.artifacts.append(Artifact("package cache", ctx.package_cache))
    if result.up_to_date:
        return (f"already installed: {ctx.prefix}",)
    return (
        f"{len(result.conda_linked)} package(s) linked into {ctx.prefix} in {result.seconds:.2f}s",
        *result.conda_linked,
    )


def _run(ctx: TourContext) -> tuple[str, ...]:
    import subprocess

    from hermetic.env.run import plan_run

    activation = _loaded_spec(ctx).environment(ENVIRONMENT).activation("linux-64")
    plan = plan_run(ctx.prefix, ENVIRONMENT, activation, ctx.directory, ["tour-demo"])
    proc = subprocess.run(
        list(plan.argv), env=dict(plan.env), capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise HermeticError(
            f"the tour's program failed (exit {proc.returncode}):\n{proc.stderr.strip()}"
        )
    fields = dict(line.split(": ", 1) for line in proc.stdout.splitlines() if ": " in line)
    ctx.proof = Proof(
        native=fields.get("native", ""),
        python=fields.get("python", ""),
        interpreter=fields.get("interpreter", ""),
        output=proc.stdout,
    )
    ctx.artifacts.append(Artifact("native library (as loaded)", Path(ctx.proof.native)))
    ctx.artifacts.append(Artifact("python package (as imported)", Path(ctx.proof.python)))
    verdict = (
        "both were loaded from the environment"
        if ctx.proof.under(ctx.prefix)
        else "NOT loaded from the environment"
    )
    return ("$ hermetic run tour-demo", *proc.stdout.rstrip("\n").splitlines(), verdict)


def _doctor(ctx: TourContext) -> tuple[str, ...]:
    from hermetic.doctor import DoctorOptions, run_doctor

    report = run_doctor(DoctorOptions(prefix=ctx.prefix, env=ENVIRONMENT, how="tour"))
    html = ctx.directory / "doctor.html"
    report.to_html(html)
    ctx.artifacts.append(Artifact("doctor report", html))
    prefix = str(ctx.prefix)
    lines = [
        f"{report.stats.elf_files} ELF files, {report.stats.edges} libraries resolved the way "
        f"ld.so does, in {report.stats.seconds:.2f}s",
        "driver: "
        + (
            f"{report.driver.version} (CUDA {report.driver.cuda})"
            if report.driver.present
            else "no NVIDIA driver on this machine"
        ),
    ]
    for obj in report.objects:
        for edge in obj.needed:
            if edge.name.startswith("libtiny") and obj.path.startswith(prefix):
                # ld.so reports $ORIGIN/../lib unnormalized; show where that is
                target = os.path.normpath(edge.target) if edge.target else None
                where = target.replace(prefix, "<env>") if target else "NOT FOUND"
                lines.append(
                    f"{obj.path.replace(prefix, '<env>')}: {edge.name} -> {where} (via {edge.via})"
                )
    errors = sum(1 for f in report.findings if f.severity == "error")
    lines.append(f"{len(report.findings)} finding(s), {errors} error(s); full report: {html}")
    return tuple(lines)


def _image(ctx: TourContext) -> tuple[str, ...]:
    from hermetic.project.image import tour_step

    lines, ctx.image = tour_step(ctx.directory, ctx.manifest, ctx.prefix)
    ctx.artifacts.append(Artifact("image (OCI layout)", ctx.directory / "image" / "oci"))
    return lines


def _devcontainer(ctx: TourContext) -> tuple[str, ...]:
    from hermetic.tour.deploy_steps import devcontainer_step

    return devcontainer_step(ctx)


def _k8s(ctx: TourContext) -> tuple[str, ...]:
    from hermetic.tour.deploy_steps import k8s_step

    return k8s_step(ctx, getattr(ctx, "image", None))


#: name, title, function. Later features append their steps here.
STEPS: list[Step] = [
    ("channel", "Build a local conda channel (compiled library, program, Python)", _channel),
    ("spec", "Write the example spec", _spec),
    ("lock", "Lock it for linux-64 and osx-arm64", _lock),
    ("install", "Install the linux-64 environment", _install),
    ("run", "Run its program inside the environment", _run),
    ("doctor", "Ask the doctor what the dynamic linker really loads", _doctor),
    ("image", "Build an OCI image from the lock and run the program from it", _image),
    ("devcontainer", "Write the devcontainer for the environment", _devcontainer),
    ("k8s", "Write a Kubernetes Job that runs it, and validate it", _k8s),
]


def run_tour(
    directory: Path, reporter: Callable[[str], None] | None = None, steps: list[Step] | None = None
) -> TourResult:
    from hermetic.layout import env_prefix
    from hermetic.settings import current as current_settings

    directory = Path(directory).absolute()
    _claim(directory)
    ctx = TourContext(
        directory=directory,
        channel=directory / "channel",
        manifest=directory / "hermetic.toml",
        lock=directory / "hermetic.lock",
        prefix=env_prefix(directory, ENVIRONMENT),
        package_cache=current_settings().package_cache_dir,
        tour_cache=current_settings().cache_dir / "tour",
    )
    done: list[TourStep] = []
    for name, title, fn in steps if steps is not None else STEPS:
        if reporter:
            reporter(title)
        start = time.monotonic()
        lines = fn(ctx)
        done.append(TourStep(name, title, tuple(lines), time.monotonic() - start))
    ctx.artifacts.append(Artifact("tour's python archive cache", ctx.tour_cache))
    ok = ctx.proof is not None and ctx.proof.under(ctx.prefix)
    return TourResult(directory, tuple(done), tuple(ctx.artifacts), ctx.proof, ok)


def _claim(directory: Path) -> None:
    """Use `directory` only when it is new, empty, or an earlier tour's."""
    if directory.exists():
        if not directory.is_dir():
            raise UsageError(f"{directory} exists and is not a directory")
        if any(directory.iterdir()) and not (directory / STAMP).exists():
            raise UsageError(
                f"{directory} exists and was not made by `hermetic tour`",
                hint="choose another place with --dir",
            )
    try:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / STAMP).write_text("made by `hermetic tour`; safe to delete\n")
    except OSError as exc:
        raise HermeticError(f"cannot write {directory}: {exc.strerror}") from None
