"""The end-of-run report in its three forms, and the progress bar (shown only on a terminal)."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from rich.console import Console

from k8saudit_cli import priority as prio
from k8saudit_cli.cli.progress import ProgressBar
from k8saudit_cli.decode import Problems
from k8saudit_cli.detection_run import DetectionRun
from k8saudit_cli.report import falco_lines, plain_text, print_rich, summary_json
from k8saudit_cli.ruleset import load_rules
from k8saudit_cli.run_options import RunOptions
from k8saudit_cli.run_stats import RunStats
from tests.test_scan_cli import AUDIT, RULES


def stats() -> RunStats:
    s = RunStats(problems=Problems(counts=Counter({"invalid_json": 2, "time_fallback": 1})))
    s.events_read, s.events_in_window, s.alerts, s.elapsed = 10, 9, 4, 0.5
    s.by_priority.update({prio.parse_priority("warning"): 3, prio.parse_priority("info"): 1})
    s.by_rule.update({"B rule": 1, "A rule": 3})
    s.rule_order.update({"A rule": 5, "B rule": 2})
    s.files.append("audit.log")
    return s


def test_falco_sections_are_byte_compatible():
    assert falco_lines(stats()) == [
        "Events detected: 4",
        "Rule counts by severity:",
        "   WARNING: 3",
        "   INFO: 1",
        "Triggered rules by rule name:",
        "   B rule: 1",  # rule id (definition) order, not count or name order
        "   A rule: 3",
    ]


def test_plain_text_adds_our_counters():
    text = plain_text(stats())
    assert text.endswith(
        "Events read: 10\nEvents in time window: 9\nInput skipped: 2\n   invalid JSON: 2\n"
        "Warnings: stageTimestamp missing or unparsable, used a fallback time: 1\n"
        "Files read: 1\nElapsed: 0.500 s (20 events/s)\n"
    )


def test_rich_form_at_a_fixed_width_without_colour():
    console = Console(file=io.StringIO(), width=60, color_system=None, record=True)
    print_rich(stats(), console)
    out = console.export_text()
    assert "Events detected: 4" in out
    assert "Rule counts by severity" in out and "WARNING" in out
    assert out.index("B rule") < out.index("A rule")
    assert all(len(line) <= 60 for line in out.splitlines())


def test_summary_json():
    data = summary_json(stats())
    assert data["rule_counts_by_severity"] == {"WARNING": 3, "INFO": 1}
    assert list(data["triggered_rules"]) == ["B rule", "A rule"]
    assert data["input_skipped"] == {"invalid_json": 2}
    assert data["input_warnings"] == {"time_fallback": 1}


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("jobs", [1, 2])
def test_progress_bar_passes_events_through_and_draws(monkeypatch, jobs):
    import sys

    fake = _Terminal()
    monkeypatch.setattr(sys, "stderr", fake)
    rules = load_rules([RULES]).rules
    plain: list = []
    DetectionRun(rules, sink=plain.append).scan_paths([AUDIT])
    shown: list = []
    with ProgressBar() as bar:
        s = DetectionRun(
            rules,
            RunOptions(jobs=jobs),
            shown.append,
            on_input_warning=bar.echo,
            on_progress=bar.update,
        ).scan_paths([AUDIT])
    assert [(a.event.num, a.rule.name) for a in shown] == [
        (a.event.num, a.rule.name) for a in plain
    ]
    assert "B/s" in fake.getvalue() or "%" in fake.getvalue()
    assert "invalid JSON" in fake.getvalue()  # the input warning, printed above the bar
    assert s.files == [AUDIT]


def test_rich_form_shows_rule_names_as_written():
    s = stats()
    s.by_rule.update({"Create [beta] Pod [/]": 2})
    console = Console(file=io.StringIO(), width=80, color_system=None, record=True)
    print_rich(s, console)
    assert "Create [beta] Pod [/]" in console.export_text()
