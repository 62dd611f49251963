"""DetectionRun as a library: any event source, one process or several, the same alerts and counts.

Uses the scan CLI's data (tests/data/scan: 8 events, a broken line, an
EventList, rules that alert 6 times, one of them printing ``evt.num``).
"""

from __future__ import annotations

import io
import multiprocessing
import os
import signal
import sys
import time
from pathlib import Path

import orjson
import pytest

from k8saudit_cli import parallel_run
from k8saudit_cli.alerts import AlertRenderer
from k8saudit_cli.decode import read_events
from k8saudit_cli.detect import Alert, Detector
from k8saudit_cli.detection_run import DetectionRun
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.ruleset import load_rules
from k8saudit_cli.ruleset.compile import CompiledRule
from k8saudit_cli.run_options import RunOptions, TextSink
from k8saudit_cli.run_stats import RunStats, RunStopped
from tests.test_scan_cli import AUDIT, RULES

EXPECTED = {"Privileged Pod": 1, "Any Create": 2, "Exec Into Pod": 1, "Secret Read": 2}


@pytest.fixture(scope="module")
def rules() -> list[CompiledRule]:
    return [r for r in load_rules([RULES]).rules if r.enabled]


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("FALCO_HOSTNAME", "test-host")
    time.tzset()
    yield
    time.tzset()


def key(alert: Alert) -> tuple:
    ev = alert.event
    return (alert.rule.name, ev.num, ev.file, ev.line, ev.index, ev.time_ns, ev.raw)


def counts(stats: RunStats) -> tuple:
    return (
        stats.events_read,
        stats.events_in_window,
        stats.alerts,
        dict(stats.by_rule),
        dict(stats.by_priority),
        stats.rule_order,
        stats.files,
        dict(stats.problems.counts),
    )


def big_file(tmp_path: Path, copies: int = 40) -> str:
    path = tmp_path / "big.jsonl"
    path.write_bytes(Path(AUDIT).read_bytes() * copies)
    return str(path)


def test_paths_source_alerts_and_counts(rules):
    alerts: list[Alert] = []
    stats = DetectionRun(rules, sink=alerts.append).scan_paths([AUDIT])
    assert dict(stats.by_rule) == EXPECTED
    assert (stats.events_read, stats.events_in_window, stats.alerts) == (8, 8, 6)
    assert stats.files == [AUDIT]
    assert dict(stats.problems.counts) == {"invalid_json": 1}
    assert stats.most_severe is not None and stats.elapsed > 0
    assert [a.rule.name for a in alerts] == [
        "Privileged Pod",
        "Any Create",
        "Exec Into Pod",
        "Secret Read",
        "Any Create",
        "Secret Read",
    ]


def test_iterable_source_gives_what_paths_give(rules):
    from_paths: list[Alert] = []
    paths_stats = DetectionRun(rules, sink=from_paths.append).scan_paths([AUDIT])
    from_events: list[Alert] = []
    events = read_events([AUDIT])  # any iterable of AuditEvent will do
    stats = DetectionRun(rules, sink=from_events.append).scan_events(events)
    assert [key(a) for a in from_events] == [key(a) for a in from_paths]
    assert dict(stats.by_rule) == dict(paths_stats.by_rule)
    assert stats.events_read == paths_stats.events_read
    assert stats.files == []  # a run over events opens no file


def test_events_built_in_memory(rules):
    lines = Path(AUDIT).read_bytes().splitlines()
    events = [
        AuditEvent(obj, i, num=i)
        for i, obj in enumerate((orjson.loads(line) for line in lines[:5]), 1)
        if isinstance(obj, dict) and obj.get("kind") == "Event"
    ]
    alerts: list[Alert] = []
    stats = DetectionRun(rules, sink=alerts.append).scan_events(events)
    assert stats.events_read == len(events)
    assert [a.event.num for a in alerts] == sorted(a.event.num for a in alerts)
    assert sum(stats.by_rule.values()) == stats.alerts == len(alerts) > 0


def test_sink_receives_alerts_in_input_order(rules):
    events = list(read_events([AUDIT]))
    detector = Detector(rules)
    expected = [(r.name, ev.num) for ev in events for r in detector.match(ev)]
    got: list[tuple[str, int]] = []
    DetectionRun(rules, sink=lambda a: got.append((a.rule.name, a.event.num))).scan_events(events)
    assert got == expected


def test_stats_match_the_alerts(rules):
    alerts: list[Alert] = []
    stats = DetectionRun(rules, sink=alerts.append).scan_paths([AUDIT, AUDIT])
    for name, n in stats.by_rule.items():
        assert n == sum(1 for a in alerts if a.rule.name == name)
    for level, n in stats.by_priority.items():
        assert n == sum(1 for a in alerts if a.rule.priority == level)
    assert stats.alerts == len(alerts) == 12
    assert stats.files == [AUDIT, AUDIT]
    assert [a.event.num for a in alerts][-1] > 8  # numbering continues over inputs


def test_time_window_and_rule_matching(rules):
    window = RunOptions(since_ns=1773480363 * 10**9, until_ns=1773480368 * 10**9)
    stats = DetectionRun(rules, window).scan_paths([AUDIT])
    assert stats.events_read == 8 and 0 < stats.events_in_window < 8
    first: list[Alert] = []
    DetectionRun(rules, RunOptions(rule_matching="first"), first.append).scan_paths([AUDIT])
    nums = [a.event.num for a in first]
    assert len(nums) == len(set(nums)) < 6  # at most one alert per event


def test_reference_evaluator_agrees(rules):
    fast: list[Alert] = []
    slow: list[Alert] = []
    DetectionRun(rules, RunOptions(evaluator="fast"), fast.append).scan_paths([AUDIT])
    DetectionRun(rules, RunOptions(evaluator="reference"), slow.append).scan_paths([AUDIT])
    assert [key(a) for a in fast] == [key(a) for a in slow]


@pytest.mark.parametrize("bad", [{"rule_matching": "most"}, {"evaluator": "quick"}, {"jobs": 0}])
def test_options_are_checked(bad):
    with pytest.raises(ValueError):
        RunOptions(**bad)


def test_jobs_2_equals_jobs_1_with_alert_objects(rules, tmp_path, monkeypatch):
    monkeypatch.setattr(parallel_run, "MIN_CHUNK", 2000)  # split the file into byte ranges
    path = big_file(tmp_path)
    assert len(parallel_run.plan_chunks([path, AUDIT], 2)) > 2
    runs = {}
    for jobs in (1, 2):
        alerts: list[Alert] = []
        stats = DetectionRun(rules, RunOptions(jobs=jobs), alerts.append).scan_paths([path, AUDIT])
        runs[jobs] = ([key(a) for a in alerts], counts(stats))
    assert runs[1] == runs[2]
    assert runs[2][1][0] == 41 * 8


def test_jobs_2_equals_jobs_1_with_rendered_text(rules, tmp_path, monkeypatch):
    monkeypatch.setattr(parallel_run, "MIN_CHUNK", 2000)
    path = big_file(tmp_path)
    renderer = AlertRenderer("iso")
    runs = {}
    for jobs in (1, 2):
        out = io.StringIO()
        lines: list[str] = []
        stats = DetectionRun(
            rules,
            RunOptions(jobs=jobs),
            TextSink(renderer.json_text, out.write),
            on_input_warning=lines.append,
        ).scan_paths([path])
        runs[jobs] = (out.getvalue(), lines, counts(stats))
    assert runs[1] == runs[2]
    exec_nums = [
        orjson.loads(line)["output_fields"]["evt.num"]
        for line in runs[2][0].splitlines()
        if orjson.loads(line)["rule"] == "Exec Into Pod"
    ]
    assert exec_nums == [3 + 8 * k for k in range(40)]  # rendered by the parent
    assert runs[2][1][0].startswith(f"k8saudit: warning: {path}:6: invalid JSON")


def test_progress_reports_bytes_up_to_the_total(rules, tmp_path, monkeypatch):
    monkeypatch.setattr(parallel_run, "MIN_CHUNK", 2000)
    path = big_file(tmp_path)
    size = Path(path).stat().st_size
    for jobs in (1, 2):
        seen: list[tuple[int, int]] = []

        def report(done: int, total: int, seen: list = seen) -> None:
            seen.append((done, total))

        DetectionRun(rules, RunOptions(jobs=jobs), on_progress=report).scan_paths([path])
        assert seen[0] == (0, size) and seen[-1] == (size, size)
        assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_stdin_falls_back_to_one_process(rules, monkeypatch):
    data = Path(AUDIT).read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    warnings: list[str] = []
    alerts: list[Alert] = []
    stats = DetectionRun(
        rules, RunOptions(jobs=2), alerts.append, on_warning=warnings.append
    ).scan_paths(["-"])
    assert warnings == ["--jobs needs regular files; scanning in one process (a pipe is read once)"]
    assert stats.files == ["<stdin>"] and dict(stats.by_rule) == EXPECTED


def test_no_fork_falls_back_to_one_process(rules, monkeypatch):
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    warnings: list[str] = []
    stats = DetectionRun(rules, RunOptions(jobs=2), on_warning=warnings.append).scan_paths([AUDIT])
    assert warnings == ["--jobs needs fork(), which this platform lacks; scanning in one process"]
    assert dict(stats.by_rule) == EXPECTED


# ---------------------------------------------------------------- stopping, worker deaths


def test_stop_from_the_sink_ends_a_serial_run_with_its_counts(rules):
    alerts: list[Alert] = []

    def sink(alert: Alert) -> None:
        alerts.append(alert)
        if len(alerts) < 10:
            run.stop()

    run = DetectionRun(rules, sink=sink)
    stats = run.scan_paths([AUDIT])
    assert stats.interrupted and stats.error is None
    assert len(alerts) == stats.alerts == 2  # the first event raises two alerts
    assert {a.event.num for a in alerts} == {stats.events_read}  # stopped right after it
    alerts[:] = [alerts[0]] * 10
    again = run.scan_paths([AUDIT])  # a new scan starts afresh
    assert not again.interrupted and again.events_read == 8


def test_keyboard_interrupt_returns_the_stats_of_what_was_scanned(rules):
    seen: list[Alert] = []

    def sink(alert: Alert) -> None:
        if len(seen) == 3:
            raise KeyboardInterrupt
        seen.append(alert)

    stats = DetectionRun(rules, sink=sink).scan_paths([AUDIT])
    assert stats.interrupted
    assert 0 < stats.events_read < 8 and stats.elapsed > 0
    events = DetectionRun(rules, sink=sink).scan_events(read_events([AUDIT]))
    assert events.interrupted


def test_stop_ends_a_parallel_run_between_chunks(rules, tmp_path, monkeypatch):
    monkeypatch.setattr(parallel_run, "MIN_CHUNK", 2000)
    path = big_file(tmp_path)
    full: list[Alert] = []
    DetectionRun(rules, sink=full.append).scan_paths([path])
    alerts: list[Alert] = []

    def progress(done: int, total: int) -> None:
        if done:
            run.stop()

    run = DetectionRun(rules, RunOptions(jobs=2), alerts.append, on_progress=progress)
    stats = run.scan_paths([path])
    assert stats.interrupted
    assert 0 < len(alerts) < len(full)
    assert [key(a) for a in alerts] == [key(a) for a in full[: len(alerts)]]
    assert stats.alerts == len(alerts) and stats.events_read < 320
    assert multiprocessing.active_children() == []  # the workers are gone


def _dying_run_chunk(offset: int, marker: Path | None):
    """run_chunk, but the worker given the chunk holding byte ``offset`` kills itself
    (every time, or only the first time when ``marker`` is given)."""
    original = parallel_run.run_chunk

    def run_chunk(chunk: parallel_run.Chunk) -> parallel_run.ChunkResult:
        if chunk.end is not None and chunk.start <= offset < chunk.end:
            if marker is None or not marker.exists():
                if marker is not None:
                    marker.touch()
                os.kill(os.getpid(), signal.SIGKILL)
        return original(chunk)

    return run_chunk


def test_a_chunk_whose_worker_died_is_retried_in_a_new_one(rules, tmp_path, monkeypatch):
    monkeypatch.setattr(parallel_run, "MIN_CHUNK", 2000)
    path = big_file(tmp_path)
    serial: list[Alert] = []
    serial_stats = DetectionRun(rules, sink=serial.append).scan_paths([path])
    marker = tmp_path / "died"
    monkeypatch.setattr(parallel_run, "run_chunk", _dying_run_chunk(20000, marker))
    alerts: list[Alert] = []
    warnings: list[str] = []
    stats = DetectionRun(
        rules, RunOptions(jobs=2), alerts.append, on_warning=warnings.append
    ).scan_paths([path])
    assert marker.exists()
    assert [key(a) for a in alerts] == [key(a) for a in serial]
    assert counts(stats) == counts(serial_stats) and not stats.interrupted
    assert len(warnings) == 1
    assert warnings[0].startswith("a worker process died (killed by SIGKILL) while scanning ")
    assert warnings[0].endswith("; retrying it in a new worker")


def test_a_chunk_whose_worker_dies_twice_stops_the_run(rules, tmp_path, monkeypatch):
    monkeypatch.setattr(parallel_run, "MIN_CHUNK", 2000)
    path = big_file(tmp_path)
    serial: list[Alert] = []
    DetectionRun(rules, sink=serial.append).scan_paths([path])
    middle = Path(path).stat().st_size // 2
    monkeypatch.setattr(parallel_run, "run_chunk", _dying_run_chunk(middle, None))
    alerts: list[Alert] = []
    with pytest.raises(RunStopped) as caught:
        DetectionRun(rules, RunOptions(jobs=2), alerts.append).scan_paths([path])
    message = str(caught.value)
    assert message.startswith(f"a worker process died twice while scanning {path} bytes ")
    assert message.endswith("(killed by SIGKILL)")
    first, end = (int(n) for n in message.split(" bytes ")[1].split()[0].split("-"))
    assert first <= middle < end
    stats = caught.value.stats
    assert stats is not None and stats.error == message
    assert [key(a) for a in alerts] == [key(a) for a in serial[: len(alerts)]]
    before = tmp_path / "before.jsonl"  # everything before the lost chunk, and nothing else
    before.write_bytes(Path(path).read_bytes()[:first])
    monkeypatch.undo()
    expected = DetectionRun(rules).scan_paths([str(before)])
    assert stats.alerts == len(alerts) == expected.alerts
    assert stats.events_read == expected.events_read
    assert multiprocessing.active_children() == []


def test_an_exception_in_a_worker_is_raised_in_the_parent(rules, tmp_path, monkeypatch):
    monkeypatch.setattr(parallel_run, "MIN_CHUNK", 2000)
    path = big_file(tmp_path)

    def broken(chunk: parallel_run.Chunk) -> parallel_run.ChunkResult:
        raise ValueError(f"cannot scan {chunk}")

    monkeypatch.setattr(parallel_run, "run_chunk", broken)
    with pytest.raises(ValueError, match="cannot scan "):
        DetectionRun(rules, RunOptions(jobs=2)).scan_paths([path])
    assert multiprocessing.active_children() == []


def test_a_worker_that_cannot_start_stops_the_run(rules, monkeypatch):
    from multiprocessing.context import ForkProcess

    def no_fork(self: ForkProcess) -> None:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(ForkProcess, "start", no_fork)
    with pytest.raises(RunStopped, match="cannot start a worker process: Resource temporarily"):
        DetectionRun(rules, RunOptions(jobs=2)).scan_paths([AUDIT, AUDIT])
