"""`hermetic tree PKG`: why a package is in an environment."""

from __future__ import annotations

import click

from hermetic.cli.common import manifest_option
from hermetic.cli.install_cmd import environment_option


@click.command("tree", help="Show why PACKAGE is in an environment: its chains of dependents.")
@manifest_option
@environment_option
@click.option("--platform", "-p", "platform", default=None, help="Default: this machine's.")
@click.argument("package")
def command(manifest, environment: str, platform: str | None, package: str) -> None:
    from rich.markup import escape
    from rich.tree import Tree

    from hermetic.cli.list_cmd import load
    from hermetic.cli.render import console
    from hermetic.lock.query import requested_names, why

    _, spec, lock, plat = load(manifest, environment, platform)
    requested = (
        requested_names(spec, environment, plat) if environment in spec.environment_names else {}
    )
    result = why(lock, environment, plat, package, requested)

    def label(p) -> str:
        text = f"{p.name} {p.version}" + (f" {p.build}" if p.build else "") + f" ({p.source})"
        if p.name in requested:
            text += f"  [green]<- spec: {escape(requested[p.name])}[/green]"
        return text

    out = console()
    root = Tree(label(result.package))
    if not result.chains:
        out.print(root)
        out.print("nothing in the spec leads to it (it is not reachable from a requested package)")
        return
    nodes: dict[tuple, Tree] = {}
    for chain in result.chains:
        parent = root
        for i in range(1, len(chain)):
            key = tuple((p.source, p.name) for p in chain[: i + 1])
            if key not in nodes:
                nodes[key] = parent.add(label(chain[i]))
            parent = nodes[key]
    out.print(root)
