"""`k8saudit fields`: the listing, the per-event values, errors, and docs/fields.md."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from k8saudit_cli.cli import main
from k8saudit_cli.fields import FIELDS

ROOT = Path(__file__).resolve().parent.parent
CLI_DATA = Path(__file__).parent / "data" / "fields" / "cli"
EVENTS = str(CLI_DATA / "events.jsonl")


@pytest.fixture()
def cli(monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """A runner with a fixed zone, host name and terminal width."""
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("FALCO_HOSTNAME", "node-1")
    time.tzset()
    yield CliRunner(env={"COLUMNS": "240", "NO_COLOR": "1"})
    monkeypatch.undo()
    time.tzset()


def run(cli: CliRunner, *args: str, code: int = 0) -> tuple[str, str]:
    result = cli.invoke(main, ["fields", *args])
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    return result.stdout, result.stderr


# ------------------------------------------------------------------ listing


def test_list_as_json(cli: CliRunner) -> None:
    out, _ = run(cli, "--format", "json")
    rows = json.loads(out)
    assert [r["name"] for r in rows] == [f.name for f in FIELDS]
    assert all(set(r) == {"name", "type", "is_list", "arg", "desc"} for r in rows)
    by_name = {r["name"]: r for r in rows}
    assert by_name["ka.uri.param"]["arg"] == {"kind": "key", "required": True}
    assert by_name["ka.req.pod.containers.image"]["arg"] == {"kind": "index", "required": False}
    assert by_name["ka.req.pod.containers.image"]["is_list"] is True
    assert by_name["ka.verb"]["arg"] is None
    types = {n: by_name[n]["type"] for n in ("evt.num", "evt.rawtime", "evt.is_async", "ka.verb")}
    assert types == {
        "evt.num": "uint64",
        "evt.rawtime": "abstime",
        "evt.is_async": "bool",
        "ka.verb": "string",
    }


def test_list_as_table(cli: CliRunner) -> None:
    out, _ = run(cli)
    for f in FIELDS:
        assert f.name in out
    assert "key, required" in out
    assert "\x1b[" not in out


def test_list_restricted_by_field(cli: CliRunner) -> None:
    out, _ = run(cli, "--format", "json", "-f", "ka.verb", "--field", "json.value[/x]")
    assert [r["name"] for r in json.loads(out)] == ["ka.verb", "json.value"]


def test_docs_hold_exactly_the_markdown_table(cli: CliRunner) -> None:
    table, _ = run(cli, "--format", "markdown")
    docs = (ROOT / "docs" / "fields.md").read_text()
    pattern = r"<!-- fields-table:start[^\n]*-->\n(.*?)<!-- fields-table:end -->"
    match = re.search(pattern, docs, re.DOTALL)
    assert match, "docs/fields.md lacks the fields-table markers"
    assert match.group(1) == table, "regenerate with: k8saudit fields --format markdown"
    assert table.count("\n") == len(FIELDS) + 2


# ------------------------------------------------------------- event values


def test_event_values_match_the_golden_file(cli: CliRunner) -> None:
    out, _ = run(cli, "--event", "2", EVENTS, "--format", "json")
    assert json.loads(out) == json.loads((CLI_DATA / "event2.json").read_text())


def test_event_values_leave_out_fields_that_need_an_argument(cli: CliRunner) -> None:
    out, _ = run(cli, "-e", "1", EVENTS, "--format", "json")
    values = json.loads(out)
    needs_arg = {f.name for f in FIELDS if f.arg is not None and f.arg.required}
    assert needs_arg and not needs_arg & set(values)
    assert values["ka.user.groups"] == ["devs", "system:authenticated"]
    assert values["evt.num"] == 1
    assert values["ka.target.name"] is None


def test_event_values_for_chosen_fields_with_arguments(cli: CliRunner) -> None:
    out, _ = run(
        cli,
        "-e",
        "1",
        EVENTS,
        "--format",
        "json",
        "-f",
        "ka.verb",
        "-f",
        "ka.uri.param[limit]",
        "-f",
        "json.value[/user/groups/0]",
        "-f",
        "ka.req.pod.containers.image[0]",
        "-f",
        "evt.num",
    )
    assert json.loads(out) == {
        "ka.verb": "watch",
        "ka.uri.param[limit]": "500",
        "json.value[/user/groups/0]": "devs",
        "ka.req.pod.containers.image[0]": None,
        "evt.num": 1,
    }


def test_event_numbers_count_eventlist_items(cli: CliRunner) -> None:
    out, _ = run(cli, "-e", "3", EVENTS, "--format", "json", "-f", "ka.auditid", "-f", "evt.num")
    assert json.loads(out) == {"ka.auditid": "5b0e7c1a-0003", "evt.num": 3}


def test_event_values_as_table(cli: CliRunner) -> None:
    out, _ = run(
        cli,
        "-e",
        "2",
        EVENTS,
        "--format",
        "table",  # the Rich table; without --format a non-terminal gets TSV lines
        "-f",
        "ka.req.pod.initContainers.privileged",
        "-f",
        "ka.target.pod.name",
        "-f",
        "evt.rawtime.ns",
    )
    assert re.search(r"event 2 \(.*events\.jsonl:3\[0\]\)", out)
    assert re.search(r"ka\.req\.pod\.initContainers\.privileged\s*│\s*\(true\)", out)
    assert re.search(r"ka\.target\.pod\.name\s*│\s*<NA>", out)
    assert re.search(r"evt\.rawtime\.ns\s*│\s*123456789", out)


def test_event_values_keep_brackets_literal(cli: CliRunner, tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text(
        '{"kind":"Event","auditID":"x","verb":"[bold]get[/bold]",'
        '"stageTimestamp":"2024-05-01T10:00:00Z"}\n'
    )
    out, _ = run(cli, "-e", "1", str(log), "-f", "ka.verb")
    assert "[bold]get[/bold]" in out


# ------------------------------------------------------------------- errors


UNKNOWN = (
    "unknown field 'ka.nope' (filter_check called with nonexistent field ka.nope); "
    "'k8saudit fields' lists them"
)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-f", "ka.nope"], UNKNOWN),
        (
            ["-f", "ka.verb[x]"],
            (
                "filter 'ka.verb[x]': ka.verb does not allow nor require an argument "
                "but one is provided: x"
            ),
        ),
        (
            ["-f", "ka.uri.param"],
            ("filter 'ka.uri.param': ka.uri.param requires an argument but none provided"),
        ),
        (
            ["-f", "ka.sourceips[01]"],
            (
                "filter ka.sourceips[01] ka.sourceips has an invalid index argument starting with 0: 01"
            ),
        ),
        (["-e", "9", EVENTS], "there is no event 9: the input holds 3 events"),
        ([EVENTS], "FILE given without --event N: say which event to show"),
        (["-e", "1"], "--event needs at least one FILE ('-' reads standard input)"),
        (
            ["-e", "1", EVENTS, "--format", "markdown"],
            "--format markdown prints the field table; use table, tsv or json with --event",
        ),
    ],
)
def test_errors_exit_2_with_a_message(cli: CliRunner, args: list[str], message: str) -> None:
    out, err = run(cli, *args, code=2)
    assert err == f"k8saudit: error: {message}\n"
    assert out == ""


def test_unreadable_input_exits_2_without_traceback(cli: CliRunner, tmp_path: Path) -> None:
    _, err = run(cli, "-e", "1", str(tmp_path / "missing.log"), code=2)
    assert err.startswith("k8saudit: error: ")
    assert "missing.log" in err and "Traceback" not in err


def test_event_zero_is_a_usage_error(cli: CliRunner) -> None:
    _, err = run(cli, "-e", "0", EVENTS, code=2)
    assert "--event" in err


def test_help_teaches_by_example(cli: CliRunner) -> None:
    out, _ = run(cli, "--help")
    assert "k8saudit fields --event 3 audit.log" in out
    assert "json.value[/user/username]" in out
