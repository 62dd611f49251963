"""Parallel scans: split the input into chunks, scan them in worker processes, merge in order.

A plain file is cut into byte ranges on line boundaries; compressed files
and small files are whole chunks. Workers decode and match; they send back
counts, the first warnings per reason, and each alert's event as JSON. The
parent renders alerts and replays warnings chunk by chunk, adding the line
and event offsets of the chunks before, so alerts, ``evt.num``, messages
and the summary are exactly what a single process gives.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from k8saudit_cli.decode import DecodeOptions, Decoder, Problems, event_time_ns
from k8saudit_cli.detect import Alert, Detector
from k8saudit_cli.detection_run import ScanOptions, ScanStats
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.sources import BINARY_PROBE, STDIN, Input, line_limit, splittable

MIN_CHUNK = 4 << 20  # bytes; smaller files are one chunk
#: Bytes per chunk at most: a chunk's alerts travel to the parent in one
#: message, so this (with the in-flight window) bounds every process's memory.
MAX_CHUNK = 16 << 20


@dataclass(frozen=True)
class Chunk:
    path: str
    start: int = 0
    end: int | None = None  # None: to the end (whole file, any compression)
    size: int | None = None  # whole file: its size when planned, read no further


@dataclass
class ChunkResult:
    lines: int = 0
    events: int = 0
    in_window: int = 0
    problems: Problems = field(default_factory=Problems)
    #: (local event number, rule position, rendered alert or None, event JSON or None,
    #: local line, index in line): the event travels only when the alert text
    #: depends on ``evt.num``, which only the parent knows.
    alerts: list[tuple[int, int, str | None, bytes | None, int, int | None]] = field(
        default_factory=list
    )


# ---------------------------------------------------------------- planning


def plan_chunks(paths: Sequence[str], jobs: int) -> list[Chunk]:
    """Byte ranges for big plain files, whole files otherwise, in input order."""
    chunks: list[Chunk] = []
    for path in paths:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            if not splittable(fh.read(BINARY_PROBE)) or size < 2 * MIN_CHUNK:
                chunks.append(Chunk(path, size=size or None))
                continue
            pieces = max(2, min(jobs * 4, size // MIN_CHUNK), -(-size // MAX_CHUNK))
            bounds = [0]
            for k in range(1, pieces):
                fh.seek(size * k // pieces)
                fh.readline()
                pos = fh.tell()
                if bounds[-1] < pos < size:
                    bounds.append(pos)
            bounds.append(size)
            chunks.extend(Chunk(path, a, b) for a, b in itertools.pairwise(bounds) if b > a)
    return chunks


# ---------------------------------------------------------------- workers

_DETECTOR: Detector | None = None
_DECODE: DecodeOptions | None = None
_WINDOW: ScanOptions | None = None
_FORMAT: Callable[[Alert], str] | None = None


def _install(
    detector: Detector, decode: DecodeOptions, window: ScanOptions, fmt: Callable[[Alert], str]
) -> None:
    global _DETECTOR, _DECODE, _WINDOW, _FORMAT
    _DETECTOR, _DECODE, _WINDOW, _FORMAT = detector, decode, window, fmt


def _uses_evt_num(rule: Any) -> bool:
    return any(t.field is not None and t.field.fdef.name == "evt.num" for t in rule.output.tokens)


def _lines(chunk: Chunk, result: ChunkResult) -> Iterator[tuple[int, bytes]]:
    if chunk.end is None:
        inp = Input(chunk.path, end=chunk.size)
        try:
            yield from inp.lines(line_limit(_DECODE.max_event_size if _DECODE else 262144))
            if inp.error is not None:
                result.problems.add(
                    inp.error.reason, inp.name, inp.error.line, None, inp.error.detail
                )
        finally:
            inp.close()
        return
    with open(chunk.path, "rb", buffering=1 << 20) as fh:
        fh.seek(chunk.start)
        remaining = chunk.end - chunk.start
        for lineno, line in enumerate(fh, 1):
            yield lineno, line
            remaining -= len(line)
            if remaining <= 0:
                break


def scan_chunk(chunk: Chunk) -> ChunkResult:
    """Worker body: decode and match one chunk; line and event numbers are chunk-local."""
    assert (
        _DETECTOR is not None
        and _DECODE is not None
        and _WINDOW is not None
        and _FORMAT is not None
    )
    fmt = _FORMAT
    result = ChunkResult()
    decoder = Decoder(_DECODE, result.problems)
    since, until = _WINDOW.since_ns, _WINDOW.until_ns
    match = _DETECTOR.match
    positions = {r.name: i for i, r in enumerate(_DETECTOR.rules)}
    needs_num = {r.name for r in _DETECTOR.rules if _uses_evt_num(r)}
    counted = _Counted(_lines(chunk, result))
    for ev in decoder.events(counted, chunk.path):
        t = ev.time_ns
        if (since is not None and t < since) or (until is not None and t >= until):
            continue
        result.in_window += 1
        for rule in match(ev):
            if rule.name in needs_num:
                text, raw = None, orjson.dumps(ev.raw)
            else:
                text, raw = fmt(Alert(rule, ev)), None
            result.alerts.append((ev.num, positions[rule.name], text, raw, ev.line, ev.index))
    result.events = decoder.count
    result.lines = counted.last
    return result


class _Counted:
    """Passes numbered lines through, remembering the last line number."""

    def __init__(self, lines: Iterator[tuple[int, bytes]]) -> None:
        self.lines = lines
        self.last = 0

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        for item in self.lines:
            self.last = item[0]
            yield item


# ---------------------------------------------------------------- the parent


def run_parallel_scan(
    paths: Sequence[str],
    detector: Detector,
    decode: DecodeOptions,
    fmt: Callable[[Alert], str],
    write: Callable[[str], Any],
    options: ScanOptions,
    stats: ScanStats,
    jobs: int,
    on_chunk: Callable[[Chunk], None] | None = None,
) -> ScanStats:
    """Scan ``paths`` with ``jobs`` processes; results identical to :func:`run_scan`."""
    chunks = plan_chunks(paths, jobs)
    _install(detector, decode, options, fmt)
    ctx = mp.get_context("fork")
    line_offset: dict[str, int] = {}
    events_before = 0
    with ctx.Pool(jobs) as pool:
        for chunk, result in _in_order(pool, chunks, window=2 * jobs):
            if chunk.path not in line_offset:
                line_offset[chunk.path] = 0
                stats.files.append(_display(chunk.path))
            offset = line_offset[chunk.path]
            _replay_problems(result.problems, stats.problems, offset, chunk.path)
            for local_num, rule_pos, text, raw, line, index in result.alerts:
                rule = detector.rules[rule_pos]
                stats.by_rule[rule.name] += 1
                stats.by_priority[rule.priority] += 1
                stats.rule_order.setdefault(rule.name, rule.index)
                if text is None:
                    assert raw is not None
                    text = fmt(
                        Alert(
                            rule,
                            _event(
                                raw,
                                events_before + local_num,
                                _display(chunk.path),
                                offset + line,
                                index,
                            ),
                        )
                    )
                write(text)
            stats.events_read += result.events
            stats.events_in_window += result.in_window
            events_before += result.events
            line_offset[chunk.path] = offset + result.lines
            if on_chunk is not None:
                on_chunk(chunk)
    stats.alerts = sum(stats.by_rule.values())
    stats.elapsed = time.perf_counter() - stats.started
    return stats


def _in_order(pool: Any, chunks: list[Chunk], window: int) -> Iterator[tuple[Chunk, ChunkResult]]:
    """Results in input order, with at most ``window`` chunks queued or done but not
    yet consumed: a slow consumer (a pipe, a disk) never lets results pile up."""
    pending: deque[tuple[Chunk, Any]] = deque()
    todo = iter(chunks)
    for chunk in todo:
        pending.append((chunk, pool.apply_async(scan_chunk, (chunk,))))
        if len(pending) >= window:
            break
    while pending:
        chunk, handle = pending.popleft()
        result = handle.get()
        nxt = next(todo, None)
        if nxt is not None:
            pending.append((nxt, pool.apply_async(scan_chunk, (nxt,))))
        yield chunk, result


def _display(path: str) -> str:
    return "<stdin>" if path == STDIN else path


def _replay_problems(chunk_problems: Problems, problems: Problems, offset: int, path: str) -> None:
    shown = Counter(p[0] for p in chunk_problems.shown)
    for reason, file, line, index, detail in chunk_problems.shown:
        problems.add(reason, file, line + offset if file == path else line, index, detail)
    for reason, n in chunk_problems.counts.items():
        problems.counts[reason] += n - shown[reason]


def _event(raw: bytes, num: int, file: str, line: int, index: int | None) -> AuditEvent:
    obj: dict[str, Any] = orjson.loads(raw)
    time_ns, _ = event_time_ns(obj)
    return AuditEvent(obj, time_ns or 0, num, file, line, index)
