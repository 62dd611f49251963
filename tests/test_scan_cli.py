"""``k8saudit scan`` through Click's CliRunner, checked against golden files.

Inputs are our own: tests/data/scan/audit.jsonl (CRLF endings, a broken line,
an EventList, a blank line) and tests/data/scan/rules.yaml. Regenerate the
golden files with ``UPDATE_GOLDEN=1 pytest tests/test_scan_cli.py`` and
review the diff.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from k8saudit_cli.cli import main

DATA = Path(__file__).parent / "data" / "scan"
GOLDEN = Path(__file__).parent / "golden"
AUDIT = str(DATA / "audit.jsonl")
RULES = str(DATA / "rules.yaml")


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("FALCO_HOSTNAME", "test-host")
    time.tzset()
    yield
    time.tzset()


def scan(*args: str, input: bytes | None = None):
    return CliRunner().invoke(main, ["scan", *args], input=input)


def normalise(text: str) -> str:
    """Drop what changes between machines: timing and where the checkout lives."""
    return re.sub(r"Elapsed: .*", "Elapsed: <elapsed>", text).replace(str(DATA), "<data>")


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    text = normalise(text)
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert path.exists(), f"missing golden file {path}; run with UPDATE_GOLDEN=1"
    assert text == path.read_text()


GOLDEN_RUNS = {
    "scan_default.txt": [AUDIT, "-r", RULES],
    "scan_falco_time.txt": [AUDIT, "-r", RULES, "--time-format", "falco"],
    "scan_first.txt": [AUDIT, "-r", RULES, "--rule-matching", "first"],
    "scan_json.txt": [AUDIT, "-r", RULES, "--format", "json"],
    "scan_min_priority.txt": [AUDIT, "-r", RULES, "--min-priority", "notice"],
    "scan_select.txt": [
        AUDIT,
        "-r",
        RULES,
        "--disable-tag",
        "k8s",
        "--enable-rule",
        "Secret*",
        "--enable-tag",
        "noisy",
    ],
    "scan_window.txt": [
        AUDIT,
        "-r",
        RULES,
        "--since",
        "2026-03-14T09:26:03Z",
        "--until",
        "2026-03-14T09:26:08Z",
    ],
}


@pytest.mark.parametrize("name", sorted(GOLDEN_RUNS))
def test_golden_stdout_and_stderr(name):
    result = scan(*GOLDEN_RUNS[name])
    assert result.exit_code == 0, result.stderr
    golden(name, f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}")


def test_selection_order_matters():
    enable_then_disable = scan(
        AUDIT, "-r", RULES, "--enable-rule", "Everything", "--disable-tag", "noisy", "--no-summary"
    )
    disable_then_enable = scan(
        AUDIT, "-r", RULES, "--disable-tag", "noisy", "--enable-rule", "Everything", "--no-summary"
    )
    assert "Event " not in enable_then_disable.stdout
    assert "Event get" in disable_then_enable.stdout


def test_json_alert_shape():
    result = scan(AUDIT, "-r", RULES, "--format", "json", "--no-summary")
    alerts = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["rule"] for a in alerts] == [
        "Privileged Pod",
        "Any Create",
        "Exec Into Pod",
        "Secret Read",
        "Any Create",
        "Secret Read",
    ]
    first = alerts[0]
    assert list(first) == sorted(first)
    assert first["hostname"] == "test-host"
    assert first["time"] == "2026-03-14T09:26:02.002512000Z"
    assert first["output_fields"]["evt.time.iso8601"] == 1773480362002512000
    assert first["output_fields"]["ka.req.pod.containers.image"] == ["busybox:1.36"]
    assert first["tags"] == ["k8s", "mitre_privilege_escalation", "pods"]
    exec_alert = alerts[2]
    assert exec_alert["output_fields"]["ka.uri.param[command]"] == "sh"
    assert exec_alert["output_fields"]["evt.num"] == 3


def test_output_file_keeps_stdout_empty(tmp_path):
    out = tmp_path / "alerts.txt"
    result = scan(AUDIT, "-r", RULES, "-o", str(out), "--no-summary")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert len(out.read_text().splitlines()) == 6


def test_summary_json_and_no_summary(tmp_path):
    path = tmp_path / "summary.json"
    result = scan(AUDIT, "-r", RULES, "--summary-json", str(path), "--no-summary")
    assert "Events detected" not in result.stderr
    summary = json.loads(path.read_text())
    assert summary["events_detected"] == 6
    assert summary["rule_counts_by_severity"] == {"ERROR": 2, "WARNING": 1, "NOTICE": 1, "INFO": 2}
    assert list(summary["triggered_rules"]) == [
        "Privileged Pod",
        "Exec Into Pod",
        "Secret Read",
        "Any Create",
    ]
    assert summary["events_read"] == 8
    assert summary["input_skipped"] == {"invalid_json": 1}
    assert summary["files_read"] == [AUDIT]


@pytest.mark.parametrize("level,code", [("error", 1), ("critical", 0), ("info", 1)])
def test_fail_on(level, code):
    result = scan(AUDIT, "-r", RULES, "--fail-on", level, "--no-summary")
    assert result.exit_code == code
    assert bool(result.stdout)


def test_strict_turns_skipped_input_into_exit_2():
    result = scan(AUDIT, "-r", RULES, "--strict", "--no-summary")
    assert result.exit_code == 2
    assert "--strict: 1 input item(s) were skipped" in result.stderr
    assert len(result.stdout.splitlines()) == 6  # the rest was still processed


def test_missing_input_is_exit_2_without_traceback():
    result = scan("/nonexistent/audit.log", "-r", RULES)
    assert result.exit_code == 2
    assert (
        result.stderr.strip()
        == "k8saudit: error: cannot open '/nonexistent/audit.log': no such file or directory"
    )


def test_invalid_rules_exit_2_with_position(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "- rule: x\n  desc: d\n  condition: ka.verb = create and\n  output: o\n  priority: INFO\n"
        "  source: k8s_audit\n"
    )
    result = scan(AUDIT, "-r", str(bad))
    assert result.exit_code == 2
    assert f"{bad}:3:" in result.stderr
    assert "^" in result.stderr
    assert result.stdout == ""


def test_stdin_gzip_directory_and_glob_give_the_same_alerts(tmp_path):
    expected = scan(AUDIT, "-r", RULES, "--no-summary").stdout
    data = Path(AUDIT).read_bytes()
    assert scan("-", "-r", RULES, "--no-summary", input=data).stdout == expected
    (tmp_path / "d").mkdir()
    gz = tmp_path / "d" / "audit.log.1"  # compressed, but the name does not say so
    gz.write_bytes(gzip.compress(data))
    assert scan(str(gz), "-r", RULES, "--no-summary").stdout == expected
    assert scan(str(tmp_path / "d"), "-r", RULES, "--no-summary").stdout == expected.replace(
        AUDIT, str(gz)
    )
    assert scan(str(tmp_path / "d" / "audit.*"), "-r", RULES, "--no-summary").stdout == expected


def test_jobs_give_identical_alerts_and_summary(tmp_path, monkeypatch):
    from k8saudit_cli import parallel_run

    monkeypatch.setattr(
        parallel_run, "MIN_CHUNK", 2000
    )  # force byte-range splitting of a small file
    big = tmp_path / "big.jsonl"
    with big.open("wb") as fh:
        for _ in range(40):
            fh.write(Path(AUDIT).read_bytes())
    runs = {}
    for jobs in ("1", "2"):
        summary = tmp_path / f"s{jobs}.json"
        result = scan(
            str(big),
            "-r",
            RULES,
            "--format",
            "json",
            "--jobs",
            jobs,
            "--summary-json",
            str(summary),
        )
        data = json.loads(summary.read_text())
        data.pop("elapsed_seconds"), data.pop("events_per_second")
        runs[jobs] = (result.stdout, normalise(result.stderr), data)
    assert runs["1"] == runs["2"]
    assert runs["1"][2]["events_read"] == 320
    nums = [
        json.loads(line)["output_fields"]["evt.num"]
        for line in runs["2"][0].splitlines()
        if json.loads(line)["rule"] == "Exec Into Pod"
    ]
    assert nums == [3 + 8 * k for k in range(40)]


def test_fast_and_reference_evaluators_agree():
    fast = scan(AUDIT, "-r", RULES, "--no-summary").stdout
    slow = scan(AUDIT, "-r", RULES, "--no-summary", "--no-fast-path").stdout
    assert fast == slow


def test_bad_option_values_are_usage_errors():
    assert scan(AUDIT, "--min-priority", "loud").exit_code == 2
    assert scan(AUDIT, "--since", "yesterday-ish").exit_code == 2
    assert scan(AUDIT, "--jobs", "zero").exit_code == 2


def test_default_rules_are_used_without_r():
    if not Path(__file__).parent.parent.joinpath("rules", "k8s_audit_rules.yaml").exists():
        pytest.skip("default ruleset not written yet")
    result = scan(AUDIT, "--no-summary")
    assert result.exit_code == 0, result.stderr


def test_help_teaches():
    result = CliRunner().invoke(main, ["scan", "--help"])
    assert "Examples:" in result.output
    assert "--rule-matching" in result.output
    shutil.which("k8saudit")  # the console script is declared; installation is covered by .ci/run
