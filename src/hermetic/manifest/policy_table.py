"""The policy table, in whatever manifest it is written: `[tool.hermetic.policy]`, `[policy]`
in hermetic.toml, `[tool.hermetic.policy]` in a pixi manifest, `policy:` in environment.yml.

Each reader hands over the table and a way to find a key's line; the result remembers where
each key was, so `hermetic check` can say "change allowed-channels at pixi.toml:14".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from hermetic.errors import did_you_mean
from hermetic.manifest.fields import Where, describe
from hermetic.manifest.model import Policy, PolicySource
from hermetic.manifest.toml_locator import Key
from hermetic.manifest.toml_values import TomlValues

POLICY_KEYS = {
    "preset": "str",
    "allowed-channels": "list",
    "forbidden-channels": "list",
    "strict-channel-priority": "bool",
    "require-python-pin": "bool",
    "allow-conda-pypi-duplicates": "bool",
    "warn-bundled-native-libs": "bool",
    "ignore": "list",
}

# the Policy attributes a table can set (preset sets allowed_channels)
POLICY_ATTRS = tuple(k.replace("-", "_") for k in POLICY_KEYS if k != "preset")

# Named sets of allowed channels, for teams that take some packages from vendor channels.
PRESETS: dict[str, tuple[str, ...]] = {
    "conda-forge": ("conda-forge",),
    "pytorch": ("conda-forge", "pytorch", "nvidia"),
}


def policy_from_mapping(
    table: Mapping[str, object],
    where_of: Callable[[str], Where],
    *,
    path: str,
    table_name: str,
) -> Policy:
    """A Policy from a table's keys; `where_of(key)` places a key (or "" for the table)."""
    vals: dict[str, object] = {}
    lines: list[tuple[str, int]] = []
    preset: tuple[str, ...] = ()
    for k, v in table.items():
        w = where_of(k)
        kind = POLICY_KEYS.get(k)
        if kind is None:
            guess = did_you_mean(k, tuple(POLICY_KEYS))
            raise w.error(
                f"unknown key {k!r} in {table_name}",
                hint=(f"did you mean {guess!r}? " if guess else "")
                + "known keys: "
                + ", ".join(POLICY_KEYS),
            )
        if w.line:
            lines.append((k, w.line))
        attr = k.replace("-", "_")
        if kind == "bool":
            if not isinstance(v, bool):
                raise w.error(f"{w.key}: expected true or false, got {describe(v)}")
            vals[attr] = v
        elif kind == "str":
            if not isinstance(v, str) or v not in PRESETS:
                raise w.error(
                    f"{w.key}: unknown preset {v!r}",
                    hint="presets: "
                    + "; ".join(f"{n} (allows {', '.join(c)})" for n, c in PRESETS.items()),
                )
            preset = PRESETS[v]
        else:
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise w.error(f"{w.key}: expected a list of strings, got {describe(v)}")
            vals[attr] = tuple(v)
    if preset:
        listed = vals.get("allowed_channels", ())
        assert isinstance(listed, tuple)
        vals["allowed_channels"] = tuple(dict.fromkeys((*preset, *listed)))
    table_line = where_of("").line
    if table_line:
        lines.append(("", table_line))
    source = PolicySource(path=path, table=table_name, lines=tuple(lines), keys=tuple(table))
    return Policy(**vals, source=source)  # type: ignore[arg-type]  # keys checked above


def read_policy(values: TomlValues, value: object, keys: Key) -> Policy:
    """The policy table of a TOML manifest, at `keys` under the reader's prefix."""
    table = values.table(value, keys)
    return policy_from_mapping(
        table,
        lambda k: values.at(*keys, k) if k else values.at(*keys),
        path=values.path,
        table_name=values.table_name(keys),
    )
