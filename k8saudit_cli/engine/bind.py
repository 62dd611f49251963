"""Check an expanded condition and bind it to fields and operators.

This is where Falco's load-time errors come from: unknown fields, bad field
arguments, operators a field type does not support, values that do not
convert, bad regexes, transformer type errors, ``val()`` mismatches. The
result is a small tree of bound nodes that the evaluators run.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Union

from k8saudit_cli.engine import operators as ops
from k8saudit_cli.engine.nodes import (
    And,
    Check,
    Const,
    Expr,
    FieldRef,
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
from k8saudit_cli.errors import ConditionError
from k8saudit_cli.fields import MISSING, FieldDef, FieldError, FieldType, resolve

Getter = Callable[[Any], Any]
_NA_OPS = frozenset({"=", "==", "!=", "in", "intersects", "pmatch"})
#: libs' names of the field types (param_type_to_string), for messages.
_TYPE_NAMES = {
    FieldType.STRING: "CHARBUF",
    FieldType.UINT64: "UINT64",
    FieldType.ABSTIME: "ABSTIME",
    FieldType.RELTIME: "RELTIME",
    FieldType.BOOL: "BOOL",
}


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
    op: str
    node: Check
    const: Any = None  # converted constant (str, int, bool, frozenset, list)
    pred: Callable[[Any], bool] | None = None
    rhs: BField | None = None
    pair: Callable[[Any, Any], bool] | None = None


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
    code: str
    message: str
    span: Span | None


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
            try:
                fdef, extract = resolve(node.name, node.arg)
            except FieldError as exc:
                raise ConditionError(str(exc), node.span) from None
            text = node.name + (f"[{node.arg}]" if node.arg is not None else "")
            self.fields_used.append(text)
            kind = _kind(fdef)
            get = _list_getter(extract) if kind == ops.LIST else extract
            return BField(text, fdef, node.arg, extract, (), kind, get)
        inner = self.field_expr(node.operand)
        kind = _transformed_kind(node.name, inner, node.span)
        fn = TRANSFORMS[node.name]
        get = _transform_getter(inner.get, fn, inner.kind == ops.LIST and node.name != "len")
        return BField(
            f"{node.name}({inner.text})",
            inner.fdef,
            inner.arg,
            inner.extract,
            (*inner.transforms, node.name),
            kind,
            get,
        )

    # ---------------------------------------------------------------- checks

    def _check(self, node: Check) -> BCheck:
        lhs = self.field_expr(node.lhs)
        op = node.op
        if (
            lhs.kind == ops.LIST
            and op in ops.LEGACY_LIST_OPS
            and isinstance(node.value, (Str, Num))
        ):
            return self._legacy_list_check(node, lhs)
        if op not in ops.ALLOWED[lhs.kind]:
            # libs names bool fields "numeric filters" in this message too.
            kind = {
                ops.STR: "for string filters",
                ops.LIST: "list filters",
                ops.NUM: "for numeric filters",
                ops.BOOL: "for numeric filters",
            }[lhs.kind]
            raise ConditionError(f"filter error: '{op}' operator not supported {kind}", node.span)
        if op == "exists":
            return BCheck(lhs, op, node)
        value = node.value
        if isinstance(value, (Val, Transform)):
            return self._field_rhs(node, lhs, value)
        if node.modifier is not None:
            if not isinstance(value, ValueList):
                raise ConditionError(f"'{op} {node.modifier}' needs a list", node.span)
            values = [self._convert(lhs, i.text, i.span, op) for i in value.items]
            try:
                pred = ops.modifier_predicate(op, node.modifier, values, lhs.kind)
            except re.error as exc:
                raise ConditionError(f"invalid regex pattern: {exc}", value.span) from None
            return BCheck(lhs, op, node, values, pred)
        if isinstance(value, ValueList):
            if op not in ("in", "intersects", "pmatch"):
                raise ConditionError(f"'{op}' operator does not take a list", node.span)
            members = [self._convert(lhs, i.text, i.span, op) for i in value.items]
            const: Any = members if op == "pmatch" else frozenset(members)
        elif isinstance(value, (Str, Num)):
            if op in ("in", "intersects", "pmatch"):
                const = [self._convert(lhs, value.text, value.span, op)]
                const = const if op == "pmatch" else frozenset(const)
            else:
                const = self._convert(lhs, value.text, value.span, op)
        else:
            raise ConditionError(f"missing value for operator '{op}'", node.span)
        return BCheck(lhs, op, node, const, self._predicate(lhs, op, const, node))

    def _legacy_list_check(self, node: Check, lhs: BField) -> BCheck:
        """Engine-v4 rule files use string operators on list fields (``resources contains x``).

        Falco 0.38+ refuses them; older Falco only failed at run time. We run
        them with the legacy meaning (``=``: the set of values is exactly the
        value; other operators: some element matches) and warn.
        """
        assert isinstance(node.value, (Str, Num))
        const = self._convert(lhs, node.value.text, node.value.span, node.op)
        legacy = (
            "the whole list equal to" if node.op in ("=", "==", "!=") else "any element matching"
        )
        self.warnings.append(
            Warning_(
                "LOAD_COMPILE_CONDITION",
                f"'{node.op}' on list field '{lhs.text}' is an engine-v4 form that Falco 0.38+ "
                f"rejects; evaluated as {legacy} '{const}' (use 'intersects' instead)",
                node.span,
            )
        )
        try:
            pred = ops.legacy_list_predicate(node.op, const)
        except re.error as exc:
            raise ConditionError(f"invalid regex pattern: {exc}", node.value.span) from None
        return BCheck(lhs, node.op, node, const, pred)

    def _predicate(self, lhs: BField, op: str, const: Any, node: Check) -> Callable[[Any], bool]:
        if lhs.kind == ops.LIST:
            return ops.list_predicate(op, const)
        if lhs.kind in (ops.NUM, ops.BOOL):
            return ops.numeric_predicate(op, const)
        try:
            return ops.string_predicate(op, const)
        except re.error as exc:
            raise ConditionError(
                f"invalid regex pattern: {exc}", node.value.span if node.value else node.span
            ) from None

    def _field_rhs(self, node: Check, lhs: BField, value: Val | Transform) -> BCheck:
        if node.op in ("pmatch", "regex"):
            raise ConditionError(
                f"operator '{node.op.upper()}' doesn't support right-hand side fields", node.span
            )
        rhs = self.field_expr(value.field if isinstance(value, Val) else value)
        if _type_name(rhs) != _type_name(lhs):
            raise ConditionError(
                f"field '{lhs.text}' has type '{_type_name(lhs)}' while the right-hand side field "
                f"'{rhs.text}' has incompatible type '{_type_name(rhs)}'",
                value.span,
            )
        return BCheck(lhs, node.op, node, None, None, rhs, ops.field_predicate(node.op, lhs.kind))

    def _convert(self, lhs: BField, text: str, span: Span, op: str) -> Any:
        self._warn_value(lhs, text, span, op)
        if lhs.kind == ops.NUM:
            number = _parse_u64(text)
            if number is None:
                raise ConditionError(f"{text} is not a valid number", span)
            return number
        if lhs.kind == ops.BOOL:
            if text not in ("true", "false"):
                raise ConditionError(f"filter error: unrecognized boolean value {text}", span)
            return text == "true"
        if "\x00" in text:
            raise ConditionError("filter error: value contains a NUL character", span)
        return text

    def _warn_value(self, lhs: BField, text: str, span: Span, op: str) -> None:
        if text == "<NA>" and op in _NA_OPS and lhs.fdef.name.startswith(("ka.", "jevt.")):
            self.warnings.append(Warning_("LOAD_UNSAFE_NA_CHECK", "", span))
        if op == "regex" and _regex_is_plain(text):
            self.warnings.append(
                Warning_(
                    "LOAD_COMPILE_CONDITION",
                    f"regex check with '{text}' may be optimized with simpler operators such as "
                    "'=', 'contains', 'startswith', 'endswith'",
                    span,
                )
            )
        squeezed = "".join(text.split())
        if _TRANSFORMER_TEXT.fullmatch(squeezed):
            self.warnings.append(
                Warning_(
                    "LOAD_COMPILE_CONDITION",
                    f"'{text}' may be a valid field transformer misused as a const string value",
                    span,
                )
            )
        if "." in squeezed:
            name = squeezed.split("[", 1)[0]
            try:
                resolve(name, None)
                looks_like_field = True
            except FieldError as exc:
                looks_like_field = exc.kind == "arg"
            if looks_like_field:
                self.warnings.append(
                    Warning_(
                        "LOAD_COMPILE_CONDITION",
                        f"'{text}' may be a valid field misused as a const string value",
                        span,
                    )
                )


_U64 = re.compile(r"[ \t\n\v\f\r]*([+-]?)([0-9]+)\Z")
_U64_MAX = 2**64 - 1


def _parse_u64(text: str) -> int | None:
    """libs' ``sscanf("%lu%c")``: leading blanks, an optional sign, digits and
    nothing after; a minus wraps around as strtoull does, overflow saturates."""
    m = _U64.match(text)
    if m is None:
        return None
    value = int(m.group(2))
    if value > _U64_MAX:
        return _U64_MAX
    return (-value) % 2**64 if m.group(1) == "-" else value


_REGEX_SPECIALS = frozenset(".+*?^$()[]{}|\\")
_TRANSFORMER_TEXT = re.compile(
    r"(?:val|tolower|toupper|b64|basename|len|join|concat|getopt)\(.*\)", re.DOTALL
)


def _regex_is_plain(pattern: str) -> bool:
    """libs' heuristic: no regex specials apart from ``^``/``$`` anchors at the ends
    and ``.*``, ``.+``, ``.?`` at the start or end, so a simpler operator would do."""
    n, i = len(pattern), 0
    while i < n:
        c = pattern[i]
        if (i == 0 and c == "^") or (i == n - 1 and c == "$"):
            i += 1
            continue
        if (
            ((i == 0 and n > 1) or i == n - 2)
            and c == "."
            and i + 1 < n
            and pattern[i + 1] in "+*?"
        ):
            i += 2
            continue
        if c in _REGEX_SPECIALS:
            return False
        i += 1
    return True


# ---------------------------------------------------------------- kinds and transformers


def _kind(fdef: FieldDef) -> str:
    if fdef.is_list:
        return ops.LIST
    if fdef.type.is_numeric:
        return ops.NUM
    if fdef.type is FieldType.BOOL:
        return ops.BOOL
    return ops.STR


def _base_type_name(f: BField) -> str:
    """The libs type of a field after its transformers (``len`` makes a UINT64)."""
    return "UINT64" if "len" in f.transforms else _TYPE_NAMES[f.fdef.type]


def _type_name(f: BField) -> str:
    return _base_type_name(f) + (" (list)" if f.kind == ops.LIST else "")


def _transformed_kind(name: str, inner: BField, span: Span) -> str:
    kind = inner.kind
    if kind not in (ops.STR, ops.LIST):
        raise ConditionError(
            f"can't add field transformer: type '{_base_type_name(inner)}' is not supported by "
            f"'{name}' transformer"
            f" applied on {'list ' if kind == ops.LIST else ''}field '{inner.fdef.name}'",
            span,
        )
    return ops.NUM if name == "len" else kind


def _b64(v: str) -> Any:
    """libs' decoder: padding optional (at most two ``=``), unused trailing bits must be zero."""
    raw = v.encode("utf-8", "surrogateescape")
    body = raw[:-2] if raw.endswith(b"==") else raw[:-1] if raw.endswith(b"=") else raw
    if len(body) % 4 == 1 or (raw and not body):
        return MISSING
    try:
        decoded = base64.b64decode(body + b"=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError):
        return MISSING
    if base64.b64encode(decoded).rstrip(b"=") != body:  # non-zero trailing bits
        return MISSING
    return decoded.decode("utf-8", "surrogateescape")


def _basename(v: str) -> str:
    return v.rsplit("/", 1)[-1]


TRANSFORMS: dict[str, Callable[[Any], Any]] = {
    "tolower": ops.ascii_lower,
    "toupper": ops.ascii_upper,
    "b64": _b64,
    "basename": _basename,
    "len": lambda v: len(v) if isinstance(v, list) else len(v.encode("utf-8", "surrogateescape")),
}


def _list_getter(extract: Callable[[Any], Any]) -> Getter:
    def get(e: Any) -> Any:
        v = extract(e)
        return v if v else MISSING

    return get


def _transform_getter(inner: Getter, fn: Callable[[Any], Any], elementwise: bool) -> Getter:
    if elementwise:

        def get_list(e: Any) -> Any:
            v = inner(e)
            if v is MISSING:
                return MISSING
            out = [fn(i) for i in v]
            # libs fails the whole extraction when one element does not transform
            return MISSING if any(x is MISSING for x in out) else out

        return get_list

    def get(e: Any) -> Any:
        v = inner(e)
        return MISSING if v is MISSING else fn(v)

    return get
