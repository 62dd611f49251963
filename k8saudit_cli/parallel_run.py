"""A detection run in workers: input cut into chunks, matched in workers, merged in order.

A plain file is cut into byte ranges on line boundaries; compressed files
and small files are whole chunks (:func:`plan_chunks`). Workers run
:meth:`~k8saudit_cli.chunk_worker.ChunkWorker.run` on each: forked processes
here (``--jobs``), Dask workers in :mod:`k8saudit_cli.cluster`. The parent
replays their results chunk by chunk (:class:`Merge`), adding the line and
event offsets of the chunks before, so alerts, ``evt.num``, messages and the
summary are exactly what a single process gives, whoever ran the chunks.
The processes themselves (deaths noticed at once, a lost chunk retried
once) are :mod:`k8saudit_cli.worker_pool`'s job.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO

import orjson

from k8saudit_cli.aggregate_run import Aggregations, Counting, interleave
from k8saudit_cli.chunk_worker import (
    Chunk,
    ChunkAlert,
    ChunkResult,
    ChunkWorker,
    chunk_worker,
    display_name,
)
from k8saudit_cli.decode import Problems
from k8saudit_cli.detect import Alert, Detector
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.ruleset.compile import CompiledRule
from k8saudit_cli.run_options import AlertSink, RunOptions, TextSink
from k8saudit_cli.run_stats import RunStats, StopRequest
from k8saudit_cli.sources import BINARY_PROBE, splittable
from k8saudit_cli.sources.remote import is_url, open_binary, size_of
from k8saudit_cli.timestamps import event_time_ns
from k8saudit_cli.worker_pool import OrderedPool

MIN_CHUNK = 4 << 20  # bytes; smaller files are one chunk
#: Bytes per chunk at most: a chunk's alerts travel to the parent in one
#: message, so this (with the in-flight window) bounds every process's memory.
MAX_CHUNK = 16 << 20
#: Bytes read at a time while looking for a line boundary to cut at.
BOUNDARY_BLOCK = 1 << 20

# ---------------------------------------------------------------- planning


def plan_chunks(paths: Sequence[str], jobs: int, max_chunk: int | None = None) -> list[Chunk]:
    """Byte ranges for big plain files, whole files otherwise, in input order.

    ``max_chunk`` (default :data:`MAX_CHUNK`) bounds a range. Objects named by
    URL are sized and sniffed a few at a time: each look is a round trip.
    """
    limits = (jobs, MIN_CHUNK, max_chunk or MAX_CHUNK)
    if not any(is_url(p) for p in paths):
        return [c for path in paths for c in _plan_file(path, limits)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        planned = list(pool.map(lambda path: _plan_file(path, limits), paths))
    return [c for chunks in planned for c in chunks]


def _plan_file(path: str, limits: tuple[int, int, int]) -> list[Chunk]:
    """The chunks of one file: ``limits`` are (jobs, smallest and largest range)."""
    jobs, min_chunk, max_chunk = limits
    size = size_of(path)
    if size < 2 * min_chunk:  # one chunk whatever it holds: no need to look inside
        return [Chunk(path, file_size=size or None)]
    with open_binary(path) as fh:
        if not splittable(fh.read(BINARY_PROBE)):
            return [Chunk(path, file_size=size or None)]
        pieces = max(2, min(jobs * 4, size // min_chunk), -(-size // max_chunk))
        bounds = [0]
        for k in range(1, pieces):
            target = size * k // pieces
            if target < bounds[-1]:
                continue  # inside the line that ends at the last bound: no new bound
            pos = _line_start_after(fh, target, size)
            if bounds[-1] < pos < size:
                bounds.append(pos)
        bounds.append(size)
    return [Chunk(path, a, b) for a, b in itertools.pairwise(bounds) if b > a]


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

_WORKER: ChunkWorker | None = None


def _install(
    detector: Detector, options: RunOptions, sink: AlertSink, aggregations: Aggregations | None
) -> None:
    global _WORKER
    render = sink.render if isinstance(sink, TextSink) else None
    _WORKER = chunk_worker(detector, options, render, aggregations)


def run_chunk(chunk: Chunk) -> ChunkResult:
    """A forked worker's body: the installed :class:`ChunkWorker` on one chunk."""
    assert _WORKER is not None
    return _WORKER.run(chunk)


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
    merge = Merge(detector.rules, sink, stats, aggregations)
    with OrderedPool(run_chunk, jobs, 2 * jobs, _death_warning(on_warning)) as pool:
        merge.merge(zip(chunks, pool.results(chunks), strict=True), on_chunk, stop)


class Places:
    """Where each chunk's chunk-local line and event numbers land in the whole input.

    Chunks come in input order: the first chunk of a file adds it to
    ``files``; each chunk's warnings are replayed into ``problems`` with the
    lines of the chunks of its file before it added, and what it gave is
    tallied per input. ``read_up_to`` (a scan's) hears where each file's
    chunks end, as planned.
    """

    def __init__(
        self, files: list[str], problems: Problems, read_up_to: dict[str, int] | None = None
    ) -> None:
        self.files, self.problems, self.read_up_to = files, problems, read_up_to
        self.line_offset: dict[str, int] = {}
        self.events_before = 0

    def enter(self, chunk: Chunk, chunk_problems: Problems) -> int:
        """Take a chunk's warnings; its line offset."""
        if chunk.path not in self.line_offset:
            self.line_offset[chunk.path] = 0
            self.files.append(display_name(chunk.path))
        if self.read_up_to is not None:
            _note_read_up_to(chunk, self.read_up_to)
        offset = self.line_offset[chunk.path]
        _replay_problems(chunk_problems, self.problems, offset, chunk.path)
        return offset

    def leave(self, chunk: Chunk, lines: int, events: int, skipped: Mapping[str, int]) -> None:
        """The chunk spanned ``lines`` lines, read ``events`` events, skipped ``skipped``."""
        self.line_offset[chunk.path] += lines
        self.events_before += events
        self.problems.tally(display_name(chunk.path), lines, events, skipped)


class Merge:
    """The parent's side of a run in workers: chunk results replayed in input order, so
    the sink and ``stats`` see exactly what a serial run gives them."""

    def __init__(
        self,
        rules: Sequence[CompiledRule],
        sink: AlertSink,
        stats: RunStats,
        aggregations: Aggregations | None = None,
    ) -> None:
        self.rules, self.sink, self.stats = rules, sink, stats
        self.places = Places(stats.files, stats.problems, stats.read_up_to)
        self.counting = aggregations.start() if aggregations is not None else None

    def merge(
        self,
        results: Iterable[tuple[Chunk, ChunkResult]],
        on_chunk: Callable[[Chunk], None] | None = None,
        stop: StopRequest | None = None,
    ) -> None:
        """Replay ``results`` (in input order) until they end or ``stop`` is requested."""
        for chunk, result in results:
            self.add(chunk, result)
            if on_chunk is not None:
                on_chunk(chunk)
            if stop is not None and stop.requested:
                break
        if self.counting is not None:
            self.counting.finish(self.stats)

    def add(self, chunk: Chunk, result: ChunkResult) -> None:
        """Replay one chunk, the next in input order."""
        places, stats = self.places, self.stats
        offset = places.enter(chunk, result.stats.problems)
        place = (chunk.path, places.events_before, offset)
        _replay_chunk(result, self.rules, self.sink, place, self.counting, stats)
        stats.add_counts(result.stats)
        places.leave(chunk, result.lines, result.stats.events_read, result.stats.problems.counts)


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
        event = _event(
            raw, events_before + local_num, display_name(path), line_offset + line, index
        )
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
            counting.replay(obs, (events_before, display_name(path), offset), sink, stats)


def _note_read_up_to(chunk: Chunk, read_up_to: dict[str, int]) -> None:
    """The size a file is read up to: where its last chunk ends, as planned."""
    end = chunk.end if chunk.end is not None else chunk.file_size
    name = display_name(chunk.path)
    if end and end > read_up_to.get(name, 0):
        read_up_to[name] = end


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
