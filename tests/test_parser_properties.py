"""Properties of the condition parser, checked with hypothesis.

(a) Any text whatsoever either parses (and then survives a render round trip)
    or raises ConditionSyntaxError with one of libs' messages and a position
    inside the text: never another exception, deep nesting included.
(b) Any AST the parser can produce renders to text that parses back to it.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    Str,
    Transform,
    Val,
    ValueList,
)
from k8saudit_cli.engine.operators import LIST_OPS, MODIFIERS, NUMERIC_OPS, STRING_OPS
from k8saudit_cli.engine.parser import parse_condition
from k8saudit_cli.engine.transformers import TRANSFORMERS
from k8saudit_cli.engine.unparse import render
from k8saudit_cli.errors import ConditionSyntaxError

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------- (a) arbitrary text

TOKENS = [
    "(", ")", "and", "or", "not", "not(", "and(", "(", ")", ",", " ", "\n", "\r\n", "\t", "\b",
    '"', "'", '"a b"', "'x'", '"\\q"', '"\\\\"', "\\", "ka.verb", "json.value[/a]", "x.y[",
    "]", "[", "tolower(", "len(", "val(", "b64(", "=", "==", "!=", "<", "<=", ">", ">=",
    "contains ", "icontains", "startswith ", "glob ", "regex ", "in", "in ", "intersects",
    "pmatch", "exists", "oneof ", "anyof", "allof ", "mylist", "macro_a", "0x1F", "12",
    "-3.5e+2", "*", "/healthz?", "<NA>", "\f", "é",
]  # fmt: skip

token_soup = st.lists(st.sampled_from(TOKENS), max_size=25).map("".join)
deep_text = st.builds(
    lambda opener, count, tail: opener * count + tail,
    st.sampled_from(["(", "not ", "not(", "a and (", "tolower(", "ka.v in ("]),
    st.integers(min_value=150, max_value=5000),
    st.sampled_from(["", "a", "a)", "ka.v exists", " or b"]),
)
any_text = st.one_of(st.text(max_size=60), token_soup, deep_text)

# Every message the parser may give, as libs words them.
LIBS_MESSAGES = re.compile(
    r"filter input string is empty|exceeded max depth limit of 1000|expected |"
    r"unexpected token after '.*', expecting 'or', 'and'|"
    r"unsupported string escape sequence: |invalid \\[\"'] escape in ",
    re.DOTALL,
)


def _check_error(text: str, error: ConditionSyntaxError) -> None:
    assert LIBS_MESSAGES.match(error.message), error.message
    assert error.text == text
    assert 0 <= error.offset <= len(text)
    line_start = text.rfind("\n", 0, error.offset) + 1
    assert error.line == text.count("\n", 0, error.offset) + 1
    assert error.col == error.offset - line_start + 1


@FAST
@given(any_text)
def test_any_text_parses_or_raises_a_syntax_error(text: str) -> None:
    try:
        expr = parse_condition(text)
    except ConditionSyntaxError as error:
        _check_error(text, error)
    else:
        assert parse_condition(render(expr)) == expr


# ---------------------------------------------------------------- (b) random ASTs

identifier = st.from_regex(r"[a-zA-Z][a-zA-Z0-9_]{0,7}", fullmatch=True)
field_name = st.from_regex(
    r"[a-zA-Z][a-zA-Z0-9_]{0,4}(\.[a-zA-Z][a-zA-Z0-9_]{0,4}){1,3}", fullmatch=True
)
bare = st.from_regex(r"[^()\"' \t\n\r\v\f=,\b][^()\"' \t\n\r\v\f=,]{0,9}", fullmatch=True)
anything = st.text(max_size=10)
number = st.from_regex(
    r"0[xX][0-9a-fA-F]{1,4}|[+-]?[0-9]{1,4}\.?[0-9]{0,3}([eE][+-][0-9]{1,2})?", fullmatch=True
)
# After a modifier, libs takes a list name only if it is not and/or/not.
modifier_list_name = identifier.filter(lambda n: not re.match(r"(and|or|not)(?![a-zA-Z0-9])", n))

field = st.builds(FieldRef, field_name, st.none() | anything)
transform = st.recursive(
    st.builds(Transform, st.sampled_from(sorted(TRANSFORMERS)), field),
    lambda inner: st.builds(Transform, st.sampled_from(sorted(TRANSFORMERS)), inner),
    max_leaves=3,
)
lhs = field | transform
val = st.builds(Val, field)
string = st.builds(Str, bare, st.just(False)) | st.builds(Str, anything, st.just(True))
item = st.builds(ListItem, bare, st.just(False)) | st.builds(ListItem, anything, st.just(True))
items = st.lists(item, max_size=4).map(tuple)


def _list_ref(name: str) -> ValueList:
    return ValueList((ListItem(name),), ref=True)


def _sorted(ops: frozenset[str]) -> st.SearchStrategy[str]:
    return st.sampled_from(sorted(ops))


check = st.one_of(
    st.builds(Check, lhs, st.just("exists")),
    st.builds(Check, lhs, _sorted(NUMERIC_OPS), st.builds(Num, number) | transform | val),
    st.builds(Check, lhs, _sorted(STRING_OPS), string | transform | val),
    st.builds(
        Check,
        lhs,
        _sorted(LIST_OPS),
        st.builds(ValueList, items) | identifier.map(_list_ref) | transform | val,
    ),
    st.builds(
        Check,
        lhs,
        _sorted(STRING_OPS),
        st.builds(ValueList, items) | modifier_list_name.map(_list_ref),
        _sorted(MODIFIERS),
    ),
)


def _compound(inner: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    several = st.lists(inner, min_size=2, max_size=4).map(tuple)
    return st.one_of(st.builds(Not, inner), st.builds(And, several), st.builds(Or, several))


expressions = st.recursive(check | identifier.map(MacroRef), _compound, max_leaves=12)


@FAST
@given(expressions)
def test_render_then_parse_gives_the_same_ast(expr: Expr) -> None:
    text = render(expr)
    assert parse_condition(text) == expr, text
