"""Loading rules files: items, merging, versions, diagnostics and positions.

Cases live in tests/data/loader/*.yaml, each a list of:

* ``files``: an ordered mapping ``name: text``, loaded in that order;
* ``rules``: the compiled k8s_audit rules in order, each a name or a mapping
  with ``name`` and any of ``enabled``, ``priority`` (long name), ``tags``,
  ``condition`` (text after appends), ``expanded`` (canonical text),
  ``output``, ``desc``;
* ``collected``: every rule the loader knows (any source), in order, same form
  plus ``source``;
* ``lists`` / ``macros``: final list items / macro condition text by name;
* ``diagnostics``: every diagnostic expected (``code``, ``message`` substring,
  ``at`` ``file:line:col``, ``severity``, ``item_type``, ``item_name``,
  ``caret``: the text the caret snippet points at); exhaustive unless
  ``ignore`` lists codes to disregard;
* ``events``: ``[{event: {...}, match: [rule names]}]``, run through both
  evaluators.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from k8saudit_cli import priority as prio
from k8saudit_cli.engine.unparse import render
from k8saudit_cli.errors import Diagnostic
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.ruleset import load_rules, load_texts
from k8saudit_cli.ruleset.compile import CompiledRule
from k8saudit_cli.ruleset.loader import RuleSet
from k8saudit_cli.ruleset.states import RuleState

DATA = Path(__file__).parent / "data" / "loader"
EVENT_TIME_NS = 1714557600012345678


def _cases() -> list[Any]:
    params = []
    for path in sorted(DATA.glob("*.yaml")):
        for index, case in enumerate(yaml.safe_load(path.read_text(encoding="utf-8"))):
            params.append(pytest.param(case, id=f"{path.stem}-{index}-{case['name'][:50]}"))
    return params


CASES = _cases()


def test_enough_cases() -> None:
    assert len(CASES) >= 100


@pytest.mark.parametrize("case", CASES)
def test_case(case: dict[str, Any]) -> None:
    files = case["files"]
    ruleset = load_texts(list(files.items()))
    _check_diagnostics(case, ruleset, files)
    if "rules" in case:
        assert [r.name for r in ruleset.rules] == [_name(r) for r in case["rules"]]
        for want, got in zip(case["rules"], ruleset.rules, strict=False):
            _check_rule(want, got)
    if "collected" in case:
        states = sorted(ruleset.collection.rules.values(), key=lambda r: r.index)
        assert [s.name for s in states] == [_name(r) for r in case["collected"]]
        for want, state in zip(case["collected"], states, strict=False):
            _check_rule(want, state)
    for name, items in (case.get("lists") or {}).items():
        assert [i.text for i in ruleset.collection.lists[name].items] == items
    for name, condition in (case.get("macros") or {}).items():
        assert ruleset.collection.macros[name].condition.value == condition
    for run in case.get("events") or []:
        _check_event(ruleset, run)


def _name(want: str | dict[str, Any]) -> str:
    return want if isinstance(want, str) else want["name"]


def _check_rule(want: str | dict[str, Any], got: CompiledRule | RuleState) -> None:
    if isinstance(want, str):
        return
    for key, value in want.items():
        if key == "priority":
            assert prio.name(got.priority) == value
        elif key == "tags":
            assert list(got.tags) == value
        elif key == "condition":
            assert (
                got.condition if isinstance(got, CompiledRule) else got.condition.value
            ) == value
        elif key == "output":
            assert (got.output.text if isinstance(got, CompiledRule) else got.output.value) == value
        elif key == "expanded":
            assert isinstance(got, CompiledRule)
            assert render(got.expanded) == value
        elif key != "name":
            assert getattr(got, key) == value, key


def _check_event(ruleset: RuleSet, run: dict[str, Any]) -> None:
    event = AuditEvent(run["event"], EVENT_TIME_NS, 1)
    fast = [r.name for r in ruleset.rules if r.match(event)]
    reference = [r.name for r in ruleset.rules if r.match_reference(event)]
    assert fast == reference
    assert reference == run["match"]


def _check_diagnostics(case: dict[str, Any], ruleset: RuleSet, files: dict[str, str]) -> None:
    ignore = set(case.get("ignore") or [])
    got = [d for d in ruleset.diagnostics if d.code not in ignore]
    wanted = case.get("diagnostics") or []
    unmatched = list(got)
    for want in wanted:
        found = next((d for d in unmatched if _matches(want, d)), None)
        assert found is not None, (want, [d.render() for d in got])
        unmatched.remove(found)
        if "caret" in want:
            _check_caret(want["caret"], found, files)
    assert not unmatched, [d.render() for d in unmatched]


def _matches(want: dict[str, Any], d: Diagnostic) -> bool:
    checks = [
        d.code == want["code"],
        want.get("message", "") in d.message,
        "at" not in want or str(d.position) == want["at"],
        "severity" not in want or d.severity.value == want["severity"],
        "item_type" not in want or d.item_type == want["item_type"],
        "item_name" not in want or d.item_name == want["item_name"],
    ]
    return all(checks)


def _check_caret(token: str, d: Diagnostic, files: dict[str, str]) -> None:
    """The snippet is the file line the position is on, the caret under ``token``."""
    assert d.snippet is not None and d.position is not None
    line = files[d.position.file].splitlines()[d.position.line - 1]
    assert d.snippet.line == line
    assert d.snippet.col == d.position.col
    assert line[d.position.col - 1 :].startswith(token), (line, d.position.col)
    assert d.render().splitlines()[-2:] == ["  " + line, "  " + " " * (d.position.col - 1) + "^"]


# ---------------------------------------------------------------- what data cannot say


def test_missing_file_is_a_read_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    ruleset = load_rules([str(missing)])
    assert [d.code for d in ruleset.errors] == ["LOAD_ERR_FILE_READ"]
    assert f"Could not open file {missing} for reading" in ruleset.errors[0].message


def test_files_on_disk_load_in_order(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text(
        "- list: verbs\n  items: [create]\n"
        "- rule: r\n  desc: d\n  priority: INFO\n  source: k8s_audit\n  output: o\n"
        "  condition: ka.verb in (verbs)\n"
    )
    extra = tmp_path / "extra.yaml"
    extra.write_text("- list: verbs\n  items: [delete]\n  override: {items: append}\n")
    ruleset = load_rules([str(base), str(extra)])
    assert ruleset.ok, [d.render() for d in ruleset.diagnostics]
    assert ruleset.files == [str(base), str(extra)]
    assert render(ruleset.rules[0].expanded) == "ka.verb in (create, delete)"
    reversed_order = load_rules([str(extra), str(base)])
    assert [d.code for d in reversed_order.errors] == ["LOAD_ERR_VALIDATE"]
