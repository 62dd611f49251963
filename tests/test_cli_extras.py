"""What people expect of a modern CLI (issue 12 item 12): environment defaults, shell
completion, JUnit XML from ``k8saudit test``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from k8saudit_cli.cli import main
from tests.clirun import ROOT, process_env
from tests.test_scan_cli import AUDIT, RULES

DOCS = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")


# ------------------------------------------------------------------ environment defaults


def test_options_take_defaults_from_the_environment() -> None:
    env = {"K8SAUDIT_SCAN_FORMAT": "json", "K8SAUDIT_SCAN_MIN_PRIORITY": "error"}
    result = CliRunner(env=env).invoke(main, ["scan", AUDIT, "-r", RULES, "--no-summary"])
    assert result.exit_code == 0, result.stderr
    alerts = [json.loads(line) for line in result.stdout.splitlines()]
    assert alerts and {a["priority"] for a in alerts} == {"Error"}


def test_the_command_line_wins_over_the_environment() -> None:
    env = {"K8SAUDIT_SCAN_FORMAT": "json"}
    result = CliRunner(env=env).invoke(
        main, ["scan", AUDIT, "-r", RULES, "--no-summary", "--format", "text"]
    )
    assert not result.stdout.startswith("{")


def test_repeatable_paths_split_like_path(tmp_path: Path) -> None:
    extra = tmp_path / "extra.yaml"
    extra.write_text("- rule: Privileged Pod\n  enabled: false\n")
    env = {"K8SAUDIT_RULES_RULES": f"{RULES}:{extra}", "K8SAUDIT_RULES_FORMAT": "json"}
    rows = json.loads(CliRunner(env=env).invoke(main, ["rules"]).stdout)
    assert {r["name"]: r["enabled"] for r in rows}["Privileged Pod"] is False


def test_selection_options_are_not_read_from_the_environment() -> None:
    env = {"K8SAUDIT_SCAN_DISABLE_RULE": "*"}
    result = CliRunner(env=env).invoke(main, ["scan", AUDIT, "-r", RULES, "--no-summary"])
    assert "Privileged" in result.stdout


def test_help_shows_the_variables_teams_set() -> None:
    out = " ".join(CliRunner().invoke(main, ["scan", "--help"]).stdout.split())
    assert "env var: K8SAUDIT_SCAN_MIN_PRIORITY" in out
    assert "env var: K8SAUDIT_SCAN_FORMAT" in out
    assert "K8SAUDIT_SCAN_DISABLE_RULE" not in out


def test_docs_explain_the_variables_with_examples() -> None:
    assert "K8SAUDIT_<COMMAND>_<OPTION>" in DOCS
    assert "export K8SAUDIT_SCAN_MIN_PRIORITY=warning" in DOCS


# ------------------------------------------------------------------ shell completion


def as_k8saudit(env: dict[str, str]) -> str:
    """Run the entry point under its installed name (completion keys on the program name)."""
    code = "from k8saudit_cli.cli import main; main(prog_name='k8saudit')"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=process_env(env),
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )
    return proc.stdout.decode()


@pytest.mark.parametrize(
    ("shell", "line"),
    [
        ("bash", 'eval "$(_K8SAUDIT_COMPLETE=bash_source k8saudit)"'),
        ("zsh", 'eval "$(_K8SAUDIT_COMPLETE=zsh_source k8saudit)"'),
        ("fish", "_K8SAUDIT_COMPLETE=fish_source k8saudit | source"),
    ],
)
def test_completion_one_liners_are_documented_and_work(shell: str, line: str) -> None:
    assert line in DOCS
    script = as_k8saudit({"_K8SAUDIT_COMPLETE": f"{shell}_source"})
    assert f"_K8SAUDIT_COMPLETE={shell}_complete" in script


def test_completion_offers_commands_and_priorities() -> None:
    def complete(words: str, cword: int) -> str:
        env = {"_K8SAUDIT_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
        return as_k8saudit(env)

    assert "plain,scan" in complete("k8saudit sc", 1)
    assert "plain,warning" in complete("k8saudit scan --min-priority wa", 3)


# ------------------------------------------------------------------ JUnit XML


FIXTURE = """\
cases:
  - name: privileged pod fires
    events: events.jsonl
    expect: {Privileged Pod: 1}
  - name: wrong expectation
    events: events.jsonl
    expect: {Privileged Pod: 5}
    expect_none: [Any Create]
"""


def test_junit_xml_reports_each_case(tmp_path: Path) -> None:
    fixture = tmp_path / "fixture.yaml"
    fixture.write_text(FIXTURE)
    events = Path(AUDIT).read_text().splitlines()[:2]  # a pod created privileged
    (tmp_path / "events.jsonl").write_text("\n".join(events) + "\n")
    report = tmp_path / "junit.xml"
    result = CliRunner().invoke(
        main, ["test", str(fixture), "-r", RULES, "--junit-xml", str(report)]
    )
    assert result.exit_code == 1
    root = ET.parse(report).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures")) == ("2", "1")
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == str(fixture)
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(cases) == {"privileged pod fires", "wrong expectation"}
    assert cases["privileged pod fires"].find("failure") is None
    failure = cases["wrong expectation"].find("failure")
    assert failure is not None
    assert failure.get("message") == "'Privileged Pod': expected 5 alert(s), got 1"
    assert "'Any Create': expected no alert, got 1" in (failure.text or "")
    assert all(re.fullmatch(r"\d+\.\d{6}", c.get("time") or "") for c in cases.values())


def test_junit_xml_for_the_built_in_fixtures(tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    result = CliRunner().invoke(main, ["test", "rules/tests/", "--junit-xml", str(report)])
    assert result.exit_code == 0
    root = ET.parse(report).getroot()
    assert int(root.get("tests") or 0) > 100 and root.get("failures") == "0"
    assert len(root.findall("testsuite")) == len(list((ROOT / "rules" / "tests").glob("*.yaml")))
