"""Conda solving with rattler: one solve per environment x platform."""

from __future__ import annotations

import asyncio
import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hermetic.channel import Channel, strip_url
from hermetic.errors import ResolveError, did_you_mean
from hermetic.httpclient import credentials_hint, rattler_client
from hermetic.manifest.places import SystemRequirementsSites
from hermetic.mirrors import Mirrors
from hermetic.resolve.platforms import VirtualPackage, to_rattler
from hermetic.settings import current as current_settings

if TYPE_CHECKING:
    from rattler import Gateway, RepoDataRecord
    from rattler.platform import PlatformLiteral


@dataclass(frozen=True)
class CondaRequest:
    """One conda solve: what to solve, where, for which platform."""

    environment: str
    platform: str
    channels: tuple[str, ...]
    specs: tuple[str, ...]
    virtual_packages: tuple[VirtualPackage, ...]
    # where the user's manifest declares system requirements, for the hint on a missing __cuda
    sites: SystemRequirementsSites | None = field(default=None, compare=False)
    # what messages call a solve group: "solve group 'prod' (environments train, serve)"
    group: str | None = None

    @property
    def subject(self) -> str:
        return self.group or f"environment {self.environment!r}"


def make_gateway(mirrors: Mirrors | None = None) -> Gateway:
    """rattler's gateway: hermetic's repodata cache, fetched through the one HTTP client
    (mirrors, conda tokens and credentials added per request: the cache sees canonical URLs)."""
    from rattler import Gateway

    cache = current_settings().repodata_cache_dir
    return Gateway(cache_dir=cache, client=rattler_client(mirrors))


def solve_all(
    requests: Sequence[CondaRequest],
    locked: dict[tuple[str, str], list[RepoDataRecord]] | None = None,
    gateway: Gateway | None = None,
    mirrors: Mirrors | None = None,
) -> list[list[RepoDataRecord]]:
    """Solve every request concurrently; results are in request order (RepoDataRecords).

    With `mirrors`, channels are read from their mirrors and the records keep canonical URLs.
    """
    mirrors = mirrors or Mirrors()
    gw = gateway or make_gateway(mirrors)
    pins = locked or {}

    async def run() -> list[list[RepoDataRecord]]:
        return await asyncio.gather(
            *(
                _solve_one(r, pins.get((r.environment, r.platform), []), gw, mirrors)
                for r in requests
            )
        )

    return asyncio.run(run())


async def _solve_one(
    req: CondaRequest, locked: list[RepoDataRecord], gateway: Gateway, mirrors: Mirrors
) -> list[RepoDataRecord]:
    from rattler import ChannelPriority, MatchSpec, solve
    from rattler.exceptions import GatewayError, SolverError

    specs = [MatchSpec(s, strict=False) for s in req.specs]
    timeout = current_settings().solve_timeout_s
    try:
        records = await solve(
            sources=[_source(Channel.parse(c), mirrors) for c in req.channels],
            specs=specs,
            gateway=gateway,
            platforms=[_platform(req.platform), "noarch"],
            locked_packages=locked or None,
            virtual_packages=to_rattler(req.virtual_packages),
            timeout=datetime.timedelta(seconds=timeout),
            channel_priority=ChannelPriority.Strict,
        )
    except SolverError as exc:
        raise await _explain_solver_error(req, str(exc), gateway) from None
    except (GatewayError, OSError) as exc:
        raise _explain_fetch_error(req, exc) from None
    except Exception as exc:  # rattler's remaining errors all mean "cannot read a channel"
        # rattler's exception classes live in a module named `exceptions`, not `rattler.*`
        if _is_rattler_error(exc) or "repodata" in str(exc).lower():
            raise _explain_fetch_error(req, exc) from None
        raise
    for c in req.channels:
        records = mirrors.canonical_records(records, Channel.parse(c).lock_url)
    return sorted(records, key=lambda r: r.name.normalized)


def _source(channel: Channel, mirrors: Mirrors) -> str:
    """Where rattler reads a channel: its `file://` mirror's folder, else its own source
    without credentials (the client adds them per request, so rattler's cache has none)."""
    return mirrors.local_source(channel.lock_url) or strip_url(channel.rattler_source())


def _is_rattler_error(exc: BaseException) -> bool:
    import rattler.exceptions as rx

    kinds = tuple(v for v in vars(rx).values() if isinstance(v, type) and issubclass(v, Exception))
    return isinstance(exc, kinds) or type(exc).__module__.startswith(("rattler", "exceptions"))


async def _explain_solver_error(req: CondaRequest, text: str, gateway: Gateway) -> ResolveError:
    text = text.strip()
    where = f"{req.subject}, platform {req.platform}"
    if "timed out" in text.lower() or "timeout" in text.lower():
        return ResolveError(
            f"the conda solve for {where} took too long and was stopped",
            hint="tighten the version constraints, or raise HERMETIC_SOLVE_TIMEOUT (seconds)",
        )
    missing = re.findall(
        r"No candidates were found for ([A-Za-z0-9_.\-]+)(?: ([^\n]*?))?\.?$", text, re.M
    )
    hint = None
    if missing:
        try:
            names = set(await _channel_names(req, gateway))
        except Exception:
            names = set()
        parts = []
        for name, constraint in missing:
            if name in names:
                parts.append(
                    f"{name} is in the channels, but no build for {req.platform} matches "
                    f"{constraint.strip() or 'the request'}: loosen the constraint"
                )
            elif guess := did_you_mean(name, names):
                parts.append(f"did you mean {guess!r} instead of {name!r}?")
        chans = ", ".join(req.channels)
        hint = (
            "; ".join(parts) if parts else f"no package of that name in {chans} for {req.platform}"
        )
    vps = ", ".join(str(v) for v in req.virtual_packages)
    declare = _system_requirement_hint(req, text)
    if declare:
        hint = (hint + "; " if hint else "") + declare
    if req.group and "incompatible" in text:
        hint = (hint + "; " if hint else "") + (
            "the environments of a solve group are solved as one: each one's requirements "
            "must fit with the others', or take it out of the group (solve-group)"
        )
    body = text.removeprefix("Cannot solve the request because of: ")
    return ResolveError(
        f"no conda solution for {where}:\n{_indent(body)}\n  (virtual packages: {vps})",
        hint=hint,
    )


# the virtual packages a spec declares, with their system-requirements key and a value to
# suggest when the solver names no version
_DECLARED = (("__cuda", "cuda", "12"), ("__glibc", "glibc", "2.28"), ("__osx", "macos", "13.0"))


def _system_requirement_hint(req: CondaRequest, text: str) -> str | None:
    """A package needs a virtual package the spec does not declare (or declares too low):
    say what to write, and where in the user's own manifest."""
    from packaging.version import InvalidVersion, Version

    for name, key, fallback in _DECLARED:
        if name not in text:
            continue
        found = re.findall(rf"{name}\s*(?:>=|==|=|\s)\s*([0-9]+(?:\.[0-9]+)*)", text)
        needed = max(found, key=Version) if found else None
        declared = next((v.version for v in req.virtual_packages if v.name == name), None)
        try:
            if declared is not None and (needed is None or Version(declared) >= Version(needed)):
                continue  # declared high enough: the conflict is elsewhere
        except InvalidVersion:
            continue
        value = needed or fallback
        # a default (glibc 2.28, macos 13.0) is no declaration: the key is added, not changed
        explicit = req.sites is None or key in req.sites.declared
        spelled = req.sites.spelled(key) if req.sites is not None else key
        where = (
            req.sites.advice(key, value, text, change=declared is not None and explicit)
            if req.sites is not None
            else f'declare {key} = "{value}" in the system requirements of the spec'
        )
        need = f"{name} >= {needed}" if needed else name
        if declared is None:
            have = f"declares no {spelled}"
        elif explicit:
            have = f"declares {spelled} {declared}"
        else:
            have = f"declares no {spelled} ({declared} is assumed)"
        return f"a package needs {need} but the spec {have}: {where}"
    return None


async def _channel_names(req: CondaRequest, gateway: Gateway) -> list[str]:
    result = await gateway.names(
        [_source(Channel.parse(c), Mirrors()) for c in req.channels],
        [_platform(req.platform), "noarch"],
    )
    return [n.normalized for n in result]


def _explain_fetch_error(req: CondaRequest, exc: BaseException) -> ResolveError:
    urls = ", ".join(
        f"{Channel.parse(c).redacted()}{req.platform}/repodata.json" for c in req.channels
    )
    message = str(exc).strip()
    hint = credentials_hint(message) or "check the channel names and your network"
    return ResolveError(
        f"cannot read the channels of {req.subject}: {message}",
        hint=f"{hint}; tried {urls}",
    )


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def _platform(name: str) -> PlatformLiteral:
    """A platform name the spec reader has already checked, typed for rattler."""
    return name  # type: ignore[return-value]  # validated against the known platforms at load
