"""``extract``, ``query``, ``stats`` and ``scan --format csv|tsv`` through CliRunner, against golden files.

The input is the scan tests' own log (tests/data/scan/audit.jsonl: CRLF line
ends, a broken line, an EventList, a blank line) and rules file, whose
``complete`` macro and ``admin_users`` list the conditions use. Bad
conditions and bad field names are golden too: their caret and
did-you-mean are the interface. Regenerate with
``UPDATE_GOLDEN=1 pytest tests/test_forensics_cli.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from k8saudit_cli.cli import main

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data" / "scan"
GOLDEN = Path(__file__).parent / "golden"
AUDIT = str(DATA / "audit.jsonl")
RULES = str(DATA / "rules.yaml")
WEBHOOK = str(ROOT / "samples" / "webhook-batch.jsonl")


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("FALCO_HOSTNAME", "test-host")
    monkeypatch.setenv("COLUMNS", "120")  # rich tables: the same width everywhere
    time.tzset()
    yield
    time.tzset()


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def normalise(text: str) -> str:
    return text.replace(str(DATA), "<data>").replace(str(ROOT), "<root>")


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    text = normalise(text)
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert path.exists(), f"missing golden file {path}; run with UPDATE_GOLDEN=1"
    assert text == path.read_text()


GOLDEN_RUNS: dict[str, list[str]] = {
    # extract
    "forensics_extract_default.txt": ["extract", AUDIT],
    "forensics_extract_fields_csv.txt": [
        "extract",
        AUDIT,
        "-f",
        "evt.num",
        "-f",
        "ka.uri.param[command]",
        "-f",
        "ka.req.pod.containers.image",
        "-f",
        "tolower(ka.user.name)",
        "-f",
        "ka.response.code",
        "--format",
        "csv",
    ],
    "forensics_extract_where_jsonl.txt": [
        "extract",
        AUDIT,
        "-r",
        RULES,
        "--where",
        "complete and not ka.user.name in (admin_users)",
        "-f",
        "evt.time.iso8601",
        "-f",
        "ka.user.name",
        "-f",
        "ka.user.groups",
        "-f",
        "ka.response.code",
        "--format",
        "jsonl",
    ],
    "forensics_extract_sort.txt": [
        "extract",
        WEBHOOK,
        AUDIT,
        "--sort",
        "--where",
        "ka.verb in (create, delete)",
        "-f",
        "evt.time.iso8601",
        "-f",
        "evt.num",
        "-f",
        "ka.user.name",
        "-f",
        "ka.verb",
    ],
    "forensics_extract_window.txt": [
        "extract",
        AUDIT,
        "--since",
        "2026-03-14T09:26:03Z",
        "--until",
        "2026-03-14T09:26:06Z",
        "-f",
        "evt.num",
        "-f",
        "evt.time.iso8601",
        "--no-header",
    ],
    "forensics_extract_bad_fields.txt": [
        "extract",
        AUDIT,
        "-f",
        "ka.usr.name",
        "-f",
        "ka.uri.param",
        "-f",
        "ka.verb and x",
        "-f",
        "ka.req.pod.containers.image[01]",
    ],
    "forensics_extract_bad_where.txt": [
        "extract",
        AUDIT,
        "--where",
        "ka.verb=get and ka.target.resourse=secrets",
    ],
    "forensics_extract_bad_macro.txt": ["extract", AUDIT, "-r", RULES, "--where", "complet"],
    # query
    "forensics_query.txt": ["query", "ka.verb=get", AUDIT],
    "forensics_query_macro.txt": [
        "query",
        "complete and not ka.user.name in (admin_users) and ka.target.resource=secrets",
        AUDIT,
        "-r",
        RULES,
    ],
    "forensics_query_count.txt": ["query", "ka.user.name=bob", AUDIT, "--count"],
    "forensics_query_bad_syntax.txt": ["query", "ka.verb=get and (ka.user.name=bob", AUDIT],
    "forensics_query_bad_field.txt": ["query", "ka.verb=get and\n  ka.usr.name=bob", AUDIT],
    "forensics_query_bad_operator.txt": ["query", "ka.user.groups > 1", AUDIT],
    "forensics_query_bad_value.txt": ["query", "ka.verb=get and evt.num > abc", AUDIT],
    "forensics_query_missing_input.txt": ["query", "ka.verb=get", str(DATA / "nope.jsonl")],
    # stats
    "forensics_stats_user_verb.txt": ["stats", AUDIT, "--by", "ka.user.name,ka.verb"],
    "forensics_stats_where_top.txt": [
        "stats",
        AUDIT,
        "--by",
        "ka.user.name",
        "--where",
        "ka.verb=get",
        "--top",
        "2",
    ],
    "forensics_stats_json.txt": [
        "stats",
        AUDIT,
        "--by",
        "ka.response.code",
        "--by",
        "ka.user.groups",
        "--format",
        "json",
    ],
    "forensics_stats_csv.txt": ["stats", AUDIT, "--by", "ka.uri.param[command]", "--format", "csv"],
    "forensics_stats_table.txt": ["stats", AUDIT, "--by", "ka.user.name", "--format", "table"],
    "forensics_stats_bad_by.txt": ["stats", AUDIT, "--by", "ka.user.nam,ka.verb"],
    # scan's alert timeline
    "forensics_scan_tsv.txt": ["scan", AUDIT, "-r", RULES, "--format", "tsv", "--no-summary"],
    "forensics_scan_csv.txt": ["scan", AUDIT, "-r", RULES, "--format", "csv", "--no-summary"],
}


@pytest.mark.parametrize("name", sorted(GOLDEN_RUNS))
def test_golden(name):
    result = run(*GOLDEN_RUNS[name])
    golden(name, f"exit {result.exit_code}\n--- stdout\n{result.stdout}--- stderr\n{result.stderr}")


def test_query_prints_the_lines_byte_for_byte():
    """A line that is one event comes out as written; EventList items as compact JSON."""
    result = run("query", "ka.verb exists", AUDIT)
    assert result.exit_code == 0
    lines = result.stdout_bytes.split(b"\n")
    source = Path(AUDIT).read_bytes().split(b"\n")
    own = [line.rstrip(b"\r") for line in source if line.startswith(b'{"kind":"Event","')]
    assert lines[:5] == own[:5]
    eventlist = next(json.loads(line) for line in source if b'"EventList"' in line)
    items = [json.loads(line) for line in lines[5:7]]
    assert items == eventlist["items"]
    assert lines[5] == json.dumps(items[0], separators=(",", ":"), ensure_ascii=False).encode()
    assert lines[7] == own[5] and lines[8:] == [b""]


def test_query_and_extract_agree_on_counts():
    count = run("query", "ka.verb=create", AUDIT, "--count").stdout
    rows = run("extract", AUDIT, "--where", "ka.verb=create", "--no-header").stdout
    assert int(count) == len(rows.splitlines()) == 4


def test_stats_table_is_the_default_on_a_terminal_only():
    piped = run("stats", AUDIT, "--by", "ka.verb")
    assert piped.stdout.startswith("ka.verb\tcount\tfirst_seen\tlast_seen\n")


def test_output_file(tmp_path):
    out = tmp_path / "rows.tsv"
    result = run("extract", AUDIT, "-o", str(out), "-f", "ka.verb")
    assert result.exit_code == 0 and result.stdout == ""
    verbs = ["create"] * 3 + ["get", "get", "create", "get", "delete"]
    assert out.read_text().splitlines() == ["ka.verb", *verbs]


def test_scan_table_rows_match_the_alerts():
    text = run("scan", AUDIT, "-r", RULES, "--no-summary").stdout.splitlines()
    table = run("scan", AUDIT, "-r", RULES, "--format", "tsv", "--no-summary").stdout.splitlines()
    header = table[0].split("\t")
    assert header[:5] == ["time", "priority", "rule", "tags", "output"]
    assert len(table) == len(text) + 1
    for line, row in zip(text, table[1:], strict=True):
        cells = row.split("\t")
        assert line == f"{cells[0]}: {cells[1]} {cells[4]}"


def test_scan_table_warns_like_scan(tmp_path):
    result = run("scan", AUDIT, "-r", RULES, "--format", "csv")
    assert "invalid JSON" in result.stderr and "Events detected: 6" in result.stderr
