"""One error style, the time window, fixture YAML positions, did-you-mean hints (issue 12)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from k8saudit_cli.cli import main
from tests.test_scan_cli import AUDIT, RULES

TYPO_RULES = """\
- rule: Typo
  desc: d
  condition: ka.user.nmae = bob
  output: "x"
  priority: WARNING
  source: k8s_audit
- rule: Output Typo
  desc: d
  condition: ka.verb = get
  output: "user=%ka.user.nmae"
  priority: WARNING
  source: k8s_audit
- rule: My Audit Rule
  desc: forgot its source
  condition: ka.verb = create
  output: "x"
  priority: WARNING
"""


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1"})


def err_lines(result: Result) -> list[str]:
    return result.stderr.splitlines()


# ------------------------------------------------------------------ usage errors


def test_bad_option_value_is_one_line_naming_the_option(cli: CliRunner) -> None:
    result = cli.invoke(main, ["scan", AUDIT, "--since", "1y"])
    assert result.exit_code == 2
    assert err_lines(result) == [
        "k8saudit: error: --since: '1y' is neither RFC 3339 (2024-05-01T10:00:00Z), "
        "a date (2024-05-01) nor a time ago (30m, 2h, 7d)",
        "Try 'k8saudit scan -h' for help.",
    ]


@pytest.mark.parametrize(
    ("args", "first"),
    [
        (["scan", AUDIT, "--min-priority", "loud"], "k8saudit: error: --min-priority: 'loud' is"),
        (["scan", AUDIT, "--format", "xml"], "k8saudit: error: --format: 'xml' is not one of"),
        (["scan"], "k8saudit: error: missing argument INPUT..."),
        (["validate"], "k8saudit: error: missing option --rules"),
        (["fields", "-e", "0", AUDIT], "k8saudit: error: --event: 0 is not in the range"),
        (["scan", AUDIT, "--nope"], "k8saudit: error: no such option"),
        (["nosuch"], "k8saudit: error: no such command 'nosuch'"),
    ],
)
def test_every_usage_error_has_the_same_two_lines(
    cli: CliRunner, args: list[str], first: str
) -> None:
    result = cli.invoke(main, args)
    assert result.exit_code == 2
    lines = err_lines(result)
    assert len(lines) == 2 and lines[0].startswith(first), lines
    command = " ".join(["k8saudit", *args[:1]]) if args[0] != "nosuch" else "k8saudit"
    assert lines[1] == f"Try '{command} -h' for help."
    assert result.stdout == ""


# ------------------------------------------------------------------ time window


@pytest.mark.parametrize(
    ("since", "until"),
    [("2h", "3h"), ("2024-05-02", "2024-05-01"), ("2024-05-01T10:00:00Z", "2024-05-01")],
)
def test_empty_window_is_a_usage_error_naming_both_values(
    cli: CliRunner, since: str, until: str
) -> None:
    result = cli.invoke(main, ["scan", AUDIT, "-r", RULES, "--since", since, "--until", until])
    assert result.exit_code == 2
    assert err_lines(result)[0] == (
        f"k8saudit: error: --since '{since}' is not before --until '{until}': "
        "no event can be in that window"
    )


@pytest.mark.parametrize("when", ["7d", "30m", "2h", "2024-05-01T10:00:00Z", "2024-05-01"])
def test_the_documented_time_forms_are_accepted(cli: CliRunner, when: str) -> None:
    result = cli.invoke(main, ["scan", AUDIT, "-r", RULES, "--since", when, "--no-summary"])
    assert result.exit_code == 0, result.stderr


def test_scan_help_promises_only_one_word_times(cli: CliRunner) -> None:
    out = cli.invoke(main, ["scan", "--help"]).stdout
    assert "7d ago" not in out
    assert "(30m, 2h, 7d)" in out


# ------------------------------------------------------------------ rules files


@pytest.mark.parametrize(
    "args",
    [
        ["scan", AUDIT],
        ["validate"],
        ["rules"],
        ["explain", "Privileged Pod"],
        ["test", "rules/tests/activity.yaml"],
    ],
)
@pytest.mark.parametrize(
    ("path", "reason"), [("nope.yaml", "No such file or directory"), ("/", "Is a directory")]
)
def test_unreadable_rules_file_is_one_message_everywhere(
    cli: CliRunner, args: list[str], path: str, reason: str
) -> None:
    result = cli.invoke(main, [*args, "-r", path])
    assert result.exit_code == 2
    assert result.stderr == f"k8saudit: error: cannot read rules file '{path}': {reason}\n"


def test_warnings_have_one_prefix(cli: CliRunner) -> None:
    result = cli.invoke(main, ["scan", AUDIT, "-r", RULES, "--disable-rule", "Nothing*"])
    warnings = [line for line in err_lines(result) if "warning" in line]
    assert any("invalid JSON" in w for w in warnings)  # an input warning
    assert any("matches no rule" in w for w in warnings)  # a run warning
    assert all(w.startswith("k8saudit: warning: ") for w in warnings), warnings


def test_fields_input_warnings_have_the_same_prefix(cli: CliRunner) -> None:
    result = cli.invoke(main, ["fields", "-e", "9", AUDIT, "-f", "ka.verb"])
    warnings = [line for line in err_lines(result) if "invalid JSON" in line]
    assert warnings and warnings[0].startswith("k8saudit: warning: ")


# ------------------------------------------------------------------ fixtures


def test_broken_fixture_yaml_gives_file_line_col(cli: CliRunner, tmp_path: Path) -> None:
    fixture = tmp_path / "broken.yaml"
    fixture.write_text("cases:\n  - name: x\n    expect: {a: 1\n    events: []\n")
    result = cli.invoke(main, ["test", str(fixture), "-r", RULES])
    assert result.exit_code == 2
    assert result.stderr == (
        f"k8saudit: error: {fixture}:4:11: invalid YAML: expected ',' or '}}', but got ':' "
        "(while parsing a flow mapping)\n"
    )


# ------------------------------------------------------------------ did you mean


@pytest.fixture
def typo_rules(tmp_path: Path) -> str:
    path = tmp_path / "typo.yaml"
    path.write_text(TYPO_RULES)
    return str(path)


def test_validate_suggests_the_field_in_a_condition_and_an_output(
    cli: CliRunner, typo_rules: str
) -> None:
    result = cli.invoke(main, ["validate", "-r", typo_rules])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"{typo_rules}:3:14: error LOAD_ERR_COMPILE_CONDITION [rule condition 'Typo']: "
        "filter_check called with nonexistent field ka.user.nmae (did you mean 'ka.user.name'?)"
    )
    output = next(line for line in lines if "LOAD_ERR_COMPILE_OUTPUT" in line)
    assert output.endswith("(did you mean 'ka.user.name'?)")


def test_validate_json_carries_the_hint_apart(cli: CliRunner, typo_rules: str) -> None:
    result = cli.invoke(main, ["validate", "-r", typo_rules, "--format", "json"])
    errors = json.loads(result.stdout)["errors"]
    assert errors[0]["message"] == "filter_check called with nonexistent field ka.user.nmae"
    assert errors[0]["hint"] == "did you mean 'ka.user.name'?"


def test_a_rule_without_source_is_named_when_skipped(cli: CliRunner, typo_rules: str) -> None:
    result = cli.invoke(main, ["validate", "-r", typo_rules])
    skipped = next(line for line in result.stdout.splitlines() if "LOAD_UNKNOWN_SOURCE" in line)
    assert "1 syscall rule skipped" in skipped
    assert "'My Audit Rule'" in skipped and "source: k8s_audit" in skipped


def test_explicit_syscall_rules_are_only_counted(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "sys.yaml"
    path.write_text(
        "- rule: Shell\n  desc: d\n  condition: proc.name = bash\n  output: o\n"
        "  priority: NOTICE\n  source: syscall\n"
    )
    out = cli.invoke(main, ["validate", "-r", str(path)]).stdout
    assert "1 syscall rule skipped (k8saudit only evaluates source k8s_audit)\n" in out


def test_fields_suggests_the_field(cli: CliRunner) -> None:
    result = cli.invoke(main, ["fields", "-f", "ka.user.nmae"])
    assert result.exit_code == 2
    assert result.stderr == (
        "k8saudit: error: unknown field 'ka.user.nmae' (filter_check called with nonexistent "
        "field ka.user.nmae); did you mean 'ka.user.name'? 'k8saudit fields' lists them\n"
    )


def test_explain_suggests_near_spellings(cli: CliRunner) -> None:
    result = cli.invoke(main, ["explain", "Create Privileged Pdo"])
    assert result.exit_code == 2
    assert "did you mean: 'Create Privileged Pod'" in result.stderr
