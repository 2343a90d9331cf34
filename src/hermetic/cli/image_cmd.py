"""`hermetic image`: build, inspect and Dockerfile export of OCI images from the lock."""

from __future__ import annotations

import json
from pathlib import Path

import click

from hermetic.cli.options import manifest_option
from hermetic.image.dockerfile import write_dockerfile
from hermetic.image.inspect import inspect_image, render_text
from hermetic.manifest.image import ImageSettings
from hermetic.project.image import BuildRequest, build


def say(message: str) -> None:
    click.secho(message, err=True, dim=True)


def _pairs(values: tuple[str, ...], what: str) -> tuple[tuple[str, str], ...]:
    out = []
    for v in values:
        key, sep, value = v.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{v!r}: expected KEY=VALUE", param_hint=what)
        out.append((key, value))
    return tuple(out)


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(p.strip() for v in values for p in v.split(",") if p.strip())


@click.group("image")
def command() -> None:
    """Build OCI images from the lock (no Docker daemon), inspect them, export a Dockerfile."""


@command.command("build")
@manifest_option
@click.option("-e", "--environment", default="default", show_default=True)
@click.option(
    "--platform",
    "platforms",
    multiple=True,
    help="Conda platform(s) to build, e.g. linux-64,linux-aarch64 (several: an image index).",
)
@click.option(
    "--base",
    help="Base image: REGISTRY/NAME[:TAG][@DIGEST], oci:DIR[:TAG], "
    "docker-archive:FILE or scratch (default: the spec's, else scratch).",
)
@click.option("--tag", help="The image reference to push to (and the name in archives).")
@click.option(
    "--output",
    "-o",
    help="Write oci:DIR[:TAG] or docker-archive:FILE "
    "(default without --push: oci:.hermetic/image:ENV).",
)
@click.option("--push", is_flag=True, help="Push to --tag.")
@click.option("--compression", type=click.Choice(["gzip", "zstd"]), help="Layer compression.")
@click.option("--prefix", help="Where the env lives in the image (default /opt/env).")
@click.option(
    "--app",
    multiple=True,
    help="App file or directory (relative to the project) for the top layer; repeatable.",
)
@click.option("--workdir", help="Working directory, where app files go (default /app).")
@click.option("--cmd", help="Command, as a JSON list or a shell string.")
@click.option("--entrypoint", help="Entrypoint, as a JSON list or a shell string.")
@click.option("--user", help="User to run as (default 65532:65532, non-root).")
@click.option("--env", "env_vars", multiple=True, help="KEY=VALUE baked into the image.")
@click.option("--label", "labels", multiple=True, help="KEY=VALUE image label.")
@click.option("--port", "ports", multiple=True, help="Exposed port (8080 or 8080/tcp).")
@click.option(
    "--insecure-registry",
    "insecure",
    multiple=True,
    help="Allow plain HTTP to this registry host[:port].",
)
@click.option(
    "--sbom",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the CycloneDX SBOM (default: beside the output).",
)
@click.option("--frozen", is_flag=True, help="Build from the lock even if it is stale.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def build_cmd(
    manifest: Path | None,
    environment: str,
    platforms: tuple[str, ...],
    base: str | None,
    tag: str | None,
    output: str | None,
    push: bool,
    compression: str | None,
    prefix: str | None,
    app: tuple[str, ...],
    workdir: str | None,
    cmd: str | None,
    entrypoint: str | None,
    user: str | None,
    env_vars: tuple[str, ...],
    labels: tuple[str, ...],
    ports: tuple[str, ...],
    insecure: tuple[str, ...],
    sbom: Path | None,
    frozen: bool,
    as_json: bool,
) -> None:
    """Build an image from the locked packages: no solve, no code from the env runs."""

    result = build(
        BuildRequest(
            manifest=manifest,
            environment=environment,
            settings=ImageSettings(
                platforms=_split(platforms),
                base=base,
                tag=tag,
                compression=compression,
                prefix=prefix,
                app=app,
                workdir=workdir,
                cmd=_argv(cmd),
                entrypoint=_argv(entrypoint),
                user=user,
                env=_pairs(env_vars, "--env"),
                labels=_pairs(labels, "--label"),
                ports=ports,
            ),
            output=output,
            push=push,
            insecure=insecure,
            sbom=sbom,
            frozen=frozen,
        ),
        reporter=None if as_json else say,
    )
    image = result.image
    if as_json:
        doc = {
            "digest": image.root.digest,
            "media_type": image.root.media_type,
            "outputs": list(result.outputs),
            "sbom": str(result.sbom_path),
            "seconds": round(image.seconds, 3),
            "platforms": [
                {
                    "platform": i.platform,
                    "manifest": i.descriptor.digest,
                    "layers": [
                        {
                            "name": layer.name,
                            "digest": layer.descriptor.digest,
                            "size": layer.descriptor.size,
                            "reused": layer.reused,
                        }
                        for layer in i.layers
                    ],
                }
                for i in image.images
            ],
            "pushed": None
            if result.pushed is None
            else {
                "reference": result.pushed.reference,
                "uploaded": result.pushed.uploaded,
                "present": result.pushed.present,
                "mounted": result.pushed.mounted,
                "sbom_tag": result.pushed.sbom_tag,
            },
        }
        click.echo(json.dumps(doc, indent=2))
        return
    for i in image.images:
        ours = [layer for layer in i.layers if not layer.from_base]
        built = sum(1 for layer in ours if not layer.reused)
        size = sum(layer.descriptor.size for layer in ours)
        click.echo(
            f"{i.platform}: {len(i.layers)} layers ({len(i.layers) - len(ours)} from the base, "
            f"{built} built, {len(ours) - built} reused), {_mb(size)} of env and app"
        )
    click.echo(f"image {image.root.digest} in {image.seconds:.2f}s")
    for out in result.outputs:
        click.echo(f"wrote {out}")
    click.echo(f"SBOM {result.sbom_path}")
    if result.pushed is not None:
        p = result.pushed
        click.echo(
            f"pushed {p.reference}@{p.digest}: {p.uploaded} blob(s) uploaded "
            f"({_mb(p.uploaded_bytes)}), {p.present} already there, {p.mounted} mounted"
            + (f"; SBOM under tag {p.sbom_tag}" if p.sbom_tag else "")
        )
    for w in result.warnings:
        click.secho(f"warning: {w}", err=True, fg="yellow")


def _argv(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    text = value.strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError:
            raise click.BadParameter(f"{value!r} is not a JSON list") from None
        if not isinstance(parsed, list) or not all(isinstance(x, str) for x in parsed):
            raise click.BadParameter(f"{value!r}: expected a JSON list of strings")
        return tuple(parsed)
    return ("/bin/sh", "-c", text)


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


@command.command("inspect")
@click.argument("ref")
@click.option("--platform", help="Show this platform of a multi-platform image.")
@click.option("--insecure-registry", "insecure", multiple=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def inspect_cmd(ref: str, platform: str | None, insecure: tuple[str, ...], as_json: bool) -> None:
    """Show an image's layers, sizes, packages per layer, lock hash and SBOM summary."""

    report = inspect_image(ref, platform=platform, insecure=insecure)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(render_text(report))


@command.command("dockerfile")
@manifest_option
@click.option("-e", "--environment", default="default", show_default=True)
@click.option("--platform", default="linux-64", show_default=True)
@click.option("--base", help="Runtime base image, pinned by digest (NAME@sha256:...).")
@click.option(
    "--output-dir",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
)
def dockerfile_cmd(
    manifest: Path | None,
    environment: str,
    platform: str,
    base: str | None,
    output_dir: Path | None,
) -> None:
    """Write a Dockerfile + .dockerignore that build the env from the lock (no solve)."""

    written = write_dockerfile(manifest, environment, platform, base, output_dir)
    for path in written:
        click.echo(f"wrote {path}")
