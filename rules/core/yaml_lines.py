"""Where in a YAML (or JSON) document a validation problem is: people fix a rule set in its text, so an
error that names `thresholds.2.low.0.severity` should also name the line it is on."""

from __future__ import annotations

from collections.abc import Sequence

import yaml


def document_root(text: str) -> yaml.Node | None:
    """The document's node tree (positions kept), or None when the text is not one YAML document."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None


def _child(node: yaml.Node, part: int | str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        return next((value for key, value in node.value if key.value == str(part)), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        child: yaml.Node = node.value[part]
        return child
    return None


def line_of(root: yaml.Node | None, location: Sequence[int | str]) -> int | None:
    """The 1-based line of the value at `location` (a pydantic error's `loc`); for a field that is missing
    or misnamed, the line of the deepest part of the path that exists."""
    node = root
    for part in location:
        child = None if node is None else _child(node, part)
        if child is None:
            break
        node = child
    return None if node is None else node.start_mark.line + 1
