"""Aggregations in a detection run: alerts in input order after the crossing event's
rule alerts, identical with --jobs, selection, fixtures, the report, the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from k8saudit_cli import parallel_run
from k8saudit_cli.alerts import AlertRenderer
from k8saudit_cli.cli import main
from k8saudit_cli.detect import Alert
from k8saudit_cli.detection_run import DetectionRun
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fixtures import Case, run_case
from k8saudit_cli.report import plain_text, summary_json
from k8saudit_cli.ruleset import load_texts
from k8saudit_cli.ruleset.compile import CompiledRule
from k8saudit_cli.run_options import RunOptions, TextSink
from k8saudit_cli.selection import Step, select_rules
from k8saudit_cli.timestamps import event_time_ns

RULES = """
- macro: kevt
  condition: ka.stage = ResponseComplete
- rule: Delete
  desc: d
  condition: kevt and ka.verb = delete
  output: delete by %ka.user.name num=%evt.num
  priority: INFO
  source: k8s_audit
  tags: [activity]
- aggregation: Sweep
  desc: many kinds listed cluster-wide
  condition: kevt and ka.verb = list and not ka.target.namespace exists
  group_by: [ka.user.name]
  distinct: ka.target.resource
  window: 2m
  threshold: 4
  output: >-
    sweep user=%ka.user.name kinds=%agg.count (%agg.values) since=%agg.first_time
    window=%agg.window/%agg.threshold ua=%ka.useragent num=%evt.num
  priority: WARNING
  tags: [discovery]
- aggregation: Deletes
  desc: many deletes
  condition: kevt and ka.verb = delete
  group_by: [ka.user.name, ka.sourceips]
  count: events
  window: 3m
  threshold: 5
  output: deletes user=%ka.user.name src=%ka.sourceips n=%agg.count last=%ka.target.name
  priority: NOTICE
  tags: [impact]
"""
T0 = dt.datetime(2026, 3, 16, 1, 0, tzinfo=dt.timezone.utc)
KINDS = [
    "pods",
    "secrets",
    "nodes",
    "services",
    "configmaps",
    "namespaces",
    "roles",
    "deployments",
    "daemonsets",
    "serviceaccounts",
]


def event(i: int, seconds: float, user: str, verb: str, resource: str, ns: str | None) -> dict:
    stamp = (T0 + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    ref: dict[str, Any] = {"resource": resource, "name": f"obj-{i}"}
    if ns:
        ref["namespace"] = ns
    return {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "auditID": f"a-{i}",
        "stage": "ResponseComplete",
        "requestURI": f"/api/v1/{resource}",
        "verb": verb,
        "user": {"username": user},
        "sourceIPs": [f"10.0.{i % 3}.9"],
        "userAgent": f"kubectl/{i % 4}",
        "objectRef": ref,
        "responseStatus": {"code": 200},
        "requestReceivedTimestamp": stamp,
        "stageTimestamp": stamp,
    }


def story(n: int = 1500) -> list[dict]:
    """Users listing and deleting, every few seconds, with slightly late events."""
    out = []
    for i in range(n):
        user = ["eve", "bob", "carol"][i % 3]
        seconds = i * 2.5 - (3 if i % 11 == 0 else 0)
        if i % 4 == 0:
            out.append(event(i, seconds, user, "delete", "pods", "dev"))
        else:
            out.append(event(i, seconds, user, "list", KINDS[(i * 7 // 3) % 10], None))
    return out


@pytest.fixture
def audit_file(tmp_path: Path) -> str:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in story()))
    return str(path)


def rules() -> list[CompiledRule]:
    ruleset = load_texts([("r.yaml", RULES)])
    assert ruleset.ok, [d.render() for d in ruleset.diagnostics]
    return ruleset.rules


def text_run(path: str, jobs: int, **options: Any) -> tuple[list[str], Any]:
    out: list[str] = []
    sink = TextSink(AlertRenderer("iso").text, out.append)
    stats = DetectionRun(rules(), RunOptions(jobs=jobs, **options), sink).scan_paths([path])
    return out, stats


def object_run(path: str, jobs: int) -> list[tuple[str, int, str, int, str]]:
    got: list[tuple[str, int, str, int, str]] = []

    def sink(alert: Alert) -> None:
        ev = alert.event
        got.append((alert.rule.name, ev.num, ev.raw["auditID"], ev.line, alert_json(alert)))

    DetectionRun(rules(), RunOptions(jobs=jobs), sink).scan_paths([path])
    return got


def alert_json(alert: Alert) -> str:
    record = AlertRenderer("iso").record(alert)
    record.pop("hostname")
    return json.dumps(record, sort_keys=True)


def test_aggregations_fire_after_the_rules_of_the_crossing_event(audit_file: str) -> None:
    lines, stats = text_run(audit_file, 1)
    assert stats.by_rule["Sweep"] > 3 and stats.by_rule["Deletes"] > 3
    assert stats.alerts == sum(stats.by_rule.values())
    first = next(i for i, ln in enumerate(lines) if " deletes user=" in ln)
    assert " delete by " in lines[first - 1]  # the crossing event's rule alert first
    assert lines[first - 1].split(" ")[0] == lines[first].split(" ")[0]
    sweep = next(ln for ln in lines if " sweep user=" in ln)
    assert "kinds=4 (" in sweep and "window=2m/4" in sweep
    assert set(stats.aggregation) == {
        "aggregations",
        "events_counted",
        "groups_evicted",
        "timeline_restarts",
        "peak_groups",
    }
    assert stats.aggregation["events_counted"] == 1500


@pytest.mark.parametrize("jobs", [2, 3])
def test_jobs_give_identical_alerts_and_counters(
    audit_file: str, jobs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel_run, "MIN_CHUNK", 20_000)  # many byte-range chunks
    assert len(parallel_run.plan_chunks([audit_file], jobs)) > 4
    serial, serial_stats = text_run(audit_file, 1)
    lines, stats = text_run(audit_file, jobs)
    assert lines == serial
    for attr in ("by_rule", "by_priority", "rule_order", "aggregation", "alerts"):
        assert getattr(stats, attr) == getattr(serial_stats, attr), attr
    assert object_run(audit_file, jobs) == object_run(audit_file, 1)


def test_events_and_paths_give_the_same_alerts(audit_file: str) -> None:
    lines, _ = text_run(audit_file, 1)
    events = []
    for i, raw in enumerate(story(), 1):
        events.append(AuditEvent(raw, event_time_ns(raw)[0] or 0, i, audit_file, i))
    out: list[str] = []
    DetectionRun(rules(), RunOptions(), TextSink(AlertRenderer().text, out.append)).scan_events(
        events
    )
    assert out == lines


def test_first_match_does_not_hide_events_from_aggregations(audit_file: str) -> None:
    _, every = text_run(audit_file, 1)
    _, first = text_run(audit_file, 1, rule_matching="first")
    assert first.by_rule["Deletes"] == every.by_rule["Deletes"]
    assert first.by_rule["Sweep"] == every.by_rule["Sweep"]


def test_the_time_window_applies_before_counting(audit_file: str) -> None:
    since = int((T0 + dt.timedelta(seconds=3000)).timestamp()) * 10**9
    _, stats = text_run(audit_file, 1, since_ns=since)
    assert stats.aggregation["events_counted"] == stats.events_in_window < 1500


def test_selection_applies_to_aggregations() -> None:
    selected = [r.name for r in select_rules(rules(), [Step("disable", "tag", "impact")])]
    assert selected == ["Delete", "Sweep"]
    assert [r.name for r in select_rules(rules(), min_priority=5)] == ["Sweep", "Deletes"]
    assert [r.name for r in select_rules(rules(), [Step("disable", "rule", "Sw*")])] == [
        "Delete",
        "Deletes",
    ]


def test_no_aggregation_no_counters_in_the_report(audit_file: str) -> None:
    plain = [r for r in rules() if r.name == "Delete"]
    stats = DetectionRun(plain).scan_paths([audit_file])
    assert not stats.aggregation
    assert "Aggregation" not in plain_text(stats)
    assert "aggregations" not in summary_json(stats)
    _, with_aggs = text_run(audit_file, 1)
    assert "Aggregation events counted: 1500 (2 aggregations; groups evicted: 0" in plain_text(
        with_aggs
    )
    assert summary_json(with_aggs)["aggregations"]["events_counted"] == 1500


def test_fixture_cases_count_aggregation_alerts() -> None:
    events = [
        AuditEvent(raw, event_time_ns(raw)[0] or 0, i)
        for i, raw in enumerate(story(60), 1)
        if raw["verb"] == "delete"
    ]
    case = Case("deletes", "f.yaml", events, {"Deletes": 3, "Delete": 15}, ["Sweep"])
    result = run_case(case, rules())
    assert result.passed, result.failures
    assert run_case(case, rules(), fast=False).passed


def test_cli_scan_jobs_identical_with_the_default_ruleset(
    audit_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel_run, "MIN_CHUNK", 20_000)
    runner = CliRunner()
    outs = []
    for jobs in ("1", "2"):
        result = runner.invoke(
            main, ["scan", audit_file, "--format", "json", "--jobs", jobs, "--no-progress"]
        )
        assert result.exit_code == 0, result.stderr
        outs.append(result.stdout)
    assert outs[0] == outs[1]
    fired = {json.loads(line)["rule"] for line in outs[0].splitlines()}
    assert "Discovery Sweep By User" in fired


def test_rules_explain_and_validate_show_aggregations(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(RULES)
    runner = CliRunner()
    listed = json.loads(runner.invoke(main, ["rules", "-r", str(path), "--format", "json"]).stdout)
    assert [(r["name"], r["kind"]) for r in listed] == [
        ("Delete", "rule"),
        ("Sweep", "aggregation"),
        ("Deletes", "aggregation"),
    ]
    explained = runner.invoke(main, ["explain", "Sweep", "-r", str(path)]).stdout
    assert "distinct ka.target.resource per ka.user.name within 2m, alert at 4" in explained
    data = json.loads(
        runner.invoke(main, ["explain", "Deletes", "-r", str(path), "--format", "json"]).stdout
    )
    assert data["aggregation"] == {
        "group_by": ["ka.user.name", "ka.sourceips"],
        "count": "events",
        "window": "3m",
        "window_seconds": 180.0,
        "threshold": 5,
    }
    assert runner.invoke(main, ["validate", "-r", str(path)]).exit_code == 0


def test_cli_selection_options_select_aggregations(audit_file: str) -> None:
    runner = CliRunner()

    def fired(*options: str) -> set[str]:
        result = runner.invoke(
            main, ["scan", audit_file, "--format", "json", "--no-progress", *options]
        )
        assert result.exit_code == 0, result.stderr
        assert "matches no rule" not in result.stderr
        return {json.loads(line)["rule"] for line in result.stdout.splitlines()}

    assert "Discovery Sweep By User" in fired()
    assert "Discovery Sweep By User" not in fired("--disable-tag", "discovery")
    assert "Discovery Sweep By User" not in fired("--disable-rule", "Discovery Sweep*")
    assert "Discovery Sweep By User" not in fired("--min-priority", "warning")
