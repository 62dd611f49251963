"""The events a forensic command looks at: inputs -> decode -> time window -> ``--where``.

``extract``, ``query`` and ``stats`` read their inputs through here, with the
decoder and input handling of ``scan`` (compressed files, directories,
globs, stdin, skipped input counted and warned about). ``query`` also needs
each event's JSON text as it was written: :func:`selected_with_text`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from k8saudit_cli.decode import DecodeOptions, Decoder, Problems, input_done, read_events
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.sources import Input, expand_inputs, line_limit, open_inputs

_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Selection:
    """Which events to keep: ``since_ns <= time < until_ns`` and ``where(event)`` truthy."""

    where: Callable[[AuditEvent], Any] | None = None
    since_ns: int | None = None
    until_ns: int | None = None
    decode: DecodeOptions = field(default_factory=DecodeOptions)


@dataclass
class SelectionStats:
    """What reading found: events read and kept, the files, the skipped input."""

    events_read: int = 0
    events_selected: int = 0
    files: list[str] = field(default_factory=list)
    problems: Problems = field(default_factory=Problems)

    def opened(self, inp: Input) -> None:
        self.files.append(inp.name)


def selected_events(
    paths: Sequence[str], selection: Selection, stats: SelectionStats
) -> Iterator[AuditEvent]:
    """The events of ``paths`` that ``selection`` keeps, in input order.

    Raises :class:`~k8saudit_cli.errors.InputError` before any event when an
    input cannot be found.
    """
    files = expand_inputs(paths)  # a missing input fails now, not at the first event
    events = read_events(files, selection.decode, stats.problems, stats.opened)
    return kept_items(((ev, ev) for ev in events), selection, stats)


def selected_with_text(
    paths: Sequence[str], selection: Selection, stats: SelectionStats
) -> Iterator[bytes]:
    """The JSON text of each kept event: the line's own bytes for a line that is
    one event, the compact JSON of the item for an item of an EventList or array."""
    pairs = _events_with_text(expand_inputs(paths), selection.decode, stats)
    return kept_items(pairs, selection, stats)


def kept_items(
    pairs: Iterable[tuple[AuditEvent, Any]], selection: Selection, stats: SelectionStats
) -> Iterator[Any]:
    """The second item of each pair whose event is in the window and matches.

    The hot loop of every forensic command: locals only; the counters are
    written back when the stream ends or is abandoned.
    """
    since, until, where = selection.since_ns, selection.until_ns, selection.where
    read = kept = 0
    try:
        for ev, item in pairs:
            read += 1
            t = ev.time_ns
            if (since is not None and t < since) or (until is not None and t >= until):
                continue
            if where is not None and not where(ev):
                continue
            kept += 1
            yield item
    finally:
        stats.events_read += read
        stats.events_selected += kept


class LineTap:
    """Numbered lines passed through, remembering the last line handed out."""

    __slots__ = ("current", "lines")

    def __init__(self, lines: Iterable[tuple[int, bytes]]) -> None:
        self.lines = lines
        self.current = b""

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        for lineno, line in self.lines:
            self.current = line
            yield lineno, line


def _events_with_text(
    paths: Sequence[str], options: DecodeOptions, stats: SelectionStats
) -> Iterator[tuple[AuditEvent, bytes]]:
    """:func:`~k8saudit_cli.decode.read_events`, with each event's JSON text.

    The decoder reads lines lazily, so when it hands out an event the tap
    still holds the line that event came from.
    """
    problems: Problems = stats.problems
    decoder = Decoder(options, problems)
    limit = line_limit(options.max_event_size)
    for inp in open_inputs(paths, stats.opened):
        tap = LineTap(inp.lines(limit))
        before = (decoder.count, problems.counts.copy())
        for ev in decoder.events(tap, inp.name):
            yield ev, (own_text(tap.current) if ev.index is None else orjson.dumps(ev.raw))
        input_done(inp, problems, before, decoder.count)


def own_text(line: bytes) -> bytes:
    """A line's JSON without its line ending, surrounding blanks or byte-order mark."""
    text = line.strip()
    return text[3:].lstrip() if text.startswith(_BOM) else text
