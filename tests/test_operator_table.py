"""The operator table is the one source of operator knowledge: the grammar agrees with
it, and every consumer (binder, both evaluators, code generator, index) follows it."""

from __future__ import annotations

import dataclasses
import sys

import pytest

from k8saudit_cli.engine import operators as ops
from k8saudit_cli.engine.bind import Binder
from k8saudit_cli.engine.codegen import generate, generate_group
from k8saudit_cli.engine.evaluate import closure
from k8saudit_cli.engine.operators import MODIFIERS, OPERATORS, TERMINAL_OF
from k8saudit_cli.engine.parser import lexical_pattern, parse_condition
from k8saudit_cli.engine.transformers import TRANSFORMS
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fields import MISSING

if sys.version_info >= (3, 11):
    from re import _constants as sre_constants
    from re import _parser as sre_parse
else:  # pragma: no cover
    import sre_constants
    import sre_parse


def _language(items: object) -> set[str]:
    """Every string a finite regex matches, ignoring lookarounds and blank runs."""
    words = {""}
    for op, arg in items:  # type: ignore[attr-defined]
        if op is sre_constants.LITERAL:
            options = {chr(arg)}
        elif op is sre_constants.SUBPATTERN:
            options = _language(arg[-1])
        elif op is sre_constants.BRANCH:
            options = set().union(*(_language(branch) for branch in arg[1]))
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT, sre_constants.MAX_REPEAT):
            options = {""}  # `(?=[ \t...])` and `[ \t...]+` carry no word
        else:
            raise AssertionError(f"unexpected regex node {op}")
        words = {w + o for w in words for o in options}
    return words


def terminal_words(terminal: str) -> set[str]:
    return _language(sre_parse.parse(lexical_pattern(terminal).pattern))


@pytest.mark.parametrize("kind", sorted(TERMINAL_OF))
def test_each_grammar_operator_terminal_spells_exactly_the_table_rows_of_its_kind(kind):
    assert terminal_words(TERMINAL_OF[kind]) == ops.spellings(kind)


def test_every_table_row_is_spelled_by_the_grammar():
    spelled = set().union(*(terminal_words(t) for t in TERMINAL_OF.values()))
    assert spelled == set(OPERATORS)


def test_modifiers_and_transformers_agree_with_the_grammar():
    assert terminal_words("MODIFIER") == set(MODIFIERS)
    assert {w.removesuffix("(") for w in terminal_words("TRANSFORMER")} == set(TRANSFORMS)


def test_the_language_walker_can_fail():
    assert terminal_words("NUM_OP") != ops.spellings("string")


# ---------------------------------------------------------------- the table's own consistency


@pytest.mark.parametrize("op", list(OPERATORS.values()), ids=list(OPERATORS))
def test_rows_are_consistent(op):
    if op.accepts - {ops.LIST}:
        assert op.kind == "unary" or op.scalar is not None
    if ops.LIST in op.accepts and op.kind != "unary":
        assert op.on_list is not None and op.inline_on_list is not None
    if op.inline is not None and not op.inline.guarded:
        # The template runs on MISSING too: it must give what the row says.
        template = op.inline.template.format(v="v", c="c")
        constant = frozenset({"x"}) if op.membership == "set" else "x"
        assert eval(template, {"v": MISSING, "c": constant}) is op.when_missing
    assert op.name.isidentifier()


def test_libs_display_order_of_operators():
    assert list(OPERATORS)[:5] == ["exists", "<=", "<", ">=", ">"]
    assert list(OPERATORS)[-3:] == ["intersects", "in", "pmatch"]


# ---------------------------------------------------------------- consumers follow the table


def _event(**raw: object) -> AuditEvent:
    return AuditEvent({"auditID": "1", "stage": "ResponseComplete", **raw}, 0)


def test_what_a_missing_value_gives_comes_from_the_table(monkeypatch):
    """Flip ``when_missing`` for ``!=``: both evaluators follow the row."""
    flipped = dataclasses.replace(OPERATORS["!="], when_missing=True)
    monkeypatch.setitem(OPERATORS, "!=", flipped)  # type: ignore[arg-type]
    bound = Binder().bind(parse_condition("ka.verb != create"))
    missing, other, same = _event(), _event(verb="get"), _event(verb="create")
    reference = closure(bound)
    generated, _ = generate(bound)
    group, _ = generate_group([("r", bound)], first_only=False)
    for event, expected in ((missing, True), (other, True), (same, False)):
        assert reference(event) is expected
        assert bool(generated(event)) is expected
        assert bool(group(event)) is expected


def test_accepted_kinds_come_from_the_table(monkeypatch):
    narrowed = dataclasses.replace(OPERATORS["contains"], accepts=frozenset())
    monkeypatch.setitem(OPERATORS, "contains", narrowed)  # type: ignore[arg-type]
    with pytest.raises(Exception, match="'contains' operator not supported for string filters"):
        Binder().bind(parse_condition("ka.verb contains c"))
