"""Activation scripts: the packages' (rattler) plus the spec's `[activation]`.

rattler generates the packages' part: PATH, CONDA_PREFIX, CONDA_SHLVL, the variables of
`etc/conda/env_vars.d/*.json` and `conda-meta/state`, and a `source` line per
`etc/conda/activate.d` script. Its Prepend mode bakes the *current* PATH into the script and
then appends `${PATH}` (PATH ends up twice), so hermetic asks for Replace mode with a
sentinel as the current PATH and swaps the sentinel for the shell's own `$PATH`: the script
stays correct in any shell that sources it later.

LD_LIBRARY_PATH is never set: conda packages find their libraries through RPATH/RUNPATH
(`$ORIGIN/../lib`), and setting it would leak the environment's libraries into every
program started from it, system tools included.
"""

from __future__ import annotations

from pathlib import Path

from hermetic.errors import UsageError
from hermetic.manifest.model import Activation

SHELLS = ("bash", "zsh", "fish")
_SENTINEL = "/@HERMETIC_CURRENT_PATH@"


def package_script(prefix: Path, shell: str, platform: str | None = None) -> str:
    """rattler's activation script for the environment at `prefix`."""
    from rattler.platform import Subdir
    from rattler.shell import ActivationVariables, PathModificationBehavior, Shell, activate

    if shell not in SHELLS:
        raise UsageError(f"unsupported shell {shell!r}", hint=f"use one of: {', '.join(SHELLS)}")
    variables = ActivationVariables(
        current_prefix=None,
        current_path=[_SENTINEL],
        path_modification_behavior=PathModificationBehavior.Replace,
    )
    result = activate(
        Path(prefix), variables, getattr(Shell, shell), Subdir(platform) if platform else None
    )
    current = "$PATH" if shell == "fish" else "${PATH}"
    return result.script.replace(_SENTINEL, current)


def spec_script(activation: Activation, shell: str, root: Path, environment: str) -> str:
    """The spec's activation: `HERMETIC_ENV`, its env vars, then its scripts."""
    lines = [_export(shell, "HERMETIC_ENV", environment, expand=False)]
    lines += [_export(shell, k, v, expand=True) for k, v in activation.env]
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


def _export(shell: str, key: str, value: str, expand: bool) -> str:
    if shell == "fish":
        return f"set -gx {key} {_quote(shell, value, expand)}"
    return f"export {key}={_quote(shell, value, expand)}"


def _quote(shell: str, value: str, expand: bool) -> str:
    """Double quotes that keep `$VAR` references working (pixi's behaviour) when `expand`."""
    if not expand:
        if shell == "fish":
            return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return "'" + value.replace("'", "'\\''") + "'"
    out = value.replace("\\", "\\\\").replace('"', '\\"')
    if shell != "fish":
        out = out.replace("`", "\\`")
    return f'"{out}"'
