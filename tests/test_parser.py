"""The condition parser: data-driven cases, then the few things data can't say.

Cases live in tests/data/parser/*.yaml: a condition and either the canonical
rendering it must parse to, or an error (message substring, line, column).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from k8saudit_cli.engine.nodes import (
    And,
    Check,
    FieldRef,
    ListItem,
    MacroRef,
    Not,
    Num,
    Span,
    Str,
    Transform,
    Val,
    ValueList,
)
from k8saudit_cli.engine.parser import MAX_LEVELS, parse_condition, parse_value_items
from k8saudit_cli.engine.unparse import quote, render
from k8saudit_cli.errors import ConditionSyntaxError

DATA = Path(__file__).parent / "data" / "parser"


def _cases() -> list[Any]:
    params = []
    for path in sorted(DATA.glob("*.yaml")):
        for index, case in enumerate(yaml.safe_load(path.read_text(encoding="utf-8"))):
            params.append(pytest.param(case, id=f"{path.stem}-{index}"))
    return params


@pytest.mark.parametrize("case", _cases())
def test_case(case: dict[str, Any]) -> None:
    condition = case["condition"]
    if "error" in case:
        expected = case["error"]
        with pytest.raises(ConditionSyntaxError) as info:
            parse_condition(condition)
        error = info.value
        assert expected["message"] in error.message
        assert (error.line, error.col) == (expected["line"], expected["col"])
        assert error.text == condition
    else:
        expr = parse_condition(condition)
        assert render(expr) == case["render"]
        assert parse_condition(case["render"]) == expr


# ---------------------------------------------------------------- node shapes


def test_check_nodes() -> None:
    assert parse_condition("ka.verb in mylist") == Check(
        FieldRef("ka.verb"), "in", ValueList((ListItem("mylist"),), ref=True)
    )
    assert parse_condition('ka.x[0] startswith oneof (a, "b")') == Check(
        FieldRef("ka.x", "0"),
        "startswith",
        ValueList((ListItem("a"), ListItem("b", quoted=True))),
        modifier="oneof",
    )
    assert parse_condition("tolower(ka.v) > val(ka.w)") == Check(
        Transform("tolower", FieldRef("ka.v")), ">", Val(FieldRef("ka.w"))
    )
    assert parse_condition("ka.v > 0x1") == Check(FieldRef("ka.v"), ">", Num("0x1"))
    assert parse_condition("ka.v = 1") == Check(FieldRef("ka.v"), "=", Str("1"))
    assert parse_condition("ka.v exists") == Check(FieldRef("ka.v"), "exists")


def test_chains_and_groups() -> None:
    a, b, c = MacroRef("a"), MacroRef("b"), MacroRef("c")
    assert parse_condition("a and b and c") == And((a, b, c))
    assert parse_condition("(a and b) and c") == And((And((a, b)), c))
    assert parse_condition("not not a") == Not(Not(a))


def test_spans_point_at_what_was_written() -> None:
    text = 'not (ka.verb = "a b")\r\n  and ka.uri in (x, y)'
    expr = parse_condition(text)
    assert isinstance(expr, And)
    negation, check = expr.items
    assert expr.span == Span(0, len(text), 1, 1)
    assert negation.span == Span(0, 21, 1, 1)
    assert isinstance(check, Check) and isinstance(check.value, ValueList)
    assert check.span == Span(29, 45, 2, 7)
    assert check.lhs.span == Span(29, 35, 2, 7)
    assert check.value.items[1].span == Span(43, 44, 2, 21)


def test_parenthesised_operand_spans() -> None:
    expr = parse_condition("(a) and ((b or c))")
    assert isinstance(expr, And)
    assert expr.span == Span(0, 18, 1, 1)
    assert expr.items[0].span == Span(1, 2, 1, 2)
    assert expr.items[1].span == Span(10, 16, 1, 11)


def test_error_carries_offset_and_text() -> None:
    with pytest.raises(ConditionSyntaxError) as info:
        parse_condition("a and\n  b c")
    assert (info.value.offset, info.value.line, info.value.col) == (10, 2, 5)
    assert info.value.code == "LOAD_ERR_COMPILE_CONDITION"


@pytest.mark.parametrize(
    "text",
    ["(" * 5000, "(" * 5000 + "a" + ")" * 5000, "not " * 3000 + "a", "not(" * 300 + "a"],
)
def test_deep_nesting_is_a_syntax_error(text: str) -> None:
    with pytest.raises(ConditionSyntaxError, match="exceeded max depth limit of 1000"):
        parse_condition(text)


@pytest.mark.parametrize(
    ("opener", "middle", "closer", "suffix"),
    [
        ("not ", "b", "", ""),
        ("(", "b", ")", ""),
        ("(a and ", "b", ")", ""),
        ("tolower(", "ka.v", ")", " exists"),
    ],
)
def test_nesting_limit(opener: str, middle: str, closer: str, suffix: str) -> None:
    def nested(levels: int) -> str:
        return opener * levels + middle + closer * levels + suffix

    deepest = parse_condition(nested(MAX_LEVELS - 1))
    assert parse_condition(render(deepest)) == deepest
    with pytest.raises(ConditionSyntaxError, match="exceeded max depth limit of 1000"):
        parse_condition(nested(MAX_LEVELS))


def test_deep_transformers_are_a_syntax_error() -> None:
    with pytest.raises(ConditionSyntaxError, match="exceeded max depth"):
        parse_condition("tolower(" * 500 + "ka.v" + ")" * 500 + " exists")


# ---------------------------------------------------------------- list items


@pytest.mark.parametrize(
    ("raw", "items"),
    [
        ("get", (ListItem("get"),)),
        ('"*"', (ListItem("*", quoted=True),)),
        ("'*'", (ListItem("*", quoted=True),)),
        ("a,b", (ListItem("a"), ListItem("b"))),
        ('a,"b"', (ListItem("a"), ListItem("b", quoted=True))),
        ("system:masters", (ListItem("system:masters"),)),
        ("a b", (ListItem("a b", quoted=True),)),
        ("/usr/bin/x y", (ListItem("/usr/bin/x y", quoted=True),)),
        ('"a b"', (ListItem("a b", quoted=True),)),
        ("other_list", (ListItem("other_list"),)),
    ],
)
def test_value_items(raw: str, items: tuple[ListItem, ...]) -> None:
    assert parse_value_items(raw) == items


def test_value_item_spans_refer_to_the_raw_text() -> None:
    (item,) = parse_value_items("a b")
    assert item.span == Span(0, 3, 1, 1)
    first, second = parse_value_items("x,\t\ty")
    assert (first.span.start, second.span.start, second.span.col) == (0, 4, 5)


@pytest.mark.parametrize(
    ("raw", "message", "col"),
    [
        ("", "expected a string value", 1),
        ("(systemd)", "expected a string value", 1),
        ("a,", "expected a string value", 3),
        ('"a" b', "expected a ')' token", 5),
        ('say "hi" there', "expected a ')' token", 6),
        # A space means Falco wraps the item in quotes, which breaks this one.
        ('a, "b"', "expected a ')' token", 5),
        ('"a\\q"', "unsupported string escape sequence: \\q", 3),
    ],
)
def test_value_item_errors(raw: str, message: str, col: int) -> None:
    with pytest.raises(ConditionSyntaxError) as info:
        parse_value_items(raw)
    assert message in info.value.message
    assert info.value.col == col
    assert info.value.text == raw


# ---------------------------------------------------------------- rendering


def test_quote_escapes_what_libs_unescapes() -> None:
    assert quote('a"b\\c\td\n') == '"a\\"b\\\\c\\td\\n"'


def test_render_quotes_only_when_needed() -> None:
    assert render(Check(FieldRef("ka.v"), "=", Str("a b"))) == 'ka.v = "a b"'
    assert render(Check(FieldRef("ka.v"), "=", Str(""))) == 'ka.v = ""'
    assert render(Check(FieldRef("ka.v"), "=", Str("a"))) == "ka.v = a"
    assert render(FieldRef("json.value", "a b")) == 'json.value["a b"]'
    assert render(FieldRef("json.value", "")) == 'json.value[""]'


class _RulesLoader(yaml.SafeLoader):
    """PyYAML reads a bare `=` as the rarely used `value` tag; rules mean the text."""


_RulesLoader.add_constructor(
    "tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node)
)


def _shipped_conditions() -> list[str]:
    path = Path(__file__).parents[1] / "rules" / "k8s_audit_rules.yaml"
    items = yaml.load(path.read_text(encoding="utf-8"), Loader=_RulesLoader)
    return [item["condition"] for item in items if isinstance(item, dict) and "condition" in item]


def test_shipped_rules_parse_fast_and_round_trip() -> None:
    conditions = _shipped_conditions()
    assert len(conditions) > 50
    parse_condition("warm_up")
    started = time.perf_counter()
    exprs = [parse_condition(text) for text in conditions]
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5, f"parsing {len(conditions)} conditions took {elapsed:.3f} s"
    for expr in exprs:
        assert parse_condition(render(expr)) == expr
