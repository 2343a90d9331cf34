"""`hermetic init --template`: a project that uses every layer, from one of `TEMPLATES`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hermetic.deploy.templates import TEMPLATES, Template
from hermetic.deploy.written import Written
from hermetic.errors import HermeticError, UsageError, did_you_mean
from hermetic.fs import atomic_write_text
from hermetic.layout import HERMETIC_TOML, PYPROJECT, has_tool_hermetic
from hermetic.project.deploy import Generated, generate_ci, generate_devcontainer
from hermetic.project.project import Project


@dataclass(frozen=True)
class ScaffoldResult:
    template: Template
    manifest: Path
    written: tuple[Written, ...]
    locked: bool
    notes: tuple[str, ...]
    warnings: tuple[str, ...]


def template(name: str) -> Template:
    if name not in TEMPLATES:
        guess = did_you_mean(name, tuple(TEMPLATES))
        raise UsageError(
            f"no template named {name!r}",
            hint=(f"did you mean {guess!r}? " if guess else "")
            + "templates: "
            + ", ".join(TEMPLATES),
        )
    return TEMPLATES[name]


def _toml_value(value: Any) -> Any:
    import tomlkit

    if isinstance(value, dict) and all(not isinstance(v, dict) for v in value.values()):
        table = tomlkit.inline_table()
        table.update(value)
        return table
    return value


def _spec_table(spec: dict[str, Any], container: Any) -> Any:
    """Fill a tomlkit container: scalars and lists first, then tables (TOML needs that order)."""
    import tomlkit

    for key, value in spec.items():
        if not isinstance(value, dict):
            container.add(key, value)
    for key, value in spec.items():
        if isinstance(value, dict):
            if key in ("dependencies", "pypi-dependencies", "system-requirements", "environments"):
                table = tomlkit.table()
                for k, v in value.items():
                    table.add(k, _toml_value(v))
                container.add(key, table)
            else:
                table = tomlkit.table(
                    is_super_table=all(isinstance(v, dict) for v in value.values())
                )
                container.add(key, _spec_table(value, table))
    return container


def render_spec(tpl: Template, name: str, existing_pyproject: str | None) -> str:
    import tomlkit

    spec = dict(tpl.spec, name=name)
    if existing_pyproject is None:
        return tomlkit.dumps(_spec_table(spec, tomlkit.document()))
    doc = tomlkit.parse(existing_pyproject)
    tool = doc.get("tool")
    if tool is None:
        tool = tomlkit.table(is_super_table=True)
        doc.add("tool", tool)
    tool.add("hermetic", _spec_table(spec, tomlkit.table()))
    return tomlkit.dumps(doc)


def scaffold(
    root: Path, template_name: str, *, force: bool = False, lock: bool = True
) -> ScaffoldResult:
    from hermetic.deploy.k8s import name_from
    from hermetic.manifest.toml_source import read_toml_manifest

    tpl = template(template_name)
    root = Path(root).absolute()
    pyproject = root / PYPROJECT
    target = pyproject if pyproject.exists() else root / HERMETIC_TOML
    if target.name == PYPROJECT and has_tool_hermetic(target) and not force:
        raise UsageError(
            f"{target} already has a [tool.hermetic] table", hint="pass --force to replace it"
        )
    if target.name == HERMETIC_TOML and target.exists() and not force:
        raise UsageError(f"{target} exists", hint="pass --force to replace it")
    old = target.read_text(encoding="utf-8") if target.name == PYPROJECT else None
    if old is not None and has_tool_hermetic(target):
        import tomlkit

        doc = tomlkit.parse(old)
        del doc["tool"]["hermetic"]  # has_tool_hermetic checked it is there
        old = tomlkit.dumps(doc)
    text = render_spec(tpl, name_from(root.name), old)
    read_toml_manifest(target, text)  # a template that does not read back is hermetic's bug
    atomic_write_text(target, text)

    project = Project.open(target)
    results: list[Generated] = [
        generate_devcontainer(project, tpl.laptop_env, force=force),
        generate_ci(project, test_env=tpl.laptop_env, image_env=tpl.cluster_env, force=force),
    ]
    notes = [n for r in results for n in r.notes]
    warnings = [w for r in results for w in r.warnings]
    locked = False
    if lock:
        from hermetic.lock.update import lock_spec

        try:
            lock_spec(project.spec, project.lock_path)
            locked = True
        except HermeticError as exc:
            first = str(exc.message).splitlines()[0]
            notes.append(
                f"not locked ({first}); run `hermetic lock` when the channels are reachable"
            )
    else:
        notes.append("not locked (--no-lock): run `hermetic lock`")
    gpus = " --gpus 1" if tpl.cluster_env == "gpu" else ""
    notes.append(
        f"Kubernetes: after the first image build, `hermetic k8s -e {tpl.cluster_env} --image "
        f"REF@sha256:…{gpus}` (the CI workflow's k8s job does it for every pushed digest)"
    )
    return ScaffoldResult(
        tpl,
        target,
        tuple(w for r in results for w in r.written),
        locked,
        tuple(notes),
        tuple(warnings),
    )
