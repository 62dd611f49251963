"""Render an AST as canonical condition text.

Canonical means: every ``and``/``or``/``not`` group in parentheses, single
spaces, strings quoted only when they were quoted or must be, and always with
double quotes and libs' escapes. ``parse_condition(render(e)) == e`` holds for
every AST the parser produces, so the text doubles as a test oracle and as
what ``explain`` shows.
"""

from __future__ import annotations

from functools import singledispatch

from k8saudit_cli.engine.nodes import (
    And,
    Check,
    Const,
    FieldRef,
    ListItem,
    MacroRef,
    Not,
    Num,
    Or,
    Str,
    Transform,
    Val,
    ValueList,
)
from k8saudit_cli.engine.parser import lexical_pattern
from k8saudit_cli.engine.strings import FIELD_ARG_BARE

__all__ = ["quote", "render"]

# The escapes libs understands, for the characters that need one in a "-string.
_ESCAPES = str.maketrans(
    {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
)


def quote(text: str) -> str:
    """``text`` as a double-quoted string that unescapes back to ``text``."""
    return '"' + text.translate(_ESCAPES) + '"'


def _string(text: str, quoted: bool) -> str:
    """A value or list item: kept bare only when it was bare and still lexes as one.

    A bare string may contain a backspace but not start with one, since
    blanks (backspace included) are skipped before each token.
    """
    if not quoted and lexical_pattern("BARE").fullmatch(text) and text[0] != "\b":
        return text
    return quote(text)


@singledispatch
def render(node: object) -> str:
    """The canonical text of a condition or of any operand node."""
    raise TypeError(f"cannot render {type(node).__name__}")


@render.register
def _(node: And) -> str:
    return "(" + " and ".join(render(item) for item in node.items) + ")"


@render.register
def _(node: Or) -> str:
    return "(" + " or ".join(render(item) for item in node.items) + ")"


@render.register
def _(node: Not) -> str:
    return f"(not {render(node.operand)})"


@render.register
def _(node: MacroRef) -> str:
    # A macro named `not` followed by a blank would lex as the keyword.
    return "(not)" if node.name == "not" else node.name


@render.register
def _(node: Const) -> str:
    return "true" if node.value else "false"


@render.register
def _(node: Check) -> str:
    parts = [render(node.lhs), node.op]
    if node.modifier is not None:
        parts.append(node.modifier)
    if node.value is not None:
        parts.append(render(node.value))
    return " ".join(parts)


@render.register
def _(node: FieldRef) -> str:
    if node.arg is None:
        return node.name
    arg = node.arg if FIELD_ARG_BARE.fullmatch(node.arg) else quote(node.arg)
    return f"{node.name}[{arg}]"


@render.register
def _(node: Transform) -> str:
    return f"{node.name}({render(node.operand)})"


@render.register
def _(node: Val) -> str:
    return f"val({render(node.field)})"


@render.register
def _(node: Str) -> str:
    return _string(node.text, node.quoted)


@render.register
def _(node: Num) -> str:
    return node.text


@render.register
def _(node: ListItem) -> str:
    return _string(node.text, node.quoted)


@render.register
def _(node: ValueList) -> str:
    if node.ref and len(node.items) == 1 and _is_list_name(node.items[0]):
        return node.items[0].text
    return "(" + ", ".join(render(item) for item in node.items) + ")"


def _is_list_name(item: ListItem) -> bool:
    return not item.quoted and lexical_pattern("IDENT").fullmatch(item.text) is not None
