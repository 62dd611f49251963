"""The real rulesets of ../shared/conformance load cleanly, alone and with their overrides.

Every combination of rules files a legacy case loads (in the order of
falco-legacy/cases.yaml), every upstream ruleset alone, and the current
k8saudit ruleset must load with zero errors. What the loader built is
checked against the YAML read independently: which rules are k8s_audit
rules, in first-definition order, and which were skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from k8saudit_cli.engine.parser import parse_condition
from k8saudit_cli.engine.unparse import render
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.ruleset import load_rules
from tests.conftest import CONFORMANCE, LEGACY, need_conformance

CURRENT = CONFORMANCE / "upstream-current" / "k8s_audit_rules.yaml"
STANDALONE = [
    "rules/upstream/k8s_audit_rules-0.6.0.yaml",
    "rules/upstream/falco_rules-1.0.1.yaml",
    "rules/engine_v4_k8s_audit_rules.yaml",
]


def _combinations() -> list[tuple[str, ...]]:
    if not LEGACY.is_dir():
        return []
    cases = yaml.safe_load((LEGACY / "cases.yaml").read_text())["cases"]
    return sorted({tuple(case["rules"]) for case in cases})


COMBINATIONS = _combinations()


def _expected_rules(paths: list[Path]) -> tuple[list[str], dict[str, int]]:
    """k8s_audit rule names in first-definition order, and skipped rules per file,
    read straight from the YAML (full definitions only; appends and
    enabled-only items do not change a rule's source)."""
    order: list[str] = []
    source: dict[str, str] = {}
    skipped: dict[str, int] = {}
    for path in paths:
        for item in yaml.safe_load(path.read_text()) or []:
            if (
                not isinstance(item, dict)
                or "rule" not in item
                or "list" in item
                or "macro" in item
            ):
                continue
            name = str(item["rule"])
            if "condition" in item and not item.get("append") and "override" not in item:
                source[name] = item.get("source", "syscall")
            if name not in order:
                order.append(name)
    for path in paths:
        for item in yaml.safe_load(path.read_text()) or []:
            if not isinstance(item, dict) or "rule" not in item or "desc" not in item:
                continue
            if item.get("source", "syscall") != "k8s_audit":
                skipped[str(path)] = skipped.get(str(path), 0) + 1
    return [n for n in order if source.get(n) == "k8s_audit"], skipped


def _check_ruleset(paths: list[Path]) -> Any:
    ruleset = load_rules([str(p) for p in paths])
    assert ruleset.errors == [], [d.render() for d in ruleset.errors]
    names, skipped = _expected_rules(paths)
    assert [r.name for r in ruleset.rules] == names
    summaries = {
        d.position.file: d.message for d in ruleset.warnings if d.code == "LOAD_UNKNOWN_SOURCE"
    }
    assert set(summaries) == set(skipped)
    for file, count in skipped.items():
        assert summaries[file].startswith(f"{count} syscall rule")
    return ruleset


@pytest.mark.parametrize(
    "combination", COMBINATIONS, ids=lambda c: "+".join(Path(p).stem for p in c)
)
def test_legacy_case_rule_files(combination: tuple[str, ...]) -> None:
    need_conformance()
    _check_ruleset([LEGACY / p for p in combination])


def test_every_rule_file_is_covered() -> None:
    need_conformance()
    used = {p for combo in COMBINATIONS for p in combo} | set(STANDALONE)
    on_disk = {str(p.relative_to(LEGACY)) for p in (LEGACY / "rules").rglob("*.yaml")}
    assert on_disk <= used


@pytest.mark.parametrize("name", STANDALONE)
def test_upstream_ruleset_alone(name: str) -> None:
    need_conformance()
    _check_ruleset([LEGACY / name])


def test_engine_v4_ruleset_warns_only_about_legacy_list_operators() -> None:
    need_conformance()
    ruleset = _check_ruleset([LEGACY / "rules/engine_v4_k8s_audit_rules.yaml"])
    assert ruleset.warnings
    for warning in ruleset.warnings:
        assert warning.code == "LOAD_COMPILE_CONDITION"
        assert "engine-v4 form that Falco 0.38+ rejects" in warning.message


@pytest.mark.parametrize(
    "path",
    [CURRENT, LEGACY / "rules/upstream/k8s_audit_rules-0.6.0.yaml"],
    ids=["current", "0.6.0"],
)
def test_k8saudit_rulesets_are_clean(path: Path) -> None:
    """No warning at all: every list and macro used, no suspicious value, versions met."""
    need_conformance()
    ruleset = _check_ruleset([path])
    assert ruleset.warnings == [], [d.render() for d in ruleset.warnings]
    assert ruleset.collection.plugin_versions and ruleset.collection.engine_versions


def test_current_ruleset_round_trips_and_evaluators_agree() -> None:
    need_conformance()
    ruleset = _check_ruleset([CURRENT])
    events = [
        AuditEvent({"kind": "Event", "auditID": "a"}, 0),
        AuditEvent(
            {
                "kind": "Event",
                "auditID": "b",
                "stage": "ResponseComplete",
                "verb": "create",
                "user": {"username": "system:anonymous", "groups": ["system:unauthenticated"]},
                "objectRef": {"resource": "pods", "namespace": "kube-system", "name": "p"},
                "responseStatus": {"code": 201},
                "requestObject": {
                    "spec": {
                        "hostNetwork": True,
                        "containers": [
                            {
                                "name": "c",
                                "image": "evil:1",
                                "securityContext": {"privileged": True},
                            }
                        ],
                        "volumes": [{"name": "v", "hostPath": {"path": "/proc"}}],
                    }
                },
            },
            0,
        ),
    ]
    for rule in ruleset.rules:
        assert parse_condition(render(rule.expanded)) == rule.expanded, rule.name
        for event in events:
            assert bool(rule.match(event)) == rule.match_reference(event), rule.name
    matched = {r.name for r in ruleset.rules if r.match_reference(events[1])}
    assert "Create Privileged Pod" in matched
    assert not any(r.match_reference(events[0]) for r in ruleset.rules)
