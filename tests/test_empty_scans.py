"""A scan that read not one event from input that held something says so and exits 2 (issue 12).

A README, a cloud provider's export, a pretty-printed array or a zip file
scanned by mistake used to exit 0 with 0 alerts, as a quiet log would.
The words come from the per-input counts of ``Problems`` (skipped items by
``(file, reason)``, lines and events per input).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from k8saudit_cli.cli import main
from k8saudit_cli.decode import DecodeOptions, InputTally, Problems, read_events
from k8saudit_cli.empty_inputs import FORMATS_HINT, describe, no_events_error, notes
from tests.test_scan_cli import AUDIT, RULES

HINT = f"; {FORMATS_HINT}"


def run(*args: str, input: bytes | None = None):
    return CliRunner().invoke(main, list(args), input=input)


def scan(*args: str, input: bytes | None = None):
    return run("scan", "-r", RULES, "--no-progress", *args, input=input)


def last_line(text: str) -> str:
    return text.splitlines()[-1]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    events = [json.loads(line) for line in Path(AUDIT).read_text().splitlines()[:3]]
    made = {
        "objects.jsonl": "".join(json.dumps({"msg": i}) + "\n" for i in range(412)),
        "readme.md": "# Title\n\nSome text.\nMore text.\n",
        "pretty.json": json.dumps(events, indent=2) + "\n",
        "empty.log": "",
        "blank.log": "\n\n\n",
        "one-bad-record.json": '{"kind": 0}\n',
    }
    out = {}
    for name, text in made.items():
        (tmp_path / name).write_text(text)
        out[name] = str(tmp_path / name)
    (tmp_path / "archive.zip").write_bytes(b"PK\x03\x04" + bytes(100))
    out["archive.zip"] = str(tmp_path / "archive.zip")
    return out


# ---------------------------------------------------------------- the library


def test_problems_count_by_file_and_inputs_tally(files):
    problems = Problems()
    events = list(read_events([files["objects.jsonl"], AUDIT], DecodeOptions(), problems))
    assert len(events) == 8
    assert problems.by_file[files["objects.jsonl"], "not_audit_event"] == 412
    assert problems.by_file[AUDIT, "invalid_json"] == 1
    assert problems.inputs == {
        files["objects.jsonl"]: InputTally(lines=412, events=0),
        AUDIT: InputTally(lines=Path(AUDIT).read_bytes().count(b"\n"), events=8),
    }
    assert notes(problems) == {
        files["objects.jsonl"]: "412 lines, all JSON but none an audit event (kind Event or "
        "EventList)"
    }
    assert no_events_error(len(events), problems) is None


@pytest.mark.parametrize(
    ("lines", "skipped", "text"),
    [
        (412, {"invalid_json": 412}, "412 lines, all invalid JSON"),
        (5, {"invalid_json": 3}, "5 lines, all invalid JSON or blank"),
        (1, {"not_audit_event": 40}, "1 line, all JSON but none an audit event (kind Event or "
         "EventList)"),
        (0, {"binary_input": 1}, "unsupported compression or binary file"),
        (3, {"invalid_json": 2, "not_audit_event": 1},
         "3 lines: 2 invalid JSON, 1 data not recognized as a k8s audit event"),
        (7, {"read_error": 1}, "7 lines: read error"),
    ],
)  # fmt: skip
def test_describe(lines, skipped, text):
    assert describe(lines, Counter(skipped)) == text


def problems_of(**inputs: tuple[int, int, dict[str, int]]) -> Problems:
    problems = Problems()
    for name, (lines, events, skipped) in inputs.items():
        problems.tally(name, lines, events, skipped)
    return problems


def test_no_events_error_needs_every_input_empty_and_one_with_content():
    some = problems_of(a=(10, 0, {"invalid_json": 10}), b=(5, 5, {}))
    assert no_events_error(5, some) is None
    empty_files = problems_of(a=(0, 0, {}), b=(3, 0, {}))
    assert no_events_error(0, empty_files) is None
    one = problems_of(a=(10, 0, {"invalid_json": 10}), b=(0, 0, {}))
    assert no_events_error(0, one) == "no audit events in a: 10 lines, all invalid JSON" + HINT


def test_a_lone_bad_record_is_damage_not_another_format():
    # Falco's conformance case fal_01_003: one line {"kind": 0}, the run must succeed
    assert no_events_error(0, problems_of(a=(1, 0, {"not_audit_event": 1}))) is None
    two = problems_of(a=(2, 0, {"not_audit_event": 2}))
    assert no_events_error(0, two) is not None
    # an input that could not be read as text is never "a record"
    binary = problems_of(a=(0, 0, {"binary_input": 1}))
    assert (
        no_events_error(0, binary) == "no audit events in a: unsupported compression or binary file"
    )


def test_several_empty_inputs_in_one_line():
    problems = problems_of(
        a=(3, 0, {"invalid_json": 3}),
        b=(0, 0, {"binary_input": 1}),
        c=(2, 0, {"not_audit_event": 2}),
        d=(4, 0, {"invalid_json": 4}),
    )
    assert no_events_error(0, problems) == (
        "no audit events in any of 4 inputs: a: 3 lines, all invalid JSON; b: unsupported "
        "compression or binary file; c: 2 lines, all JSON but none an audit event (kind Event "
        "or EventList); and 1 more" + HINT
    )


# ---------------------------------------------------------------- scan


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("objects.jsonl",
         "412 lines, all JSON but none an audit event (kind Event or EventList)" + HINT),
        ("readme.md", "4 lines, all invalid JSON or blank" + HINT),
        ("archive.zip", "unsupported compression or binary file"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_scan_of_no_audit_events_exits_2(files, name, what, jobs):
    result = scan(files[name], "--jobs", jobs)
    assert result.exit_code == 2, result.stderr
    assert last_line(result.stderr) == f"k8saudit: error: no audit events in {files[name]}: {what}"
    assert "Events read: 0" in result.stderr  # the report comes first


def test_pretty_printed_json_is_described(files):
    result = scan(files["pretty.json"])
    assert result.exit_code == 2
    assert last_line(result.stderr).startswith(
        f"k8saudit: error: no audit events in {files['pretty.json']}: "
    )
    assert "invalid JSON" in last_line(result.stderr)


def test_not_even_strict_or_no_summary_hide_it(files, tmp_path):
    summary = tmp_path / "s.json"
    result = scan(
        files["objects.jsonl"], "--strict", "--no-summary", "--summary-json", str(summary)
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].startswith("k8saudit: error: no audit events in ")
    assert json.loads(summary.read_text())["inputs_without_events"] == {
        files["objects.jsonl"]: "412 lines, all JSON but none an audit event (kind Event or "
        "EventList)"
    }


@pytest.mark.parametrize("name", ["empty.log", "blank.log", "one-bad-record.json"])
def test_empty_input_is_still_a_clean_run(files, name):
    result = scan(files[name])
    assert result.exit_code == 0, result.stderr
    assert "no audit events" not in result.stderr


def test_empty_stdin_is_a_clean_run():
    assert scan("-", input=b"").exit_code == 0


def test_stdin_of_junk_exits_2():
    result = scan("-", input=b"hello\nworld\n")
    assert result.exit_code == 2
    assert last_line(result.stderr) == (
        "k8saudit: error: no audit events in <stdin>: 2 lines, all invalid JSON" + HINT
    )


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_one_of_several_inputs_without_events_is_a_note(files, tmp_path, jobs):
    summary = tmp_path / "s.json"
    result = scan(
        files["objects.jsonl"], AUDIT, files["empty.log"], "--jobs", jobs,
        "--summary-json", str(summary),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    at = lines.index("Files read: 3")
    assert lines[at + 1] == (
        f"   no audit events in {files['objects.jsonl']}: 412 lines, all JSON but none an "
        "audit event (kind Event or EventList)"
    )
    assert lines[at + 2].startswith("Elapsed: ")
    assert list(json.loads(summary.read_text())["inputs_without_events"]) == [
        files["objects.jsonl"]
    ]


# ---------------------------------------------------------------- forensic commands


@pytest.mark.parametrize(
    "command",
    [
        ["extract"],
        ["query", "ka.verb=get"],
        ["query", "ka.verb=get", "--count"],
        ["stats", "--by", "ka.verb"],
    ],
)
def test_forensic_commands_say_so_too(files, command):
    result = run(*command, files["objects.jsonl"])
    assert result.exit_code == 2, result.stderr
    assert last_line(result.stderr).startswith(
        f"k8saudit: error: no audit events in {files['objects.jsonl']}: 412 lines"
    )
    assert run(*command, AUDIT).exit_code == 0
