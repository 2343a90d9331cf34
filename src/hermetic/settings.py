"""Every environment variable hermetic reads, in one place, typed and documented.

Settings used to be read wherever they were needed, with three different defaults for the
cache directory. Here each variable is declared once (name, meaning, default), parsed into a
frozen `Settings`, and the reference page `docs/reference/settings.md` is generated from
these declarations (`python -m hermetic.settings > docs/reference/settings.md`; a test keeps
the committed page current).

`current()` reads the process environment; it re-parses only when one of the variables
changed, so a test that sets a variable sees it, and a command pays for the parse once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hermetic.errors import UsageError

#: rattler's default alias: a bare channel name `conda-forge` means this URL + the name
DEFAULT_CHANNEL_ALIAS = "https://conda.anaconda.org/"
DEFAULT_SOLVE_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class Variable:
    """One environment variable: what it means and what holds when it is unset."""

    name: str
    meaning: str
    default: str
    internal: bool = False  # for hermetic's own tests; documented, never needed by users


VARIABLES: tuple[Variable, ...] = (
    Variable(
        "HERMETIC_CACHE_DIR",
        "Root of every cache hermetic writes: repodata under `repodata/`, conda packages "
        "under `pkgs/`, the doctor's ELF cache. Point it at a shared or bigger disk.",
        "hermetic's own caches in `$XDG_CACHE_HOME/hermetic`; packages and repodata in "
        "rattler's cache (shared with pixi): `$RATTLER_CACHE_DIR`, else "
        "`$XDG_CACHE_HOME/rattler/cache`",
    ),
    Variable(
        "HERMETIC_CHANNEL_ALIAS",
        "Base URL that bare channel names resolve against: with "
        "`https://mirror.example/conda/`, `conda-forge` means "
        "`https://mirror.example/conda/conda-forge/`. Solving, fetching, installing and the "
        "lock all use that URL (conda's `channel_alias`).",
        DEFAULT_CHANNEL_ALIAS,
    ),
    Variable(
        "HERMETIC_CONFIG",
        "The user config file (`[mirrors]`, see [config.md](config.md); `[policy]`, see "
        "[check.md](check.md)). A project's "
        "`.hermetic/config.toml` is read on top of it.",
        "`$XDG_CONFIG_HOME/hermetic/config.toml` (`~/.config/hermetic/config.toml`)",
    ),
    Variable(
        "HERMETIC_SOLVE_TIMEOUT",
        "Seconds one conda solve may take before it is stopped with an error.",
        f"{DEFAULT_SOLVE_TIMEOUT_S:g}",
    ),
    Variable(
        "HERMETIC_MAX_UNPACK_RATIO",
        "How many times its own size a conda archive may unpack to (always at least 256 MiB); "
        "a package over it is refused as a decompression bomb before it is unpacked. `0` "
        "turns the limit off.",
        "100",
    ),
    Variable(
        "HERMETIC_TEST_KILL_AT",
        "Test-only fault injection: SIGKILL the install (see docs/install.md) or an image "
        "build (`image-layer-written`, `image-before-index`) at the named step.",
        "unset",
        internal=True,
    ),
    Variable(
        "HERMETIC_REGISTRY_USERNAME",
        "User name for the registry `hermetic image build --push` pushes to (and pulls a base "
        "from), with `HERMETIC_REGISTRY_PASSWORD`; wins over auth.json and "
        "~/.docker/config.json. Never written anywhere.",
        "unset: credentials come from `REGISTRY_AUTH_FILE`, else "
        "`$XDG_RUNTIME_DIR/containers/auth.json`, else `~/.docker/config.json`",
    ),
    Variable(
        "HERMETIC_REGISTRY_PASSWORD",
        "Password or token that goes with `HERMETIC_REGISTRY_USERNAME`.",
        "unset",
    ),
    Variable(
        "HERMETIC_AUTH_<HOST>",
        "Credentials for a channel or index host, `user:password` (the host upper-cased, "
        "every other character `_`: for pkgs.example.com the suffix is `PKGS_EXAMPLE_COM`). "
        "Used in memory only; "
        "see docs/security.md for the other sources (netrc, keyring, URLs in the manifest).",
        "unset",
    ),
    Variable("XDG_CACHE_HOME", "The user's cache directory (XDG).", "`~/.cache`"),
    Variable("XDG_CONFIG_HOME", "The user's config directory (XDG).", "`~/.config`"),
    Variable(
        "RATTLER_CACHE_DIR",
        "rattler's (and pixi's) cache; hermetic shares its packages when "
        "`HERMETIC_CACHE_DIR` is unset.",
        "`$XDG_CACHE_HOME/rattler/cache`",
    ),
)
_NAMES = tuple(v.name for v in VARIABLES)


@dataclass(frozen=True)
class Settings:
    """The parsed variables. Paths are absolute or relative exactly as the user gave them."""

    cache_dir: Path  # hermetic's own caches
    package_cache_dir: Path  # extracted conda packages (rattler's layout)
    repodata_cache_dir: Path | None  # None: rattler's default
    channel_alias: str  # always ends with "/"
    channel_alias_set: bool  # the user chose the alias
    config_file: Path  # the user's config file (it need not exist)
    solve_timeout_s: float
    test_kill_at: str | None
    max_unpack_ratio: int = 100  # 0: no limit


def from_environ(environ: Mapping[str, str]) -> Settings:
    """Parse `environ` (any mapping, so tests need not touch the process environment)."""

    def get(name: str) -> str | None:
        value = environ.get(name)
        return value if value else None

    home = Path(os.path.expanduser("~"))
    xdg_cache = Path(get("XDG_CACHE_HOME") or home / ".cache")
    xdg_config = Path(get("XDG_CONFIG_HOME") or home / ".config")
    root = get("HERMETIC_CACHE_DIR")
    rattler_cache = Path(get("RATTLER_CACHE_DIR") or xdg_cache / "rattler" / "cache")
    alias = get("HERMETIC_CHANNEL_ALIAS")
    return Settings(
        cache_dir=Path(root) if root else xdg_cache / "hermetic",
        package_cache_dir=(Path(root) if root else rattler_cache) / "pkgs",
        repodata_cache_dir=Path(root) / "repodata" if root else None,
        channel_alias=(alias or DEFAULT_CHANNEL_ALIAS).rstrip("/") + "/",
        channel_alias_set=alias is not None,
        config_file=Path(get("HERMETIC_CONFIG") or xdg_config / "hermetic" / "config.toml"),
        solve_timeout_s=_seconds(get("HERMETIC_SOLVE_TIMEOUT")),
        test_kill_at=get("HERMETIC_TEST_KILL_AT"),
        max_unpack_ratio=_ratio(get("HERMETIC_MAX_UNPACK_RATIO")),
    )


def _ratio(text: str | None) -> int:
    if text is None:
        return 100
    try:
        return max(0, int(text))
    except ValueError:
        raise UsageError(
            f"HERMETIC_MAX_UNPACK_RATIO={text!r} is not a whole number",
            hint="set it to a ratio such as 100, or 0 for no limit",
        ) from None


def _seconds(text: str | None) -> float:
    if text is None:
        return DEFAULT_SOLVE_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        raise UsageError(
            f"HERMETIC_SOLVE_TIMEOUT={text!r} is not a number of seconds",
            hint=f"set it to e.g. 600, or unset it for the default ({DEFAULT_SOLVE_TIMEOUT_S:g})",
        ) from None
    return value if value > 0 else DEFAULT_SOLVE_TIMEOUT_S


_cached: tuple[tuple[str | None, ...], Settings] | None = None


def current() -> Settings:
    """The settings of this process's environment."""
    global _cached
    key = tuple(os.environ.get(n) for n in _NAMES)
    if _cached is None or _cached[0] != key:
        _cached = (key, from_environ(os.environ))
    return _cached[1]


def auth_from_environ(host: str) -> str | None:
    """`HERMETIC_AUTH_<HOST>` for `host` (read when needed: credentials are not cached)."""
    key = re.sub(r"[^A-Z0-9]", "_", host.upper())
    return os.environ.get(AUTH_PREFIX + key) or None


#: the prefix of the per-host credential variables
AUTH_PREFIX = "HERMETIC_AUTH_"


def reference_page() -> str:
    """docs/reference/settings.md, generated from `VARIABLES`."""
    lines = [
        "# Settings reference",
        "",
        "<!-- generated by `python -m hermetic.settings`; edit src/hermetic/settings.py -->",
        "",
        "hermetic reads these environment variables (and nothing else from the environment",
        "to decide what it does). Mirrors live in the config file: [config.md](config.md).",
        "",
        "| variable | meaning | default |",
        "|---|---|---|",
    ]
    for v in VARIABLES:
        meaning = ("(internal) " if v.internal else "") + v.meaning
        lines.append(f"| `{v.name}` | {meaning} | {v.default} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(reference_page(), end="")
