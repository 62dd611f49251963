"""Attacker text cannot forge output lines or reach the terminal raw.

Every renderer (text and JSON alerts, input warnings, diagnostics, the
report, the ``fields`` and ``rules`` tables) escapes control characters and
line separators in event- and file-derived text; ``%b64`` output that is
not UTF-8 is printed as escaped bytes instead of aborting the scan.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from k8saudit_cli.cli import main
from k8saudit_cli.escape import json_line_safe, visible

RAW_CONTROLS = ("\x1b", "\x07", "\r", "\x85", "\u2028", "\u2029", "\x9b")

FORGED_COMMAND = (
    "%0A2026-03-16T01%3A00%3A00.000000000%2B0000%3A%20Critical%20Fake%20alert%20%1B%5B2J"
)
USER_AGENT = (
    "\x1b]0;pwned\x07kubectl\r\n2026-03-16T01:00:00Z: Critical forged\x1b[8m\u2028\x85\u2029\x9b"
)

RULES = """\
- rule: Exec
  desc: d
  condition: ka.verb = create
  output: "cmd=%ka.uri.param[command] ua=%ka.useragent"
  priority: WARNING
  source: k8s_audit
- rule: B64
  desc: d
  condition: ka.verb = patch
  output: "decoded=%b64(ka.useragent)"
  priority: NOTICE
  source: k8s_audit
"""


def audit_event(verb: str, useragent: str, uri: str = "/api/v1/namespaces/x/pods/p/exec") -> str:
    return json.dumps(
        {
            "kind": "Event",
            "apiVersion": "audit.k8s.io/v1",
            "level": "Request",
            "auditID": "a1",
            "stage": "ResponseComplete",
            "requestURI": uri,
            "verb": verb,
            "user": {"username": "mallory"},
            "userAgent": useragent,
            "objectRef": {"resource": "pods", "namespace": "x", "name": "p"},
            "stageTimestamp": "2026-03-16T01:00:00.000000Z",
        }
    )


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("FALCO_HOSTNAME", "test-host")
    time.tzset()
    yield
    time.tzset()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    log = tmp_path / "audit.jsonl"
    b64 = base64.b64encode(b"\xff\xfe ok \x1b[2J \xc3").decode()
    log.write_text(
        audit_event(
            "create", USER_AGENT, f"/api/v1/namespaces/x/pods/p/exec?command={FORGED_COMMAND}"
        )
        + "\n"
        + audit_event("patch", b64)
        + "\n"
    )
    return {"rules": rules, "log": log, "dir": tmp_path}


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def assert_no_raw_controls(text: str) -> None:
    for c in RAW_CONTROLS:
        assert c not in text, repr(c)


# ---------------------------------------------------------------- the escaping itself


def test_visible_escapes_controls_separators_and_undecodable_bytes() -> None:
    assert visible("plain text \\n stays") == "plain text \\n stays"
    assert visible("a\nb\r\tc") == "a\\nb\\r\\tc"
    assert visible("\x00\x1b\x7f\x85\x9f") == "\\x00\\x1b\\x7f\\x85\\x9f"
    assert visible("\u2028\u2029") == "\\u2028\\u2029"
    assert visible(b"\xff\xfe".decode("utf-8", "surrogateescape")) == "\\xff\\xfe"
    assert visible("\ud800") == "\\ud800"
    assert visible("héllo ✓ 日本") == "héllo ✓ 日本"
    assert visible(visible(USER_AGENT)) == visible(USER_AGENT)


def test_json_line_separators_are_escaped() -> None:
    raw = json.dumps({"v": "a\u2028b\x85c\u2029"}, ensure_ascii=False).encode()
    safe = json_line_safe(raw)
    assert safe == b'{"v": "a\\u2028b\\u0085c\\u2029"}'
    assert json.loads(safe) == json.loads(raw)
    assert json_line_safe(b'{"v":"\xc3\xa9"}') == b'{"v":"\xc3\xa9"}'


# ---------------------------------------------------------------- alerts


def test_a_text_alert_stays_one_line_with_visible_escapes(files) -> None:
    result = run("scan", str(files["log"]), "-r", str(files["rules"]), "--no-summary")
    assert result.exit_code == 0, result.output
    lines = result.stdout.split("\n")
    assert len(lines) == 3 and lines[2] == "", lines  # two alerts, one line each
    assert_no_raw_controls(result.stdout)
    first = lines[0]
    assert "cmd=\\n2026-03-16T01:00:00.000000000+0000: Critical Fake alert \\x1b[2J" in first
    assert (
        "ua=\\x1b]0;pwned\\x07kubectl\\r\\n2026-03-16T01:00:00Z: Critical forged\\x1b[8m" in first
    )
    assert "\\u2028\\x85\\u2029\\x9b" in first
    assert lines[1].endswith("decoded=\\xff\\xfe ok \\x1b[2J \\xc3")


def test_b64_bytes_that_are_not_utf8_do_not_abort_a_scan_to_a_file(files) -> None:
    out = files["dir"] / "alerts.txt"
    result = run("scan", str(files["log"]), "-r", str(files["rules"]), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").count("\n") == 2


def test_json_alerts_are_one_line_each_and_keep_the_values(files) -> None:
    result = run(
        "scan", str(files["log"]), "-r", str(files["rules"]), "--format", "json", "--no-summary"
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()  # splits at U+2028, U+2029 and U+0085 too
    assert len(lines) == 2, lines
    for c in ("\u2028", "\u2029", "\x85"):
        assert c not in result.stdout
    first, second = (json.loads(line) for line in lines)
    assert first["output_fields"]["ka.useragent"] == USER_AGENT
    assert_no_raw_controls(first["output"])
    assert second["output"].endswith("decoded=\\xff\\xfe ok \\x1b[2J \\xc3")


def test_json_alerts_of_values_that_are_not_utf8_are_written() -> None:
    """Events built in memory (library users, YAML fixtures) may hold lone surrogates."""
    from k8saudit_cli.alerts import AlertRenderer
    from k8saudit_cli.detect import Alert
    from k8saudit_cli.event import AuditEvent
    from k8saudit_cli.ruleset import load_texts

    rule = load_texts([("r.yaml", RULES)]).rule("Exec")
    assert rule is not None
    raw = json.loads(audit_event("create", "x"))
    raw["userAgent"] = "bad \ud800 \udcff \u2028"
    line = AlertRenderer().json_text(Alert(rule, AuditEvent(raw, 0)))
    assert line.count("\n") == 1 and "\u2028" not in line
    assert json.loads(line)["output_fields"]["ka.useragent"] == "bad \\ud800 \\xff \u2028"


# ---------------------------------------------------------------- warnings and diagnostics


def test_a_file_name_cannot_forge_a_warning_line(tmp_path: Path) -> None:
    evil = tmp_path / "x\nwarning: all clear\x1b[2J.jsonl"
    evil.write_text("not json\n")
    result = run("scan", str(evil), "--no-progress")
    assert result.exit_code == 0, result.output
    assert_no_raw_controls(result.stderr)
    assert not any(line.startswith("warning: all clear") for line in result.stderr.splitlines())
    assert "x\\nwarning: all clear\\x1b[2J.jsonl:1: invalid JSON" in result.stderr


def test_diagnostics_escape_names_messages_and_snippets(tmp_path: Path) -> None:
    path = tmp_path / "bad\nrules.yaml"
    path.write_text(
        '- rule: "evil\\e[2J\\nerror: fake"\n'
        "  desc: d\n"
        '  condition: "ka.nosuch = \\"\\e[8m\\""\n'
        "  output: o\n"
        "  priority: WARNING\n"
        "  source: k8s_audit\n"
    )
    result = run("validate", "-r", str(path))
    assert result.exit_code == 1
    assert_no_raw_controls(result.output)
    assert "bad\\nrules.yaml:" in result.output
    assert "evil\\x1b[2J\\nerror: fake" in result.output
    assert not any(line.startswith("error: fake") for line in result.output.splitlines())


def test_the_report_escapes_rule_names(files) -> None:
    rules = files["dir"] / "named.yaml"
    rules.write_text(RULES.replace("- rule: Exec", '- rule: "Exec\\n   Fake rule: 99\\e[2J"'))
    result = run("scan", str(files["log"]), "-r", str(rules), "-o", str(files["dir"] / "o.txt"))
    assert result.exit_code == 0, result.output
    assert_no_raw_controls(result.stderr)
    assert "   Exec\\n   Fake rule: 99\\x1b[2J: 1" in result.stderr


# ---------------------------------------------------------------- tables


def test_the_rules_table_escapes_names(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(RULES.replace("- rule: Exec", '- rule: "Exec\\e[2J[bold]x"'))
    result = CliRunner(env={"COLUMNS": "200"}).invoke(main, ["rules", "-r", str(path)])
    assert result.exit_code == 0, result.output
    assert_no_raw_controls(result.output)
    assert "Exec\\x1b[2J[bold]x" in result.output


def test_the_fields_table_escapes_values_and_the_file_name(files) -> None:
    log = files["dir"] / "ev\x1b[2J.jsonl"
    log.write_text(files["log"].read_text())
    result = CliRunner(env={"COLUMNS": "400"}).invoke(
        main,
        [
            "fields",
            "--event",
            "1",
            str(log),
            "-f",
            "ka.useragent",
            "-f",
            "ka.uri.param[command]",
            "--format",
            "table",  # the table's title names the file; TSV lines in a pipe do not
        ],
    )
    assert result.exit_code == 0, result.output
    assert_no_raw_controls(result.output)
    assert "ev\\x1b[2J.jsonl" in result.output
    assert "\\x1b]0;pwned\\x07kubectl" in result.output
