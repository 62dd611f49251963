"""Attacker-controlled text cannot hang a scan through ``regex``, ``glob`` or ``pmatch``.

Each pathological pattern runs against a 100 KB value of an event, on both
evaluators (the generated fast path and the reference closures), and must
finish well under a second; ``regex`` speaks RE2's POSIX syntax, so
``validate`` refuses what Falco refuses, with Falco's message.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from k8saudit_cli.cli import main
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.ruleset import load_texts
from tests.test_globs import matcher_time

BIG = 100_000


def rules_for(condition: str) -> str:
    return (
        "- rule: r\n  desc: d\n  priority: WARNING\n  source: k8s_audit\n  output: o\n"
        f"  condition: {json.dumps(condition)}\n"
    )


def event(useragent: str, name: str = "x") -> AuditEvent:
    raw = {
        "kind": "Event",
        "auditID": "1",
        "verb": "get",
        "userAgent": useragent,
        "objectRef": {"name": name, "resource": "pods"},
        "requestURI": "/api/v1/" + useragent,
    }
    return AuditEvent(raw, 0)


CASES = [
    # (condition, useragent, target name)
    ('ka.useragent regex "(a+)+$"', "a" * BIG + "!", "x"),
    ('ka.useragent regex "(a|aa)+b"', "a" * BIG, "x"),
    ('ka.useragent regex "(.*a){20}"', "a" * BIG + "!", "x"),
    ('ka.useragent glob "*a*a*a*a*a*a*a*a*a*a*b"', "a" * BIG, "x"),
    ('ka.useragent iglob "*A*A*A*A*A*A*A*A*A*A*B"', "a" * BIG, "x"),
    ('ka.useragent glob "*[a-z]?[a-z]?[a-z]?[a-z]?[a-z]?[a-z]?!"', "a" * BIG, "x"),
    ("ka.uri pmatch (/api/v1/*a*a*a*a*a*a*a*a*b)", "a" * BIG, "x"),
    # The event supplies the pattern as well as the text.
    ("ka.target.name glob val(ka.useragent)", "*a" * (BIG // 2) + "*b", "a" * BIG),
    ("ka.target.name glob val(ka.useragent)", "*" + "?a" * (BIG // 4) + "b*", "a" * BIG),
    ("ka.target.name iglob val(ka.useragent)", "*" + "[ab]" * (BIG // 8) + "c*", "ab" * (BIG // 2)),
    ("ka.target.name glob val(ka.useragent)", "[z-a]", "m"),  # once a crash in re
]


@pytest.mark.parametrize(("condition", "useragent", "name"), CASES, ids=range(len(CASES)))
def test_pathological_patterns_finish_fast_on_both_evaluators(
    condition: str, useragent: str, name: str
) -> None:
    ruleset = load_texts([("r.yaml", rules_for(condition))])
    assert not ruleset.errors, [d.render() for d in ruleset.errors]
    rule = ruleset.rule("r")
    assert rule is not None
    ev = event(useragent, name)
    answers = []
    for evaluate in (rule.match, rule.match_reference):
        with matcher_time() as spent:
            answers.append(bool(evaluate(ev)))
        assert spent[0] < 0.5, (evaluate, spent)
    assert answers[0] == answers[1]


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        (r"(a)\\1(?=x)", r"invalid regex pattern: invalid escape sequence: \1"),
        ("(?=x)a", "invalid regex pattern: no argument for repetition operator: ?"),
        (r"\\d+", r"invalid regex pattern: invalid escape sequence: \d"),
        ("(bad", "invalid regex pattern: missing ): (bad"),
    ],
)
def test_validate_refuses_what_re2_in_posix_mode_refuses(
    tmp_path: Path, pattern: str, message: str
) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(rules_for(f'ka.useragent regex "{pattern}"'))
    result = CliRunner().invoke(main, ["validate", "-r", str(path)])
    assert result.exit_code == 1, result.output
    assert message in result.output


def test_regex_is_an_anchored_posix_match() -> None:
    ruleset = load_texts([("r.yaml", rules_for('ka.useragent regex "[[:alpha:]]+/[0-9.]+"'))])
    rule = ruleset.rule("r")
    assert rule is not None
    assert rule.match_reference(event("curl/8.5.0"))
    assert not rule.match_reference(event("xcurl/8.5.0 extra"[1:]))
