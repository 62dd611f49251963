"""Rules files that try to exhaust the loader, and positions around unusual line breaks.

* Aliases: every part of a rules file shares one bound on its expanded size,
  so an alias bomb is refused at the alias, wherever it sits.
* Duplicate keys in a mapping are an error naming both places.
* U+0085, U+2028 and U+2029 are line breaks to YAML: positions count them the same way.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from k8saudit_cli.errors import Diagnostic
from k8saudit_cli.ruleset import load_texts
from k8saudit_cli.ruleset.yaml_compose import MAX_EXPANDED, NODE_COST, compose_bounded
from k8saudit_cli.ruleset.yamlio import SourceFile, scalar_offset_position

RULE_TAIL = "  output: o\n  priority: INFO\n  source: k8s_audit\n"


def rule(condition: str = "ka.verb = create", extra: str = "") -> str:
    return f"- rule: r\n  desc: d\n  condition: {condition}\n{RULE_TAIL}{extra}"


def errors(text: str, name: str = "f.yaml") -> list[Diagnostic]:
    return [d for d in load_texts([(name, text)]).diagnostics if d.is_error]


#: Ten copies of ``&l4`` (10^5 leaves each): 10^6 leaves, past the bound.
BOMB = "[" + ", ".join(["*l4"] * 10) + "]"


def laughs(levels: int = 4, fan: int = 10) -> str:
    """Anchors ``&l0`` .. ``&l<levels>``, each holding ``fan`` aliases of the one before."""
    out = [f"- anchors:\n    l0: &l0 [{', '.join(['lol'] * fan)}]\n"]
    for k in range(1, levels + 1):
        out.append(f"    l{k}: &l{k} [{', '.join([f'*l{k - 1}'] * fan)}]\n")
    return "".join(out)


# ------------------------------------------------------------------ aliases


def test_alias_bomb_in_exception_values_is_refused_at_the_alias() -> None:
    # 10^6 leaves: before the bound this loaded (slowly) with no error at all
    text = laughs() + rule(
        extra=f"  exceptions:\n    - name: e\n      fields: [ka.verb]\n      values: {BOMB}\n"
    )
    errs = errors(text)
    assert [d.code for d in errs] == ["LOAD_ERR_YAML_PARSE"]
    line = text.splitlines().index(f"      values: {BOMB}") + 1
    # the anchors hold ~4 MiB; the fourth copy (3.9 MiB each) crosses the bound
    assert str(errs[0].position) == f"f.yaml:{line}:{16 + 3 * len('*l4, ')}"
    assert errs[0].message == (
        "alias '*l4' makes the document expand beyond 16 MiB "
        "(anchor '&l4' at line 6, column 9; aliases count as if written out)"
    )


@pytest.mark.parametrize(
    "extra",
    [
        f"  tags: {BOMB}\n",
        f"  exceptions: [{{name: e, fields: {BOMB}}}]\n",
        f"  exceptions: [{{name: e, fields: [ka.verb], comps: {BOMB}}}]\n",
        f"  bogus_key: {BOMB}\n",  # not even read by anything
    ],
)
def test_the_same_bound_holds_for_every_part_of_a_rule(extra: str) -> None:
    errs = errors(laughs() + rule(extra=extra))
    assert [d.code for d in errs] == ["LOAD_ERR_YAML_PARSE"]
    assert "alias '*l4'" in errs[0].message


def test_alias_bomb_in_list_items_and_macro_bodies() -> None:
    text = laughs() + f"- list: l\n  items: {BOMB}\n"
    assert "alias '*l4'" in errors(text)[0].message
    big = "x" * (1 << 20)
    text = f"- macro: m\n  condition: &c ka.user.name = {big}\n" + "".join(
        f"- macro: m{k}\n  condition: *c\n" for k in range(20)
    )
    errs = errors(text)
    assert [d.code for d in errs] == ["LOAD_ERR_YAML_PARSE"]
    assert "alias '*c'" in errs[0].message


def test_aliases_within_the_bound_still_work() -> None:
    text = (
        "- list: base\n  items: &items [create, update]\n"
        "- macro: writes\n  condition: &cond ka.verb in (base)\n"
        f"{rule('*cond')}"
    )
    ruleset = load_texts([("f.yaml", text)])
    assert ruleset.ok, [d.render() for d in ruleset.errors]
    assert ruleset.rules[0].condition == "ka.verb in (base)"


def test_recursive_alias_is_an_error_not_a_recursion_error() -> None:
    text = rule(
        extra="  exceptions:\n    - name: e\n      fields: [ka.verb]\n      values: &v [*v]\n"
    )
    errs = errors(text)
    assert [d.code for d in errs] == ["LOAD_ERR_YAML_PARSE"]
    assert "alias '*v' refers to a node that contains it" in errs[0].message


def test_the_bound_is_on_the_expanded_size() -> None:
    # every node costs NODE_COST plus its scalar's length; an alias costs what it stands for
    fan = 64
    anchor = NODE_COST + fan * (NODE_COST + len("lol"))
    fixed = (
        NODE_COST  # the document's sequence
        + 2 * NODE_COST  # the two item mappings
        + NODE_COST
        + len("anchors")
        + anchor
        + NODE_COST
        + len("anything")
        + NODE_COST  # the sequence of aliases
    )
    most = (MAX_EXPANDED - fixed) // anchor

    def text(copies: int) -> str:
        return (
            f"- anchors: &a [{', '.join(['lol'] * fan)}]\n"
            f"- anything: [{', '.join(['*a'] * copies)}]\n"
        )

    assert not errors(text(most))
    assert "alias '*a'" in errors(text(most + 1))[0].message


def test_billion_laughs_is_refused_quickly_in_validate(tmp_path: Path) -> None:
    # the 696-byte file of the report: 10^8 leaves; 110 s and 5.7 GB before the bound
    path = tmp_path / "bomb.yaml"
    path.write_text(
        laughs(7)
        + rule(extra="  exceptions:\n    - name: e\n      fields: [ka.verb]\n      values: *l7\n")
    )
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "k8saudit_cli", "validate", "-r", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "K8SAUDIT_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert time.monotonic() - started < 20
    assert proc.returncode == 1, proc.stderr
    assert "LOAD_ERR_YAML_PARSE" in proc.stdout + proc.stderr
    assert "alias '*l4' makes the document expand beyond 16 MiB" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


# ------------------------------------------------------------------ duplicate keys


def test_duplicate_key_in_a_rule_names_both_places() -> None:
    text = (
        "- rule: r\n  desc: d\n  condition: ka.verb = create\n"
        "  condition: ka.verb = delete\n" + RULE_TAIL
    )
    errs = errors(text)
    assert [(d.code, str(d.position)) for d in errs] == [("LOAD_ERR_YAML_PARSE", "f.yaml:4:3")]
    assert errs[0].message == "duplicate key 'condition' (first at line 3, column 3)"


def test_duplicate_keys_are_found_in_nested_mappings_too() -> None:
    text = rule(extra="  exceptions:\n    - name: e\n      fields: [ka.verb]\n      name: f\n") + (
        "- list: l\n  items: [a]\n  list: l2\n"
    )
    errs = errors(text)
    assert [(str(d.position), d.message) for d in errs] == [
        ("f.yaml:10:7", "duplicate key 'name' (first at line 8, column 7)"),
        ("f.yaml:13:3", "duplicate key 'list' (first at line 11, column 3)"),
    ]


def test_same_key_in_different_items_is_fine() -> None:
    text = rule() + rule().replace("rule: r", "rule: s")
    assert not errors(text)


# ------------------------------------------------------------------ line breaks

SEPARATORS = ["\u2028", "\x85", "\u2029", "\r", "\r\n", "\n"]


@pytest.mark.parametrize("sep", SEPARATORS, ids=repr)
def test_yaml_line_breaks_before_a_broken_condition(sep: str) -> None:
    # used to raise IndexError in scalar_offset_position
    text = f"- rule: r\n  desc: d\n{RULE_TAIL}  tags: [a{sep * 5}]\n  condition: ka.verb in (create"
    errs = errors(text)
    assert [d.code for d in errs] == ["LOAD_ERR_COMPILE_CONDITION"]
    assert str(errs[0].position) == "f.yaml:12:32"
    assert errs[0].snippet is not None
    assert errs[0].snippet.line.rstrip() == "  condition: ka.verb in (create"


@pytest.mark.parametrize("sep", SEPARATORS, ids=repr)
def test_positions_agree_with_the_yaml_parser(sep: str) -> None:
    text = f'# one{sep}# two{sep}- rule: r\n  desc: "x{sep}y"\n  condition: >\n    ka.verb = create\n    and ka.verb in (\n'
    node = yaml.compose(text, Loader=yaml.SafeLoader).value[0].value[2][1]
    src = SourceFile("f.yaml", text)
    # the character at offset 0 of the value is where the parser's mark says, one line down
    pos = scalar_offset_position(src, node, 0)
    assert (pos.line, pos.col) == (node.start_mark.line + 2, 5)
    end = scalar_offset_position(src, node, len(node.value.rstrip("\n")))
    assert (end.line, end.col) == (node.start_mark.line + 3, 21)
    assert src.line_text(end.line) == "    and ka.verb in ("


def test_a_bom_does_not_shift_columns() -> None:
    errs = errors("\ufeff" + rule("ka.verb in (create"))
    assert str(errs[0].position) == "f.yaml:3:32"


def test_control_character_error_has_its_position() -> None:
    errs = errors(rule() + "# a\x0cb\n")
    assert [(d.code, str(d.position)) for d in errs] == [("LOAD_ERR_YAML_PARSE", "f.yaml:7:4")]
    assert "<unicode string>" not in errs[0].message


@settings(max_examples=200, deadline=None)
@given(
    parts=st.lists(
        st.tuples(
            st.sampled_from(
                ["- a: b", "  c: 'd'", "# note", '  e: "f"', "- [g, h]", "", "  i: j k"]
            ),
            st.sampled_from(SEPARATORS),
        ),
        max_size=12,
    ),
    bom=st.booleans(),
)
def test_every_node_position_agrees_with_the_parser(
    parts: list[tuple[str, str]], bom: bool
) -> None:
    text = ("\ufeff" if bom else "") + "".join(line + sep for line, sep in parts)
    src = SourceFile("f.yaml", text)
    try:
        docs, _ = compose_bounded(src.text)
    except yaml.YAMLError:
        return
    todo = [d for d in docs if d is not None]
    while todo:
        node = todo.pop()
        pos = src.position_of(node.start_mark.index)
        assert (pos.line, pos.col) == (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.SequenceNode):
            todo.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            todo.extend(n for kv in node.value for n in kv)
