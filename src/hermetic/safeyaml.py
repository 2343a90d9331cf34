"""YAML that a hostile file cannot turn into a memory or CPU bomb.

PyYAML shares an aliased node instead of copying it, but every reader that walks the result
(hermetic's own, `yaml.safe_dump`, a dict comparison) pays for the full expansion: nine
levels of nine aliases are 430 bytes that stand for 387 million nodes. So the composed node
graph is measured first, in time linear in its size, and refused when aliases add more than
`MAX_ALIAS_EXPANSION` nodes. Deep nesting and NUL characters are refused too.
Every refusal is a `yaml.MarkedYAMLError`, so callers report it at its line like any other
YAML error.
"""

from __future__ import annotations

from typing import Any

#: nodes that aliases may add beyond the document's own (a real file rarely needs any)
MAX_ALIAS_EXPANSION = 10_000
#: nesting deeper than this is refused before the recursive composer and constructor see it
MAX_DEPTH = 200


def loader(text: str) -> Any:
    """A safe loader over `text` (the C one when available)."""
    import yaml

    cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return cls(text)


def compose(text: str) -> tuple[Any, Any]:
    """(loader, root node) of a one-document YAML text; raises `yaml.YAMLError`.

    The caller disposes of the loader; its `construct_object(node, deep=True)` builds
    values from nodes."""
    import yaml

    _check_depth(text)
    try:
        ld = loader(text)
    except yaml.reader.ReaderError as exc:  # a control character: give it its line
        raise _error(
            f"unacceptable character #x{exc.character:04x}: control characters are not allowed",
            _mark(text, exc.position),
        ) from None
    except (ValueError, UnicodeError) as exc:  # a reader error outside PyYAML's classes
        raise yaml.YAMLError(str(exc)) from None
    try:
        node = ld.get_single_node()
    except yaml.reader.ReaderError as exc:
        ld.dispose()
        raise _error(
            f"unacceptable character #x{exc.character:04x}: control characters are not allowed",
            _mark(text, exc.position),
        ) from None
    except RecursionError:
        ld.dispose()
        raise _error("the YAML is nested too deeply", None) from None
    except BaseException:
        ld.dispose()
        raise
    if node is not None:
        check_expansion(node)
    return ld, node


def load(text: str) -> Any:
    """The data of a one-document YAML text, checked as `compose` checks it."""
    import yaml

    ld, node = compose(text)
    try:
        return None if node is None else ld.construct_document(node)
    except RecursionError:
        raise _error("the YAML is nested too deeply", None) from None
    except (ValueError, TypeError) as exc:
        raise yaml.YAMLError(str(exc)) from None
    finally:
        ld.dispose()


def check_expansion(root: Any) -> None:
    """Refuse a node graph whose aliases expand to more than `MAX_ALIAS_EXPANSION` extra
    nodes, or that holds a NUL character (no path, name or value may have one)."""
    sizes: dict[int, int] = {}
    order: list[Any] = []
    stack = [root]
    seen: set[int] = set()
    while stack:  # iterative post-order: a deep or wide graph never recurses
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        order.append(node)
        stack.extend(_children(node))
    for node in order:
        if isinstance(node.value, str) and "\0" in node.value:
            raise _error("a NUL character in a value", node.start_mark)
    for node in reversed(order):
        sizes[id(node)] = 1 + sum(sizes.get(id(c), 1) for c in _children(node))
        if sizes[id(node)] - len(order) > MAX_ALIAS_EXPANSION:
            raise _error(
                f"aliases expand to more than {MAX_ALIAS_EXPANSION} extra nodes "
                "(a YAML alias bomb?)",
                node.start_mark,
            )


def _children(node: Any) -> list[Any]:
    import yaml

    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _check_depth(text: str) -> None:
    """Count bracket and indentation nesting cheaply, before any recursive parser runs."""
    depth = 0
    deepest = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth = max(0, depth - 1)
    if deepest > MAX_DEPTH:
        raise _error(f"the YAML is nested more than {MAX_DEPTH} levels deep", None)


def _error(problem: str, mark: Any) -> Exception:
    import yaml

    return yaml.MarkedYAMLError(problem=problem, problem_mark=mark)


def _mark(text: str, position: int) -> Any:
    import yaml

    line = text.count("\n", 0, position)
    column = position - (text.rfind("\n", 0, position) + 1)
    return yaml.Mark("<input>", position, line, column, None, 0)
