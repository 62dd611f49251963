"""Turn a rule's exceptions into condition AST, as Falco pastes them onto the condition.

``fields: [a, b]`` with values ``[[x, y], ...]`` becomes
``(a = x and b = y) or ...``; a single ``field`` with ``comps: in`` becomes
``field in (values)``. The rule's condition is then ``cond and not (exc)``
per exception. Every node carries the exception as its origin so errors
point at the exception, not at the rule's condition text.
"""

from __future__ import annotations

from typing import Any

from k8saudit_cli.engine.bind import Binder
from k8saudit_cli.engine.expand import with_origin
from k8saudit_cli.engine.nodes import (
    And,
    Check,
    Expr,
    FieldExpr,
    FieldRef,
    ListItem,
    Or,
    RhsValue,
    Span,
    Str,
    Transform,
    ValueList,
)
from k8saudit_cli.engine.parsecache import parse_condition, parse_value_items
from k8saudit_cli.errors import ConditionError, ConditionSyntaxError
from k8saudit_cli.ruleset.comparisons import LIST_COMPS, is_modifier_comp
from k8saudit_cli.ruleset.items import ExceptionDef


def exception_condition(rule_name: str, ex: ExceptionDef) -> Expr | None:
    """The condition one exception stands for; ``None`` when it has no values."""
    span = Span(0, 0, origin=("exception", rule_name, ex.name))
    if isinstance(ex.fields, str):
        return _single_field(ex.fields, str(ex.comps), ex.values, span)
    return _field_tuples(list(ex.fields or []), list(ex.comps or []), ex.values, span)


def _single_field(fname: str, comp: str, values: list[object] | None, span: Span) -> Expr | None:
    """``fields: name``: one comparison against every value as one list."""
    if not values:
        return None
    items: list[ListItem] = []
    for v in values:
        if not isinstance(v, str):
            raise ConditionError(
                "Expected values array to contain a list of strings", span, "LOAD_ERR_VALIDATE"
            )
        items.extend(_value_items(v, span))
    return _check(_field(fname, span), comp, ValueList(tuple(items), False, span), span)


def _field_tuples(
    fields: list[str], comps: list[str], values: list[object] | None, span: Span
) -> Expr | None:
    """``fields: [a, b]``: each value tuple is an ``and`` of comparisons; tuples are or-ed."""
    groups: list[Expr] = []
    for tup in values or []:
        if not isinstance(tup, list) or len(tup) != len(fields):
            raise ConditionError(
                "Fields and values lists must have equal length", span, "LOAD_ERR_VALIDATE"
            )
        terms = [_term(f, c, v, span) for f, c, v in zip(fields, comps, tup, strict=False)]
        groups.append(_joined(And, terms, span))
    return _joined(Or, groups, span) if groups else None


def _term(fname: str, comp: str, value: Any, span: Span) -> Expr:
    lhs = _field(fname, span)
    if isinstance(value, list):
        items = tuple(i for v in value for i in _value_items(str(v), span))
        return _check(lhs, comp, ValueList(items, False, span), span)
    if comp in LIST_COMPS or is_modifier_comp(comp):
        if value.startswith("(") and value.endswith(")"):
            items = _parenthesised_items(value, span)
        else:
            items = _value_items(value, span)
        return _check(lhs, comp, ValueList(items, False, span), span)
    return _check(lhs, comp, Str(_unquote(value), True, span), span)


def _field(text: str, span: Span) -> FieldExpr:
    """An exception's field, checked on its own as Falco does (before the condition)."""
    check: Expr | None
    try:
        check = parse_condition(f"{text} exists")
    except ConditionSyntaxError:
        check = None
    if isinstance(check, Check):
        try:
            Binder().field_expr(check.lhs)
        except ConditionError:
            check = None
    if not isinstance(check, Check):
        raise ConditionError(f"'{text}' is not a supported filter field", span, "LOAD_ERR_VALIDATE")
    lhs = with_origin(check.lhs, span.origin)
    assert isinstance(lhs, (FieldRef, Transform))
    return lhs


def _check(lhs: FieldExpr, comp: str, value: RhsValue, span: Span) -> Check:
    """``comp`` may carry a modifier: ``startswith oneof``."""
    parts = comp.split()
    if len(parts) == 2:
        return Check(lhs, parts[0], value, parts[1], span)
    return Check(lhs, comp, value, None, span)


def _joined(kind: type[And | Or], items: list[Expr], span: Span) -> Expr:
    """``And``/``Or`` of ``items``, or the item itself when there is one
    (a one-item group would not survive rendering and parsing back)."""
    return items[0] if len(items) == 1 else kind(tuple(items), span)


def _parenthesised_items(text: str, span: Span) -> tuple[ListItem, ...]:
    """A value written as ``(a, "b c")``: Falco pastes it as a list, so read it
    with the condition grammar's own list syntax."""
    try:
        check = parse_condition(f"x.x in {text}")
    except ConditionSyntaxError:
        return (ListItem(text, True, span),)
    if not isinstance(check, Check) or not isinstance(check.value, ValueList):
        return (ListItem(text, True, span),)
    return tuple(ListItem(i.text, i.quoted, span) for i in check.value.items)


def _value_items(text: str, span: Span) -> tuple[ListItem, ...]:
    """One exception value as list items: a list name stays a bare item (expanded later).

    Falco quotes a value holding a space (and pastes the rest as written).
    """
    if " " in text and not text.startswith(("'", '"')):
        return (ListItem(text, True, span),)
    try:
        return tuple(ListItem(i.text, i.quoted, span) for i in parse_value_items(text))
    except ConditionSyntaxError:
        return (ListItem(text, True, span),)


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        try:
            items = parse_value_items(text)
        except ConditionSyntaxError:
            return text
        if len(items) == 1 and items[0].quoted:
            return items[0].text
    return text
