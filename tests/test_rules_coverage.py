"""The coverage table of docs/rules.md is checked against the rules and their fixtures.

For every catalogue technique the table calls audit-visible, at least one
rule it names must be loaded, be NOTICE or above, and be expected to fire
by the fixture case it cites. The totals in the prose must match the rows.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from k8saudit_cli.priority import parse_priority
from k8saudit_cli.ruleset import load_rules
from k8saudit_cli.ruleset.compile_aggregations import is_aggregation
from k8saudit_cli.ruleset.defaults import default_rules_path, default_rules_paths

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "rules.md").read_text()
FIXTURES = ROOT / "rules" / "tests"
#: The rules and the aggregations of the built-in ruleset: a row may name either.
RULES = {r.name: r for r in load_rules(default_rules_paths()).rules}
AGGREGATIONS = {n for n, r in RULES.items() if is_aggregation(r)}
NOTICE = parse_priority("notice")
SECTIONS = {
    "microsoft": "### Microsoft Threat Matrix for Kubernetes",
    "stratus": "### Stratus Red Team (Kubernetes)",
    "mitre": "### MITRE ATT&CK Containers matrix",
}


def _rows(title: str) -> list[list[str]]:
    start = DOC.index(title)
    end = DOC.index("\n### ", start + len(title))
    lines = [ln for ln in DOC[start:end].splitlines() if ln.startswith("|")]
    return [[c.strip() for c in ln.strip("|").split("|")] for ln in lines[2:]]


def _named_rules(cell: str, previous: set[str]) -> set[str]:
    names = {n for n in RULES if n in cell}
    return names | previous if cell.startswith("the same") else names


def _expected_to_fire(ref: str) -> set[str]:
    file, _, case = (p.strip() for p in ref.partition("::"))
    path = FIXTURES / ("customized/customized.yaml" if file == "customized" else f"{file}.yaml")
    cases = {c["name"]: c for c in yaml.safe_load(path.read_text())["cases"]}
    assert case in cases, f"{path.name} has no case {case!r}"
    return {r for r, n in (cases[case].get("expect") or {}).items() if n > 0}


def _checked_rows() -> list[tuple[str, str, set[str], str]]:
    out = []
    for key, title in SECTIONS.items():
        previous: set[str] = set()
        for cells in _rows(title):
            technique, rules_cell, fixture = cells[0], cells[-2], cells[-1]
            names = _named_rules(rules_cell, previous)
            previous = names
            out.append((key, technique, names, fixture))
    return out


ROWS = _checked_rows()


def test_catalogue_sizes_and_totals() -> None:
    count = {k: sum(1 for r in ROWS if r[0] == k) for k in SECTIONS}
    visible = {k: sum(1 for r in ROWS if r[0] == k and r[3] != "—") for k in SECTIONS}
    assert count == {"microsoft": 40, "stratus": 8, "mitre": 48}
    totals = re.search(r"\*\*Totals\.\*\*(.*?)\n\n", DOC, re.DOTALL)
    assert totals
    text = " ".join(totals.group(1).split())
    assert f"Microsoft: {visible['microsoft']} of 40 audit-visible" in text
    assert f"Stratus: {visible['stratus']} of 8" in text
    assert f"ATT&CK Containers: {visible['mitre']} of 48" in text
    assert f"In all {sum(visible.values())} audit-visible" in text


@pytest.mark.parametrize("row", [r for r in ROWS if r[3] != "—"], ids=lambda r: r[1])
def test_visible_technique_has_a_firing_rule_at_notice_or_above(row: tuple) -> None:
    _, technique, names, fixture = row
    assert names, f"{technique}: no rule named"
    fired: set[str] = set()
    for ref in fixture.split(";"):
        fired |= _expected_to_fire(ref)
    hits = [n for n in names & fired if RULES[n].priority <= NOTICE]
    assert hits, f"{technique}: none of {sorted(names)} fires at NOTICE+ in {fixture}"


@pytest.mark.parametrize("row", [r for r in ROWS if r[3] == "—"], ids=lambda r: r[1])
def test_invisible_technique_says_why(row: tuple) -> None:
    cells = next(c for c in _rows(SECTIONS[row[0]]) if c[0] == row[1])
    assert cells[-2].startswith("not visible:"), row[1]


def test_rules_falco_skips_are_listed() -> None:
    items = yaml.safe_load(Path(default_rules_path()).read_text())
    skipped = {i["rule"] for i in items if "rule" in i and i.get("skip-if-unknown-filter")}
    start = DOC.index("## Rules Falco skips")
    section = " ".join(DOC[start : DOC.index("\n## ", start + 5)].split())
    assert all(name in section for name in skipped), sorted(n for n in skipped if n not in section)
    assert f"**{len(skipped)} rules** read" in " ".join(DOC.split())


def test_rule_counts_in_the_introduction() -> None:
    text = " ".join(DOC.split())
    rules = len(RULES) - len(AGGREGATIONS)
    assert f"It has **{rules} rules**" in text
    assert f"**{rules - 48} are detections upstream does not have.**" in text
    assert f"**{len(AGGREGATIONS)} aggregations**" in text


def test_every_aggregation_is_in_the_coverage_table() -> None:
    named = set().union(*(r[2] for r in ROWS))
    assert AGGREGATIONS - named == set()
