"""Byte-range chunks of a parallel scan: cut and read with bounded memory, numbered as one process.

``plan_chunks`` looks for line boundaries a block at a time and workers read
their range through the same bounded line reader as a serial scan, so a
200 MB line costs no process 200 MB, and line numbers, warnings and the
per-input counts are those of ``--jobs 1``. Also here: the report line for
files that grew while they were scanned (read up to their size at the start).
"""

from __future__ import annotations

import io
import random
import shlex
import sys
from pathlib import Path

import orjson
import pytest

from k8saudit_cli import parallel_run
from k8saudit_cli.alerts import AlertRenderer
from k8saudit_cli.decode import DecodeOptions
from k8saudit_cli.detect import Alert
from k8saudit_cli.detection_run import DetectionRun
from k8saudit_cli.report import plain_text, summary_json
from k8saudit_cli.ruleset import load_rules
from k8saudit_cli.ruleset.compile import CompiledRule
from k8saudit_cli.run_options import RunOptions, TextSink
from tests.test_input_bounds import measured
from tests.test_scan_cli import AUDIT, RULES

MiB = 1 << 20
RUN_WITH_SMALL_CHUNKS = Path(__file__).parent / "data" / "scan" / "small_chunks.py"


@pytest.fixture(scope="module")
def rules() -> list[CompiledRule]:
    return [r for r in load_rules([RULES]).rules if r.enabled]


def readline_bounds(data: bytes, targets: list[int]) -> list[int]:
    """Where ``fh.seek(t); fh.readline()`` ends for each target (the old, unbounded way)."""
    out = []
    for t in targets:
        nl = data.find(b"\n", t)
        out.append(len(data) if nl < 0 else nl + 1)
    return out


@pytest.mark.parametrize("seed", range(5))
def test_bounds_are_the_line_starts_readline_found(tmp_path, monkeypatch, seed):
    monkeypatch.setattr(parallel_run, "MIN_CHUNK", 1000)
    monkeypatch.setattr(parallel_run, "BOUNDARY_BLOCK", 7)  # many blocks per line
    rnd = random.Random(seed)
    data = b"".join(b"x" * rnd.choice([0, 1, 5, 50, 900, 4000]) + b"\n" for _ in range(60))
    path = tmp_path / "a.log"
    path.write_bytes(data)
    chunks = parallel_run.plan_chunks([str(path)], 2)
    size = len(data)
    pieces = max(2, min(2 * 4, size // 1000), -(-size // parallel_run.MAX_CHUNK))
    targets = [size * k // pieces for k in range(1, pieces)]
    want = [0]
    for pos in readline_bounds(data, targets):
        if want[-1] < pos < size:
            want.append(pos)
    assert [c.start for c in chunks] == want
    assert chunks[-1].end == size
    assert all(data[c.start - 1 : c.start] == b"\n" for c in chunks[1:])


def test_a_line_longer_than_the_file_share_makes_one_chunk(tmp_path, monkeypatch):
    monkeypatch.setattr(parallel_run, "MIN_CHUNK", 1000)
    path = tmp_path / "a.log"
    path.write_bytes(b"a\n" + b"x" * 50_000 + b"\nb\n")
    chunks = parallel_run.plan_chunks([str(path)], 2)
    assert [(c.start, c.end) for c in chunks] == [(0, 50_003), (50_003, 50_005)]


def odd_file(path: Path) -> str:
    """Events, runs of blank lines (also where chunks are cut), CRLF, junk, and a line
    longer than the line limit of ``--max-event-size 2000``: 5 MiB."""
    events = Path(AUDIT).read_bytes().splitlines(keepends=True)
    with open(path, "wb") as fh:
        for k in range(400):
            fh.writelines(events)
            fh.write(b"\n" * (k % 7) + b"\r\n" + b"junk %d\n" % k)
            if k == 200:
                fh.write(b'{"kind":"Event","x":"' + b"y" * (5 * MiB) + b'"}\n')
        fh.write(b"\n\n\n")
    return str(path)


def test_jobs_2_numbers_lines_as_jobs_1(rules, tmp_path, monkeypatch):
    monkeypatch.setattr(parallel_run, "MIN_CHUNK", 20_000)
    path = odd_file(tmp_path / "odd.log")
    assert len(parallel_run.plan_chunks([path], 2)) >= 4
    runs = {}
    for jobs in (1, 2):
        out, warnings = io.StringIO(), []
        options = RunOptions(jobs=jobs, decode=DecodeOptions(max_event_size=2000))
        sink = TextSink(AlertRenderer("iso").json_text, out.write)
        run = DetectionRun(rules, options, sink, on_input_warning=warnings.append)
        stats = run.scan_paths([path, AUDIT])
        problems = stats.problems
        runs[jobs] = (
            out.getvalue(),
            warnings,
            dict(problems.counts),
            dict(problems.by_file),
            problems.inputs,
            stats.events_read,
        )
    assert runs[1] == runs[2]
    assert "event larger than --max-event-size: 5242903 bytes > 2000" in "".join(runs[2][1])
    assert runs[2][4][path].lines == Path(path).read_bytes().count(b"\n")


def test_a_huge_line_costs_no_process_its_size(tmp_path):
    # 128 MiB on one line in the middle of a plain file cut into ranges: the planner
    # and the worker reading it used to hold the whole line (843 MiB peak at 160 MiB)
    events = Path(AUDIT).read_bytes()
    path = tmp_path / "big.jsonl"
    with open(path, "wb") as fh:
        fh.write(events * 200)
        fh.write(b'{"kind":"Event","x":"')
        block = b"y" * MiB
        for _ in range(128):
            fh.write(block)
        fh.write(b'"}\n')
        fh.write(events * 200)
    results = {}
    for jobs in ("1", "2"):
        args = [str(path), "-r", RULES, "--jobs", jobs, "--no-progress", "--format", "json"]
        out = tmp_path / f"out{jobs}.jsonl"
        command = shlex.join(
            [sys.executable, str(RUN_WITH_SMALL_CHUNKS), "scan", *args, "-o", str(out)]
        )
        rc, rss, err = measured(command, tmp_path)
        report = [line for line in err.splitlines() if not line.startswith("Elapsed")]
        results[jobs] = (rc, out.read_bytes(), report)
        assert rss < 150, (jobs, rss)
    assert results["1"] == results["2"]
    assert results["2"][0] == 0
    assert f"event larger than --max-event-size: {128 * MiB + 23} bytes" in "\n".join(
        results["2"][2]
    )


# ---------------------------------------------------------------- files that grow


class Appending:
    """A sink that appends to ``path`` at the first alert: the file grows mid-scan."""

    def __init__(self, path: Path) -> None:
        self.path, self.done = path, False

    def __call__(self, alert: Alert) -> None:
        if not self.done:
            self.done = True
            with open(self.path, "ab") as fh:
                fh.write(Path(AUDIT).read_bytes())


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_file_that_grew_is_named_in_the_report(rules, tmp_path, monkeypatch, jobs):
    monkeypatch.setattr(parallel_run, "MIN_CHUNK", 2000)
    path = tmp_path / "live.log"
    path.write_bytes(Path(AUDIT).read_bytes() * 20)
    other = tmp_path / "done.log"
    other.write_bytes(Path(AUDIT).read_bytes())
    stats = DetectionRun(rules, RunOptions(jobs=jobs), Appending(path)).scan_paths(
        [str(path), str(other)]
    )
    assert stats.events_read == 21 * 8  # what was appended is left for the next scan
    assert stats.grown == [str(path)]
    assert (
        "Files that grew during the scan (read up to their size at the start): " + str(path)
    ) in plain_text(stats).splitlines()
    assert summary_json(stats)["files_grown"] == [str(path)]


def test_no_growth_no_line(rules):
    stats = DetectionRun(rules).scan_paths([AUDIT])
    assert stats.grown == []
    assert "grew" not in plain_text(stats)
    assert orjson.loads(orjson.dumps(summary_json(stats)))["files_grown"] == []


def test_a_cut_inside_a_run_of_blank_lines_keeps_the_numbering(rules, tmp_path, monkeypatch):
    # every cut point falls in the blank lines: the chunk after one starts with blanks and
    # the chunk before ends with them, which the line reader counts but never hands on
    monkeypatch.setattr(parallel_run, "MIN_CHUNK", 10_000)
    path = tmp_path / "blanks.log"
    path.write_bytes(b"junk 1\n" + b"\n" * 100_000 + b"junk 2\n\n\n" + Path(AUDIT).read_bytes())
    chunks = parallel_run.plan_chunks([str(path)], 2)
    assert len(chunks) > 2
    runs = {}
    for jobs in (1, 2):
        warnings: list[str] = []
        run = DetectionRun(rules, RunOptions(jobs=jobs), on_input_warning=warnings.append)
        stats = run.scan_paths([str(path)])
        runs[jobs] = (warnings, stats.problems.inputs, stats.events_read)
    assert runs[1] == runs[2]
    assert f"{path}:100002: invalid JSON" in runs[2][0][1]
