"""Tables at a terminal, whole plain lines in pipes; alert colours on a terminal only (issue 12).

CliRunner's stdout is a buffer, like a pipe: what it captures is what
``| grep`` would see. The terminal side runs a real process on a pty.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from k8saudit_cli.cli import main
from k8saudit_cli.cli.console import tsv_line
from k8saudit_cli.fields import FIELDS
from tests.clirun import on_terminal
from tests.test_scan_cli import AUDIT, RULES

LONG_USER = "system:serviceaccount:" + "very-long-namespace-name-" * 4 + "x"


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner(env={"NO_COLOR": None, "COLUMNS": None})


@pytest.fixture
def long_event(tmp_path: Path) -> str:
    log = tmp_path / "long.jsonl"
    event = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "auditID": "a1",
        "stage": "ResponseComplete",
        "verb": "get",
        "user": {"username": LONG_USER},
        "userAgent": "tab\there",
        "stageTimestamp": "2024-05-01T10:00:00Z",
    }
    log.write_text(json.dumps(event) + "\n")
    return str(log)


# ------------------------------------------------------------------ pipes get lines


def test_rules_in_a_pipe_is_one_line_per_rule(cli: CliRunner) -> None:
    result = cli.invoke(main, ["rules"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if "Create Privileged Pod" in line]
    assert len(lines) == 1
    name, priority, source, enabled, tags = lines[0].split("\t")
    assert (name, priority, source, enabled) == (
        "Create Privileged Pod",
        "Warning",
        "k8s_audit",
        "yes",
    )
    assert "k8s" in tags.split(",")
    assert all(line.count("\t") == 4 for line in result.stdout.splitlines())


def test_fields_values_in_a_pipe_are_whole(cli: CliRunner, long_event: str) -> None:
    result = cli.invoke(main, ["fields", "-e", "1", long_event])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert f"ka.user.name\t{LONG_USER}" in lines
    assert "ka.useragent\ttab\\there" in lines  # a tab inside a value cannot split the columns
    assert all(line.count("\t") == 1 for line in lines)


def test_fields_listing_in_a_pipe(cli: CliRunner) -> None:
    result = cli.invoke(main, ["fields"])
    lines = result.stdout.splitlines()
    assert len(lines) == len(FIELDS)
    verb = next(line for line in lines if line.startswith("ka.verb\t"))
    assert verb.split("\t")[:4] == ["ka.verb", "string", "", ""]
    param = next(line for line in lines if line.startswith("ka.uri.param\t"))
    assert param.split("\t")[3] == "key, required"


def test_explicit_formats_win(cli: CliRunner, long_event: str) -> None:
    table = cli.invoke(main, ["rules", "-r", RULES, "--format", "text"]).stdout
    assert "│" in table or "┃" in table
    tsv = cli.invoke(main, ["fields", "-e", "1", long_event, "--format", "tsv"]).stdout
    assert tsv.startswith("ka.auditid\ta1\n") or "\nka.auditid\ta1\n" in tsv


def test_tsv_escapes_what_would_break_a_line() -> None:
    assert tsv_line(["a\tb", "c\nd\\e\r"]) == "a\\tb\tc\\nd\\\\e\\r\n"


# ------------------------------------------------------------------ terminals get tables


def test_rules_on_a_terminal_is_a_table() -> None:
    out, code = on_terminal("rules", "-r", RULES)
    assert code == 0
    assert "Privileged Pod" in out and ("│" in out or "┃" in out)
    assert "\t" not in out


def test_fields_values_on_a_terminal_are_a_table(long_event: str) -> None:
    out, code = on_terminal("fields", "-e", "1", long_event, "-f", "ka.verb")
    assert code == 0
    assert "event 1 (" in out and "│" in out


# ------------------------------------------------------------------ colour


def test_alerts_are_coloured_on_a_terminal() -> None:
    out, code = on_terminal("scan", AUDIT, "-r", RULES, "--no-summary")
    assert code == 0
    warning = next(line for line in out.splitlines() if "Warning Privileged" in line)
    assert warning.startswith("\x1b[33m") and warning.endswith("\x1b[0m")
    error = next(line for line in out.splitlines() if " Error " in line)
    assert error.startswith("\x1b[31m")


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--color", "never"], {}),
        ([], {"NO_COLOR": "1"}),
        (["--format", "json"], {}),
    ],
)
def test_no_colour_on_a_terminal_when_refused(args: list[str], env: dict[str, str]) -> None:
    out, code = on_terminal("scan", AUDIT, "-r", RULES, "--no-summary", *args, env=env)
    assert code == 0 and "Privileged" in out
    assert "\x1b[" not in out


def test_no_colour_in_pipes_or_files(cli: CliRunner, tmp_path: Path) -> None:
    piped = cli.invoke(main, ["scan", AUDIT, "-r", RULES, "--no-summary"])
    assert "Privileged" in piped.stdout and "\x1b[" not in piped.stdout
    out = tmp_path / "alerts.txt"
    cli.invoke(main, ["scan", AUDIT, "-r", RULES, "--no-summary", "-o", str(out)])
    assert "Privileged" in out.read_text() and "\x1b[" not in out.read_text()


def test_colour_always_colours_a_pipe(cli: CliRunner) -> None:
    result = cli.invoke(main, ["scan", AUDIT, "-r", RULES, "--no-summary", "--color", "always"])
    lines = result.stdout.splitlines()
    assert any(line.startswith("\x1b[33m") and "Privileged" in line for line in lines)
    assert all(line.endswith("\x1b[0m") or "Informational" in line for line in lines)


def test_rule_names_are_text_not_markup(tmp_path: Path) -> None:
    rules = tmp_path / "r.yaml"
    rules.write_text(
        "- rule: Create [beta] Pod [/]\n  desc: d\n  condition: ka.verb = create\n"
        "  output: o\n  priority: INFO\n  source: k8s_audit\n  tags: ['[red]x']\n"
    )
    out, code = on_terminal("rules", "-r", str(rules))
    assert code == 0
    assert "Create [beta] Pod [/]" in out and "[red]x" in out
