"""The doctor's answer as data: `DoctorReport`, its JSON form and its HTML form.

JSON schema (version SCHEMA_VERSION) is documented in docs/doctor.md; fields are only added,
never renamed, within one schema version.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hermetic.doctor.compat import RuntimeCheck
from hermetic.doctor.driver import DriverInfo
from hermetic.doctor.fatbin import FatbinInfo
from hermetic.doctor.ldso import Edge
from hermetic.doctor.runtimes import Runtime
from hermetic.doctor.verdict import Verdict
from hermetic.findings import Finding, has_error

SCHEMA_VERSION = 2


@dataclass(frozen=True)
class TargetInfo:
    kind: str  # "env", "module", "lock"
    prefix: str | None
    env: str | None
    how: str  # how the target was chosen: -e, --prefix, CONDA_PREFIX, ...
    module: str | None = None
    lock: str | None = None
    platform: str | None = None
    ld_library_path: tuple[str, ...] = ()


@dataclass(frozen=True)
class ObjectReport:
    """One ELF file the doctor resolved, with where each of its DT_NEEDED entries goes."""

    path: str
    inside_env: bool
    soname: str | None
    arch: str | None
    needed: tuple[Edge, ...]
    fatbin: FatbinInfo | None
    problem: str | None = None  # unreadable or corrupt


@dataclass(frozen=True)
class Stats:
    elf_files: int
    edges: int  # distinct (object, DT_NEEDED, file, rule) resolutions
    outside_env: int  # direct dependencies of env files that resolve outside the env
    seconds: float
    reachable: int = 0  # files some extension module or program of the env loads


@dataclass(frozen=True)
class DoctorReport:
    target: TargetInfo
    driver: DriverInfo
    runtimes: tuple[Runtime, ...]
    runtime_checks: tuple[RuntimeCheck, ...]
    declared_cuda: str | None
    objects: tuple[ObjectReport, ...]
    graph: tuple[Edge, ...]  # the edges worth drawing (all, for --module)
    findings: tuple[Finding, ...]
    stats: Stats
    verdicts: tuple[Verdict, ...] = ()  # the first answer: per framework, GPU or not

    @property
    def failed(self) -> bool:
        return has_error(self.findings)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data = {"schema": SCHEMA_VERSION, **data, "failed": self.failed}
        data["findings"] = [f.to_dict() for f in self.findings]
        del data["graph"]  # the per-object `needed` lists carry the same edges
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_html(self, path: Path) -> None:
        from hermetic.doctor.html import render_html
        from hermetic.fs import atomic_write_text

        atomic_write_text(path, render_html(self))
