"""Parse Falco condition text into the AST of :mod:`k8saudit_cli.engine.nodes`.

The grammar lives in ``condition.lark`` (LALR, contextual lexer, built once).
This module runs it and checks the nesting depth; :mod:`tree_to_nodes` turns
Lark's tree into our frozen nodes and :mod:`syntax_messages` turns Lark's
failures into :class:`ConditionSyntaxError` with libs' messages, so the Lark
tree and Lark's exceptions never leave these three modules.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from lark import Lark
from lark.exceptions import UnexpectedInput, VisitError

from k8saudit_cli.engine.depth import DEPTH_MESSAGE, MAX_LEVELS, too_deep
from k8saudit_cli.engine.nodes import Expr, ListItem, Span
from k8saudit_cli.engine.positions import span_at, syntax_error
from k8saudit_cli.engine.strings import BLANKS, FIELD_ARG_BARE
from k8saudit_cli.engine.syntax_messages import describe_failure
from k8saudit_cli.engine.tree_to_nodes import NodeBuilder
from k8saudit_cli.errors import ConditionSyntaxError

__all__ = [
    "FIELD_ARG_BARE",
    "MAX_LEVELS",
    "lexical_pattern",
    "parse_condition",
    "parse_value_items",
]


@cache
def _lark() -> Lark:
    """The LALR parser, built on first use and then shared.

    Built afresh in each process (about 30 ms), never loaded from Lark's
    cache: that cache is a pickle, and unpickling a file that someone else
    could write runs their code. A run whose conditions are all in the
    parse cache (:mod:`parsecache`) never builds it.
    """
    return Lark.open_from_package(
        "k8saudit_cli.engine",
        "condition.lark",
        parser="lalr",
        lexer="contextual",
        start=["start", "value_items"],
        maybe_placeholders=False,
        cache=False,
    )


@cache
def lexical_pattern(terminal: str) -> re.Pattern[str]:
    """The compiled regex of a grammar terminal (``BARE``, ``IDENT``, ``FIELD``...).

    Lets the renderer decide what may stay unquoted from the grammar itself,
    so the two cannot drift apart.
    """
    return re.compile(_lark().get_terminal(terminal).pattern.to_regexp())


def parse_condition(text: str) -> Expr:
    """Parse a whole condition into nodes with spans.

    Any text whatsoever either parses or raises :class:`ConditionSyntaxError`
    with libs' message and the offending position, so callers can report
    every bad macro or rule and go on. Blank text counts as empty.
    """
    if not text.strip(BLANKS):
        raise ConditionSyntaxError("filter input string is empty", text, 0, 1, 1)
    result: Expr = _build(text, "start")
    return result


def parse_value_items(text: str) -> tuple[ListItem, ...]:
    """Parse one raw rules-file list item as if pasted inside ``( ... )``.

    Falco pastes list items into the condition text, so an item may really
    be several (``a,b``) or a quoted one (``'"*"'``). An item with a space
    that does not start with a quote is wrapped in double quotes first, as
    Falco does; its content is then unescaped like any quoted string.
    """
    if " " in text and not text.startswith(('"', "'")):
        return _wrapped_item(text)
    if not text.strip(BLANKS):
        raise ConditionSyntaxError("expected a string value", text, 0, 1, 1)
    items: tuple[ListItem, ...] = _build(text, "value_items")
    return items


def _wrapped_item(text: str) -> tuple[ListItem, ...]:
    """Parse ``"text"`` and report spans and errors against ``text`` itself."""
    try:
        items: tuple[ListItem, ...] = _build(f'"{text}"', "value_items")
    except ConditionSyntaxError as exc:
        offset = min(max(exc.offset - 1, 0), len(text))
        raise syntax_error(exc.message, text, offset) from None
    # Usually one item, but a quote inside the text ends it early, as in Falco.
    return tuple(
        ListItem(item.text, item.quoted, span_at(text, *_unwrapped(item.span, len(text))))
        for item in items
    )


def _unwrapped(span: Span, length: int) -> tuple[int, int]:
    """Offsets in the text before the added opening quote."""
    return max(span.start - 1, 0), min(span.end - 1, length)


def _build(text: str, start: str) -> Any:
    """Parse, check the nesting depth, then turn the tree into nodes."""
    try:
        tree = _lark().parse(text, start=start)
    except UnexpectedInput as exc:
        raise describe_failure(text, exc) from None
    deep_at = too_deep([tree])
    if deep_at is not None:
        raise syntax_error(DEPTH_MESSAGE, text, deep_at)
    try:
        return NodeBuilder(text).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, ConditionSyntaxError):
            raise exc.orig_exc from None
        raise
