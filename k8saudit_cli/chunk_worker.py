"""One chunk of input and the one function that scans it, in any worker.

A :class:`Chunk` is a whole file (any compression) or a byte range of a
plain one, cut on line boundaries. :meth:`ChunkWorker.run` is the body of
every worker, a forked process of ``--jobs`` (:mod:`k8saudit_cli.parallel_run`)
or a task on a Dask worker (:mod:`k8saudit_cli.cluster`): it decodes and
matches with the loop of a serial run (the fused loop of
:mod:`k8saudit_cli.fused_loop` on the fast path,
:func:`~k8saudit_cli.run_stats.match_in_window` with ``--no-fast-path``) and sends back plain data
(:class:`ChunkResult`): counts, the first warnings per reason, and each alert
as rendered text or, when the text depends on something only the parent
knows (``evt.num``) or the sink wants :class:`Alert` objects, as the event's
JSON. Line and event numbers in it are chunk-local.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from k8saudit_cli.aggregate_run import Aggregations, ChunkObservation
from k8saudit_cli.decode import Decoder, Problems
from k8saudit_cli.detect import Alert, Detector
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.formats import LINE_FRAMINGS, format_label
from k8saudit_cli.fused_loop import LoopRun
from k8saudit_cli.ruleset.compile import CompiledRule
from k8saudit_cli.run_options import RunOptions
from k8saudit_cli.run_stats import NEVER, RunStats, match_in_window
from k8saudit_cli.sources import STDIN, Input, line_limit
from k8saudit_cli.sources.remote import size_of

#: One alert of a chunk: (local event number, rule position, rendered alert or
#: None, event JSON or None, local line, index in line).
ChunkAlert = tuple[int, int, str | None, bytes | None, int, int | None]


@dataclass(frozen=True)
class Chunk:
    path: str
    start: int = 0
    end: int | None = None  # None: to the end (whole file, any compression)
    file_size: int | None = None  # whole file: its size when planned, read no further
    #: How a range's lines are read (``lines``, or ``prefixed``: CloudWatch export lines);
    #: a whole file is read in the framing its first bytes show, as a serial run reads it.
    framing: str = "lines"

    def size(self) -> int:
        """Bytes of the file this chunk covers (compressed bytes for a compressed file)."""
        if self.end is not None:
            return self.end - self.start
        return (self.file_size if self.file_size is not None else size_of(self.path)) - self.start

    def __str__(self) -> str:
        """As messages name it: ``audit.log bytes 0-4194304`` (end excluded), or the file."""
        if self.end is None:
            return display_name(self.path)
        return f"{display_name(self.path)} bytes {self.start}-{self.end}"


@dataclass
class ChunkResult:
    lines: int = 0
    stats: RunStats = field(default_factory=RunStats)
    alerts: list[ChunkAlert] = field(default_factory=list)
    #: What the chunk's events add to the aggregations, counted by the parent in order.
    observations: list[ChunkObservation] = field(default_factory=list)


def display_name(path: str) -> str:
    return "<stdin>" if path == STDIN else path


#: Output fields only the parent knows: ``evt.num`` counts the events of the whole input.
PARENT_FIELDS = frozenset({"evt.num"})
#: ...and, for workers on other machines, fields that render the machine's own
#: host name or local time: their alerts are rendered by the parent too.
MACHINE_FIELDS = PARENT_FIELDS | {
    "evt.hostname",
    "evt.time",
    "evt.time.s",
    "evt.datetime",
    "evt.datetime.s",
}


@dataclass(frozen=True)
class ChunkWorker:
    """What every worker needs to scan a chunk (set before the fork, or built once per
    Dask worker from the rules' text: never pickled)."""

    detector: Detector
    options: RunOptions
    render: Callable[[Alert], str] | None
    #: Rules whose alerts travel as event JSON, to be rendered by the parent.
    needs_event: frozenset[str]
    positions: dict[str, int]
    aggregations: Aggregations | None = None

    def run(self, chunk: Chunk) -> ChunkResult:
        """Decode and match one chunk; line and event numbers are chunk-local."""
        options = self.options
        result = ChunkResult()
        decoder = Decoder(options.decode, result.stats.problems)
        events = ChunkEvents(chunk, decoder)
        if options.evaluator == "fast":
            self._run_fused(events, result)
            result.lines = events.count
            return result
        match: Callable[[AuditEvent], list[CompiledRule]] = self.detector.match
        if self.aggregations is not None:  # the event JSON only for a sink that wants events
            match = self.aggregations.recorder(
                self.detector, result.observations, self.render is None
            )
        match_in_window(
            iter(events),
            match,
            options.since_ns,
            options.until_ns,
            result.stats,
            _collector(self, result.alerts),
        )
        result.lines = events.count
        return result

    def _run_fused(self, events: ChunkEvents, result: ChunkResult) -> None:
        """The fast path: the chunk through the fused loop, as a serial run does, its
        aggregation observations recorded for the parent to count."""
        aggs, counted = self.aggregations, None
        if aggs is not None:  # the event JSON only for a sink that wants events
            record = aggs.record_into(result.observations, self.render is None)
            counted = (aggs.detector, aggs.counter(record))
        window = (self.options.since_ns, self.options.until_ns)
        collect = _collector(self, result.alerts)
        events.scan(LoopRun(self.detector, result.stats, collect, NEVER, window, counted))


def chunk_worker(
    detector: Detector,
    options: RunOptions,
    render: Callable[[Alert], str] | None,
    aggregations: Aggregations | None,
    parent_fields: frozenset[str] = PARENT_FIELDS,
) -> ChunkWorker:
    """A worker rendering alerts with ``render`` (``None``: every alert travels as its
    event's JSON), except those of rules whose output uses one of ``parent_fields``."""
    rules = detector.rules
    if render is not None:
        needs_event = frozenset(r.name for r in rules if _uses(r, parent_fields))
    else:
        needs_event = frozenset(r.name for r in rules)
    positions = {r.name: i for i, r in enumerate(rules)}
    return ChunkWorker(detector, options, render, needs_event, positions, aggregations)


def _uses(rule: CompiledRule, names: frozenset[str]) -> bool:
    return any(t.field is not None and t.field.fdef.name in names for t in rule.output.tokens)


class ChunkLines:
    """The numbered lines of one chunk, read through :class:`~k8saudit_cli.sources.Input`
    with the bound a serial scan uses (a long line is skipped unread), whether the
    chunk is a whole file, a range of a local file or of an object named by URL;
    :attr:`count` is how many lines it spans, blank ones too, as the next chunk of
    the file needs for its line numbers."""

    def __init__(self, chunk: Chunk, problems: Problems, max_event_size: int) -> None:
        self.chunk, self.problems, self.max_event_size = chunk, problems, max_event_size
        self.count = 0

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        chunk = self.chunk
        end = chunk.end if chunk.end is not None else chunk.file_size
        inp = Input(chunk.path, chunk.start, end)
        try:
            for item in inp.lines(line_limit(self.max_event_size)):
                self.count = item[0]
                yield item
            if inp.error is not None:
                self.problems.add(
                    inp.error.reason, inp.name, inp.error.line, None, inp.error.detail
                )
        finally:
            if inp.reader is not None:  # blank lines at the end count for the next range
                self.count = max(self.count, inp.reader.count)
            inp.close()


class ChunkEvents:
    """The events of one chunk: a whole file read as a serial run reads it (in the
    framing its first bytes show), or a range's lines in the framing planned for its
    file. :attr:`count`, once read, is how many lines it spans (see
    :class:`ChunkLines`); ``wrap_lines`` may wrap the line stream."""

    def __init__(
        self,
        chunk: Chunk,
        decoder: Decoder,
        wrap_lines: Callable[[Iterator[tuple[int, bytes]]], Any] | None = None,
    ) -> None:
        self.chunk, self.decoder, self.wrap_lines = chunk, decoder, wrap_lines
        self.count = 0

    def scan(self, run: LoopRun) -> None:
        """The chunk through the fused loop: lines as lines, anything else as events."""
        chunk, decoder = self.chunk, self.decoder
        if chunk.end is None:
            inp = Input(chunk.path, chunk.start, chunk.file_size)
            try:
                before = (decoder.count, decoder.problems.counts.copy())
                framing = decoder.begin(inp)
                if framing in LINE_FRAMINGS:
                    run.scan_lines(inp.lines(line_limit(decoder.max_size)), inp.name, decoder)
                else:
                    run.scan_events(decoder.framed(inp, framing))
                decoder.finish(inp, framing, before)
            finally:
                self.count = decoder.lines_read
                inp.close()
        elif chunk.framing == "lines":
            lines = ChunkLines(chunk, decoder.problems, decoder.max_size)
            try:
                run.scan_lines(lines, chunk.path, decoder)
            finally:
                self.count = lines.count
            shape = decoder.shape or ("k8s" if decoder.count else "unknown")
            decoder.problems.note_format(chunk.path, format_label(shape, "lines"))
        else:
            run.scan_events(iter(self))

    def __iter__(self) -> Iterator[AuditEvent]:
        chunk, decoder = self.chunk, self.decoder
        if chunk.end is None:
            inp = Input(chunk.path, chunk.start, chunk.file_size)
            try:
                yield from decoder.input_events(inp, self.wrap_lines)
            finally:
                self.count = decoder.lines_read
                inp.close()
            return
        start = decoder.count
        lines = ChunkLines(chunk, decoder.problems, decoder.max_size)
        wrapped = self.wrap_lines(iter(lines)) if self.wrap_lines is not None else lines
        try:
            if chunk.framing == "prefixed":
                from k8saudit_cli.formats.textlines import export_lines

                yield from decoder.items(export_lines(wrapped), chunk.path, "eks-export")
            else:
                yield from decoder.events(wrapped, chunk.path)
        finally:
            self.count = lines.count
        shape = decoder.shape or ("k8s" if decoder.count > start else "unknown")
        decoder.problems.note_format(chunk.path, format_label(shape, chunk.framing))


def _collector(worker: ChunkWorker, out: list[ChunkAlert]) -> Callable[[Alert], None]:
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
