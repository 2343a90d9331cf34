"""PyPI resolution with uv, on top of a conda solve.

Per environment x platform, uv resolves the PyPI requirements for the Python version the
conda solve chose. The Python distributions conda already provides enter the resolution as
local stub wheels pinned by direct URL: PyPI packages that depend on them see the conda
version (and a conflict is reported), and they are never taken from PyPI a second time.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import re
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hermetic.channel import strip_url
from hermetic.credentials import index_environment, redact_text
from hermetic.errors import ResolveError
from hermetic.fs import atomic_write_bytes
from hermetic.lock.model import PypiArtifact, local_path
from hermetic.manifest.model import PypiOptions
from hermetic.platform import pypi_platforms, uv_python_platform, wheel_platform_tags
from hermetic.settings import current as current_settings

if TYPE_CHECKING:
    from packaging.tags import Tag

from hermetic.resolve.pypi_metadata import (
    BuildOnce,
    CoreMetadata,
    MetadataRequest,
    fetch_all,
    load_toml,
    source_tree_metadata,
    uv_environment,
)


@dataclass(frozen=True)
class PypiRequest:
    environment: str
    platform: str
    python_version: str  # the full version of the conda-solved python, e.g. "3.11.9"
    requirements: tuple[str, ...]
    provided: tuple[tuple[str, str], ...]  # (pypi name, version) that conda provides
    options: PypiOptions
    glibc: str = "2.28"
    macos: str = "13.0"
    preferences: tuple[tuple[str, str], ...] = ()  # previous pins to keep when possible
    # (requirement, the same at its locked git commit): kept when possible, as preferences are
    git_pins: tuple[tuple[str, str], ...] = ()
    # what messages call a solve group: "solve group 'prod' (environments train, serve)"
    group: str | None = None

    @property
    def subject(self) -> str:
        return self.group or f"environment {self.environment!r}"


_UV_LOCK = threading.Lock()


@functools.cache
def _find_uv() -> str:
    from uv import find_uv_bin

    return find_uv_bin()


def uv_bin() -> str:
    # find_uv_bin reads sysconfig, whose lazy set-up is not thread-safe; resolutions run in threads.
    with _UV_LOCK:
        return _find_uv()


def uv_platform(platform: str, glibc: str) -> str:
    """uv's --python-platform for a conda platform and declared glibc."""
    target = uv_python_platform(platform, glibc)
    if target is None:
        raise ResolveError(
            f"PyPI packages cannot be locked for platform {platform}",
            hint="PyPI locking supports "
            + ", ".join(pypi_platforms())
            + "; move the pypi-dependencies to a feature without this platform",
        )
    return target


def resolve_all(requests: Sequence[PypiRequest]) -> list[tuple[PypiArtifact, ...]]:
    """Resolve every request, in request order; identical requests are resolved once.

    Environments that share a feature set (and platforms that share a wheel target) ask uv
    the same question; only the environment name, used in messages, differs."""
    unique: dict[tuple[object, ...], PypiRequest] = {}
    for req in requests:
        unique.setdefault(request_key(req), req)
    results: dict[tuple[object, ...], tuple[PypiArtifact, ...]] = {}
    builds = BuildOnce()
    if len(unique) == 1:
        ((key, only),) = unique.items()
        results[key] = resolve_pypi(only, builds)
    elif unique:
        with ThreadPoolExecutor(max_workers=min(4, len(unique))) as pool:
            # a source tree with dynamic metadata needs a build (seconds) that every
            # resolution locking it waits for: start it now, beside the first resolutions
            for url, req in _dynamic_sources(unique.values()).items():
                pool.submit(_builder(req, builds), url)
            done = pool.map(lambda r: resolve_pypi(r, builds), unique.values())
            for key, result in zip(unique, done, strict=True):
                results[key] = result
    return [results[request_key(r)] for r in requests]


def request_key(req: PypiRequest) -> tuple[object, ...]:
    """Everything uv is asked, without the environment name (which only appears in messages).
    Two conda platforms never share a wheel target, so the platform is part of the key."""
    macos = req.macos if req.platform.startswith("osx") else ""
    glibc = req.glibc if req.platform.startswith("linux") else ""
    return (
        req.platform,
        glibc,
        macos,
        req.python_version,
        req.requirements,
        req.provided,
        req.options,
        req.preferences,
        req.git_pins,
    )


def resolve_pypi(req: PypiRequest, builds: BuildOnce | None = None) -> tuple[PypiArtifact, ...]:
    """Resolve the request with uv; the conda-provided distributions are left out of the result.
    `builds` shares the builds of source trees between the resolutions of one lock."""
    with tempfile.TemporaryDirectory(prefix="hermetic-uv-") as tmp:
        work = Path(tmp)
        provided = dict(req.provided)
        stub_lines = stub_requirements(provided, work)
        pins = dict(req.git_pins)
        reqs = work / "requirements.in"
        reqs.write_text(
            "\n".join([*(pins.get(r, r) for r in req.requirements), *stub_lines]) + "\n"
        )
        prefs = [f"{n}=={v}" for n, v in req.preferences if n not in provided]
        out = work / "pylock.toml"
        try:
            text = _compile(req, reqs, out, work, prefs)
        except ResolveError:
            if not prefs and not pins:
                raise
            # The previous pins no longer fit (a new requirement needs newer versions, a
            # locked commit is gone): solve afresh.
            reqs.write_text("\n".join([*req.requirements, *stub_lines]) + "\n")
            text = _compile(req, reqs, out, work, [])
    return _read_pylock(text, req, set(provided), builds or BuildOnce())


def _index_args(opts: PypiOptions) -> list[str]:
    """uv's arguments for `pypi-options`, except the index URLs: those may carry
    credentials and go in uv's environment (`index_environment`), never on argv."""
    args: list[str] = []
    if opts.no_index:
        args.append("--no-index")
    for link in opts.find_links:
        args += ["--find-links", link]
    if opts.no_build:
        args.append("--only-binary=:all:")
    return args


def _compile(req: PypiRequest, reqs: Path, out: Path, work: Path, prefs: list[str]) -> str:
    # `--python` names the interpreter hermetic runs on: uv then neither searches for nor
    # downloads one matching --python-version (it only builds sdists with it, if any).
    cmd = [
        uv_bin(), "pip", "compile", str(reqs),
        "--python", sys.executable,
        "--python-version", req.python_version,
        "--python-platform", uv_platform(req.platform, req.glibc),
        "--format", "pylock.toml", "-o", str(out),
        "--no-header", "--quiet", "--color", "never",
    ]  # fmt: skip
    if prefs:
        cons = work / "preferences.txt"
        cons.write_text("\n".join(prefs) + "\n")
        cmd += ["-c", str(cons)]
    cmd += _index_args(req.options)
    env = uv_environment()
    if not req.options.no_index:
        env.update(index_environment(req.options.index_url, req.options.extra_index_urls))
    if req.platform.startswith("osx"):
        env["MACOSX_DEPLOYMENT_TARGET"] = req.macos
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=work)
    if proc.returncode != 0:
        raise _explain(req, proc.stderr)
    return out.read_text()


def _explain(req: PypiRequest, stderr: str) -> ResolveError:
    text = redact_text(re.sub(r"\x1b\[[0-9;]*m", "", stderr).strip())
    text = re.sub(r"file://\S+/(?:pypi-)?stubs/\S+\.whl", "<conda package>", text)
    provided = dict(req.provided)
    named = sorted(n for n in provided if re.search(rf"\b{re.escape(n)}\b", text))
    # a path or git source uv could not fetch: uv names its URL in the message
    fetch_failed = re.search(
        r"failed to (download|fetch|clone)|git operation failed|distribution not found at"
        r"|does not exist|no such file",
        text,
        re.I,
    )
    failed_source = [
        r
        for r in req.requirements
        if " @ " in r and fetch_failed and _source_place(r.split(" @ ", 1)[1]) in text
    ]
    head = (
        f"cannot resolve the PyPI dependencies of {req.subject} "
        f"for {req.platform} (python {req.python_version})"
    )
    hint = None
    if failed_source:
        # named without credentials: the message may end up in a CI log
        urls = ", ".join(strip_url(r.split(" @ ", 1)[1].strip()) for r in failed_source)
        head = f"cannot fetch {urls} ({req.subject}, {req.platform})"
        hint = (
            "check that the path exists, or that the git repository and revision can be "
            "cloned from here (network, credentials in netrc or a git credential helper); "
            "the previous lock is unchanged"
        )
    elif named:
        hint = "; ".join(
            f"{n} {provided[n]} comes from conda: change its version in [dependencies], "
            "or remove the PyPI requirement that conflicts with it"
            for n in named
        )
    elif "not found" in text.lower() or "no solution" in text.lower():
        hint = "check the package names and versions in pypi-dependencies, and pypi-options (index-url, find-links)"
    return ResolveError(
        head + ":\n" + "\n".join("    " + line for line in text.splitlines()),
        hint=hint,
    )


def stub_requirements(provided: Mapping[str, str], work: Path) -> list[str]:
    """`name @ file://…` lines that make uv take each conda-provided distribution as it is."""
    return [
        f"{name} @ {_stub_wheel(work, name, ver).as_uri()}"
        for name, ver in sorted(provided.items())
    ]


def _source_place(url: str) -> str:
    """Where a direct URL points, as uv's messages show it: no scheme, credentials, revision
    or fragment (`git+https://u:t@host/r.git@v1#x` -> `host/r.git`, `file:///r@v1` -> `/r`)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url.strip().split("#", 1)[0].removeprefix("git+"))
    path = parts.path.rpartition("@")[0] or parts.path if "@" in parts.path else parts.path
    return parts.netloc.rpartition("@")[2] + path


def _stub_wheel(work: Path, name: str, version: str) -> Path:
    """A metadata-only wheel standing in for a conda-provided distribution.

    Stubs live in hermetic's cache with fixed bytes, so uv sees the same file every lock and
    answers from its own cache (a new path costs uv about a second per resolution)."""
    dist = re.sub(r"[-_.]+", "_", name)
    filename = f"{dist}-{version}-py3-none-any.whl"
    stubs = current_settings().cache_dir / "pypi-stubs"
    path = stubs / filename
    if path.is_file():
        return path
    info = f"{dist}-{version}.dist-info"
    files = {
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: hermetic\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for arc, content in files.items():
            data = content.encode()
            zf.writestr(zipfile.ZipInfo(arc, date_time=(1980, 1, 1, 0, 0, 0)), data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{arc},sha256={digest},{len(data)}")
        record.append(f"{info}/RECORD,,")
        zf.writestr(
            zipfile.ZipInfo(f"{info}/RECORD", date_time=(1980, 1, 1, 0, 0, 0)),
            "\n".join(record) + "\n",
        )
    try:
        stubs.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, buf.getvalue())
    except OSError:  # a read-only cache: a stub per resolution, as before
        path = work / "stubs" / filename
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(buf.getvalue())
    return path


@dataclass(frozen=True)
class _Chosen:
    name: str
    version: str | None  # None: a source tree, whose version only its metadata knows
    url: str
    sha256: str | None


def _read_pylock(
    text: str, req: PypiRequest, provided: set[str], builds: BuildOnce
) -> tuple[PypiArtifact, ...]:
    data = load_toml(text)
    rank = _tag_rank(req.python_version, req.platform, req.glibc, req.macos)
    chosen: list[_Chosen] = []
    for pkg in data.get("packages", []):
        name = canonical_name(str(pkg["name"]))
        if name in provided:
            continue
        url, sha = _pick_artifact(pkg, rank)
        version = pkg.get("version")
        chosen.append(_Chosen(name, str(version) if version is not None else None, url, sha))

    meta = fetch_all((MetadataRequest(c.url, c.sha256) for c in chosen), _builder(req, builds))
    out: list[PypiArtifact] = []
    for c in chosen:
        m = meta.get(c.url)
        version = c.version or (m.version if m is not None and m.version else None)
        if version is None:
            raise ResolveError(
                f"cannot tell the version of the PyPI dependency {c.name} at {strip_url(c.url)}",
                hint="give the project a static `version` in its pyproject.toml [project] "
                "table, or make it buildable here (its build backend must be installable)",
            )
        out.append(
            PypiArtifact(
                name=c.name,
                version=version,
                url=c.url,
                sha256=c.sha256,
                requires_dist=m.requires_dist if m is not None else (),
                requires_python=m.requires_python if m is not None else None,
            )
        )
    return tuple(sorted(out, key=lambda p: p.name))


def _builder(req: PypiRequest, builds: BuildOnce) -> Callable[[str], CoreMetadata | None]:
    """Builds a direct URL's metadata with the request's index options."""
    index_args = _index_args(req.options)
    index_env = (
        {}
        if req.options.no_index
        else index_environment(req.options.index_url, req.options.extra_index_urls)
    )

    def build(url: str) -> CoreMetadata | None:
        return builds(url, uv_bin(), sys.executable, index_args, index_env)

    return build


def _dynamic_sources(requests: Iterable[PypiRequest]) -> dict[str, PypiRequest]:
    """The local source trees the requests name (`name @ file://dir`) whose metadata only a
    build tells, each with the first request naming it."""
    out: dict[str, PypiRequest] = {}
    seen: set[str] = set()
    for req in requests:
        for line in req.requirements:
            url = line.split(" @ ", 1)[1].strip() if " @ " in line else ""
            path = local_path(url) if url.startswith("file://") else None
            if url in seen or path is None or not path.is_dir():
                continue
            seen.add(url)
            if source_tree_metadata(path) is None:
                out[url] = req
    return out


def canonical_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pick_artifact(pkg: Mapping[str, Any], rank: Mapping[Tag, int]) -> tuple[str, str | None]:
    """The best wheel for the target's tags, else the sdist, else the archive, git checkout
    or directory. A git checkout is locked at its commit; a directory has no hash."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    best: tuple[int, Mapping[str, Any]] | None = None
    for wheel in pkg.get("wheels", []):
        url = wheel.get("url") or wheel.get("path", "")
        try:
            _, _, _, wtags = parse_wheel_filename(url.rsplit("/", 1)[-1])
        except InvalidWheelFilename:
            continue
        score = min((rank.get(t, len(rank)) for t in wtags), default=len(rank))
        if best is None or score < best[0]:
            best = (score, wheel)
    vcs = pkg.get("vcs")
    if best is None and isinstance(vcs, Mapping):
        repo = vcs.get("url") or Path(str(vcs.get("path", ""))).resolve().as_uri()
        commit = vcs.get("commit-id") or vcs.get("requested-revision")
        sub = vcs.get("subdirectory")
        url = f"{vcs.get('type', 'git')}+{repo}" + (f"@{commit}" if commit else "")
        return url + (f"#subdirectory={sub}" if sub else ""), None
    art: Mapping[str, Any] = (
        best[1] if best else pkg.get("sdist") or pkg.get("archive") or pkg.get("directory") or {}
    )
    url = art.get("url") or art.get("path")
    if not url:
        raise ResolveError(f"uv returned no artifact for {pkg.get('name')} {pkg.get('version')}")
    if "://" not in url:
        url = Path(url).resolve().as_uri()
    sha = (art.get("hashes") or {}).get("sha256")
    return str(url), str(sha) if sha else None


@functools.lru_cache(maxsize=64)
def _tag_rank(python_version: str, platform: str, glibc: str, macos: str) -> Mapping[Tag, int]:
    """Each wheel tag's preference for a target (0 = best); a lock asks once per target."""
    req = PypiRequest("", platform, python_version, (), (), PypiOptions(), glibc, macos)
    return {t: i for i, t in enumerate(target_tags(req))}


def target_tags(req: PypiRequest) -> list[Tag]:
    """Wheel tags for the target platform, most preferred first (packaging.tags order)."""
    from packaging import tags as t

    major, minor = (int(x) for x in req.python_version.split(".")[:2])
    plats = wheel_platform_tags(req.platform, req.glibc, req.macos)
    return list(t.cpython_tags((major, minor), platforms=plats)) + list(
        t.compatible_tags((major, minor), f"cp{major}{minor}", plats)
    )
