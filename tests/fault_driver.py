"""Run ``k8saudit`` with faults planted, for tests/test_faults.py (``python fault_driver.py scan ...``).

The command line is the real one (``k8saudit_cli.cli.main``); only the
pieces below are changed, each by an environment variable, so that a test
can hit a scan at a chosen point:

``FAULT_CHUNK_BYTES``
    cut files into chunks of about this many bytes (many chunks from a small file);
``FAULT_CHUNK_DELAY``
    seconds each worker sleeps before a chunk (a scan lasts long enough to be hit);
``FAULT_SERIAL_DELAY``
    seconds a one-process scan sleeps every 50 events (every 50 lines on the fast path);
``FAULT_KILL``
    ``OFFSET:once`` or ``OFFSET:always``: the worker given the chunk holding byte
    OFFSET kills itself with SIGKILL (``once``: only the first worker to try it,
    which leaves the file ``FAULT_MARKER``);
``FAULT_CRASH``
    the scan raises ``RuntimeError('planted fault')`` (an unexpected bug);
``FAULT_SUMMARY_MARKER``
    once the scan is over, writing ``--summary-json`` first creates this file,
    then waits a second (a signal can land while the result is being written).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterable, Iterator

from k8saudit_cli import detection_run, parallel_run
from k8saudit_cli.cli import main, scan_output
from k8saudit_cli.event import AuditEvent

_ORIGINAL_RUN_CHUNK = parallel_run.run_chunk
_DELAY = float(os.environ.get("FAULT_CHUNK_DELAY", "0"))
_KILL = os.environ.get("FAULT_KILL", "")


def run_chunk(chunk: parallel_run.Chunk) -> parallel_run.ChunkResult:
    """The worker body, slowed down and deadly as asked (module level: picklable by name)."""
    time.sleep(_DELAY)
    if _KILL and _holds(chunk, _KILL):
        os.kill(os.getpid(), signal.SIGKILL)
    return _ORIGINAL_RUN_CHUNK(chunk)


def _plant_chunking() -> None:
    size = int(os.environ.get("FAULT_CHUNK_BYTES", "0"))
    if size:
        parallel_run.MIN_CHUNK = size // 2
        parallel_run.MAX_CHUNK = size
    parallel_run.run_chunk = run_chunk  # type: ignore[assignment]


def _holds(chunk: parallel_run.Chunk, kill: str) -> bool:
    """Whether this worker must die on ``chunk`` (``once``: the first one to claim it)."""
    offset, _, how = kill.partition(":")
    end = chunk.end if chunk.end is not None else 1 << 62
    if not chunk.start <= int(offset) < end:
        return False
    if how == "always":
        return True
    marker = os.environ["FAULT_MARKER"]
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def _plant_serial_delay() -> None:
    delay = float(os.environ.get("FAULT_SERIAL_DELAY", "0"))
    if not delay:
        return
    original = detection_run.read_events

    def read_events(*args: object, **kwargs: object) -> Iterator[AuditEvent]:
        for i, ev in enumerate(original(*args, **kwargs), 1):  # type: ignore[arg-type]
            if i % 50 == 0:
                time.sleep(delay)
            yield ev

    detection_run.read_events = read_events  # type: ignore[assignment]
    original_lines = detection_run.input_lines

    def slowed(lines: Iterable[tuple[int, bytes]]) -> Iterator[tuple[int, bytes]]:
        for i, numbered in enumerate(lines, 1):
            if i % 50 == 0:
                time.sleep(delay)
            yield numbered

    def input_lines(*args: object, **kwargs: object) -> Iterator[tuple[object, object]]:
        # The fast path decodes in its fused loop, from the lines of each input.
        for inp, lines in original_lines(*args, **kwargs):  # type: ignore[arg-type]
            yield inp, slowed(lines)

    detection_run.input_lines = input_lines  # type: ignore[assignment]


def _plant_crash() -> None:
    if os.environ.get("FAULT_CRASH"):

        def crash(*args: object, **kwargs: object) -> None:
            raise RuntimeError("planted fault")

        detection_run.DetectionRun.scan_paths = crash  # type: ignore[assignment,method-assign]


def _plant_slow_summary() -> None:
    marker = os.environ.get("FAULT_SUMMARY_MARKER")
    if not marker:
        return
    original = scan_output.write_whole

    def write_whole(path: str, data: bytes) -> None:
        with open(marker, "wb"):
            pass
        time.sleep(1.0)
        original(path, data)

    scan_output.write_whole = write_whole


if __name__ == "__main__":
    _plant_chunking()
    _plant_slow_summary()
    _plant_serial_delay()
    _plant_crash()
    sys.argv[0] = "k8saudit"
    main()
