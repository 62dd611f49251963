"""Expand list references and macro references on the AST.

Falco substitutes lists as text before parsing; doing it on the AST keeps
every span pointing at what the author wrote and never touches quoted
strings (a Falco quirk we deliberately drop, see docs/rules-language.md).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

from k8saudit_cli.engine.nodes import (
    And,
    Check,
    Const,
    Expr,
    ListItem,
    MacroRef,
    Not,
    Or,
    Span,
    Str,
    ValueList,
)
from k8saudit_cli.errors import ConditionError

#: A list's raw items (as written in YAML) by list name.
ListTable = Mapping[str, Sequence[str]]
#: Turns one raw list item into value-list items (the parser's item grammar).
ItemParser = Callable[[str], tuple[ListItem, ...]]


class ListExpander:
    """Replace list names inside value lists with the lists' items, recursively.

    Records which lists were used (for Falco's "unused list" warnings).
    """

    def __init__(self, lists: ListTable, parse_items: ItemParser) -> None:
        self.lists = lists
        self.parse_items = parse_items
        self.used: set[str] = set()
        self._cache: dict[str, tuple[ListItem, ...]] = {}

    def items_of(self, name: str, span: Span, trail: tuple[str, ...] = ()) -> tuple[ListItem, ...]:
        """The fully expanded items of list ``name``; a list that contains itself keeps the name."""
        self.used.add(name)
        if name in self._cache:
            return self._cache[name]
        out: list[ListItem] = []
        for raw in self.lists[name]:
            for item in self._parse(raw, span):
                if not item.quoted and item.text in self.lists and item.text not in (*trail, name):
                    out.extend(self.items_of(item.text, span, (*trail, name)))
                else:
                    out.append(item)
        result = tuple(out)
        if not trail:
            self._cache[name] = result
        return result

    def _parse(self, raw: str, span: Span) -> tuple[ListItem, ...]:
        if " " in raw and not raw.startswith(("'", '"')):
            return (ListItem(raw, True, span),)
        return tuple(dataclasses.replace(i, span=span) for i in self.parse_items(raw))

    def expand(self, expr: Expr) -> Expr:
        return _map_checks(expr, self._check)

    def expand_list_items(self, items: Sequence[ListItem]) -> tuple[ListItem, ...]:
        out: list[ListItem] = []
        for item in items:
            if not item.quoted and item.text in self.lists:
                out.extend(self.items_of(item.text, item.span))
            else:
                out.append(item)
        return tuple(out)

    def _check(self, check: Check) -> Check:
        value = check.value
        if isinstance(value, ValueList):
            items = self.expand_list_items(value.items)
            # `in mylist` stops being a reference once the name is replaced by items
            new = ValueList(items, value.ref and items == value.items, value.span)
            return dataclasses.replace(check, value=new)
        if isinstance(value, Str) and not value.quoted and value.text in self.lists:
            items = self.items_of(value.text, value.span)
            if len(items) != 1:
                raise ConditionError(
                    f"list '{value.text}' has {len(items)} items and cannot stand for a single "
                    "value; "
                    f"compare with 'in ({value.text})' instead",
                    value.span,
                )
            return dataclasses.replace(check, value=Str(items[0].text, items[0].quoted, value.span))
        return check


def _map_checks(expr: Expr, fn: Callable[[Check], Expr]) -> Expr:
    if isinstance(expr, Check):
        return fn(expr)
    if isinstance(expr, And):
        return And(tuple(_map_checks(e, fn) for e in expr.items), expr.span)
    if isinstance(expr, Or):
        return Or(tuple(_map_checks(e, fn) for e in expr.items), expr.span)
    if isinstance(expr, Not):
        return Not(_map_checks(expr.operand, fn), expr.span)
    return expr


MacroResolver = Callable[[str, Span], Expr]


def expand_macros(expr: Expr, resolve: MacroResolver) -> Expr:
    """Replace every macro reference with the (already expanded) body ``resolve`` gives."""
    if isinstance(expr, MacroRef):
        return resolve(expr.name, expr.span)
    if isinstance(expr, And):
        return And(tuple(expand_macros(e, resolve) for e in expr.items), expr.span)
    if isinstance(expr, Or):
        return Or(tuple(expand_macros(e, resolve) for e in expr.items), expr.span)
    if isinstance(expr, Not):
        return Not(expand_macros(expr.operand, resolve), expr.span)
    return expr


def macro_refs(expr: Expr) -> list[MacroRef]:
    """Macro references in ``expr``, in order (before expansion)."""
    if isinstance(expr, MacroRef):
        return [expr]
    if isinstance(expr, (And, Or)):
        return [r for e in expr.items for r in macro_refs(e)]
    if isinstance(expr, Not):
        return macro_refs(expr.operand)
    return []


def with_origin(expr: object, origin: object) -> object:
    """A copy of ``expr`` whose spans all say they refer to ``origin``'s text."""
    if expr.__class__ is Span:
        assert isinstance(expr, Span)
        return Span(expr.start, expr.end, expr.line, expr.col, origin)
    if isinstance(expr, tuple):
        return tuple(with_origin(e, origin) for e in expr)
    names = _field_names(type(expr))
    if names:
        return type(expr)(**{name: with_origin(getattr(expr, name), origin) for name in names})
    return expr


#: Field names of each node class met (``()``: not a dataclass), looked up once per class.
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    """The fields of a dataclass node, ``()`` for anything else: every rule's macros are
    copied node by node at load time, and ``dataclasses.fields`` is slow."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        found = dataclasses.fields(cls) if dataclasses.is_dataclass(cls) else ()
        names = _FIELD_NAMES[cls] = tuple(f.name for f in found)
    return names


__all__ = ["Const", "ListExpander", "expand_macros", "macro_refs", "with_origin"]
