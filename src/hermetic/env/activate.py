"""Activation scripts: the packages' part plus the spec's `[activation]`.

Every value is exported **literally**, as conda does: `pa$$word`, `$(cmd)`, backticks,
quotes and newlines come out in the environment exactly as written. Only a spec variable
written `{ value = "$HOME/x", expand = true }` is left to the shell to expand.

The packages' part is what conda's activation sets: `PATH` (the env's `bin` first),
`CONDA_PREFIX`, `CONDA_SHLVL`, the variables of `etc/conda/env_vars.d/*.json` (file name
order) and then of `conda-meta/state`, and a `source` of each `etc/conda/activate.d` script
(`*.sh` for bash and zsh, `*.fish` for fish, name order). hermetic writes it itself: the
script rattler 0.28 generates puts those package values inside double quotes, so a
package's `env_vars.d` ran `$(…)` and expanded `$$` on every activation (docs/security.md).

LD_LIBRARY_PATH is never set: conda packages find their libraries through RPATH/RUNPATH
(`$ORIGIN/../lib`), and setting it would leak the environment's libraries into every
program started from it, system tools included.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from hermetic.errors import UsageError
from hermetic.manifest.model import Activation

SHELLS = ("bash", "zsh", "fish")


def package_script(prefix: Path, shell: str, platform: str | None = None) -> str:
    """The packages' activation script for the environment at `prefix` (`platform` is
    accepted for callers that pass it; the script is the same on every Unix platform)."""
    if shell not in SHELLS:
        raise UsageError(f"unsupported shell {shell!r}", hint=f"use one of: {', '.join(SHELLS)}")
    prefix = Path(prefix)
    bin_dir = _quote(shell, str(prefix / "bin"), expand=False)
    lines = [
        f"set -gx PATH {bin_dir} $PATH"
        if shell == "fish"
        else f'export PATH={bin_dir}:"${{PATH}}"',
        export_line(shell, "CONDA_SHLVL", "1", expand=False),
        export_line(shell, "CONDA_PREFIX", str(prefix), expand=False),
    ]
    lines += [export_line(shell, k, v, expand=False) for k, v in package_env_vars(prefix).items()]
    suffix = ".fish" if shell == "fish" else ".sh"
    source = "source" if shell == "fish" else "."
    hooks = prefix / "etc" / "conda" / "activate.d"
    for hook in sorted(hooks.glob(f"*{suffix}")) if hooks.is_dir() else ():
        lines.append(f"{source} {_quote(shell, str(hook), expand=False)}")
    return "\n".join(lines) + "\n"


def package_env_vars(prefix: Path) -> dict[str, str]:
    """The packages' variables: `etc/conda/env_vars.d/*.json` by file name, then
    `conda-meta/state`'s `env_vars` (which win), as conda reads them."""
    out: dict[str, str] = {}
    env_vars_d = Path(prefix) / "etc" / "conda" / "env_vars.d"
    files = sorted(env_vars_d.glob("*.json")) if env_vars_d.is_dir() else []
    for path in files:
        out.update(_string_map(path, None))
    out.update(_string_map(Path(prefix) / "conda-meta" / "state", "env_vars"))
    return out


def _string_map(path: Path, key: str | None) -> dict[str, str]:
    """A JSON object of name -> string (under `key`); unreadable or odd entries are skipped,
    as conda skips them, and never break activation."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    if key is not None:
        doc = doc.get(key) if isinstance(doc, dict) else None
    if not isinstance(doc, dict):
        return {}
    return {
        str(k): str(v)
        for k, v in doc.items()
        if _is_name(str(k)) and isinstance(v, (str, int, float)) and "\0" not in str(v)
    }


def _is_name(text: str) -> bool:
    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text) is not None


def spec_script(activation: Activation, shell: str, root: Path, environment: str) -> str:
    """The spec's activation: `HERMETIC_ENV`, its env vars, then its scripts."""
    expand = set(activation.expand)
    lines = [export_line(shell, "HERMETIC_ENV", environment, expand=False)]
    lines += [export_line(shell, k, v, expand=k in expand) for k, v in activation.env]
    for script in activation.scripts:
        path = Path(script) if Path(script).is_absolute() else Path(root) / script
        if (shell == "fish") != path.name.endswith(".fish"):
            continue  # like conda: fish sources *.fish, the others the rest
        source = "source" if shell == "fish" else "."
        lines.append(f"{source} {_quote(shell, str(path), expand=False)}")
    return "\n".join(lines) + "\n"


def activation_script(
    prefix: Path,
    activation: Activation,
    shell: str,
    root: Path,
    environment: str,
    package_part: str | None = None,
) -> str:
    """The full script: what `shell-hook` prints and what `run` sources."""
    pkg = package_part if package_part is not None else package_script(prefix, shell)
    return pkg.rstrip("\n") + "\n" + spec_script(activation, shell, root, environment)


def export_line(shell: str, key: str, value: str, expand: bool) -> str:
    """`export KEY=VALUE` for `shell`: literal, or left to the shell to expand."""
    if shell == "fish":
        return f"set -gx {key} {_quote(shell, value, expand)}"
    return f"export {key}={_quote(shell, value, expand)}"


def _quote(shell: str, value: str, expand: bool) -> str:
    """Single quotes: the value exactly as written. Double quotes (`expand`): the shell
    expands `$VAR` and `${VAR}` (and runs `$(…)`, which the user asked for)."""
    if not expand:
        if shell == "fish":
            return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return "'" + value.replace("'", "'\\''") + "'"
    out = value.replace("\\", "\\\\").replace('"', '\\"')
    if shell == "fish":
        # fish has no `${VAR}`: end the variable name by closing and reopening the quotes
        out = re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", r'$\1""', out)
    else:
        out = out.replace("`", "\\`")
    return f'"{out}"'
