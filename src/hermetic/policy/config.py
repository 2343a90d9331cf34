"""The policy in force: the manifest's, over the project's and the user's config files.

A team sets its policy once, in the user config (`$HERMETIC_CONFIG`, else
`~/.config/hermetic/config.toml`) or the
project's `.hermetic/config.toml`, as `[policy]` or `[tool.hermetic.policy]`; a manifest's own
policy keys (`[tool.hermetic.policy]`, `[policy]`, `policy:` in environment.yml) win key by key.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from hermetic.layout import PROJECT_CONFIG
from hermetic.manifest.fields import Where, parse_toml, read_text
from hermetic.manifest.model import Policy, Spec
from hermetic.manifest.policy_table import POLICY_ATTRS, policy_from_mapping
from hermetic.manifest.toml_locator import TomlLocator

KEYS = POLICY_ATTRS


def user_config() -> Path:
    """`$HERMETIC_CONFIG`, else `$XDG_CONFIG_HOME/hermetic/config.toml` (see settings)."""
    from hermetic import settings

    return settings.current().config_file


def config_policy(path: Path) -> Policy | None:
    """The policy table of one config file, None when it has none (or does not exist)."""
    if not path.is_file():
        return None
    text = read_text(path)
    data = parse_toml(text, str(path))
    for keys in (("policy",), ("tool", "hermetic", "policy")):
        table: object = data
        for k in keys:
            table = table.get(k) if isinstance(table, dict) else None
        if isinstance(table, dict):
            locator = TomlLocator(text)
            name = "[" + ".".join(keys) + "]"

            def where(
                key: str, keys: tuple[str, ...] = keys, locator: TomlLocator = locator
            ) -> Where:
                full = (*keys, key) if key else keys
                return Where(str(path), locator.line(full), ".".join(full))

            return policy_from_mapping(table, where, path=str(path), table_name=name)
    return None


def effective_policy(spec: Spec, user: Path | None = None) -> Policy:
    """The spec's policy over the project config's over the user config's, key by key."""
    root = Path(spec.manifest).parent
    layers = [config_policy(user or user_config()), config_policy(root / PROJECT_CONFIG)]
    policy = Policy()
    for layer in [*layers, spec.policy]:
        if layer is None:
            continue
        written = _written_keys(layer)
        changes = {k: getattr(layer, k) for k in KEYS if k in written}
        policy = dataclasses.replace(policy, **changes)
        if layer.source is not None and (written or policy.source is None):
            policy = dataclasses.replace(policy, source=layer.source)
    return policy


def _written_keys(policy: Policy) -> set[str]:
    """The attributes a policy table set (a preset sets allowed_channels)."""
    if policy.source is None:
        return set()
    keys = {k.replace("-", "_") for k in policy.source.keys}
    if "preset" in keys:
        keys.add("allowed_channels")
    return keys & set(KEYS)
