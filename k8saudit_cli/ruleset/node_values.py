"""Typed values out of one item's YAML nodes, with Falco's decoding error texts.

Every helper either returns the value or raises :class:`ItemError` pointing
at the node that is wrong; messages follow Falco's rule_loader_reader.cpp.
"""

from __future__ import annotations

import yaml

from k8saudit_cli.ruleset.read_context import ItemError
from k8saudit_cli.ruleset.yamlio import is_null, mapping_items, scalar_bool

#: An item's mapping: key text -> (key node, value node), in file order.
Entries = dict[str, tuple[yaml.Node, yaml.Node]]


def entries_of(node: yaml.MappingNode) -> Entries:
    return {k: (kn, v) for k, kn, v in mapping_items(node)}


def required_scalar(e: Entries, key: str, parent: yaml.Node, item_type: str | None = None) -> str:
    """The non-empty scalar text under ``key``; its absence is reported at ``parent``."""
    if key not in e:
        raise ItemError(f"Item has no mapping for key '{key}'", parent, item_type)
    node = e[key][1]
    if is_null(node):
        raise ItemError(f"Mapping for key '{key}' is empty", node, item_type)
    if not isinstance(node, yaml.ScalarNode):
        raise ItemError("Value is not a scalar value", node, item_type)
    if node.value == "":
        raise ItemError("Value must be non-empty", node, item_type)
    text: str = node.value
    return text


def flag(node: yaml.Node) -> bool:
    """A boolean in any of yaml-cpp's spellings."""
    value = scalar_bool(node.value) if isinstance(node, yaml.ScalarNode) else None
    if value is None:
        raise ItemError("Can't decode YAML scalar value", node)
    return value


def scalar_list(node: yaml.Node, item_type: str) -> list[str]:
    """A sequence of non-null scalars, as their texts."""
    if not isinstance(node, yaml.SequenceNode):
        raise ItemError("Value is not a sequence", node, item_type)
    out: list[str] = []
    for child in node.value:
        if not isinstance(child, yaml.ScalarNode) or is_null(child):
            raise ItemError("sequence value is not scalar", child, item_type)
        out.append(child.value)
    return out


def scalar_or_list(node: yaml.Node, item_type: str) -> list[str] | str:
    """One scalar text, or a sequence of them (an exception's ``fields`` and ``comps``)."""
    if isinstance(node, yaml.SequenceNode):
        return scalar_list(node, item_type)
    if isinstance(node, yaml.ScalarNode) and not is_null(node):
        text: str = node.value
        return text
    raise ItemError("Value is not a scalar value", node, item_type)


def scalar_text(node: yaml.Node) -> str | None:
    """The text of a non-null scalar, else ``None`` (no error: callers decide)."""
    if isinstance(node, yaml.ScalarNode) and not is_null(node):
        text: str = node.value
        return text
    return None
