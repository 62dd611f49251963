"""The worker side of a detection run: input cut into chunks, matched in processes, merged in order.

A plain file is cut into byte ranges on line boundaries; compressed files
and small files are whole chunks. Workers decode and match with the same
loop as a serial run (:func:`~k8saudit_cli.run_stats.match_in_window`);
they send back counts, the first warnings per reason, and each alert as
rendered text or, when the text depends on ``evt.num`` (which only the
parent knows) or the sink wants :class:`Alert` objects, as the event's JSON.
The parent replays warnings and alerts chunk by chunk, adding the line and
event offsets of the chunks before, so alerts, ``evt.num``, messages and the
summary are exactly what a single process gives. The processes themselves
(deaths noticed at once, a lost chunk retried once) are
:mod:`k8saudit_cli.worker_pool`'s job.
"""

from __future__ import annotations

import itertools
import os
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import orjson

from k8saudit_cli.aggregate_run import Aggregations, ChunkObservation, Counting, interleave
from k8saudit_cli.decode import Decoder, Problems
from k8saudit_cli.detect import Alert, Detector
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fused_loop import LoopRun
from k8saudit_cli.ruleset.compile import CompiledRule
from k8saudit_cli.run_options import AlertSink, RunOptions, TextSink
from k8saudit_cli.run_stats import NEVER, RunStats, StopRequest, match_in_window
from k8saudit_cli.sources import BINARY_PROBE, STDIN, Input, line_limit, splittable
from k8saudit_cli.timestamps import event_time_ns
from k8saudit_cli.worker_pool import OrderedPool

MIN_CHUNK = 4 << 20  # bytes; smaller files are one chunk
#: Bytes per chunk at most: a chunk's alerts travel to the parent in one
#: message, so this (with the in-flight window) bounds every process's memory.
MAX_CHUNK = 16 << 20
#: Bytes read at a time while looking for a line boundary to cut at.
BOUNDARY_BLOCK = 1 << 20

#: One alert of a chunk: (local event number, rule position, rendered alert or
#: None, event JSON or None, local line, index in line).
ChunkAlert = tuple[int, int, str | None, bytes | None, int, int | None]


@dataclass(frozen=True)
class Chunk:
    path: str
    start: int = 0
    end: int | None = None  # None: to the end (whole file, any compression)
    file_size: int | None = None  # whole file: its size when planned, read no further

    def size(self) -> int:
        """Bytes of the file this chunk covers (compressed bytes for a compressed file)."""
        end = self.end if self.end is not None else os.path.getsize(self.path)
        return end - self.start

    def __str__(self) -> str:
        """As messages name it: ``audit.log bytes 0-4194304`` (end excluded), or the file."""
        if self.end is None:
            return _display(self.path)
        return f"{_display(self.path)} bytes {self.start}-{self.end}"


@dataclass
class ChunkResult:
    lines: int = 0
    stats: RunStats = field(default_factory=RunStats)
    alerts: list[ChunkAlert] = field(default_factory=list)
    #: What the chunk's events add to the aggregations, counted by the parent in order.
    observations: list[ChunkObservation] = field(default_factory=list)


# ---------------------------------------------------------------- planning


def plan_chunks(paths: Sequence[str], jobs: int) -> list[Chunk]:
    """Byte ranges for big plain files, whole files otherwise, in input order."""
    chunks: list[Chunk] = []
    for path in paths:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            if not splittable(fh.read(BINARY_PROBE)) or size < 2 * MIN_CHUNK:
                chunks.append(Chunk(path, file_size=size or None))
                continue
            pieces = max(2, min(jobs * 4, size // MIN_CHUNK), -(-size // MAX_CHUNK))
            bounds = [0]
            for k in range(1, pieces):
                target = size * k // pieces
                if target < bounds[-1]:
                    continue  # inside the line that ends at the last bound: no new bound
                pos = _line_start_after(fh, target, size)
                if bounds[-1] < pos < size:
                    bounds.append(pos)
            bounds.append(size)
            chunks.extend(Chunk(path, a, b) for a, b in itertools.pairwise(bounds) if b > a)
    return chunks


def _line_start_after(fh: BinaryIO, pos: int, size: int) -> int:
    """Where the line after the one holding byte ``pos`` starts (``size`` if none does).

    Read a block at a time, so a line of any length costs one block of memory.
    """
    fh.seek(pos)
    while pos < size:
        block = fh.read(BOUNDARY_BLOCK)
        if not block:
            break
        newline = block.find(b"\n")
        if newline >= 0:
            return pos + newline + 1
        pos += len(block)
    return size


# ---------------------------------------------------------------- workers


@dataclass(frozen=True)
class _Worker:
    """What every worker needs, set before the fork so nothing is pickled."""

    detector: Detector
    options: RunOptions
    render: Callable[[Alert], str] | None
    #: Rules whose alerts travel as event JSON, to be rendered by the parent.
    needs_event: frozenset[str]
    positions: dict[str, int]
    aggregations: Aggregations | None = None


_WORKER: _Worker | None = None


def _install(
    detector: Detector, options: RunOptions, sink: AlertSink, aggregations: Aggregations | None
) -> None:
    global _WORKER
    rules = detector.rules
    if isinstance(sink, TextSink):
        render: Callable[[Alert], str] | None = sink.render
        needs_event = frozenset(r.name for r in rules if _uses_evt_num(r))
    else:
        render, needs_event = None, frozenset(r.name for r in rules)
    positions = {r.name: i for i, r in enumerate(rules)}
    _WORKER = _Worker(detector, options, render, needs_event, positions, aggregations)


def _uses_evt_num(rule: CompiledRule) -> bool:
    return any(t.field is not None and t.field.fdef.name == "evt.num" for t in rule.output.tokens)


class _ChunkLines:
    """A chunk's numbered lines, read with the bound a serial scan uses (a long line is
    skipped unread); ``count``: the lines gone by, blank ones too, as the next chunk of
    the file needs for its line numbers."""

    def __init__(self, chunk: Chunk, problems: Problems, max_event_size: int) -> None:
        self.chunk, self.problems, self.limit = chunk, problems, line_limit(max_event_size)
        self.count = 0

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        chunk = self.chunk
        end = chunk.end if chunk.end is not None else chunk.file_size
        inp = Input(chunk.path, chunk.start, end)
        try:
            yield from inp.lines(self.limit)
            if inp.error is not None:
                self.problems.add(
                    inp.error.reason, inp.name, inp.error.line, None, inp.error.detail
                )
        finally:
            self.count = inp.reader.count if inp.reader is not None else 0
            inp.close()


def run_chunk(chunk: Chunk) -> ChunkResult:
    """Worker body: decode and match one chunk; line and event numbers are chunk-local."""
    worker = _WORKER
    assert worker is not None
    options = worker.options
    result = ChunkResult()
    decoder = Decoder(options.decode, result.stats.problems)
    lines = _ChunkLines(chunk, result.stats.problems, options.decode.max_event_size)
    collect = _collector(worker, result.alerts)
    if options.evaluator == "fast":
        _run_fused(worker, chunk, lines, decoder, result, collect)
        result.lines = lines.count
        return result
    match: Callable[[AuditEvent], list[CompiledRule]] = worker.detector.match
    if worker.aggregations is not None:  # the event JSON only for a sink that wants events
        match = worker.aggregations.recorder(
            worker.detector, result.observations, worker.render is None
        )
    match_in_window(
        decoder.events(lines, chunk.path),
        match,
        options.since_ns,
        options.until_ns,
        result.stats,
        collect,
    )
    result.lines = lines.count
    return result


def _run_fused(
    worker: _Worker,
    chunk: Chunk,
    lines: _ChunkLines,
    decoder: Decoder,
    result: ChunkResult,
    collect: Callable[[Alert], None],
) -> None:
    """The fast path of a worker: the chunk through the fused loop, as a serial run
    does, its aggregation observations recorded for the parent to count."""
    aggs = worker.aggregations
    counted = None
    if aggs is not None:  # the event JSON only for a sink that wants events
        record = aggs.record_into(result.observations, worker.render is None)
        counted = (aggs.detector, aggs.counter(record))
    options = worker.options
    window = (options.since_ns, options.until_ns)
    run = LoopRun(worker.detector, result.stats, collect, NEVER, window, counted)
    run.scan_lines(lines, chunk.path, decoder)


def _collector(worker: _Worker, out: list[ChunkAlert]) -> Callable[[Alert], None]:
    """The worker's sink: each alert as text, or as its event's JSON when the parent must render."""
    render, needs_event, positions, append = (
        worker.render,
        worker.needs_event,
        worker.positions,
        out.append,
    )

    def collect(alert: Alert) -> None:
        rule, ev = alert.rule, alert.event
        if render is None or rule.name in needs_event:
            text, raw = None, orjson.dumps(ev.raw)
        else:
            text, raw = render(alert), None
        append((ev.num, positions[rule.name], text, raw, ev.line, ev.index))

    return collect


# ---------------------------------------------------------------- the parent


def run_parallel(
    paths: Sequence[str],
    detector: Detector,
    options: RunOptions,
    jobs: int,
    sink: AlertSink,
    stats: RunStats,
    on_chunk: Callable[[Chunk], None] | None = None,
    stop: StopRequest | None = None,
    on_warning: Callable[[str], object] | None = None,
    aggregations: Aggregations | None = None,
) -> None:
    """Run ``paths`` in ``jobs`` processes; the sink and ``stats`` see what a serial run gives.

    ``stop`` is looked at between chunks: the chunks merged by then are the
    run's result. A worker that dies is reported to ``on_warning`` and its
    chunk retried once; a second death raises
    :class:`~k8saudit_cli.worker_pool.WorkerDied`.
    """
    chunks = plan_chunks(paths, jobs)
    _install(detector, options, sink, aggregations)
    counting = aggregations.start() if aggregations is not None else None
    line_offset: dict[str, int] = {}
    events_before = 0
    with OrderedPool(run_chunk, jobs, 2 * jobs, _death_warning(on_warning)) as pool:
        for chunk, result in zip(chunks, pool.results(chunks), strict=True):
            if chunk.path not in line_offset:
                line_offset[chunk.path] = 0
                stats.files.append(_display(chunk.path))
            _note_read_up_to(chunk, stats)
            offset = line_offset[chunk.path]
            _replay_problems(result.stats.problems, stats.problems, offset, chunk.path)
            place = (chunk.path, events_before, offset)
            _replay_chunk(result, detector.rules, sink, place, counting, stats)
            stats.add_counts(result.stats)
            events_before += result.stats.events_read
            line_offset[chunk.path] = offset + result.lines
            stats.problems.tally(
                _display(chunk.path),
                result.lines,
                result.stats.events_read,
                result.stats.problems.counts,
            )
            if on_chunk is not None:
                on_chunk(chunk)
            if stop is not None and stop.requested:
                break
    if counting is not None:
        counting.finish(stats)


def _death_warning(
    on_warning: Callable[[str], object] | None,
) -> Callable[[Chunk | None, str], None]:
    def warn(chunk: Chunk | None, how: str) -> None:
        if on_warning is None:
            return
        if chunk is None:
            on_warning(f"a worker process died ({how}) while idle; starting a new one")
        else:
            on_warning(
                f"a worker process died ({how}) while scanning {chunk}; retrying it in a new worker"
            )

    return warn


def _replay_alerts(
    alerts: list[ChunkAlert],
    rules: Sequence[CompiledRule],
    sink: AlertSink,
    path: str,
    events_before: int,
    line_offset: int,
) -> None:
    """Hand a chunk's alerts to the sink, numbering their events for the whole input."""
    write = sink.write if isinstance(sink, TextSink) else None
    for local_num, rule_pos, text, raw, line, index in alerts:
        if text is not None and write is not None:
            write(text)
            continue
        assert raw is not None
        event = _event(raw, events_before + local_num, _display(path), line_offset + line, index)
        sink(Alert(rules[rule_pos], event))


def _replay_chunk(
    result: ChunkResult,
    rules: Sequence[CompiledRule],
    sink: AlertSink,
    place: tuple[str, int, int],
    counting: Counting | None,
    stats: RunStats,
) -> None:
    """A chunk's rule alerts and, in between in event order, its aggregation observations.

    ``place``: the chunk's path, the events before it and its line offset.
    """
    path, events_before, offset = place
    if counting is None or not result.observations:
        _replay_alerts(result.alerts, rules, sink, path, events_before, offset)
        return
    for alerts, obs in interleave(result.alerts, result.observations):
        _replay_alerts(alerts, rules, sink, path, events_before, offset)
        if obs is not None:
            counting.replay(obs, (events_before, _display(path), offset), sink, stats)


def _display(path: str) -> str:
    return "<stdin>" if path == STDIN else path


def _note_read_up_to(chunk: Chunk, stats: RunStats) -> None:
    """The size a file is read up to: where its last chunk ends, as planned."""
    end = chunk.end if chunk.end is not None else chunk.file_size
    name = _display(chunk.path)
    if end and end > stats.read_up_to.get(name, 0):
        stats.read_up_to[name] = end


def _replay_problems(chunk_problems: Problems, problems: Problems, offset: int, path: str) -> None:
    """A chunk's shown problems as warnings (lines renumbered), the rest only counted.

    The first problem past the chunk's limit is replayed too, where it came,
    so that "further warnings are not shown" is said where a serial scan says it.
    """
    replayed = _shown_in_order(chunk_problems)
    for reason, file, line, index, detail in replayed:
        problems.add(reason, file, line + offset if file == path else line, index, detail)
    by_reason = Counter(p[0] for p in replayed)
    for reason, n in chunk_problems.counts.items():
        problems.counts[reason] += n - by_reason[reason]


def _shown_in_order(problems: Problems) -> list[tuple[str, str, int, int | None, str]]:
    """The shown problems with the first hidden one of each reason put back in its place."""
    out = list(problems.shown)
    for position, problem in reversed(problems.first_hidden):
        out.insert(position, problem)
    return out


def _event(raw: bytes, num: int, file: str, line: int, index: int | None) -> AuditEvent:
    obj: dict[str, Any] = orjson.loads(raw)
    time_ns, _ = event_time_ns(obj)
    return AuditEvent(obj, time_ns or 0, num, file, line, index)
