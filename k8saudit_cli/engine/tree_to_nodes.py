"""Turn Lark's parse tree into the frozen nodes of :mod:`nodes`, with spans.

One method per grammar rule alias of ``condition.lark``; quoted strings are
unescaped here, so an escape libs rejects is reported at its backslash.
"""

from __future__ import annotations

from typing import Any

from lark import Token
from lark.visitors import Transformer_NonRecursive

from k8saudit_cli.engine.nodes import (
    And,
    Check,
    Expr,
    FieldRef,
    ListItem,
    MacroRef,
    Not,
    Num,
    Or,
    Span,
    Str,
    Transform,
    Val,
    ValueList,
)
from k8saudit_cli.engine.positions import syntax_error
from k8saudit_cli.engine.strings import BLANKS, BadEscape, unescape


def token_span(token: Token) -> Span:
    return Span(token.start_pos or 0, token.end_pos or 0, token.line or 1, token.column or 1)


def unescape_at(text: str, quoted: str, start: int) -> str:
    """Unescape ``quoted``, found at offset ``start`` of ``text``, for error positions."""
    try:
        return unescape(quoted)
    except BadEscape as bad:
        raise syntax_error(bad.message, text, start + bad.index) from None


class NodeBuilder(Transformer_NonRecursive[Token, Any]):
    """Turns Lark's tree into nodes, bottom-up and without recursion.

    One per parse: it holds the text so that escape errors get positions,
    and the spans of parenthesised operands including their parentheses, so
    that ``(a) and b`` spans from ``(`` without changing the span of ``a``.
    """

    def __init__(self, text: str) -> None:
        super().__init__(visit_tokens=False)
        self._text = text
        self._grouped: dict[int, Span] = {}

    def _span_of(self, part: Any) -> Span:
        if isinstance(part, Token):
            return token_span(part)
        span: Span = self._grouped.get(id(part), part.span)
        return span

    def _cover(self, first: Any, last: Any) -> Span:
        """From the start of ``first`` to the end of ``last`` (tokens or nodes)."""
        head, tail = self._span_of(first), self._span_of(last)
        return Span(head.start, tail.end, head.line, head.col)

    # booleans
    def start(self, children: list[Any]) -> Expr:
        expr: Expr = children[0]
        return expr

    def or_expr(self, children: list[Any]) -> Or:
        return Or(tuple(children), self._cover(children[0], children[-1]))

    def and_expr(self, children: list[Any]) -> And:
        return And(tuple(children), self._cover(children[0], children[-1]))

    def negation(self, children: list[Any]) -> Not:
        return Not(children[1], self._cover(children[0], children[1]))

    def group(self, children: list[Any]) -> Expr:
        inner: Expr = children[1]
        self._grouped[id(inner)] = self._cover(children[0], children[2])
        return inner

    def macro(self, children: list[Token]) -> MacroRef:
        return MacroRef(children[0].value, token_span(children[0]))

    # checks
    def unary_check(self, children: list[Any]) -> Check:
        lhs, op = children
        return Check(lhs, op.value, None, None, self._cover(lhs, op))

    def binary_check(self, children: list[Any]) -> Check:
        lhs, op, value = children
        return Check(lhs, op.value, value, None, self._cover(lhs, value))

    def modifier_check(self, children: list[Any]) -> Check:
        lhs, op, modifier, value = children
        return Check(lhs, op.value, value, modifier.value.rstrip(BLANKS), self._cover(lhs, value))

    # operands
    def field(self, children: list[Token]) -> FieldRef:
        return self._field(children[0])

    def transformer(self, children: list[Any]) -> Transform:
        opener, operand, closer = children
        return Transform(opener.value[:-1], operand, self._cover(opener, closer))

    def val(self, children: list[Token]) -> Val:
        opener, name, closer = children
        return Val(self._field(name), self._cover(opener, closer))

    def _field(self, token: Token) -> FieldRef:
        name, bracket, rest = token.value.partition("[")
        arg = rest[:-1] if bracket else None
        if arg and arg[0] in "'\"":
            arg = unescape_at(self._text, arg, (token.start_pos or 0) + len(name) + 1)
        return FieldRef(name, arg, token_span(token))

    # values
    def _unquote(self, token: Token) -> str:
        return unescape_at(self._text, token.value, token.start_pos or 0)

    def number(self, children: list[Token]) -> Num:
        return Num(children[0].value, token_span(children[0]))

    def quoted(self, children: list[Token]) -> Str:
        return Str(self._unquote(children[0]), True, token_span(children[0]))

    def bare(self, children: list[Token]) -> Str:
        return Str(children[0].value, False, token_span(children[0]))

    def quoted_item(self, children: list[Token]) -> ListItem:
        return ListItem(self._unquote(children[0]), True, token_span(children[0]))

    def bare_item(self, children: list[Token]) -> ListItem:
        return ListItem(children[0].value, False, token_span(children[0]))

    def value_list(self, children: list[Any]) -> ValueList:
        return ValueList(tuple(children[1:-1]), False, self._cover(children[0], children[-1]))

    def list_ref(self, children: list[Token]) -> ValueList:
        item = ListItem(children[0].value, False, token_span(children[0]))
        return ValueList((item,), True, item.span)

    def value_items(self, children: list[ListItem]) -> tuple[ListItem, ...]:
        return tuple(children)
