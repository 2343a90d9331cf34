"""`hermetic init`: an environment.yml or a pixi manifest turned into `[tool.hermetic]`.

The conversion goes through the model: read the source into a Spec, write that Spec as
hermetic's TOML keys (an environment.yml's comments carried over, its selectors as
`[target.<platform>]` tables), read the TOML back and check that it is the same Spec before
anything is written. An existing pyproject.toml is edited with tomlkit, so its own comments
and layout stay.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hermetic.cuda import component_for_conda
from hermetic.errors import HermeticError, SpecError, UsageError
from hermetic.manifest.envyml import EnvYml, parse_environment_yml, strip_selector
from hermetic.manifest.fields import parse_toml, read_text
from hermetic.manifest.load import ENV_YML, HERMETIC_TOML, PIXI_TOML, PYPROJECT, is_pixi_manifest
from hermetic.manifest.model import CondaDependency, PypiDependency, Spec
from hermetic.manifest.requirements import split_conda_spec
from hermetic.manifest.write_toml import SpecWriter
from hermetic.manifest.yaml_nodes import Comments


@dataclass(frozen=True)
class InitResult:
    manifest: Path
    created: bool  # a new file, rather than a table added to an existing pyproject.toml
    replaced: bool  # an existing [tool.hermetic] (or hermetic.toml) was overwritten
    spec: Spec
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()  # what the user must act on (a CUDA build without cuda)


def default_source(cwd: Path) -> Path:
    for name in (*ENV_YML, PIXI_TOML):
        if (cwd / name).is_file():
            return cwd / name
    raise UsageError(
        f"no environment.yml or pixi.toml in {cwd} to convert",
        hint="name the file: hermetic init --from path/to/environment.yml",
    )


def choose_manifest(manifest: Path | None, cwd: Path) -> Path:
    """Where the spec goes: the given file, else ./pyproject.toml when there is one, else ./hermetic.toml."""
    if manifest is None:
        return cwd / PYPROJECT if (cwd / PYPROJECT).is_file() else cwd / HERMETIC_TOML
    manifest = manifest if manifest.is_absolute() else cwd / manifest
    if manifest.is_dir():
        return choose_manifest(None, manifest)
    if not manifest.name.endswith(".toml"):
        raise UsageError(
            f"--manifest {manifest.name!r}: the spec is written to a TOML file",
            hint=f"use {PYPROJECT} or {HERMETIC_TOML}",
        )
    return manifest


@dataclass
class _Source:
    spec: Spec
    writer: SpecWriter
    notes: list[str]


def _read_source(source: Path, target_dir: Path) -> _Source:
    if source.name.lower().endswith((".yml", ".yaml")):
        env = parse_environment_yml(source)
        writer = SpecWriter(env.spec, target_dir, _envyml_comments(env))
        writer.pypi_heading = env.pip_comments
        writer.tail = env.tail_comments
        notes = list(env.notes)
        if env.nodefaults:
            notes.append("nodefaults dropped: hermetic only ever uses the channels it lists")
        return _Source(env.spec, writer, notes)
    if source.name.endswith(".toml") and is_pixi_manifest(source):
        from hermetic.manifest.pixi import read_pixi_manifest

        spec = read_pixi_manifest(source)
        return _Source(spec, SpecWriter(spec, target_dir), [])
    raise UsageError(
        f"cannot convert {source.name!r}",
        hint="hermetic init converts an environment.yml, a pixi.toml, or a pyproject.toml "
        "with [tool.pixi]",
    )


def init_from_environment_yml(
    source: Path, manifest: Path | None = None, *, force: bool = False, cwd: Path | None = None
) -> InitResult:
    """Convert `source` (environment.yml or a pixi manifest) into `[tool.hermetic]` of
    `manifest` (see `choose_manifest`) and write it."""
    import tomlkit

    from hermetic.fs import atomic_write_text
    from hermetic.manifest.toml_source import read_toml_manifest

    cwd = Path.cwd() if cwd is None else cwd
    source = Path(source)
    if not source.is_file():
        raise UsageError(f"no such file: {source}")
    target = choose_manifest(manifest, cwd)
    src = _read_source(source, target.parent)
    pyproject = target.name == PYPROJECT
    exists = target.exists()
    replaced = False
    notes = src.notes

    if pyproject:
        old = read_text(target) if exists else ""
        data = parse_toml(old, str(target)) if exists else {}
        doc = tomlkit.parse(old)
        tool: Any = doc.get("tool")
        if tool is not None and "hermetic" in tool:
            if not force:
                raise UsageError(
                    f"{target} already has a [tool.hermetic] table",
                    hint="pass --force to replace it",
                )
            replaced = True
        raw_project = data.get("project")
        project: dict[str, Any] = raw_project if isinstance(raw_project, dict) else {}
        table = tomlkit.table()
        src.writer.write(table, project_name=project.get("name"))
        if tool is None:
            tool = tomlkit.table(is_super_table=True)
            if doc.body:
                doc.add(tomlkit.nl())
            doc.add("tool", tool)
        if replaced:
            del tool["hermetic"]
        tool.add("hermetic", table)
        text = tomlkit.dumps(doc)
        if project.get("dependencies") and source.resolve() != target.resolve():
            notes.append(
                f"the {len(project['dependencies'])} project.dependencies of {target.name} are "
                "PyPI dependencies of the default environment too"
            )
    else:
        if exists and not force:
            raise UsageError(f"{target} exists", hint="pass --force to replace it")
        replaced = exists
        doc = tomlkit.document()
        src.writer.write(doc)
        text = tomlkit.dumps(doc)

    # What is written must read back as the source's spec.
    try:
        back = read_toml_manifest(target, text, project_dependencies=False)
    except SpecError as exc:  # a bug here, not the user's: say so plainly
        raise HermeticError(f"converting {source} produced an invalid spec: {exc}") from None
    want = src.spec
    if want.name is None or back.name is None:
        back = dataclasses.replace(back, name=want.name)
    back = dataclasses.replace(back, manifest=want.manifest, kind=want.kind)
    if back != want:
        raise HermeticError(
            f"converting {source} would change the spec; nothing written",
            hint="please report this with the file",
        )
    atomic_write_text(target, text)
    return InitResult(
        manifest=target,
        created=not exists,
        replaced=replaced,
        spec=want,
        notes=tuple(notes),
        warnings=(*(str(w) for w in want.warnings), *cuda_warnings(want)),
    )


def _envyml_comments(env: EnvYml) -> Any:
    def comments_of(dep: CondaDependency | PypiDependency, in_target: bool) -> Comments | None:
        line = dep.location.line if dep.location else None
        c = env.comments.get(line) if line is not None else None
        if c is None or not in_target:
            return c
        # in a [target.<platform>] table the selector is said by the table: drop it, and
        # carry the lines above only once (on the first platform's copy)
        return Comments(c.above, c.blank_before, strip_selector(c.after))

    return comments_of


# ---- what a CUDA build needs ----

_CUDA_NAMES = ("pytorch-cuda", "pytorch-gpu", "tensorflow-gpu", "cupy", "cuda-version", "nccl")


def cuda_warnings(spec: Spec) -> tuple[str, ...]:
    """A CUDA build in an environment that declares no `cuda`: the solver has no __cuda.

    One warning per dependency line, naming the environments it is in; the CUDA version to
    declare is taken from a `pytorch-cuda`, `cuda-version` or `cudatoolkit` pin when there is one.
    """
    lines: dict[str, list[str]] = {}  # the dependency, as shown -> environments
    for name in spec.environment_names:
        env = spec.environment(name)
        if env.system_requirements.cuda is not None:
            continue
        pinned = None
        for platform in env.platforms:
            for dep in env.conda_dependencies(platform):
                _, pkg, version, build = split_conda_spec(dep.spec)
                if pkg in ("pytorch-cuda", "cuda-version", "cudatoolkit") and version:
                    pinned = pinned or _major_minor(version)
                if not (
                    pkg in _CUDA_NAMES
                    or component_for_conda(pkg) is not None
                    or (build is not None and "cuda" in build.lower())
                ):
                    continue
                shown = dep.spec + (f" ({dep.location})" if dep.location else "")
                envs = lines.setdefault(shown, [])
                if name not in envs:
                    envs.append(name)
        for envs in lines.values():
            if envs and envs[-1] == name and pinned:
                envs[-1] = f"{name}:{pinned}"
    out = []
    for shown, envs in lines.items():
        versions = sorted({e.partition(":")[2] for e in envs if ":" in e})
        names = [e.partition(":")[0] for e in envs]
        where = "" if names == ["default"] else f" (environments {', '.join(names)})"
        cuda = versions[0] if len(versions) == 1 else "12.x"
        out.append(
            f"{shown} is a CUDA build{where}: solving it needs a CUDA driver declared; add "
            f'`cuda = "{cuda}"` (the lowest CUDA your machines\' driver supports) to '
            "system-requirements"
        )
    return tuple(out)


def _major_minor(version: str) -> str | None:
    import re

    m = re.search(r"(\d+)\.(\d+)", version)
    return f"{m.group(1)}.{m.group(2)}" if m else None
