"""Typed access to a composed YAML document, each value with its line and its comments.

YAML is composed into nodes, not loaded, so each value keeps its line for messages and the
comments beside it (for `hermetic init` to carry over, and for conda's `# [linux]` selectors).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hermetic.errors import Location, SpecError
from hermetic.manifest.fields import Where, describe

if TYPE_CHECKING:
    import yaml


@dataclass(frozen=True)
class Comments:
    """The comments around one dependency line: whole lines above it, and one after it."""

    above: tuple[str, ...] = ()
    blank_before: bool = False
    after: str | None = None


def compose(text: str, display: str) -> tuple[yaml.Node | None, yaml.SafeLoader]:
    """The document's root node (None when empty), and the loader that builds its values."""
    import yaml

    from hermetic import safeyaml

    try:
        # aliases (a bomb), nesting, NUL and control characters are checked at their line
        loader, node = safeyaml.compose(text)
        return node, loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "invalid YAML"
        raise SpecError(
            f"invalid YAML: {problem}" + (f" ({exc.context})" if exc.context else ""),
            location=Location(display, mark.line + 1 if mark else None),
        ) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}", location=Location(display)) from None


class YamlNodes:
    def __init__(self, path: Path, text: str, loader: yaml.SafeLoader):
        self.path = str(path)
        self.base = Path(path).absolute().parent
        self.lines = text.splitlines()
        self.loader = loader

    def at(self, node: yaml.Node | None, key: str) -> Where:
        line = node.start_mark.line + 1 if node is not None else None
        return Where(self.path, line, key)

    def value(self, node: yaml.Node) -> object:
        try:
            value: object = self.loader.construct_object(node, deep=True)
        except Exception as exc:
            raise self.at(node, "value").error(f"invalid YAML value: {exc}") from None
        return value

    def mapping(self, node: yaml.Node | None, key: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        import yaml

        if not isinstance(node, yaml.MappingNode):
            what = describe(self.value(node)) if node is not None else "nothing"
            raise self.at(node, key).error(f"{key}: expected a mapping, got {what}")
        seen: dict[str, int] = {}
        out = []
        for knode, vnode in node.value:
            k = self.value(knode)
            if not isinstance(k, str):
                raise self.at(knode, key).error(f"{key}: keys must be strings, got {describe(k)}")
            if k in seen:
                raise self.at(knode, k).error(
                    f"{k!r} appears twice (first on line {seen[k]})",
                    hint="YAML would keep only the last one",
                )
            seen[k] = knode.start_mark.line + 1
            out.append((k, knode, vnode))
        return out

    def sequence(self, node: yaml.Node, key: str) -> list[yaml.Node]:
        import yaml

        if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
            return []
        if not isinstance(node, yaml.SequenceNode):
            raise self.at(node, key).error(
                f"{key}: expected a list, got {describe(self.value(node))}"
            )
        return list(node.value)

    def string(self, node: yaml.Node, key: str) -> str:
        import yaml

        v = self.value(node)
        if not isinstance(node, yaml.ScalarNode) or not isinstance(v, str):
            raise self.at(node, key).error(f"{key}: expected a string, got {describe(v)}")
        return v

    def comments_of(self, node: yaml.Node, prev_end: int) -> Comments:
        """Comment lines between the line `prev_end` (0-based, exclusive) and the node's line,
        and the comment after the node on its own line."""
        start = node.start_mark.line
        above: list[str] = []
        blank = False
        for raw in self.lines[prev_end:start]:
            s = raw.strip()
            if s.startswith("#"):
                above.append(s[1:].strip() if s[1:2] == " " or s == "#" else s[1:])
            elif not s:
                if not above:
                    blank = True
                else:
                    above.append("")
        while above and above[-1] == "":
            above.pop()
        after = None
        line = self.lines[node.end_mark.line] if node.end_mark.line < len(self.lines) else ""
        rest = line[node.end_mark.column :] if node.end_mark.line == start else ""
        m = re.search(r"(^|\s)#\s?(.*)$", rest)
        if m and m.group(2).strip():
            after = m.group(2).rstrip()
        return Comments(tuple(above), blank, after)

    def tail_after(self, prev_end: int, dnode: yaml.Node) -> Comments | None:
        """Comment lines after the last dependency, still indented under `dependencies:`."""
        above: list[str] = []
        for raw in self.lines[prev_end:]:
            s = raw.strip()
            if not s:
                continue
            if not s.startswith("#"):
                break
            col = len(raw) - len(raw.lstrip())
            if col == 0 and dnode.start_mark.column > 0:
                break
            above.append(s[1:].strip())
        return Comments(tuple(above), True) if above else None


def end_line(node: yaml.Node) -> int:
    """The 0-based line after the node (where the next node's comments may start)."""
    return int(node.end_mark.line) + (1 if node.end_mark.column > 0 else 0)
