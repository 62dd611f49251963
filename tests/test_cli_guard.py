"""The guard around every command: interrupts exit 130/143, bugs exit 2 in one line, never 1.

In-process (Click's CliRunner) for what needs no real signal or descriptor;
tests/test_faults.py runs the same faults in real processes.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from k8saudit_cli.alerts import AlertRenderer
from k8saudit_cli.cli import interrupts, main
from k8saudit_cli.detection_run import DetectionRun
from k8saudit_cli.errors import InputError
from tests.test_scan_cli import AUDIT, RULES

HINT = " (set K8SAUDIT_DEBUG=1 to see the traceback)"


def scan(*args: str):
    return CliRunner().invoke(main, ["scan", AUDIT, "-r", RULES, *args])


def raising(exc: BaseException):
    def scan_paths(self: DetectionRun, inputs: object) -> None:
        raise exc

    return scan_paths


def test_a_bug_is_one_line_and_exit_2(monkeypatch):
    monkeypatch.delenv("K8SAUDIT_DEBUG", raising=False)
    monkeypatch.setattr(DetectionRun, "scan_paths", raising(RuntimeError("boom")))
    result = scan()
    assert result.exit_code == 2
    assert result.stderr == f"k8saudit: internal error: RuntimeError: boom{HINT}\n"


def test_k8saudit_debug_shows_the_traceback(monkeypatch):
    monkeypatch.setenv("K8SAUDIT_DEBUG", "1")
    monkeypatch.setattr(DetectionRun, "scan_paths", raising(RuntimeError("boom")))
    result = scan()
    assert result.exit_code == 2
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.endswith("k8saudit: internal error: RuntimeError: boom\n")


def test_an_error_of_ours_that_escapes_a_command_is_exit_2(monkeypatch):
    monkeypatch.setattr(DetectionRun, "scan_paths", raising(InputError("cannot read 'x'")))
    result = scan()
    assert (result.exit_code, result.stderr) == (2, "k8saudit: error: cannot read 'x'\n")


def test_click_abort_is_an_interruption_not_findings(monkeypatch):
    monkeypatch.setattr(DetectionRun, "scan_paths", raising(click.Abort()))
    result = scan()
    assert result.exit_code == 130
    assert "k8saudit: interrupted" in result.stderr and "Aborted!" not in result.stderr


def test_an_interrupted_scan_reports_what_it_scanned(monkeypatch, tmp_path):
    calls = []
    line = AlertRenderer.line

    def interrupt_at_the_third(self: AlertRenderer, alert: object) -> str:
        calls.append(alert)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return line(self, alert)  # type: ignore[arg-type]

    monkeypatch.setattr(AlertRenderer, "line", interrupt_at_the_third)
    summary = tmp_path / "summary.json"
    result = scan("--summary-json", str(summary), "--fail-on", "debug")
    assert result.exit_code == 130  # not 1, although --fail-on is met
    assert len(result.stdout.splitlines()) == 2
    assert result.stderr.startswith("k8saudit: interrupted\nEvents detected: 3\n")
    data = json.loads(summary.read_text())
    assert data["interrupted"] is True and data["error"] is None


def test_exit_code_is_128_plus_the_first_signal(monkeypatch):
    monkeypatch.setattr(interrupts, "_received", [signal.SIGTERM])
    assert interrupts.exit_code() == 143
    monkeypatch.setattr(interrupts, "_received", [])
    assert interrupts.exit_code() == 130


def test_handlers_are_restored_after_a_command():
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    assert scan("--no-summary").exit_code == 0
    assert {sig: signal.getsignal(sig) for sig in before} == before


def test_a_completed_scan_has_interrupted_false(tmp_path: Path):
    summary = tmp_path / "summary.json"
    assert scan("--summary-json", str(summary), "--no-summary").exit_code == 0
    data = json.loads(summary.read_text())
    assert data["interrupted"] is False and data["error"] is None


@pytest.mark.parametrize("args", [["--help"], ["scan", "--help"], ["--version"]])
def test_help_and_version_still_exit_0(args):
    assert CliRunner().invoke(main, args).exit_code == 0
