"""Scans on a real Dask cluster (a LocalCluster of 2 worker processes): byte for byte one process.

One cluster serves the module (it takes seconds to start). Inputs mix a plain
file cut into many ranges, a gzip file, an EventList batch, bad lines, blank
lines and a line without a timestamp; the rules are the default ruleset
(aggregations included) and the scan tests' own (one rule prints
``evt.num``, which only the client can number).
"""

from __future__ import annotations

import gzip
import io
import itertools
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from k8saudit_cli import parallel_run
from k8saudit_cli.alerts import AlertRenderer
from k8saudit_cli.chunk_worker import Chunk
from k8saudit_cli.cluster import ClusterScan, Connection, RuleSpec, connect
from k8saudit_cli.cluster import scan as cluster_scan
from k8saudit_cli.cluster.tasks import scan_spec, scan_task, worker_for
from k8saudit_cli.detect import Alert
from k8saudit_cli.detection_run import DetectionRun
from k8saudit_cli.report import plain_text
from k8saudit_cli.run_options import RunOptions, TextSink
from k8saudit_cli.run_stats import RunStats
from tests.test_scan_cli import AUDIT, RULES

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
#: Small ranges, so that a 2.4 MB file makes many tasks.
SMALL = 1 << 18


@pytest.fixture(scope="module")
def cluster() -> Connection:
    connection = connect("local:2")
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("inputs")
    story = (SAMPLES / "attack-story.jsonl").read_bytes()
    (root / "a-benign.jsonl").write_bytes((SAMPLES / "benign-day.jsonl").read_bytes())
    (root / "b-story.jsonl.gz").write_bytes(gzip.compress(story))
    bad = b'not json\n\n\n{"kind":"Event","verb":"get"}\n\x00\x01junk\n'
    (root / "c-bad.jsonl").write_bytes(Path(AUDIT).read_bytes() + bad + story[:40000])
    (root / "d-batch.jsonl").write_bytes((SAMPLES / "webhook-batch.jsonl").read_bytes())
    return root


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    """Plain files of a few hundred KB are cut into ranges, as big ones are."""
    monkeypatch.setattr(parallel_run, "MIN_CHUNK", SMALL // 4)
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("FALCO_HOSTNAME", "test-host")
    time.tzset()
    yield
    time.tzset()


def run(paths, spec: RuleSpec, sink_kind: str, cluster: ClusterScan | None, **options):
    """(alert output, input warnings, report text without the clock, run warnings)."""
    out = io.StringIO()
    alerts: list[Alert] = []
    renderer = AlertRenderer(options.pop("time_format", "iso"))
    if sink_kind == "objects":
        sink = alerts.append
    else:
        render = renderer.json_text if sink_kind == "json" else renderer.line
        sink = TextSink(render, out.write)
    warnings: list[str] = []
    stats = DetectionRun(
        spec.load(),
        RunOptions(**options),
        sink,
        on_input_warning=warnings.append,
        on_warning=warnings.append,
        cluster=cluster,
    ).scan_paths([str(p) for p in paths])
    text = out.getvalue() or "".join(renderer.line(a) for a in alerts)
    keys = [(a.rule.name, a.event.num, a.event.file, a.event.line, a.event.index) for a in alerts]
    return text, keys, warnings, report(stats)


def report(stats: RunStats) -> tuple:
    """The report's text, and what the per-input notes and the grown-files check use."""
    problems = stats.problems
    text = re.sub(r"Elapsed: .*", "Elapsed: -", plain_text(stats))
    return text, problems.inputs, dict(problems.by_file), stats.read_up_to


@pytest.mark.parametrize(
    ("rules", "sink_kind", "options"),
    [
        ((), "text", {}),
        ((RULES,), "text", {}),
        ((), "json", {"rule_matching": "first"}),
        ((RULES,), "objects", {}),
        ((RULES,), "text", {"time_format": "falco"}),
    ],
    ids=["default-text", "evt-num", "json-first", "alert-objects", "falco-time"],
)
def test_a_cluster_scan_is_the_scan_of_one_process(cluster, inputs, rules, sink_kind, options):
    spec = RuleSpec.from_paths(rules)
    paths = sorted(inputs.iterdir())
    serial = run(paths, spec, sink_kind, None, **dict(options))
    scan = ClusterScan(cluster, spec, chunk_bytes=SMALL)
    on_cluster = run(paths, spec, sink_kind, scan, **dict(options))
    assert on_cluster == serial
    assert serial[0] and serial[2]  # alerts and warnings, in both
    assert scan.tasks > len(paths)  # the plain file was cut into ranges
    assert sum(scan.tally.tasks.values()) == scan.tasks
    assert len(scan.tally.tasks) == 2  # both workers took tasks


def test_file_urls_on_the_cluster(cluster, inputs):
    spec = RuleSpec.from_paths([RULES])
    urls = [f"file://{inputs}/"]
    serial = run(urls, spec, "text", None)
    assert all("file://" in w for w in serial[2])  # warnings name files as URLs
    assert run(urls, spec, "text", ClusterScan(cluster, spec, chunk_bytes=SMALL)) == serial


def test_a_worker_killed_mid_task_is_replaced_and_the_output_is_complete(cluster, inputs, tmp_path):
    from tests.dask_support import KillOnce

    spec = RuleSpec.from_paths(())
    paths = sorted(inputs.iterdir())
    serial = run(paths, spec, "text", None)
    marker = tmp_path / "kill-once"
    marker.touch()
    cluster.client.register_plugin(KillOnce(str(marker)))
    try:
        on_cluster = run(paths, spec, "text", ClusterScan(cluster, spec, chunk_bytes=SMALL))
    finally:
        cluster.client.unregister_worker_plugin(KillOnce.name)
    assert not marker.exists()  # a worker claimed it and died
    assert on_cluster == serial
    cluster.client.wait_for_workers(2, timeout=30)


def test_unreadable_inputs_are_counted_with_their_url(cluster, inputs, monkeypatch):
    spec = RuleSpec.from_paths([RULES])
    gone = Chunk("file:///nonexistent/k8saudit/gone.jsonl", 0, 5000)
    local_gone = Chunk("/nonexistent/k8saudit/gone.jsonl", 0, 5000)
    plan = cluster_scan.plan_chunks

    def plan_with_missing(paths, jobs, max_chunk=None):
        return [gone, *plan(paths, jobs, max_chunk), local_gone]

    monkeypatch.setattr(cluster_scan, "plan_chunks", plan_with_missing)
    out = io.StringIO()
    warnings: list[str] = []
    stats = DetectionRun(
        spec.load(),
        sink=TextSink(AlertRenderer().line, out.write),
        on_input_warning=warnings.append,
        cluster=ClusterScan(cluster, spec, chunk_bytes=SMALL),
    ).scan_paths([AUDIT])
    assert stats.problems.counts["read_error"] == 2
    assert stats.problems.skipped >= 2  # what --strict fails on
    for missing in (gone, local_gone):  # as a serial scan says it: read through the same Input
        assert any(
            w.startswith(f"k8saudit: warning: {missing.path}:1: read error") for w in warnings
        )
    assert stats.files == [gone.path, AUDIT, local_gone.path]
    assert out.getvalue() == run([AUDIT], spec, "text", None)[0]


def test_ctrl_c_cancels_the_tasks_and_keeps_what_was_merged(cluster, inputs):
    spec = RuleSpec.from_paths(())
    paths = [str(p) for p in sorted(inputs.iterdir())]
    calls = []

    def progress(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 3:
            raise KeyboardInterrupt

    run_ = DetectionRun(
        spec.load(),
        on_progress=progress,
        cluster=ClusterScan(cluster, spec, chunk_bytes=SMALL // 4),
    )
    stats = run_.scan_paths(paths)
    assert stats.interrupted
    serial = DetectionRun(spec.load()).scan_paths(paths)
    assert stats.events_read < serial.events_read

    def ours(dask_scheduler) -> list[str]:
        return [str(k) for k in dask_scheduler.tasks if "k8saudit" in str(k)]

    for _ in range(50):  # cancelling is asynchronous
        if not cluster.client.run_on_scheduler(ours):
            break
        time.sleep(0.1)
    assert cluster.client.run_on_scheduler(ours) == []


def test_a_task_builds_the_rules_once_per_worker():
    spec = RuleSpec.from_paths([RULES])
    rules = spec.load()
    out: list[str] = []
    scan = scan_spec(spec, RunOptions(), TextSink(AlertRenderer().line, out.append), ())
    with pytest.raises(Exception, match="a worker built 4 rules"):
        scan_task(scan, Chunk(AUDIT))  # the client has no rules: the worker refuses
    names = tuple(r.name for r in rules)
    scan = scan_spec(spec, RunOptions(), TextSink(AlertRenderer().line, out.append), names)
    worker, first = scan_task(scan, Chunk(AUDIT))
    _, again = scan_task(scan, Chunk(AUDIT))
    assert worker == "local" and first.alerts == again.alerts and first.alerts
    assert worker_for(scan) is worker_for(scan)  # built once, then kept
    # evt.num is the client's to number: that rule's alerts come back as event JSON
    assert {text is None for _, _, text, _, _, _ in first.alerts} == {True, False}


def test_the_cli_prints_one_process_output_then_the_cluster_lines(inputs, tmp_path):
    env = {**os.environ, "TZ": "UTC", "FALCO_HOSTNAME": "test-host"}
    base = [sys.executable, "-m", "k8saudit_cli", "scan", str(inputs), "--no-progress"]
    serial = subprocess.run(base, capture_output=True, env=env, check=False)
    on_cluster = subprocess.run([*base, "--cluster", "local:2"], capture_output=True, env=env)
    assert serial.returncode == on_cluster.returncode == 0
    assert on_cluster.stdout == serial.stdout and serial.stdout
    first, _, extra = on_cluster.stderr.decode().partition("Dask cluster: ")
    assert report_text(first) == report_text(serial.stderr.decode())
    assert re.match(r"tcp://127\.0\.0\.1:\d+, \d+ tasks?", extra)
    assert len(re.findall(r"^   tcp://\S+: \d+ tasks?, ", extra, re.M)) in (1, 2)


def report_text(stderr: str) -> str:
    return re.sub(r"Elapsed: .*", "Elapsed: -", stderr)


# ---------------------------------------------------------------- extract, query, stats


def forensic_specs(mode: str, where: str | None, columns=()):
    from k8saudit_cli.cli.forensics_cluster import forensic_spec
    from k8saudit_cli.forensics import Selection

    label = "CONDITION" if mode in ("query", "count") else "--where"
    return forensic_spec(
        mode, Selection(), (), (where, label) if where else None, (columns, "--by")
    )


def local_condition(where: str | None, label: str = "--where"):
    from k8saudit_cli.forensics import ConditionCompiler, Selection
    from k8saudit_cli.ruleset import load_rules
    from k8saudit_cli.ruleset.defaults import default_rules_paths

    if where is None:
        return Selection()
    collection = load_rules(default_rules_paths()).collection
    return Selection(ConditionCompiler(collection).compile(where, label).test)


def counters():
    from k8saudit_cli.decode import Problems
    from k8saudit_cli.forensics import SelectionStats

    shown: list[str] = []
    return SelectionStats(problems=Problems(emit=shown.append)), shown


def summary(stats) -> tuple:
    problems = stats.problems
    counts = (stats.events_read, stats.events_selected, stats.files, dict(problems.counts))
    return counts, problems.inputs, dict(problems.by_file)


@pytest.mark.parametrize("mode", ["query", "count"])
def test_query_on_the_cluster(cluster, inputs, mode):
    from k8saudit_cli.forensics import count, query
    from k8saudit_cli.forensics.cluster_run import ForensicCluster

    paths = [str(p) for p in sorted(inputs.iterdir())]
    where = "ka.verb in (create, delete) or ka.user.name startswith system:anonymous"
    here, here_shown = counters()
    out = io.BytesIO()
    if mode == "query":
        query(paths, local_condition(where, "CONDITION"), out.write, here)
    else:
        count(paths, local_condition(where, "CONDITION"), here)
    there, there_shown = counters()
    got = io.BytesIO()
    runner = ForensicCluster(cluster, chunk_bytes=SMALL)
    runner.query(paths, forensic_specs(mode, where), got.write, there)
    assert got.getvalue() == out.getvalue()
    assert summary(there) == summary(here) and here.events_selected > 10
    assert there_shown == here_shown and here_shown
    assert runner.tasks > len(paths)


@pytest.mark.parametrize("sort", [False, True])
def test_extract_on_the_cluster(cluster, inputs, sort):
    from k8saudit_cli.forensics import DEFAULT_COLUMNS, SortOptions, columns_of, extract
    from k8saudit_cli.forensics.cluster_run import ForensicCluster
    from k8saudit_cli.forensics.tabular import text_writer

    paths = [str(p) for p in sorted(inputs.iterdir())]
    columns = columns_of(DEFAULT_COLUMNS)
    sorting = SortOptions(run_rows=500) if sort else None  # spills runs to files, too
    here, _ = counters()
    out = io.StringIO()
    extract(
        paths,
        columns,
        local_condition("ka.verb=get"),
        text_writer("tsv", out, columns),
        sorting,
        here,
    )
    there, _ = counters()
    got = io.StringIO()
    from k8saudit_cli.cli.forensics_cluster import forensic_spec
    from k8saudit_cli.forensics import Selection

    mode = "sorted" if sort else "extract"
    spec = forensic_spec(mode, Selection(), (), ("ka.verb=get", "--where"), (DEFAULT_COLUMNS, "-f"))
    ForensicCluster(cluster, chunk_bytes=SMALL).extract(
        paths, spec, text_writer("tsv", got, columns), sorting, there
    )
    assert got.getvalue() == out.getvalue() and out.getvalue().count("\n") > 100
    assert summary(there) == summary(here)


def test_stats_on_the_cluster(cluster, inputs):
    from k8saudit_cli.forensics import columns_of, group_counts
    from k8saudit_cli.forensics.cluster_run import ForensicCluster

    paths = [str(p) for p in sorted(inputs.iterdir())]
    by = ["ka.user.name", "ka.verb"]
    columns = columns_of(by, "--by")
    here, _ = counters()
    expected = group_counts(paths, columns, local_condition(None), here)
    there, _ = counters()
    got = ForensicCluster(cluster, chunk_bytes=SMALL).group_counts(
        paths, forensic_specs("stats", None, by), columns, there
    )
    assert got.rows() == expected.rows() and len(expected.rows()) > 10
    assert got.rows(top=3) == expected.rows(top=3)
    assert summary(there) == summary(here)


def test_progress_counts_the_bytes_of_the_tasks_done(cluster, inputs):
    spec = RuleSpec.from_paths(())
    paths = [str(p) for p in sorted(inputs.iterdir())]
    reports: list[tuple[int, int]] = []
    DetectionRun(
        spec.load(),
        on_progress=lambda done, total: reports.append((done, total)),
        cluster=ClusterScan(cluster, spec, chunk_bytes=SMALL),
    ).scan_paths(paths)
    total = sum(os.path.getsize(p) for p in paths)
    assert reports[0] == (0, total) and reports[-1] == (total, total)
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(reports))


def test_inputs_without_events_fail_as_in_one_process(cluster, tmp_path):
    from k8saudit_cli.empty_inputs import no_events_error
    from k8saudit_cli.forensics import query
    from k8saudit_cli.forensics.cluster_run import ForensicCluster

    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"".join(b"line %d of a README, not JSON\n" % i for i in range(30000)))
    spec = RuleSpec.from_paths(())
    serial = DetectionRun(spec.load(), sink=lambda alert: None).scan_paths([str(notes)])
    there = DetectionRun(
        spec.load(), sink=lambda alert: None, cluster=ClusterScan(cluster, spec, chunk_bytes=SMALL)
    ).scan_paths([str(notes)])
    error = no_events_error(serial.events_read, serial.problems)
    assert error is not None and "no audit events in" in error
    assert no_events_error(there.events_read, there.problems) == error
    here, _ = counters()
    query([str(notes)], local_condition(None), lambda b: None, here)
    far, _ = counters()
    runner = ForensicCluster(cluster, chunk_bytes=SMALL)
    runner.query([str(notes)], forensic_specs("query", None), lambda b: None, far)
    assert runner.tasks > 1
    assert no_events_error(far.events_read, far.problems) == error
