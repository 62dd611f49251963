"""The forensics library: conditions, columns, writers, the external sort, stats, query texts."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import orjson
import pytest

from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fields import MISSING
from k8saudit_cli.forensics import (
    DEFAULT_COLUMNS,
    ConditionCompiler,
    ConditionProblem,
    Selection,
    SelectionStats,
    SortOptions,
    column_of,
    columns_of,
    extract,
    extsort,
    group_counts,
    query,
)
from k8saudit_cli.forensics.columns import _time_renderer
from k8saudit_cli.forensics.extsort import sorted_by_time
from k8saudit_cli.forensics.tabular import CsvWriter, JsonLinesWriter, TsvWriter, tsv_escape
from k8saudit_cli.ruleset import load_rules, load_texts
from k8saudit_cli.timestamps import evt_iso8601_text, evt_time_text

ROOT = Path(__file__).resolve().parent.parent
AUDIT = str(ROOT / "tests" / "data" / "scan" / "audit.jsonl")
RULES = str(ROOT / "tests" / "data" / "scan" / "rules.yaml")
WEBHOOK = str(ROOT / "samples" / "webhook-batch.jsonl")

MACRO_RULES = """\
- macro: complete
  condition: ka.stage = ResponseComplete
- macro: broken_field
  condition: ka.stage = ResponseComplete and ka.no.such = x
- list: people
  items: [alice, bob]
"""


def compiler(text: str = MACRO_RULES) -> ConditionCompiler:
    ruleset = load_texts([("macros.yaml", text)])
    assert ruleset.ok, [d.render() for d in ruleset.errors]
    return ConditionCompiler(ruleset.collection)


def event(raw: dict, time_ns: int = 1_700_000_000_000_000_000) -> AuditEvent:
    return AuditEvent({"auditID": "x", **raw}, time_ns)


# ---------------------------------------------------------------- conditions


def test_condition_uses_macros_and_lists_of_the_rules():
    where = compiler().compile("complete and ka.user.name in (people)", "--where")
    assert where.test(event({"stage": "ResponseComplete", "user": {"username": "bob"}}))
    assert not where.test(event({"stage": "ResponseComplete", "user": {"username": "carol"}}))
    assert not where.test(event({"stage": "RequestReceived", "user": {"username": "bob"}}))


def test_condition_error_in_the_text_has_a_caret():
    with pytest.raises(ConditionProblem) as err:
        compiler().compile("complete and ka.usr.name=bob", "--where")
    (diag,) = err.value.diagnostics
    assert str(diag.position) == "--where:1:14"
    assert "did you mean 'ka.user.name'?" in diag.message
    assert diag.render().endswith("complete and ka.usr.name=bob\n               ^")


def test_condition_error_inside_a_macro_points_at_the_rules_file():
    with pytest.raises(ConditionProblem) as err:
        compiler().compile("broken_field", "--where")
    (diag,) = err.value.diagnostics
    assert diag.position is not None and diag.position.file == "macros.yaml"
    assert diag.position.line == 4
    assert (diag.item_type, diag.item_name) == ("macro condition", "broken_field")


def test_undefined_macro_suggests_a_close_one():
    with pytest.raises(ConditionProblem) as err:
        compiler().compile("completed", "CONDITION")
    assert "(did you mean 'complete'?)" in err.value.diagnostics[0].message


def test_binder_warnings_are_kept_with_their_position():
    where = compiler().compile("ka.user.groups contains system:masters", "--where")
    assert where.warnings and str(where.warnings[0].position).startswith("--where:1:")


# ---------------------------------------------------------------- columns


def test_column_kinds():
    kinds = {c.name: c.kind for c in columns_of(DEFAULT_COLUMNS)}
    assert kinds["evt.time.iso8601"] == "time"
    assert kinds["ka.user.groups"] == kinds["ka.sourceips"] == "list"
    assert kinds["ka.response.code"] == "int"
    assert kinds["ka.verb"] == "text"
    assert column_of("evt.is_async").kind == "bool"
    assert column_of("len(ka.user.groups)").kind == "int"
    assert column_of("tolower(ka.verb)").kind == "text"


def test_response_code_is_an_integer_or_missing():
    code = column_of("ka.response.code")
    assert code.get(event({"responseStatus": {"code": 403}})) == 403
    assert code.get(event({})) is MISSING


def test_every_bad_column_is_reported():
    with pytest.raises(ConditionProblem) as err:
        columns_of(["ka.verb", "ka.usr.name", "json.value", "ka.verb = x"])
    assert [d.position.col for d in err.value.diagnostics if d.position] == [1, 1, 9]


@pytest.mark.parametrize("render", [evt_iso8601_text, evt_time_text])
def test_time_rendering_per_second_equals_the_field_rendering(render):
    cached = _time_renderer(lambda ev: render(ev.time_ns))
    rng = random.Random(7)
    base = 1_773_623_235 * 1_000_000_000
    times = sorted(base + rng.randrange(0, 5_000_000_000) for _ in range(200))
    assert [cached(t) for t in times] == [render(t) for t in times]


# ---------------------------------------------------------------- writers


ODD = [
    [1_773_623_235_000_000_001, "tab\there", ["a", "b,c"], 403, True],
    [1_773_623_235_000_000_002, "new\nline\r\\", MISSING, MISSING, False],
]


def odd_columns():
    specs = ["evt.rawtime", "ka.useragent", "ka.user.groups", "ka.response.code", "evt.is_async"]
    return columns_of(specs)


def written(writer_class) -> str:
    out = io.StringIO()
    writer = writer_class(out, odd_columns())
    writer.write_rows(ODD)
    writer.close()
    return out.getvalue()


def test_tsv_escapes_what_a_cell_cannot_hold():
    assert tsv_escape("a\tb\\c\nd\re") == "a\\tb\\\\c\\nd\\re"
    lines = written(TsvWriter).splitlines()
    assert lines[1] == "1773623235000000001\ttab\\there\ta,b,c\t403\ttrue"
    assert lines[2] == "1773623235000000002\tnew\\nline\\r\\\\\t\t\tfalse"


def test_csv_quotes_and_jsonl_types():
    assert written(CsvWriter).splitlines()[1] == '1773623235000000001,tab\there,"a,b,c",403,true'
    first, second = (json.loads(line) for line in written(JsonLinesWriter).splitlines())
    assert first["ka.user.groups"] == ["a", "b,c"] and first["ka.response.code"] == 403
    assert second["ka.user.groups"] is None and second["evt.is_async"] is False


# ---------------------------------------------------------------- sort


@pytest.mark.parametrize("run_rows", [1, 3, 1000])
def test_external_sort_is_a_stable_sort(run_rows, tmp_path, monkeypatch):
    monkeypatch.setattr(extsort, "BLOCK_ROWS", 2)
    rng = random.Random(run_rows)
    rows = [(rng.randrange(20), f"row{i}") for i in range(200)]  # 200 runs: merged in levels
    got = list(sorted_by_time(rows, run_rows=run_rows, tmp_dir=str(tmp_path)))
    assert got == [row for _, row in sorted(rows, key=lambda r: r[0])]


def test_external_sort_closes_its_files_when_abandoned(monkeypatch):
    opened = []
    real = extsort.tempfile.TemporaryFile

    def tracked(*args, **kwargs):
        opened.append(real(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(extsort.tempfile, "TemporaryFile", tracked)
    ordered = sorted_by_time(((t, t) for t in range(100, 0, -1)), run_rows=10)
    assert next(ordered) == 1
    ordered.close()
    assert len(opened) == 10 and all(f.closed for f in opened)


def test_sorted_extract_spilling_to_disk(tmp_path):
    columns = columns_of(["evt.rawtime", "evt.num", "ka.user.name"])
    plain, spilled = io.StringIO(), io.StringIO()
    extract([AUDIT, WEBHOOK], columns, Selection(), TsvWriter(plain, columns))
    extract(
        [AUDIT, WEBHOOK],
        columns,
        Selection(),
        TsvWriter(spilled, columns),
        SortOptions(run_rows=7, tmp_dir=str(tmp_path)),
    )
    rows = [line.split("\t") for line in plain.getvalue().splitlines()[1:]]
    expected = sorted(rows, key=lambda r: int(r[0]))
    assert [line.split("\t") for line in spilled.getvalue().splitlines()[1:]] == expected
    assert len(expected) == 98


# ---------------------------------------------------------------- stats and query


def test_stats_orders_by_count_then_first_appearance():
    counts = group_counts([AUDIT], columns_of(["ka.user.name"]), Selection())
    assert [row[:2] for row in counts.rows()] == [["bob", 5], ["carol", 2], ["alice", 1]]
    assert counts.stats.events_read == counts.stats.events_selected == 8
    assert counts.stats.problems.counts["invalid_json"] == 1


def test_stats_first_and_last_seen_whatever_the_order(tmp_path):
    log = tmp_path / "log.jsonl"
    times = ["2026-01-01T00:00:05Z", "2026-01-01T00:00:01Z", "2026-01-01T00:00:09Z"]
    log.write_bytes(
        b"".join(
            orjson.dumps({"kind": "Event", "auditID": str(i), "verb": "get", "stageTimestamp": t})
            + b"\n"
            for i, t in enumerate(times)
        )
    )
    (row,) = group_counts([str(log)], columns_of(["ka.verb"]), Selection()).rows()
    assert row[1:] == [3, 1767225601000000000, 1767225609000000000]


def test_query_texts_plain_lines_eventlist_items_and_bom(tmp_path):
    item = {
        "kind": "Event",
        "auditID": "é",
        "verb": "get",
        "stageTimestamp": "2026-01-01T00:00:00Z",
    }
    plain = b'{"kind":"Event", "auditID":"p","verb":"get","stageTimestamp":"2026-01-01T00:00:01Z"}'
    log = tmp_path / "log.jsonl"
    log.write_bytes(
        b"\xef\xbb\xbf"
        + plain
        + b"\r\n"
        + orjson.dumps({"kind": "EventList", "items": [item, item]})
        + b"\n"
    )
    out = io.BytesIO()
    stats = query([str(log)], Selection(), out.write, SelectionStats())
    compact = orjson.dumps(item)
    assert out.getvalue().split(b"\n") == [plain, compact, compact, b""]
    assert stats.events_selected == 3


def test_library_use_as_documented():
    ruleset = load_rules([RULES])
    where = ConditionCompiler(ruleset.collection).compile("complete and ka.verb=get", "--where")
    counts = group_counts([AUDIT], columns_of(["ka.user.name"]), Selection(where.test))
    assert [r[:2] for r in counts.rows(top=2)] == [["bob", 1], ["alice", 1]]


def test_falco_upstream_macros_in_where(conformance):
    """The issue's example: Falco's own kevt/kcreate macros from its rules file."""
    rules = conformance / "upstream-current" / "k8s_audit_rules.yaml"
    ruleset = load_rules([str(rules)])
    where = ConditionCompiler(ruleset.collection).compile(
        "kevt and kcreate and ka.target.resource=pods", "--where"
    )
    story = str(ROOT / "samples" / "attack-story.jsonl")
    counts = group_counts([story], columns_of(["ka.target.name"]), Selection(where.test))
    assert [r[:2] for r in counts.rows()] == [["kube-proxy-m4q7n", 2]]
