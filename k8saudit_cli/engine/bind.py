"""Check an expanded condition and bind it to fields and operators.

This is where Falco's load-time errors come from: unknown fields, bad field
arguments, operators a field type does not support, values that do not
convert, bad regexes, transformer type errors, ``val()`` mismatches. The
result is a small tree of bound nodes (:mod:`bound`) that the evaluators run.
What each operator accepts and means comes from the table in :mod:`operators`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from k8saudit_cli.engine.bound import (
    BAnd,
    BCheck,
    BConst,
    BField,
    BNot,
    BOr,
    Bound,
    Getter,
    Warning_,
)
from k8saudit_cli.engine.constants import convert, value_warnings
from k8saudit_cli.engine.nodes import (
    And,
    Check,
    Const,
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
from k8saudit_cli.engine.operators import LIST, OPERATORS, Operator, Predicate, modifier_predicate
from k8saudit_cli.engine.transformers import (
    TRANSFORMS,
    kind_of,
    list_getter,
    transform_getter,
    transformed_kind,
    type_name,
)
from k8saudit_cli.errors import ConditionError
from k8saudit_cli.fields import FieldError, resolve

# Re-exported: the bound nodes and the transformers used to live here.
__all__ = [
    "TRANSFORMS",
    "BAnd",
    "BCheck",
    "BConst",
    "BField",
    "BNot",
    "BOr",
    "Binder",
    "Bound",
    "Getter",
    "Warning_",
]

#: libs' wording of a left-hand kind in "operator not supported" (bools count as numeric).
_KIND_WORDS = {
    "string": "for string filters",
    "list": "list filters",
    "numeric": "for numeric filters",
    "bool": "for numeric filters",
}


@dataclass
class Binder:
    """Binds conditions; collects Falco's load-time warnings in :attr:`warnings`."""

    warnings: list[Warning_] = field(default_factory=list)
    fields_used: list[str] = field(default_factory=list)

    def bind(self, expr: Expr) -> Bound:
        if isinstance(expr, Check):
            return self._check(expr)
        if isinstance(expr, And):
            return BAnd(tuple(self.bind(e) for e in expr.items))
        if isinstance(expr, Or):
            return BOr(tuple(self.bind(e) for e in expr.items))
        if isinstance(expr, Not):
            return BNot(self.bind(expr.operand))
        if isinstance(expr, Const):
            return BConst(expr.value)
        if isinstance(expr, MacroRef):
            raise ConditionError(
                f"Undefined macro '{expr.name}' used in filter.", expr.span, "LOAD_ERR_VALIDATE"
            )
        raise ConditionError(f"unexpected node {type(expr).__name__}", None)

    # ---------------------------------------------------------------- fields

    def field_expr(self, node: FieldRef | Transform) -> BField:
        if isinstance(node, FieldRef):
            return self._field(node)
        inner = self.field_expr(node.operand)
        kind = transformed_kind(node.name, inner, node.span)
        elementwise = inner.kind == LIST and node.name != "len"
        return BField(
            f"{node.name}({inner.text})",
            inner.fdef,
            inner.arg,
            inner.extract,
            (*inner.transforms, node.name),
            kind,
            transform_getter(inner.get, TRANSFORMS[node.name], elementwise),
        )

    def _field(self, node: FieldRef) -> BField:
        try:
            fdef, extract = resolve(node.name, node.arg)
        except FieldError as exc:
            raise ConditionError(str(exc), node.span) from None
        text = node.name + (f"[{node.arg}]" if node.arg is not None else "")
        self.fields_used.append(text)
        kind = kind_of(fdef)
        get = list_getter(extract) if kind == LIST else extract
        return BField(text, fdef, node.arg, extract, (), kind, get)

    # ---------------------------------------------------------------- checks

    def _check(self, node: Check) -> BCheck:
        lhs = self.field_expr(node.lhs)
        op = OPERATORS.get(node.op)
        value = node.value
        if op is not None and self._is_legacy(lhs, op, value):
            return self._legacy_list_check(node, lhs, op)
        if op is None or lhs.kind not in op.accepts:
            raise ConditionError(
                f"filter error: '{node.op}' operator not supported {_KIND_WORDS[lhs.kind]}",
                node.span,
            )
        if op.kind == "unary":
            return BCheck(lhs, op, node)
        if isinstance(value, (Val, Transform)):
            return self._field_rhs(node, lhs, op, value)
        if node.modifier is not None:
            return self._modifier_check(node, lhs, op)
        const = self._constant(node, lhs, op)
        return BCheck(lhs, op, node, const, self._predicate(node, lhs, op, const))

    @staticmethod
    def _is_legacy(lhs: BField, op: Operator, value: object) -> bool:
        """An engine-v4 string operator on a list field (``resources contains x``)."""
        return lhs.kind == LIST and op.legacy_on_list is not None and isinstance(value, (Str, Num))

    def _constant(self, node: Check, lhs: BField, op: Operator) -> Any:
        """The converted right-hand side: one value, or the gathered list items."""
        value = node.value
        if isinstance(value, ValueList):
            if op.kind != "list":
                raise ConditionError(f"'{node.op}' operator does not take a list", node.span)
            return op.gather(self._convert_items(lhs, value.items, op))
        if not isinstance(value, (Str, Num)):
            raise ConditionError(f"missing value for operator '{node.op}'", node.span)
        one = self._convert(lhs, value.text, value.span, op)
        return op.gather([one]) if op.kind == "list" else one

    def _predicate(self, node: Check, lhs: BField, op: Operator, const: Any) -> Predicate:
        factory = op.on_list if lhs.kind == LIST else op.scalar
        assert factory is not None, f"operator {op.spelling} has no meaning on {lhs.kind}"
        try:
            return factory(const)
        except re.error as exc:
            where = node.value.span if node.value else node.span
            raise ConditionError(f"invalid regex pattern: {exc}", where) from None

    def _modifier_check(self, node: Check, lhs: BField, op: Operator) -> BCheck:
        """``op oneof|anyof|allof (a, b)``."""
        value, modifier = node.value, node.modifier
        assert modifier is not None
        if not isinstance(value, ValueList):
            raise ConditionError(f"'{node.op} {modifier}' needs a list", node.span)
        values = self._convert_items(lhs, value.items, op)
        try:
            pred = modifier_predicate(op, modifier, values)
        except re.error as exc:
            raise ConditionError(f"invalid regex pattern: {exc}", value.span) from None
        return BCheck(lhs, op, node, values, pred)

    def _legacy_list_check(self, node: Check, lhs: BField, op: Operator) -> BCheck:
        """Engine-v4 rule files use string operators on list fields (``resources contains x``).

        Falco 0.38+ refuses them; older Falco only failed at run time. We run
        them with the legacy meaning (``=``: the set of values is exactly the
        value; other operators: some element matches) and warn.
        """
        assert isinstance(node.value, (Str, Num)) and op.legacy_on_list is not None
        const = self._convert(lhs, node.value.text, node.value.span, op)
        whole = op.name in ("eq", "ne")  # the other operators test each element
        legacy = "the whole list equal to" if whole else "any element matching"
        self.warnings.append(
            Warning_(
                "LOAD_COMPILE_CONDITION",
                f"'{node.op}' on list field '{lhs.text}' is an engine-v4 form that Falco 0.38+ "
                f"rejects; evaluated as {legacy} '{const}' "
                "(use 'intersects' instead)",
                node.span,
            )
        )
        try:
            pred = op.legacy_on_list(const)
        except re.error as exc:
            raise ConditionError(f"invalid regex pattern: {exc}", node.value.span) from None
        return BCheck(lhs, op, node, const, pred)

    def _field_rhs(self, node: Check, lhs: BField, op: Operator, value: Val | Transform) -> BCheck:
        pair = op.pair_on_list if lhs.kind == LIST else op.pair
        if pair is None:
            raise ConditionError(
                f"operator '{node.op.upper()}' doesn't support right-hand side fields", node.span
            )
        rhs = self.field_expr(value.field if isinstance(value, Val) else value)
        if type_name(rhs) != type_name(lhs):
            raise ConditionError(
                f"field '{lhs.text}' has type '{type_name(lhs)}' while the right-hand side field "
                f"'{rhs.text}' has incompatible type '{type_name(rhs)}'",
                value.span,
            )
        return BCheck(lhs, op, node, None, None, rhs, pair)

    # ---------------------------------------------------------------- values

    def _convert_items(self, lhs: BField, items: tuple[ListItem, ...], op: Operator) -> list[Any]:
        return [self._convert(lhs, i.text, i.span, op) for i in items]

    def _convert(self, lhs: BField, text: str, span: Span, op: Operator) -> Any:
        self.warnings.extend(value_warnings(lhs, text, span, op))
        return convert(lhs, text, span)
