"""Falco's legacy k8s-audit regression suite, run through the CLI itself.

Each case of ../shared/conformance/falco-legacy/cases.yaml is replayed with
``k8saudit scan TRACE -r RULES... --format json --rule-matching first`` and
checked as that folder's README says (detect, detect_level, detect_counts,
stderr_contains). Runs with the fast evaluator and with the reference one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from k8saudit_cli.cli import main
from tests.conftest import LEGACY

CASES = yaml.safe_load((LEGACY / "cases.yaml").read_text())["cases"] if LEGACY.is_dir() else []


def _run(runner, case: dict, tmp_path: Path, fast: bool):
    summary = tmp_path / "summary.json"
    args = ["scan", str(LEGACY / case["input"])]
    for rules in case["rules"]:
        args += ["-r", str(LEGACY / rules)]
    args += [
        "--format",
        "json",
        "--rule-matching",
        "first",
        "--min-priority",
        "debug",
        "--summary-json",
        str(summary),
        "--no-progress",
    ]
    if not fast:
        args.append("--no-fast-path")
    result = runner.invoke(main, args)
    return result, json.loads(summary.read_text()) if summary.exists() else None


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "reference"])
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_legacy_case(conformance, tmp_path, case, fast):
    from click.testing import CliRunner

    runner = (
        CliRunner(mix_stderr=False)
        if "mix_stderr" in CliRunner.__init__.__code__.co_varnames
        else CliRunner()
    )
    result, summary = _run(runner, case, tmp_path, fast)
    assert result.exit_code == case.get("exit_status", 0), result.stderr
    alerts = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert summary["events_detected"] == len(alerts)
    if case["detect"]:
        assert alerts, "expected at least one alert"
        if "detect_level" in case:
            assert case["detect_level"].upper() in summary["rule_counts_by_severity"]
    else:
        assert not alerts, [a["rule"] for a in alerts]
    for rule, count in (case.get("detect_counts") or {}).items():
        assert summary["triggered_rules"].get(rule, 0) == count, rule
    for pattern in case.get("stderr_contains") or []:
        assert re.search(pattern, result.stderr, re.DOTALL), pattern


def test_all_66_cases_present(conformance):
    assert len(CASES) == 66


TRACES = sorted(p.stem for p in (LEGACY / "traces").glob("*.json")) if LEGACY.is_dir() else []
EXPECTED = LEGACY / "expected-falco-0.35.1"
UPSTREAM_060 = LEGACY / "rules" / "upstream" / "k8s_audit_rules-0.6.0.yaml"
JSON_KEYS = ("rule", "priority", "time", "output", "output_fields", "tags", "source")


@pytest.fixture
def utc(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("trace", TRACES)
def test_text_alerts_equal_what_falco_printed(conformance, utc, trace):
    """Line for line, the alerts a real Falco 0.35.1 printed for this trace."""
    from click.testing import CliRunner

    result = CliRunner().invoke(
        main,
        [
            "scan",
            str(LEGACY / "traces" / f"{trace}.json"),
            "-r",
            str(UPSTREAM_060),
            "--rule-matching",
            "first",
            "--time-format",
            "falco",
            "--no-summary",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (EXPECTED / f"{trace}.txt").read_text()


@pytest.mark.parametrize("trace", TRACES)
def test_json_alerts_carry_what_falco_printed(conformance, utc, trace):
    """Same rule, priority, time, output, output_fields, tags and source as Falco's JSON."""
    from click.testing import CliRunner

    result = CliRunner().invoke(
        main,
        [
            "scan",
            str(LEGACY / "traces" / f"{trace}.json"),
            "-r",
            str(UPSTREAM_060),
            "--rule-matching",
            "first",
            "--time-format",
            "falco",
            "--format",
            "json",
            "--no-summary",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.stderr
    got = [json.loads(line) for line in result.stdout.splitlines()]
    want_path = EXPECTED / f"{trace}.jsonl"
    want = (
        [json.loads(line) for line in want_path.read_text().splitlines() if line.strip()]
        if want_path.exists()
        else []
    )
    assert [{k: a.get(k) for k in JSON_KEYS} for a in got] == [
        {k: a.get(k) for k in JSON_KEYS} for a in want
    ]
