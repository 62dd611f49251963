"""The operator table: everything the engine knows about each comparison operator.

One :class:`Operator` row per spelling says what the right-hand side is, which
field kinds accept it, what a not-available value gives, what it means (the
predicate factories the reference evaluator runs) and how the code generator
writes it inline. The parser's messages, the binder's checks, both evaluators
and the rule index all read this table; the grammar still spells the tokens,
and a test holds the two together.

A predicate made here receives a value that was extracted (never MISSING,
never an empty list): the evaluators apply :attr:`Operator.when_missing`
before any predicate runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from k8saudit_cli.engine.globs import compile_glob, glob_matches, pmatch_predicate
from k8saudit_cli.engine.regexes import compile_regex

Predicate = Callable[[Any], bool]
#: A constant (already converted to the field's type) -> a predicate on one value.
Factory = Callable[[Any], Predicate]
#: (left value, right value) -> bool, for ``val(field)`` right-hand sides.
Pair = Callable[[Any, Any], bool]

#: Value kinds of a left-hand side after transformers.
STR, LIST, NUM, BOOL = "string", "list", "numeric", "bool"
KINDS = (STR, LIST, NUM, BOOL)

#: What follows an operator: nothing, a number, a string, or a list. Each kind is
#: one terminal of ``condition.lark`` (see :data:`TERMINAL_OF`).
OpKind = Literal["unary", "numeric", "string", "list"]
TERMINAL_OF: Mapping[str, str] = {
    "unary": "EXISTS",
    "numeric": "NUM_OP",
    "string": "STR_OP",
    "list": "LIST_OP",
}

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def ascii_lower(s: str) -> str:
    """Falco case-folds ASCII letters only; ``str.lower`` would fold far more."""
    return s.translate(_ASCII_LOWER)


def ascii_upper(s: str) -> str:
    return s.translate(_ASCII_UPPER)


# ---------------------------------------------------------------- the row type


@dataclass(frozen=True)
class Inline:
    """How the code generator writes a check inline instead of calling its predicate.

    ``template`` uses ``{v}`` for the extracted value and ``{c}`` for the
    constant. ``guarded``: the template runs only once the value is known to
    be available; otherwise the template alone already gives
    :attr:`Operator.when_missing` for MISSING. ``fuse``: adjacent ``or``-ed
    checks on one field become one check, over the ``set`` union of their
    values or a ``tuple`` of their constants.
    """

    template: str
    guarded: bool = True
    fuse: Literal["set", "tuple"] | None = None


@dataclass(frozen=True)
class Operator:
    """One comparison operator, as libs defines it."""

    spelling: str
    #: An identifier for it, for names in generated code (``ka_verb_glob``).
    name: str
    kind: OpKind
    #: Left-hand kinds it accepts (libs' check_op_type_compatibility).
    accepts: frozenset[str]
    #: The check's value when the left-hand value is not available (libs: every
    #: comparison is false on a missing field, ``!=`` included).
    when_missing: bool = False
    #: Meaning on one string/number/bool value, given the constant.
    scalar: Factory | None = None
    #: Meaning on a list value (``in``: subset, ``intersects``: overlap).
    on_list: Factory | None = None
    #: Meaning against another field's value (``val(...)``); None: not allowed.
    pair: Pair | None = None
    pair_on_list: Pair | None = None
    #: Engine-v4 meaning on a list field with a single value (Falco <= 0.31).
    legacy_on_list: Factory | None = None
    #: How a list of constants is kept (a set for membership, in order for pmatch).
    gather: Callable[[list[Any]], Any] = frozenset
    #: The check holds only when the value is ``one`` constant or in the ``set``.
    membership: Literal["one", "set"] | None = None
    #: A comparison with the text ``<NA>``, which a missing field never equals.
    unsafe_na: bool = False
    inline: Inline | None = None
    inline_on_list: Inline | None = None


# ---------------------------------------------------------------- predicates


def _eq(c: Any) -> Predicate:
    return lambda v: v == c


def _ne(c: Any) -> Predicate:
    return lambda v: v != c


def _lt(c: Any) -> Predicate:
    return lambda v: v < c


def _le(c: Any) -> Predicate:
    return lambda v: v <= c


def _gt(c: Any) -> Predicate:
    return lambda v: v > c


def _ge(c: Any) -> Predicate:
    return lambda v: v >= c


def _contains(c: str) -> Predicate:
    return lambda v: c in v


def _icontains(c: str) -> Predicate:
    lc = ascii_lower(c)
    return lambda v: lc in ascii_lower(v)


def _startswith(c: str) -> Predicate:
    return lambda v: v.startswith(c)


def _endswith(c: str) -> Predicate:
    return lambda v: v.endswith(c)


def _glob(c: str) -> Predicate:
    return compile_glob(c).match


def _iglob(c: str) -> Predicate:
    return compile_glob(c, casefold=True).match


def _regex(c: str) -> Predicate:
    # RE2 in POSIX mode, as libs: `.` does not match a newline; bad patterns raise
    # RegexError, a re.error the binder reports as "invalid regex pattern: ..."
    return compile_regex(c)


def _glob_pair(v: str, w: str) -> bool:
    """``v glob val(field)``: the event supplies the pattern."""
    return glob_matches(v, w)


def _iglob_pair(v: str, w: str) -> bool:
    return glob_matches(v, w, casefold=True)


def _member(c: Iterable[Any]) -> Predicate:
    return frozenset(c).__contains__


def _subset(c: Iterable[Any]) -> Predicate:
    return frozenset(c).issuperset


def _overlap(c: Iterable[Any]) -> Predicate:
    members = frozenset(c)
    return lambda v: not members.isdisjoint(v)


def _any_element(one: Factory) -> Factory:
    def factory(c: Any) -> Predicate:
        test = one(c)
        return lambda v: any(test(x) for x in v)

    return factory


def _whole_list_eq(c: str) -> Predicate:
    return lambda v: set(v) == {c}


def _whole_list_ne(c: str) -> Predicate:
    return lambda v: set(v) != {c}


def _in_pair(v: Any, w: Any) -> bool:
    return v in (w if isinstance(w, list) else (w,))


def _subset_pair(v: Any, w: Any) -> bool:
    return set(v).issubset(w)


def _overlap_pair(v: Any, w: Any) -> bool:
    return not set(v).isdisjoint(w)


# ---------------------------------------------------------------- the table

_SCALAR = frozenset({STR, NUM, BOOL})
_ORDERED = frozenset({STR, NUM})
_ALL = frozenset(KINDS)
_STR = frozenset({STR})


def _equality(spelling: str) -> Operator:
    return Operator(
        spelling, "eq", "string", _SCALAR, scalar=_eq, pair=lambda v, w: v == w,
        legacy_on_list=_whole_list_eq, membership="one", unsafe_na=True,
        inline=Inline("{v} == {c}", guarded=False, fuse="set"),
    )  # fmt: skip


def _ordering(spelling: str, name: str, factory: Factory, pair: Pair) -> Operator:
    return Operator(spelling, name, "numeric", _ORDERED, scalar=factory, pair=pair)


def _text_op(name: str, factory: Factory, pair: Pair | None, inline: Inline | None) -> Operator:
    """A string-only operator; on a list field (engine v4) any element may match."""
    return Operator(
        name, name, "string", _STR, scalar=factory, pair=pair,
        legacy_on_list=_any_element(factory), inline=inline,
    )  # fmt: skip


def _membership(name: str, on_list: Factory, pair_on_list: Pair, inline_on_list: str) -> Operator:
    return Operator(
        name, name, "list", _ALL, scalar=_member, on_list=on_list, pair=_in_pair,
        pair_on_list=pair_on_list, membership="set", unsafe_na=True,
        inline=Inline("{v} in {c}", guarded=False, fuse="set"),
        inline_on_list=Inline(inline_on_list),
    )  # fmt: skip


def _affix(name: str, factory: Factory, pair: Pair) -> Operator:
    return _text_op(name, factory, pair, Inline(f"{{v}}.{name}({{c}})", fuse="tuple"))


#: Every operator, in the order libs lists them in its messages.
_ROWS = (
    Operator("exists", "exists", "unary", _ALL),
    _ordering("<=", "le", _le, lambda v, w: v <= w),
    _ordering("<", "lt", _lt, lambda v, w: v < w),
    _ordering(">=", "ge", _ge, lambda v, w: v >= w),
    _ordering(">", "gt", _gt, lambda v, w: v > w),
    _equality("=="),
    _equality("="),
    Operator(
        "!=", "ne", "string", _SCALAR, scalar=_ne, pair=lambda v, w: v != w,
        legacy_on_list=_whole_list_ne, unsafe_na=True,
    ),
    _text_op("glob", _glob, _glob_pair, None),
    _text_op("iglob", _iglob, _iglob_pair, None),
    _text_op("contains", _contains, lambda v, w: w in v, Inline("{c} in {v}")),
    _text_op(
        "icontains", _icontains, lambda v, w: ascii_lower(w) in ascii_lower(v), None
    ),
    # Parsed, but no field kind of this plugin supports the byte operators.
    Operator("bcontains", "bcontains", "string", frozenset()),
    _affix("startswith", _startswith, lambda v, w: v.startswith(w)),
    Operator("bstartswith", "bstartswith", "string", frozenset()),
    _affix("endswith", _endswith, lambda v, w: v.endswith(w)),
    _text_op("regex", _regex, None, None),
    _membership("intersects", _overlap, _overlap_pair, "not {c}.isdisjoint({v})"),
    _membership("in", _subset, _subset_pair, "{c}.issuperset({v})"),
    Operator(
        "pmatch", "pmatch", "list", _STR, scalar=pmatch_predicate, gather=list, unsafe_na=True
    ),
)  # fmt: skip

OPERATORS: Mapping[str, Operator] = {row.spelling: row for row in _ROWS}


def spellings(kind: OpKind) -> frozenset[str]:
    """The operators of one kind (one grammar terminal)."""
    return frozenset(op.spelling for op in _ROWS if op.kind == kind)


UNARY_OPS = spellings("unary")
NUMERIC_OPS = spellings("numeric")
STRING_OPS = spellings("string")
LIST_OPS = spellings("list")
ALL_OPS = frozenset(OPERATORS)


def allowed_values(op: Operator, const: Any) -> frozenset[Any]:
    """The values a membership check (``=``, ``in``...) lets through."""
    return frozenset([const]) if op.membership == "one" else frozenset(const)


# ---------------------------------------------------------------- modifiers


def _exactly_one(preds: list[Predicate]) -> Predicate:
    return lambda v: sum(1 for p in preds if p(v)) == 1


def _any_of(preds: list[Predicate]) -> Predicate:
    return lambda v: any(p(v) for p in preds)


def _all_of(preds: list[Predicate]) -> Predicate:
    return lambda v: all(p(v) for p in preds)


#: ``op oneof|anyof|allof (a, b)`` (Falco 0.44): how the per-value predicates combine.
MODIFIERS: Mapping[str, Callable[[list[Predicate]], Predicate]] = {
    "oneof": _exactly_one,
    "anyof": _any_of,
    "allof": _all_of,
}


def modifier_predicate(op: Operator, modifier: str, values: list[Any]) -> Predicate:
    """Exactly one / at least one / every value matches; no values: never."""
    assert op.scalar is not None
    preds = [op.scalar(v) for v in values]
    if not preds:
        return lambda v: False
    return MODIFIERS[modifier](preds)
