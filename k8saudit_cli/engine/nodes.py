"""The condition AST: small frozen dataclasses that keep their source spans.

The Lark tree never leaves the parser; every later pass (list and macro
expansion, checking, compiling, rendering) works on these nodes. ``span``
is excluded from equality so that ``parse(render(ast)) == ast`` compares
structure, not positions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union


@dataclass(frozen=True)
class Span:
    """Where a node was written: 0-based offsets into the condition text,
    1-based line and column of ``start``."""

    start: int
    end: int
    line: int = 1
    col: int = 1
    #: Which text the offsets refer to (set by the rules loader for macro
    #: bodies and exceptions inlined into a rule); ``None`` = the text parsed.
    origin: object = None


NO_SPAN = Span(0, 0, 1, 1)


def _span() -> Span:
    return field(default=NO_SPAN, compare=False, repr=False)


# ---------------------------------------------------------------- operands


@dataclass(frozen=True)
class FieldRef:
    """A field with its optional argument: ``ka.uri.param[watch]``.

    ``arg`` is the argument text after unquoting (``None`` when absent).
    """

    name: str
    arg: str | None = None
    span: Span = _span()


@dataclass(frozen=True)
class Transform:
    """A transformer applied to a field or to another transformer: ``tolower(ka.verb)``."""

    name: str  # tolower | toupper | b64 | basename | len
    operand: FieldExpr
    span: Span = _span()


FieldExpr = Union[FieldRef, Transform]


@dataclass(frozen=True)
class Val:
    """``val(field)`` on the right-hand side: compare with another field of the same event."""

    field: FieldRef
    span: Span = _span()


@dataclass(frozen=True)
class Str:
    """A string value; ``quoted`` records how it was written (for rendering and warnings)."""

    text: str
    quoted: bool = False
    span: Span = _span()


@dataclass(frozen=True)
class Num:
    """A number token, kept as written (``400``, ``0x10``, ``1.5e+3``)."""

    text: str
    span: Span = _span()


@dataclass(frozen=True)
class ListItem:
    """One element of a value list: a string, or the name of a list (``bare`` and unquoted)."""

    text: str
    quoted: bool = False
    span: Span = _span()


@dataclass(frozen=True)
class ValueList:
    """``(a, "b c", mylist)``; ``ref`` is set when written as a bare identifier (``in mylist``)."""

    items: tuple[ListItem, ...]
    ref: bool = False
    span: Span = _span()


RhsValue = Union[Str, Num, ValueList, Val, Transform]


# ---------------------------------------------------------------- booleans


@dataclass(frozen=True)
class Check:
    """``lhs op value``; ``value`` is ``None`` for the unary ``exists``."""

    lhs: FieldExpr
    op: str
    value: RhsValue | None = None
    modifier: str | None = None  # oneof | anyof | allof (Falco 0.44), value is a ValueList
    span: Span = _span()


@dataclass(frozen=True)
class MacroRef:
    """An identifier in a boolean position: a macro to be expanded."""

    name: str
    span: Span = _span()


@dataclass(frozen=True)
class Not:
    operand: Expr
    span: Span = _span()


@dataclass(frozen=True)
class And:
    items: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Or:
    items: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Const:
    """A constant truth value; only produced by passes (never parsed)."""

    value: bool
    span: Span = _span()


Expr = Union[Check, MacroRef, Not, And, Or, Const]
