"""The env an image carries, laid out in a staging directory for its final prefix.

rattler links the locked records into the staging directory with
`alternative_target_prefix=/opt/env`: text placeholders are rewritten and binary ones
patched (same length, NUL padded, as conda does) for the *final* path, entry points get
`#!/opt/env/bin/python...`, and nothing the packages ship is executed (no link scripts, no
bytecode compilation). Files that need no patching are hardlinks into the package cache, so
staging a multi-GB env costs little disk and time.

Packages come through the same fetch, verify and path check as `hermetic install`
(`hermetic.env.stage.fetch_and_check`): every path of every package is checked against the
staging directory before rattler links anything into it.
Machine-specific values rattler writes (`conda-meta/*.json`: the cache path, credentials in
channel URLs) are normalized so the layers are a function of the lock alone.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hermetic.credentials import redact_url
from hermetic.env.stage import fetch_and_check, site_packages_of
from hermetic.env.verify import stamp_entries
from hermetic.errors import HermeticError, LockError
from hermetic.httpclient import rattler_client
from hermetic.image.layers import python_xy
from hermetic.image.wheels import install_wheel
from hermetic.mirrors import Mirrors
from hermetic.pkgpaths import check_relative, check_wheel, refusal_says


@dataclass(frozen=True)
class StagedEnv:
    root: Path  # the staging directory (what will be `prefix` in the image)
    prefix: str  # the final path, e.g. /opt/env
    files: Mapping[str, tuple[str, ...]]  # package key -> its prefix-relative paths
    shared: tuple[str, ...]  # env files owned by no package (conda-meta/history, ...)


#: what a refused package's message says was not done
_REFUSED = "no image was built"


def package_key(kind: str, name: str) -> str:
    return f"{kind}:{name}"


def stage_env(
    records: Sequence[Any],
    wheels: Sequence[Path],
    *,
    platform: str,
    prefix: str,
    stage: Path,
    cache: Path,
    mirrors: Mirrors | None = None,
) -> StagedEnv:
    """Lay out `records` and `wheels` in `stage` for `prefix` (stage must not exist);
    archives come from the channels' `mirrors` when configured."""
    from rattler import Platform
    from rattler.install import install

    stage.mkdir(parents=True)
    # fetched, hashed and path-checked before rattler links a byte into the stage
    plan, _ = fetch_and_check(
        records,
        cache,
        stage,
        site_packages=site_packages_of(records),
        refused=_REFUSED,
        mirrors=mirrors,
    )
    with refusal_says(_REFUSED):
        for wheel in wheels:
            check_wheel(wheel)
    try:
        asyncio.run(
            install(
                list(records),
                target_prefix=str(stage),
                cache_dir=cache,
                platform=Platform(platform),
                alternative_target_prefix=prefix,
                execute_link_scripts=False,
                show_progress=False,
                client=rattler_client(mirrors),  # should rattler fetch: mirrors, credentials
            )
        )
    except Exception as exc:
        raise HermeticError(
            f"laying out the env for the image failed:\n{str(exc).strip()}"
        ) from None
    stamp_entries(plan.to_fetch, cache)
    (stage / "CACHEDIR.TAG").unlink(missing_ok=True)

    files: dict[str, tuple[str, ...]] = {}
    for meta in sorted((stage / "conda-meta").glob("*.json")):
        name, paths = _normalize_record(meta)
        files[package_key("conda", name)] = (
            *(check_relative(name, p) for p in paths),
            f"conda-meta/{meta.name}",
        )
    if wheels:
        xy = python_xy(records)
        if xy is None:
            raise LockError(
                "the environment has PyPI packages but no conda python to install them into",
                hint="add python to the conda dependencies and run `hermetic lock`",
            )
        from packaging.utils import canonicalize_name

        for wheel in wheels:
            installed = install_wheel(wheel, stage, xy, prefix)
            key = package_key("pypi", str(canonicalize_name(installed.name)))
            files[key] = tuple(check_relative(wheel.name, p) for p in installed.files)
    owned = {p for paths in files.values() for p in paths}
    shared = tuple(sorted(rel for rel in _walk_files(stage) if rel not in owned))
    return StagedEnv(stage, prefix, files, shared)


def _walk_files(root: Path) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel_dir = os.path.relpath(dirpath, root)
        for f in filenames:
            out.append(f if rel_dir == "." else f"{rel_dir}/{f}")
        for d in dirnames:
            if os.path.islink(os.path.join(dirpath, d)):
                out.append(d if rel_dir == "." else f"{rel_dir}/{d}")
    return out


def _normalize_record(meta: Path) -> tuple[str, list[str]]:
    """Drop the machine-specific keys rattler writes; keep the record valid for conda/rattler."""
    doc = json.loads(meta.read_text())
    doc.pop("extracted_package_dir", None)
    doc["link"] = {"source": "", "type": (doc.get("link") or {}).get("type", 1)}
    for key in ("url", "channel"):
        if isinstance(doc.get(key), str):
            doc[key] = redact_url(doc[key])
    data = json.dumps(doc, indent=2, sort_keys=True) + "\n"
    tmp = meta.with_name(f".{meta.name}.tmp")
    tmp.write_text(data)
    os.replace(tmp, meta)
    return str(doc["name"]), [str(p) for p in doc.get("files") or ()]


def remove_stage(stage: Path) -> None:
    shutil.rmtree(stage, ignore_errors=True)
