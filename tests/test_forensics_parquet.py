"""Parquet output: real types, row groups while streaming, SQL answers that match ``stats``.

Needs the ``parquet`` extra (in the ``test`` extra) and ``duckdb``; the
missing-extra error is tested by hiding ``pyarrow`` from the import system.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from k8saudit_cli.cli import main
from k8saudit_cli.forensics import parquet as parquet_module

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = [str(ROOT / "samples" / "benign-day.jsonl"), str(ROOT / "samples" / "attack-story.jsonl")]
AUDIT = str(ROOT / "tests" / "data" / "scan" / "audit.jsonl")
RULES = str(ROOT / "tests" / "data" / "scan" / "rules.yaml")


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    time.tzset()


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_default_columns_are_typed(tmp_path):
    out = tmp_path / "audit.parquet"
    result = run("extract", AUDIT, "--format", "parquet", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    table = pq.read_table(out)
    schema = table.schema
    assert schema.field("evt.time.iso8601").type == pa.timestamp("ns", tz="UTC")
    assert schema.field("ka.response.code").type == pa.int64()
    assert schema.field("ka.user.groups").type == pa.list_(pa.string())
    assert schema.field("ka.verb").type == pa.string()
    rows = table.to_pylist()
    assert len(rows) == 8
    first = rows[0]
    assert first["ka.response.code"] is None  # RequestReceived: no response yet
    assert first["ka.user.groups"] == ["system:authenticated"]
    assert rows[1]["ka.response.code"] == 201
    times = table.column("evt.time.iso8601").cast(pa.int64()).to_pylist()
    assert times[0] == 1773480361001512000


def test_bool_and_transformed_columns(tmp_path):
    out = tmp_path / "x.parquet"
    args = ["-f", "evt.is_async", "-f", "len(ka.user.groups)", "-f", "evt.rawtime"]
    assert run("extract", AUDIT, *args, "--format", "parquet", "-o", str(out)).exit_code == 0
    schema = pq.read_schema(out)
    assert schema.types == [pa.bool_(), pa.int64(), pa.timestamp("ns", tz="UTC")]


def test_row_groups_are_written_while_streaming(tmp_path, monkeypatch):
    monkeypatch.setattr(parquet_module, "BATCH_CELLS", 64 * 12)  # 12 default columns
    monkeypatch.setattr(parquet_module, "ROW_GROUP_CELLS", 256 * 12)
    out = tmp_path / "day.parquet"
    assert run("extract", SAMPLES[0], "--format", "parquet", "-o", str(out)).exit_code == 0
    meta = pq.ParquetFile(out).metadata
    assert meta.num_rows == 2949
    assert meta.num_row_groups == 12
    assert all(meta.row_group(i).num_rows == 256 for i in range(11))


def test_wide_tables_have_shorter_row_groups(tmp_path, monkeypatch):
    monkeypatch.setattr(parquet_module, "MIN_BATCH_ROWS", 1)
    monkeypatch.setattr(parquet_module, "BATCH_CELLS", 2 * 14)
    monkeypatch.setattr(parquet_module, "ROW_GROUP_CELLS", 4 * 14)
    out = tmp_path / "alerts.parquet"
    args = ["scan", AUDIT, "-r", RULES, "--format", "parquet", "-o", str(out), "--no-summary"]
    assert run(*args).exit_code == 0
    meta = pq.ParquetFile(out).metadata
    assert meta.num_columns == 14  # 5 fixed + 9 output fields of these rules
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [4, 2]


def test_an_empty_result_still_has_its_schema(tmp_path):
    out = tmp_path / "none.parquet"
    result = run("extract", AUDIT, "--where", "ka.verb=nothing", "--format", "parquet", "-o", out)
    assert result.exit_code == 0
    table = pq.read_table(out)
    assert table.num_rows == 0 and "ka.user.name" in table.schema.names


def test_duckdb_top_403_users_match_stats(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    out = tmp_path / "logs.parquet"
    assert run("extract", *SAMPLES, "--format", "parquet", "-o", str(out)).exit_code == 0
    sql = f"""
        SELECT "ka.user.name", count(*) AS n, min("evt.time.iso8601"), max("evt.time.iso8601")
        FROM '{out}' WHERE "ka.response.code" = 403
        GROUP BY 1 ORDER BY n DESC, min("evt.time.iso8601") LIMIT 5
    """
    answer = duckdb.sql(sql).fetchall()
    stats = run(
        "stats",
        *SAMPLES,
        "--by",
        "ka.user.name",
        "--where",
        "ka.response.code=403",
        "--top",
        "5",
        "--format",
        "json",
    )
    expected = json.loads(stats.stdout)
    assert len(answer) == len(expected) >= 2
    assert [(user, n) for user, n, _, _ in answer] == [
        (g["ka.user.name"], g["count"]) for g in expected
    ]
    first_seen = [f"{t:%Y-%m-%dT%H:%M:%S.%f}" for _, _, t, _ in answer]
    assert first_seen == [g["first_seen"][:26] for g in expected]


def test_scan_timeline_as_parquet(tmp_path):
    out = tmp_path / "alerts.parquet"
    result = run("scan", AUDIT, "-r", RULES, "--format", "parquet", "-o", str(out), "--no-summary")
    assert result.exit_code == 0, result.stderr
    table = pq.read_table(out)
    assert table.num_rows == 6
    schema = table.schema
    assert schema.field("time").type == pa.timestamp("ns", tz="UTC")
    assert schema.field("tags").type == pa.list_(pa.string())
    assert schema.field("evt.num").type == pa.int64()
    assert schema.field("ka.response.code").type == pa.int64()
    rows = table.to_pylist()
    assert rows[0]["rule"] == "Privileged Pod" and rows[0]["ka.req.pod.containers.image"] == [
        "busybox:1.36"
    ]
    assert rows[0]["evt.num"] is None and rows[2]["evt.num"] == 3


def test_parquet_needs_a_file():
    result = run("extract", AUDIT, "--format", "parquet")
    assert result.exit_code == 2
    assert result.stderr == "k8saudit: error: --format parquet writes a file: give -o FILE\n"


@pytest.mark.parametrize("command", ["extract", "scan"])
def test_missing_pyarrow_is_one_line_naming_the_extra(tmp_path, monkeypatch, command):
    for name in [m for m in sys.modules if m == "pyarrow" or m.startswith("pyarrow.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow -> ImportError
    out = tmp_path / "x.parquet"
    result = run(command, AUDIT, "--format", "parquet", "-o", str(out), "-r", RULES)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "k8saudit: error: Parquet output needs pyarrow: pip install 'k8saudit[parquet]'"
    )
    assert not out.exists()
