"""The `hermetic:` block: written without PyYAML, read back by any YAML parser unchanged."""

from __future__ import annotations

import yaml

from hermetic.lock.format import _yaml_lines

AWKWARD = [
    "*",
    "python *",
    ">=1.0",
    "pytorch::pytorch ==2.0.1",
    "https://conda.anaconda.org/conda-forge/",
    "- dash",
    "a: b",
    "x #comment",
    "'quoted'",
    '"double"',
    "true",
    "null",
    "123",
    "1.5",
    "1e5",
    "0123",
    "~",
    "@at",
    "`tick",
    "numpy ; python_version < '3.12'",
    "",
    " leading space",
    "trailing space ",
    "%percent",
    "{brace",
    "[bracket",
    "ok",
]


def test_block_round_trips_through_yaml():
    doc = {
        "hermetic": {
            "format": 1,
            "environments": {
                "default": {
                    "strings": AWKWARD,
                    "flags": {"no-build": True, "no-index": False},
                    "empty-list": [],
                    "empty-map": {},
                    "nested": {s or "x": s for s in AWKWARD},
                }
            },
        }
    }
    text = "".join(_yaml_lines(doc, 0))
    assert yaml.safe_load(text) == doc
