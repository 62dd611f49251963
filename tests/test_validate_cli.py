"""``k8saudit validate``, ``k8saudit rules`` and ``k8saudit explain`` through Click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from k8saudit_cli.cli import main

VALID = """\
- list: sensitive
  items: [secrets, configmaps]
- macro: reads_sensitive
  condition: ka.verb in (get, list) and ka.target.resource in (sensitive)
- macro: never_used
  condition: ka.verb = patch
- rule: Read Sensitive
  desc: someone read a secret
  condition: reads_sensitive and not ka.user.name startswith "system:"
  output: "%ka.user.name read %ka.target.resource/%ka.target.name"
  priority: warning
  source: k8s_audit
  tags: [k8s, t2, k8s]
- rule: Disabled One
  desc: off by default
  condition: ka.verb = delete
  output: o
  priority: DEBUG
  source: k8s_audit
  enabled: false
- rule: Shell in Container
  desc: a syscall rule, skipped
  condition: evt.type = execve and proc.name = bash
  output: "%proc.cmdline"
  priority: NOTICE
"""

BROKEN = """\
- rule: Broken
  desc: d
  condition: >
    ka.verb = create and
    ka.target.resource = pods and ka.nosuch = x
  output: o
  priority: WARNING
  source: k8s_audit
"""


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1"})


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    valid, broken = tmp_path / "valid.yaml", tmp_path / "broken.yaml"
    valid.write_text(VALID)
    broken.write_text(BROKEN)
    return {"valid": str(valid), "broken": str(broken)}


# ---------------------------------------------------------------- validate


def test_validate_valid_file(cli: CliRunner, files: dict[str, str]) -> None:
    result = cli.invoke(main, ["validate", "-r", files["valid"]])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[-1] == f"{files['valid']}: Ok, with warnings (0 errors, 2 warnings)"
    assert f"{files['valid']}:5:3: warning LOAD_UNUSED_MACRO [macro 'never_used']" in result.stdout
    assert "1 syscall rule skipped" in result.stdout


def test_validate_broken_file_shows_a_caret(cli: CliRunner, files: dict[str, str]) -> None:
    result = cli.invoke(main, ["validate", "-r", files["broken"]])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"{files['broken']}:5:35: error LOAD_ERR_COMPILE_CONDITION [rule condition 'Broken']: "
        "filter_check called with nonexistent field ka.nosuch"
    )
    assert lines[1] == "      ka.target.resource = pods and ka.nosuch = x"
    assert lines[2] == "  " + " " * 34 + "^"
    assert lines[-1] == f"{files['broken']}: Invalid (1 errors, 0 warnings)"


def test_validate_several_files_in_order(
    cli: CliRunner, files: dict[str, str], tmp_path: Path
) -> None:
    override = tmp_path / "override.yaml"
    override.write_text("- rule: Broken\n  enabled: false\n  override: {enabled: replace}\n")
    result = cli.invoke(
        main, ["validate", "-r", files["valid"], "-r", files["broken"], "-r", str(override)]
    )
    assert result.exit_code == 1
    tail = result.stdout.splitlines()[-3:]
    assert tail == [
        f"{files['valid']}: Ok, with warnings (0 errors, 2 warnings)",
        f"{files['broken']}: Invalid (1 errors, 0 warnings)",
        f"{override}: Ok",
    ]


def test_validate_json(cli: CliRunner, files: dict[str, str]) -> None:
    result = cli.invoke(
        main, ["validate", "-r", files["valid"], "-r", files["broken"], "--format", "json"]
    )
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert data["rules_loaded"] == 2  # the two valid k8s rules; Broken fails
    assert data["files"] == [
        {"name": files["valid"], "status": "Ok, with warnings", "errors": 0, "warnings": 2},
        {"name": files["broken"], "status": "Invalid", "errors": 1, "warnings": 0},
    ]
    (error,) = data["errors"]
    assert error == {
        "code": "LOAD_ERR_COMPILE_CONDITION",
        "severity": "error",
        "message": "filter_check called with nonexistent field ka.nosuch",
        "file": files["broken"],
        "line": 5,
        "column": 35,
        "item_type": "rule condition",
        "item_name": "Broken",
        "snippet": "    ka.target.resource = pods and ka.nosuch = x",
        "caret_column": 35,
    }
    assert sorted(w["code"] for w in data["warnings"]) == [
        "LOAD_UNKNOWN_SOURCE",
        "LOAD_UNUSED_MACRO",
    ]


def test_validate_yaml_error(cli: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- rule: [\n")
    result = cli.invoke(main, ["validate", "-r", str(bad), "--format", "json"])
    assert result.exit_code == 1
    (error,) = json.loads(result.stdout)["errors"]
    assert (error["code"], error["line"]) == ("LOAD_ERR_YAML_PARSE", 2)


def test_validate_needs_a_rules_file(cli: CliRunner) -> None:
    result = cli.invoke(main, ["validate"])
    assert result.exit_code == 2
    assert "-r" in result.output


# ---------------------------------------------------------------- rules


def test_rules_json(cli: CliRunner, files: dict[str, str]) -> None:
    result = cli.invoke(main, ["rules", "-r", files["valid"], "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["name"], r["priority"], r["source"], r["enabled"]) for r in rows] == [
        ("Read Sensitive", "Warning", "k8s_audit", True),
        ("Disabled One", "Debug", "k8s_audit", False),
        ("Shell in Container", "Notice", "syscall", True),
    ]
    assert rows[0]["tags"] == ["k8s", "t2"]
    assert (rows[0]["file"], rows[0]["line"], rows[0]["desc"]) == (
        files["valid"],
        7,
        "someone read a secret",
    )


def test_rules_text_table(cli: CliRunner, files: dict[str, str]) -> None:
    result = cli.invoke(main, ["rules", "-r", files["valid"]])
    assert result.exit_code == 0
    assert "Read Sensitive" in result.stdout and "Disabled One" in result.stdout


def test_rules_refuses_invalid_rules(cli: CliRunner, files: dict[str, str]) -> None:
    result = cli.invoke(main, ["rules", "-r", files["broken"]])
    assert result.exit_code == 2
    assert "ka.nosuch" in result.stderr
    assert result.stdout == ""


# ---------------------------------------------------------------- explain


def test_explain_text(cli: CliRunner, files: dict[str, str]) -> None:
    result = cli.invoke(main, ["explain", "Read Sensitive", "-r", files["valid"]])
    assert result.exit_code == 0, result.output
    out = result.stdout.splitlines()
    assert out[0] == "Rule:      Read Sensitive  (Warning, source k8s_audit, enabled)"
    expanded = out[out.index("Expanded (macros and lists inlined):") + 1].strip()
    assert expanded == (  # the macro stays a group of its own
        "((ka.verb in (get, list) and ka.target.resource in (secrets, configmaps)) "
        'and (not ka.user.name startswith "system:"))'
    )


def test_explain_json(cli: CliRunner, files: dict[str, str]) -> None:
    result = cli.invoke(
        main, ["explain", "Read Sensitive", "-r", files["valid"], "--format", "json"]
    )
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["condition"] == 'reads_sensitive and not ka.user.name startswith "system:"'
    assert data["condition_fields"] == ["ka.verb", "ka.target.resource", "ka.user.name"]
    assert data["output_fields"] == ["ka.user.name", "ka.target.resource", "ka.target.name"]
    assert data["tags"] == ["k8s", "t2"]


def test_explain_unknown_rule(cli: CliRunner, files: dict[str, str]) -> None:
    result = cli.invoke(main, ["explain", "Read", "-r", files["valid"]])
    assert result.exit_code == 2
    assert 'rule "Read" is not loaded' in result.stderr
    assert "'Read Sensitive'" in result.stderr


def test_explain_skipped_rule_is_not_loaded(cli: CliRunner, files: dict[str, str]) -> None:
    result = cli.invoke(main, ["explain", "Shell in Container", "-r", files["valid"]])
    assert result.exit_code == 2
