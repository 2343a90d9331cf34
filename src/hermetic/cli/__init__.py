"""The command line: thin, lazy.

Each command lives in its own module and is imported only when it runs, so `hermetic --help`
starts without loading rattler, uv or rich.
"""

from __future__ import annotations

import importlib
import sys

import click

from hermetic import __version__
from hermetic.cli.common import run_cli
from hermetic.errors import did_you_mean

# name -> (module, one-line help). The help is here so `--help` imports nothing.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": (
        "hermetic.cli.init_cmd",
        "Create a spec from an environment.yml, or a whole project from a template.",
    ),
    "lock": ("hermetic.cli.lock_cmd", "Solve the spec for every environment and platform."),
    "check": ("hermetic.cli.check_cmd", "Lint the spec and the lock against the policy."),
    "install": ("hermetic.cli.install_cmd", "Materialize an environment from the lock."),
    "run": ("hermetic.cli.run_cmd", "Run a command inside an environment."),
    "shell-hook": ("hermetic.cli.shell_hook_cmd", "Print the activation script for eval."),
    "export": ("hermetic.cli.export_cmd", "Write the lock in another tool's format."),
    "list": ("hermetic.cli.list_cmd", "List the locked packages of an environment."),
    "tree": ("hermetic.cli.tree_cmd", "Show why a package is in an environment."),
    "doctor": ("hermetic.cli.doctor_cmd", "Inspect the GPU and native-library stack."),
    "devcontainer": ("hermetic.cli.devcontainer_cmd", "Write .devcontainer/ for an environment."),
    "k8s": ("hermetic.cli.k8s_cmd", "Write Kubernetes manifests that run the image by digest."),
    "ci": ("hermetic.cli.ci_cmd", "Write a CI workflow: lock check, tests, image, digest."),
    "pack": ("hermetic.cli.pack_cmd", "Write a relocatable archive of an environment."),
    "unpack": ("hermetic.cli.unpack_cmd", "Check, extract and relocate a pack archive."),
    "bundle": ("hermetic.cli.bundle_cmd", "Write an offline channel of an environment."),
    "image": ("hermetic.cli.image_cmd", "Build, inspect and export OCI images from the lock."),
    "tour": ("hermetic.cli.tour_cmd", "Run the whole pipeline on a bundled offline example."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, (mod, _) in COMMANDS.items() if _module_exists(mod)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None or not _module_exists(entry[0]):
            return None
        command: click.Command = importlib.import_module(entry[0]).command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(n, h) for n, (m, h) in COMMANDS.items() if _module_exists(m)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def resolve_command(self, ctx, args):  # type: ignore[no-untyped-def]
        name = args[0] if args else None
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            guess = did_you_mean(name, self.list_commands(ctx))
            hint = f" Did you mean '{guess}'?" if guess else ""
            ctx.fail(f"No such command '{name}'.{hint}")
        return super().resolve_command(ctx, args)


def _module_exists(module: str) -> bool:
    from importlib.util import find_spec

    return find_spec(module) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hermetic")
def cli() -> None:
    """Reproducible ML environments: one spec, one lock, from a laptop to a GPU cluster."""


def main() -> None:
    code = run_cli(cli)
    if "rattler" in sys.modules:
        # rattler's Rust runtime may still hold requests in flight (a failed solve leaves the
        # other subdir's fetch running); tearing the interpreter down under them can crash.
        # Every file hermetic writes is already flushed and renamed into place, so leave now.
        import contextlib
        import os

        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)
    sys.exit(code)
