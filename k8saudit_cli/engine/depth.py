"""How deep a condition may nest, checked on Lark's tree before any recursive pass.

Counted two ways, each stopping at :data:`MAX_LEVELS`: parentheses, as libs
does (its recursive descent spends about five steps per group and stops at
1000, hence its message), and nested and/or/not/transformer nodes, which is
what every later recursive pass walks (so ``not not ... a`` cannot blow
Python's stack either). Rendering puts parentheses only around such nodes,
so canonical text of a parsed condition always parses again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lark import Token, Tree

MAX_LEVELS = 200
DEPTH_MESSAGE = "exceeded max depth limit of 1000"

# Tree nodes that become nested AST nodes (parentheses are counted apart).
_NODE_RULES = frozenset({"and_expr", "or_expr", "negation", "transformer"})


def _first_offset(node: Any) -> int:
    """Start offset of the leftmost token under ``node``."""
    while isinstance(node, Tree) and node.children:
        node = node.children[0]
    return (node.start_pos or 0) if isinstance(node, Token) else 0


def too_deep(items: Iterable[Any], groups: int = 0, nodes: int = 0) -> int | None:
    """Offset where nesting under ``items`` (already inside ``groups`` parentheses
    and ``nodes`` nodes) reaches :data:`MAX_LEVELS`, or None.

    Iterative on purpose: it guards against trees too deep to recurse into.
    """
    stack = [(item, groups, nodes) for item in items]
    while stack:
        node, inside_groups, inside_nodes = stack.pop()
        if not isinstance(node, Tree):
            continue
        inside_groups += node.data == "group"
        inside_nodes += node.data in _NODE_RULES
        if max(inside_groups, inside_nodes) >= MAX_LEVELS:
            return _first_offset(node)
        stack.extend((child, inside_groups, inside_nodes) for child in node.children)
    return None


def stack_too_deep(stack: list[Any]) -> int | None:
    """Like :func:`too_deep` for an unfinished parse, whose value stack holds the
    still-open ``(``, ``not`` and transformer tokens between finished subtrees."""
    openers: list[str] = []
    groups = nodes = 0
    for item in stack:
        if isinstance(item, Tree):
            where = too_deep([item], groups, nodes)
            if where is not None:
                return where
            continue
        kind = getattr(item, "type", "")
        if kind == "RPAR" and openers:
            closed = openers.pop()
            groups -= closed == "LPAR"
            nodes -= closed == "TRANSFORMER"
            continue
        if kind in ("LPAR", "TRANSFORMER", "VAL"):
            openers.append(kind)
        groups += kind == "LPAR"
        nodes += kind in ("NOT", "TRANSFORMER")
        if max(groups, nodes) >= MAX_LEVELS:
            return int(item.start_pos or 0)
    return None
