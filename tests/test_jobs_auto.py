"""``--jobs auto`` (the default): worker processes only for regular inputs big enough to pay,
and only as many as there are idle cores.

The size bound is lowered here so that small files stand for big ones; what
is checked is the choice, and that output is the same whichever is made.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from k8saudit_cli import detection_run
from k8saudit_cli.detection_run import DetectionRun, auto_jobs
from k8saudit_cli.run_options import AUTO_JOBS, RunOptions

#: The real measure (the autouse fixture below replaces it for every test).
MEASURE_BUSY_CORES = detection_run.busy_cores

LINE = orjson.dumps(
    {
        "kind": "Event",
        "stage": "ResponseComplete",
        "verb": "get",
        "stageTimestamp": "2024-05-01T10:00:00.000001Z",
        "objectRef": {"resource": "pods"},
    }
)


def _log(path: Path, lines: int = 50) -> Path:
    path.write_bytes(b"\n".join([LINE] * lines) + b"\n")
    return path


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@pytest.fixture(autouse=True)
def idle_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """No other work on the machine unless a test says otherwise."""
    monkeypatch.setattr(detection_run, "busy_cores", lambda: 0.0)


def test_busy_cores_are_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    cores = _cores()
    assert detection_run.idle_cores() == cores
    monkeypatch.setattr(detection_run, "busy_cores", lambda: cores - 1.0)
    assert detection_run.idle_cores() == 1
    monkeypatch.setattr(detection_run, "busy_cores", lambda: cores + 3.0)
    assert detection_run.idle_cores() == 1


def test_busy_cores_come_from_the_ticks_between_two_readings() -> None:
    # 400 ticks passed on 2 CPUs, 100 of them idle: 1.5 cores busy.
    assert detection_run.busy_between((1000, 600), (1400, 700), 2) == 1.5
    assert detection_run.busy_between((1000, 600), (1400, 1000), 2) == 0.0
    assert detection_run.busy_between((1000, 600), (1000, 600), 4) == 0.0  # no tick: idle


@pytest.mark.skipif(not os.path.exists("/proc/stat"), reason="needs /proc/stat")
def test_a_busy_core_is_seen_at_once_not_a_minute_later() -> None:
    """A process spinning while the sample is taken counts as (about) one busy core;
    the load average would still say whatever ran in the last minute."""
    measure = MEASURE_BUSY_CORES
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)  # the spinner is running
        assert measure() >= 0.6
    finally:
        spinner.kill()
        spinner.wait()


def test_small_input_stays_in_one_process(tmp_path: Path) -> None:
    assert auto_jobs([str(_log(tmp_path / "a.log"))]) == 1


def test_big_plain_file_uses_every_core(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(detection_run, "AUTO_MIN_BYTES", 100)
    assert auto_jobs([str(_log(tmp_path / "a.log"))]) == _cores()


def test_one_compressed_file_cannot_be_shared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(detection_run, "AUTO_MIN_BYTES", 10)
    path = tmp_path / "a.log.gz"
    path.write_bytes(gzip.compress(LINE + b"\n"))
    assert auto_jobs([str(path)]) == 1
    assert auto_jobs([str(path), str(_log(tmp_path / "b.log"))]) == _cores()


def test_a_pipe_stays_in_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(detection_run, "AUTO_MIN_BYTES", 0)
    read, write = os.pipe()
    try:
        assert auto_jobs([f"/dev/fd/{read}"]) == 1
    finally:
        os.close(read)
        os.close(write)


def test_auto_gives_the_statistics_of_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(_log(tmp_path / "a.log", 400))
    one = DetectionRun([], RunOptions(jobs=1)).scan_paths([path])
    monkeypatch.setattr(detection_run, "AUTO_MIN_BYTES", 100)
    auto = DetectionRun([], RunOptions(jobs=AUTO_JOBS)).scan_paths([path])
    assert (auto.events_read, auto.events_in_window) == (one.events_read, one.events_in_window)
    assert auto.events_read == 400
