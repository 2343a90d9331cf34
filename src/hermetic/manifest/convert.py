"""`hermetic init`: an environment.yml turned into `[tool.hermetic]`.

The conversion goes through the model: read the environment.yml into a Spec, write that Spec
as TOML (its comments carried over), read the TOML back and check that it is the same Spec
before anything is written. An existing pyproject.toml is edited with tomlkit, so its own
comments and layout stay.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from hermetic.errors import HermeticError, SpecError, UsageError
from hermetic.manifest.envyml import Comments, EnvYml, parse_environment_yml
from hermetic.manifest.fields import local_to_manifest, read_text
from hermetic.manifest.load import ENV_YML, HERMETIC_TOML, PYPROJECT
from hermetic.manifest.model import PypiOptions, Spec
from hermetic.manifest.requirements import split_conda_spec, split_pypi_requirement


@dataclass(frozen=True)
class InitResult:
    manifest: Path
    created: bool  # a new file, rather than a table added to an existing pyproject.toml
    replaced: bool  # an existing [tool.hermetic] (or hermetic.toml) was overwritten
    spec: Spec
    notes: tuple[str, ...] = ()


def default_source(cwd: Path) -> Path:
    for name in ENV_YML:
        if (cwd / name).is_file():
            return cwd / name
    raise UsageError(
        f"no environment.yml in {cwd} to convert",
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


def init_from_environment_yml(
    source: Path, manifest: Path | None = None, *, force: bool = False, cwd: Path | None = None
) -> InitResult:
    """Convert `source` into `[tool.hermetic]` of `manifest` (see `choose_manifest`) and write it."""
    import tomlkit

    from hermetic.fs import atomic_write_text
    from hermetic.manifest.toml_source import parse_toml, read_toml_manifest

    cwd = Path.cwd() if cwd is None else cwd
    source = Path(source)
    if not source.is_file():
        raise UsageError(f"no such file: {source}")
    target = choose_manifest(manifest, cwd)
    env = parse_environment_yml(source)
    pyproject = target.name == PYPROJECT
    exists = target.exists()
    replaced = False
    notes: list[str] = []

    if pyproject:
        old = read_text(target) if exists else ""
        data = parse_toml(old, str(target)) if exists else {}
        doc = tomlkit.parse(old)
        tool = doc.get("tool")
        if tool is not None and "hermetic" in tool:
            if not force:
                raise UsageError(
                    f"{target} already has a [tool.hermetic] table",
                    hint="pass --force to replace it",
                )
            replaced = True
        project = data.get("project") if isinstance(data.get("project"), dict) else {}
        table = spec_table(env, target.parent, project_name=project.get("name"))
        if tool is None:
            tool = tomlkit.table(is_super_table=True)
            if doc.body:
                doc.add(tomlkit.nl())
            doc.add("tool", tool)
        if replaced:
            del tool["hermetic"]
        tool.add("hermetic", table)
        text = tomlkit.dumps(doc)
        if project.get("dependencies"):
            notes.append(
                f"the {len(project['dependencies'])} project.dependencies of {target.name} are "
                "PyPI dependencies of the default environment too"
            )
    else:
        if exists and not force:
            raise UsageError(f"{target} exists", hint="pass --force to replace it")
        replaced = exists
        doc = tomlkit.document()
        spec_table(env, target.parent, container=doc)
        text = tomlkit.dumps(doc)

    # What is written must read back as the environment.yml's spec.
    try:
        back = read_toml_manifest(target, text, project_dependencies=False)
    except SpecError as exc:  # a bug here, not the user's: say so plainly
        raise HermeticError(f"converting {source} produced an invalid spec: {exc}") from None
    want = env.spec
    if want.name is None:
        back = dataclasses.replace(back, name=None)
    back = dataclasses.replace(back, manifest=want.manifest, kind=want.kind)
    if back != want:
        raise HermeticError(
            f"converting {source} would change the spec; nothing written",
            hint="please report this with the environment file",
        )
    if env.nodefaults:
        notes.append("nodefaults dropped: hermetic only ever uses the channels it lists")
    atomic_write_text(target, text)
    return InitResult(
        manifest=target, created=not exists, replaced=replaced, spec=want, notes=tuple(notes)
    )


# ---- the Spec as TOML ----


def spec_table(env: EnvYml, manifest_dir: Path, *, project_name=None, container=None):  # type: ignore[no-untyped-def]
    """The `[tool.hermetic]` table of an environment file's spec (or its keys, into `container`)."""
    import tomlkit

    spec = env.spec
    feat = spec.default_feature
    t = tomlkit.table() if container is None else container
    t.add(tomlkit.comment(f"converted from {Path(spec.manifest).name} by `hermetic init`"))
    if spec.name is not None and spec.name != project_name:
        t.add("name", spec.name)
    t.add("channels", _array([local_to_manifest(c, manifest_dir) for c in feat.channels]))
    t.add("platforms", _array(list(spec.platforms)))

    deps = tomlkit.table()
    for dep in feat.dependencies:
        channel, _, version, build = split_conda_spec(dep.spec)
        if channel is None and build is None:
            value = tomlkit.item(version or "*")
        else:
            value = tomlkit.inline_table()
            value["version"] = version or "*"
            if build is not None:
                value["build"] = build
            if channel is not None:
                value["channel"] = local_to_manifest(channel, manifest_dir)
        _add(deps, dep.name, value, env.comments.get(f"conda:{dep.name}"))
    if env.tail_comments and not feat.pypi_dependencies:
        _comments(deps, env.tail_comments)
    t.add("dependencies", deps)

    if feat.pypi_dependencies:
        pdeps = tomlkit.table()
        pip = env.comments.get("pip")
        if pip is not None:
            _comments(pdeps, pip)
        for pdep in feat.pypi_dependencies:
            parts = split_pypi_requirement(pdep.requirement)
            if set(parts) <= {"version"}:
                value = tomlkit.item(parts.get("version") or "*")
            else:
                value = tomlkit.inline_table()
                for k in ("version", "extras", "url", "markers"):
                    if k in parts:
                        value[k] = parts[k]
            _add(pdeps, pdep.name, value, env.comments.get(f"pypi:{pdep.name}"))
        if env.tail_comments:
            _comments(pdeps, env.tail_comments)
        t.add("pypi-dependencies", pdeps)

    opts = spec.pypi_options
    if opts != PypiOptions():
        o = tomlkit.table()
        if opts.index_url:
            o.add("index-url", opts.index_url)
        if opts.extra_index_urls:
            o.add("extra-index-urls", _array(list(opts.extra_index_urls)))
        if opts.find_links:
            o.add(
                "find-links", _array([local_to_manifest(x, manifest_dir) for x in opts.find_links])
            )
        if opts.no_build:
            o.add("no-build", True)
        if opts.no_index:
            o.add("no-index", True)
        t.add("pypi-options", o)

    if feat.activation.env or feat.activation.scripts:
        a = tomlkit.table()
        if feat.activation.env:
            e = tomlkit.inline_table()
            e.update(dict(feat.activation.env))
            a.add("env", e)
        if feat.activation.scripts:
            a.add("scripts", _array(list(feat.activation.scripts)))
        t.add("activation", a)
    return t


def _array(items: list[str]):  # type: ignore[no-untyped-def]
    import tomlkit

    arr = tomlkit.array()
    arr.extend(items)
    if sum(len(x) + 4 for x in items) > 80:
        arr.multiline(True)
    return arr


def _comments(table, comments: Comments) -> None:  # type: ignore[no-untyped-def]
    import tomlkit

    if comments.above:
        if comments.blank_before and len(table):
            table.add(tomlkit.nl())
        for line in comments.above:
            table.add(tomlkit.comment(line) if line else tomlkit.nl())


def _add(table, key: str, value, comments: Comments | None) -> None:  # type: ignore[no-untyped-def]
    if comments is not None:
        _comments(table, comments)
        if comments.after:
            value.comment(comments.after)
            value.trivia.comment_ws = "  "
    table.add(key, value)
