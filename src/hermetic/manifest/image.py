"""`[tool.hermetic.image]` (pyproject.toml) / `[image]` (hermetic.toml): image build settings.

Every key is optional; command-line flags override them. Values are checked for type here,
so a typo is one message naming the key, not a failure deep inside the build.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hermetic.errors import Location, SpecError, did_you_mean

KEYS = (
    "base",
    "prefix",
    "app",
    "workdir",
    "cmd",
    "entrypoint",
    "user",
    "env",
    "labels",
    "ports",
    "tag",
    "compression",
    "platforms",
)


@dataclass(frozen=True)
class ImageSettings:
    base: str | None = None
    prefix: str | None = None
    app: tuple[str, ...] = ()
    workdir: str | None = None
    cmd: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    user: str | None = None
    env: tuple[tuple[str, str], ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    ports: tuple[str, ...] = ()
    tag: str | None = None
    compression: str | None = None
    platforms: tuple[str, ...] = ()

    def over(self, manifest: ImageSettings) -> ImageSettings:
        """These settings (the command line's) over the manifest's: a value given here wins;
        env and labels add to the manifest's (a later pair of the same key wins)."""
        return ImageSettings(
            base=self.base or manifest.base,
            prefix=self.prefix or manifest.prefix,
            app=self.app or manifest.app,
            workdir=self.workdir or manifest.workdir,
            cmd=self.cmd if self.cmd is not None else manifest.cmd,
            entrypoint=self.entrypoint if self.entrypoint is not None else manifest.entrypoint,
            user=self.user or manifest.user,
            env=(*manifest.env, *self.env),
            labels=(*manifest.labels, *self.labels),
            ports=self.ports or manifest.ports,
            tag=self.tag or manifest.tag,
            compression=self.compression or manifest.compression,
            platforms=self.platforms or manifest.platforms,
        )


def read_image_settings(manifest: Path) -> ImageSettings:
    """The image table of `manifest` (an empty one for environment.yml or no table)."""
    from hermetic.layout import toml_loads

    if manifest.suffix != ".toml":
        return ImageSettings()
    try:
        data = toml_loads(manifest.read_text(encoding="utf-8"))
    except Exception:
        return ImageSettings()  # the manifest reader reports syntax errors with their line
    if manifest.name == "pyproject.toml":
        tool = data.get("tool")
        herm = tool.get("hermetic") if isinstance(tool, Mapping) else None
        table = herm.get("image") if isinstance(herm, Mapping) else None
        where = "[tool.hermetic.image]"
    else:
        table = data.get("image")
        where = "[image]"
    if table is None:
        return ImageSettings()
    loc = Location(str(manifest))
    if not isinstance(table, Mapping):
        raise SpecError(f"{where} must be a table", location=loc)
    for key in table:
        if key not in KEYS:
            guess = did_you_mean(str(key), KEYS)
            raise SpecError(
                f"unknown key {key!r} in {where}",
                location=loc,
                hint=(f"did you mean {guess!r}? " if guess else "") + "keys: " + ", ".join(KEYS),
            )

    def text(key: str) -> str | None:
        v = table.get(key)
        if v is None:
            return None
        if not isinstance(v, str) or not v:
            raise SpecError(f"{where} {key} must be a non-empty string", location=loc)
        return v

    def strings(key: str) -> tuple[str, ...] | None:
        v = table.get(key)
        if v is None:
            return None
        if isinstance(v, str):
            return (v,) if key not in ("cmd", "entrypoint") else ("/bin/sh", "-c", v)
        if not isinstance(v, list) or not all(isinstance(x, (str, int)) for x in v):
            raise SpecError(f"{where} {key} must be a list of strings", location=loc)
        return tuple(str(x) for x in v)

    def pairs(key: str) -> tuple[tuple[str, str], ...]:
        v = table.get(key)
        if v is None:
            return ()
        if not isinstance(v, Mapping) or not all(
            isinstance(x, (str, int, float, bool)) for x in v.values()
        ):
            raise SpecError(f"{where} {key} must be a table of strings", location=loc)
        return tuple((str(k), str(x)) for k, x in v.items())

    return ImageSettings(
        base=text("base"),
        prefix=text("prefix"),
        app=strings("app") or (),
        workdir=text("workdir"),
        cmd=strings("cmd"),
        entrypoint=strings("entrypoint"),
        user=text("user"),
        env=pairs("env"),
        labels=pairs("labels"),
        ports=strings("ports") or (),
        tag=text("tag"),
        compression=text("compression"),
        platforms=strings("platforms") or (),
    )
