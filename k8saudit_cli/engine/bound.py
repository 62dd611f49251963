"""Bound conditions: what the binder hands the evaluators, the code generator and the index.

A bound check knows its field (with extractor and getter), its operator row,
its converted constant and its predicate; it keeps the AST check it came
from, whose span says where it was written (the rule, a macro, an exception).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Union

from k8saudit_cli.engine.labels import check_text, label, origin_text
from k8saudit_cli.engine.nodes import Check, Span
from k8saudit_cli.engine.operators import Operator, Pair, Predicate
from k8saudit_cli.fields import FieldDef

#: event -> value, MISSING for not-available or an empty list.
Getter = Callable[[Any], Any]


@dataclass(frozen=True)
class BField:
    """A left- or right-hand field expression: a field, its argument, and transformers."""

    text: str
    fdef: FieldDef
    arg: str | None
    extract: Callable[[Any], Any]
    transforms: tuple[str, ...]
    kind: str
    get: Getter  # event -> value, MISSING for not-available or an empty list

    @property
    def plain(self) -> bool:
        return not self.transforms


@dataclass(frozen=True)
class BCheck:
    lhs: BField
    operator: Operator
    node: Check
    const: Any = None  # converted constant (str, int, bool, frozenset, list)
    pred: Predicate | None = None
    rhs: BField | None = None
    pair: Pair | None = None

    @property
    def op(self) -> str:
        return self.operator.spelling

    @property
    def origin(self) -> object:
        """Which text the check was written in: ``("macro", name)``, ``("rule", name)``..."""
        return self.node.span.origin

    # Cached: the code generator writes these once per group it compiles.
    @cached_property
    def label_parts(self) -> tuple[str, str]:
        """The check as written, and the macro or exception it was written in."""
        return check_text(self.node), origin_text(self.origin)

    @cached_property
    def label(self) -> str:
        """One line for a comment: ``ka.verb = create  [macro kcreate]``."""
        return label(*self.label_parts)


@dataclass(frozen=True)
class BAnd:
    items: tuple[Bound, ...]


@dataclass(frozen=True)
class BOr:
    items: tuple[Bound, ...]


@dataclass(frozen=True)
class BNot:
    operand: Bound


@dataclass(frozen=True)
class BConst:
    value: bool


Bound = Union[BCheck, BAnd, BOr, BNot, BConst]


@dataclass
class Warning_:
    """A load-time warning with Falco's code, pointing at the text that caused it."""

    code: str
    message: str
    span: Span | None
