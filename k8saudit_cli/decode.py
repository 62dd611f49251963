"""Turn inputs into audit events, whatever their format, accounting for all that is not one.

Each input is read in the framing its first bytes show (JSON lines, a
whole JSON document, CloudWatch export lines, Insights CSV: see
:mod:`k8saudit_cli.formats`); each value is decoded by the line decoder
(:mod:`k8saudit_cli.linedecode`), and values that are no audit event are
asked of the cloud formats, per record, so formats can mix. Whatever is
not read is counted under a reason (:class:`~k8saudit_cli.problems.Problems`),
a provider's truncation by provider and cause.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from k8saudit_cli.event import AuditEvent
from k8saudit_cli.formats import (
    CUTTING_PROVIDERS,
    HEAD_BYTES,
    LINE_FRAMINGS,
    Payload,
    Skip,
    Unwrapped,
    format_label,
    framing_of,
)
from k8saudit_cli.formats.items import Item
from k8saudit_cli.linedecode import (
    DEFAULT_MAX_EVENT_SIZE,
    DecodeOptions,
    LineDecoder,
    classify_error,
    next_index,
)
from k8saudit_cli.problems import (
    KEPT_REASONS,
    REASONS,
    WARNINGS_PER_REASON,
    InputTally,
    Problems,
    input_done,
)
from k8saudit_cli.sources import Input, expand_inputs, line_limit, open_inputs
from k8saudit_cli.timestamps import parse_time_ns

if TYPE_CHECKING:  # the readers and providers are imported when an input needs them
    from k8saudit_cli.formats.jsondoc import DocRecord
    from k8saudit_cli.formats.records import Unwrapper

__all__ = [
    "DEFAULT_MAX_EVENT_SIZE",
    "KEPT_REASONS",
    "REASONS",
    "WARNINGS_PER_REASON",
    "DecodeOptions",
    "Decoder",
    "InputTally",
    "Problems",
    "input_done",
    "input_lines",
    "read_events",
]


class Decoder(LineDecoder):
    """Decode inputs of any format into events; skipped items go to ``problems``."""

    def __init__(self, options: DecodeOptions, problems: Problems) -> None:
        super().__init__(options, problems)
        self._unwrap: Unwrapper | None = None
        #: The first cloud shape met in the input being read (its format's name).
        self.shape: str | None = None
        #: Lines of the input last read (blank ones too), once it is read.
        self.lines_read = 0
        #: The framing of the input being read (see :meth:`begin`).
        self.framing = "lines"

    @property
    def unwrap(self) -> Unwrapper | None:
        """Recognises cloud records among values that are no audit event (``None``: the
        ``k8s`` format). Made on first use: plain JSON lines never import the providers."""
        if self._unwrap is None and self.options.input_format != "k8s":
            from k8saudit_cli.formats.records import Unwrapper

            self._unwrap = Unwrapper(self.options.input_format, self.options.gke_faithful)
        return self._unwrap

    def other_events(self, line: bytes, parsed: Any, file: str, lineno: int) -> list[AuditEvent]:
        """As :meth:`LineDecoder.other_events`; a cloud record holding one event (the
        common line of an export read as lines) goes straight to :meth:`_single`, the
        path :meth:`_record` would take it on after the checks of ``_value``."""
        if parsed.__class__ is dict and self.unwrap is not None:
            kind = parsed.get("kind")
            if kind != "Event" and kind != "EventList":
                one = self.unwrap.single(parsed)
                if one is not None:
                    ev = self._single(one[0], one[1], len(line), (file, lineno, [0]))
                    if ev is not None:
                        return [ev]
        return super().other_events(line, parsed, file, lineno)

    def _is_record(self, value: list[Any]) -> bool:
        unwrap = self.unwrap
        return unwrap is not None and unwrap.is_record_list(value)

    def _record(
        self, value: Any, size: int, file: str, lineno: int, counter: list[int]
    ) -> list[AuditEvent] | None:
        if self.unwrap is None:
            return None
        single = self.unwrap.single(value)
        if single is not None:
            ev = self._single(single[0], single[1], size, (file, lineno, counter))
            if ev is not None:
                return [ev]
        batch = self._batch(value, size, (file, lineno, counter))
        if batch is not None:
            return batch
        found = self.unwrap(value)
        return None if found is None else self._unwrapped(found, size, file, lineno, counter)

    def _batch(
        self, value: Any, size: int, where: tuple[str, int, list[int]]
    ) -> list[AuditEvent] | None:
        """The fast path of a plain wrapper of records that each hold one event (see
        ``Unwrapper.batch``): their events when all are well, else ``None`` with nothing
        recorded or numbered, for the general path to read the wrapper in full."""
        assert self._unwrap is not None
        found = self._unwrap.batch(value)
        if found is None:
            return None
        records, shape = found
        single, counter = self._unwrap.single, where[2]
        start, shape_before = counter[0], self.shape
        out: list[AuditEvent] = []
        for record in records:
            one = single(record)
            ev = None if one is None else self._single(one[0], shape or one[1], size, where)
            if ev is None:
                counter[0], self.shape = start, shape_before
                return None
            out.append(ev)
        return out

    def _single(
        self,
        payload: str | bytes | dict[str, Any],
        shape: str,
        size: int,
        where: tuple[str, int, list[int]],
    ) -> AuditEvent | None:
        """The fast path of a record holding one event: the event when all is well
        (an Event, a good stageTimestamp, well under the size limit), else ``None``
        and nothing recorded, for the general path to read the record in full."""
        if size > self.max_size:
            return None
        if payload.__class__ is dict:
            event: Any = payload
        elif len(payload) > self.max_size // 4:
            return None
        else:
            try:
                event = orjson.loads(payload)  # type: ignore[arg-type]
            except orjson.JSONDecodeError:
                return None
        if event.__class__ is not dict or event.get("kind") != "Event":
            return None
        t = parse_time_ns(event.get("stageTimestamp"))
        if t is None:
            return None
        if self.shape is None:
            self.shape = shape
        file, lineno, counter = where
        return AuditEvent(event, t, 0, file, lineno, next_index(counter))

    def _text_record(
        self, head: bytes, size: int, file: str, lineno: int
    ) -> list[AuditEvent] | None:
        found = self.unwrap.text_line(head) if self.unwrap is not None else None
        return None if found is None else self._unwrapped(found, size, file, lineno, [0])

    # ------------------------------------------------------------ cloud records

    def _unwrapped(
        self, found: Unwrapped, size: int, file: str, lineno: int, counter: list[int]
    ) -> list[AuditEvent]:
        """The events of a cloud record's items; ``size``: the record's bytes."""
        if self.shape is None and found.shape != "unknown":
            self.shape = found.shape
        out: list[AuditEvent] = []
        shape = found.shape
        for item in found.items:
            if isinstance(item, Skip):
                self.problems.add(item.reason, file, lineno, next_index(counter), item.detail)
            elif item.event is not None:
                big = size > self.max_size
                self._event(item.event, file, lineno, next_index(counter), big, out)
            else:
                ev = None
                if item.cut is None and item.text is not None:
                    ev = self._single(item.text, shape, 0, (file, lineno, counter))
                if ev is not None:
                    out.append(ev)
                else:
                    self._payload(item, file, lineno, counter, out)
        return out

    def _payload(
        self, item: Payload, file: str, lineno: int, counter: list[int], out: list[AuditEvent]
    ) -> None:
        """An audit payload carried as JSON text (an EKS message, an AKS properties.log)."""
        text = item.text
        assert text is not None
        size = len(text)
        if size > self.max_size // 4 and isinstance(text, str):
            size = len(text.encode("utf-8", "surrogatepass"))
        if size > self.max_size:
            self.problems.add("too_large", file, lineno, next_index(counter), f"{size} bytes")
        elif item.cut is not None:
            self._cut(item, size, item.cut, (file, lineno, next_index(counter)), out)
        else:
            try:
                value = orjson.loads(text)
            except orjson.JSONDecodeError as exc:
                self._unreadable(item, size, exc, (file, lineno, next_index(counter)), out)
                return
            if isinstance(value, dict) and value.get("kind") == "Event":
                self._event(value, file, lineno, next_index(counter), False, out)
            elif isinstance(value, (dict, list)) and not self._is_record_value(value):
                self._container(value, file, lineno, False, out, counter)
            else:
                detail = f"{item.provider} message is not an audit event"
                self.problems.add("not_audit_event", file, lineno, next_index(counter), detail)

    def _is_record_value(self, value: dict[str, Any] | list[Any]) -> bool:
        return isinstance(value, dict) and value.get("kind") != "EventList"

    def _unreadable(
        self,
        item: Payload,
        size: int,
        exc: orjson.JSONDecodeError,
        where: tuple[str, int, int],
        out: list[AuditEvent],
    ) -> None:
        """A payload that does not parse: cut by the provider (JSON that ends early where
        providers cut), or plain junk."""
        text = item.text
        raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else (text or b"")
        if (
            item.provider in CUTTING_PROVIDERS
            and str(exc).startswith("unexpected end of data")
            and raw.lstrip()[:1] == b"{"
        ):
            from k8saudit_cli.formats.salvage import CUT_WHAT

            self._cut(item, size, CUT_WHAT.get(item.provider, "JSON") + " cut", where, out)
            return
        reason, detail = classify_error(raw, exc)
        self.problems.add(reason, where[0], where[1], where[2], f"{item.provider}: {detail}")

    def _cut(
        self, item: Payload, size: int, how: str, where: tuple[str, int, int], out: list[AuditEvent]
    ) -> None:
        """A payload the provider cut: counted by provider and cause, or, with
        --salvage-truncated, scanned from what is whole and marked as salvaged."""
        file, lineno, index = where
        cause = f"{item.provider}: {how} at {size} bytes"
        from k8saudit_cli.formats.salvage import audit_id_of, salvage

        detail = cause + audit_id_of(item.text)
        if self.options.salvage_truncated:
            event = salvage(item.text or b"", item.time, cause)
            if event is not None:
                self.problems.add(f"salvaged_{item.provider}", file, lineno, index, detail)
                self._event(event, file, lineno, index, False, out)
                return
            detail += "; too little of it is whole to salvage"
        self.problems.add(f"truncated_{item.provider}", file, lineno, index, detail)

    # ------------------------------------------------------------ framings

    def input_events(
        self, inp: Input, wrap_lines: Callable[[Iterator[tuple[int, bytes]]], Any] | None = None
    ) -> Iterator[AuditEvent]:
        """Every event of one opened input, read in the framing its first bytes show
        (``k8s``: as JSON lines, unlooked at); what it was read as, its lines, events and
        problems go to ``problems`` (see :func:`input_done`). ``wrap_lines`` may wrap the
        line stream of a line-framed input."""
        before = (self.count, self.problems.counts.copy())
        framing = self.begin(inp)
        yield from self.framed(inp, framing, wrap_lines)
        self.finish(inp, framing, before)

    def begin(self, inp: Input) -> str:
        """Start reading ``inp``: its framing, from its first bytes (before any line is
        read; ``lines`` for the ``k8s`` format, which looks at nothing)."""
        self.shape, self.lines_read = None, 0
        if self.options.input_format == "k8s":
            self.framing = "lines"
        else:
            self.framing = framing_of(inp.head(HEAD_BYTES), self.options.input_format)
        return self.framing

    def finish(self, inp: Input, framing: str, before: tuple[int, Counter[str]]) -> None:
        """``inp`` is read: what it was read as, its lines, events and problems recorded
        (``before``: the event count and problem counts when it began)."""
        shape = self.shape or ("k8s" if self.count > before[0] else "unknown")
        self.problems.note_format(inp.name, format_label(shape, framing))
        if inp.reader is not None:
            self.lines_read = inp.reader.count
        input_done(inp, self.problems, before, self.count, self.lines_read)

    def framed(
        self,
        inp: Input,
        framing: str,
        wrap_lines: Callable[[Iterator[tuple[int, bytes]]], Any] | None = None,
    ) -> Iterator[AuditEvent]:
        """The events of ``inp`` read in ``framing`` (see :mod:`k8saudit_cli.formats.detect`)."""
        limit = line_limit(self.max_size)
        if framing == "document":
            from k8saudit_cli.formats.jsondoc import DocumentReader

            holder: list[DocumentReader] = []
            reader = DocumentReader(inp.block_reader(lambda: holder[0].reached()), limit)
            holder.append(reader)
            try:
                yield from self.documents(reader, inp.name)
            finally:
                self.lines_read = reader.lines_read()
            return
        lines = inp.lines(limit)
        if framing in LINE_FRAMINGS:
            yield from self.events(wrap_lines(lines) if wrap_lines else lines, inp.name)
        elif framing == "prefixed":
            from k8saudit_cli.formats.textlines import export_lines

            yield from self.items(export_lines(lines), inp.name, "eks-export")
        else:
            from k8saudit_cli.formats.textlines import insights_csv

            yield from self.items(insights_csv(lines), inp.name, "eks-insights")

    def documents(self, records: Iterable[DocRecord], file: str) -> Iterator[AuditEvent]:
        """Every event of a whole document's records (events of one line numbered
        ``[0]``, ``[1]``... across the records that start on it). An Event, or a record
        holding one (see ``Unwrapper.single``), is decoded inline as a plain line is."""
        line, counter = 0, [0]
        single = self.unwrap.single if self.unwrap is not None else None
        parse, max_size = parse_time_ns, self.max_size
        for record in records:
            if record.line != line:
                line, counter = record.line, [0]
            value = record.value
            if record.error is not None:
                yield from self._numbered(self._record_error(record, file))
                continue
            if value.__class__ is dict and value.get("kind") == "Event" and record.size <= max_size:
                t = parse(value.get("stageTimestamp"))
                if t is not None:
                    index = None if record.whole_line else next_index(counter)
                    self.count += 1
                    yield AuditEvent(value, t, self.count, file, line, index)
                    continue
            found = single(value) if single is not None else None
            ev = None
            if found is not None:
                ev = self._single(found[0], found[1], record.size, (file, line, counter))
            events = (
                [ev]
                if ev is not None
                else self._value(
                    value, record.size, file, line, None if record.whole_line else counter
                )
            )
            for ev in events:
                self.count += 1
                ev.num = self.count
                yield ev

    def _record_error(self, record: DocRecord, file: str) -> list[AuditEvent]:
        """A record that is not JSON: base64 records on a line of their own, or counted."""
        assert record.error is not None
        reason, detail = record.error
        if record.value.__class__ is bytes and record.value:
            found = self._text_record(record.value.strip(), record.size, file, record.line)
            if found is not None:
                return found
        if reason == "too_large":
            detail = f"{record.size} bytes > {self.max_size}"
        self.problems.add(reason, file, record.line, None, detail)
        return []

    def _numbered(self, events: list[AuditEvent]) -> Iterator[AuditEvent]:
        for ev in events:
            self.count += 1
            ev.num = self.count
            yield ev

    def items(
        self, numbered: Iterable[tuple[int, Item | bytes]], file: str, shape: str
    ) -> Iterator[AuditEvent]:
        """Every event of numbered items (a cloud payload or skip of ``shape``, or a line
        read as any line)."""
        for lineno, item in numbered:
            if isinstance(item, bytes):
                found = self._line(item, file, lineno)
            elif isinstance(item, Payload) and item.text is not None and item.cut is None:
                ev = self._single(item.text, shape, 0, (file, lineno, [0]))
                found = (
                    [ev]
                    if ev is not None
                    else self._unwrapped(Unwrapped(shape, [item]), 0, file, lineno, [0])
                )
            else:
                found = self._unwrapped(Unwrapped(shape, [item]), 0, file, lineno, [0])
            for ev in found:
                self.count += 1
                ev.num = self.count
                yield ev

    def _line(self, line: bytes, file: str, lineno: int) -> list[AuditEvent]:
        if line[:1] != b"{":
            return self._not_an_object(line, file, lineno)
        return self.decode_line(line, file, lineno)


def read_events(
    inputs: Sequence[str],
    options: DecodeOptions | None = None,
    problems: Problems | None = None,
    on_open: Callable[[Input], None] | None = None,
) -> Iterator[AuditEvent]:
    """Stream every event of every input in order, with ``num`` set 1, 2, 3, ...

    ``inputs`` are command-line style specs (files, directories, globs, ``-``);
    :class:`~k8saudit_cli.errors.InputError` is raised before any event if one
    cannot be found.
    """
    options = options or DecodeOptions()
    problems = problems if problems is not None else Problems()
    decoder = Decoder(options, problems)
    for inp in open_inputs(expand_inputs(inputs), on_open):
        yield from decoder.input_events(inp)


def input_lines(
    inputs: Sequence[str],
    options: DecodeOptions,
    on_open: Callable[[Input], None] | None = None,
) -> Iterator[tuple[Input, Iterable[tuple[int, bytes]]]]:
    """Each input opened in turn (one at a time), with the numbered lines a decoder
    reads from it: what the fused run loop consumes. The lines are opened when first
    iterated, so :meth:`Decoder.begin` can look at the input's first bytes before; an
    input that is not read as lines (a JSON document, export lines, CSV) is read with
    :meth:`Decoder.framed` instead and its lines left alone."""
    limit = line_limit(options.max_event_size)
    for inp in open_inputs(expand_inputs(inputs), on_open):
        yield inp, _Lines(inp, limit)


class _Lines:
    """An input's numbered lines, opened on first use."""

    def __init__(self, inp: Input, limit: int) -> None:
        self.inp, self.limit = inp, limit

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        return iter(self.inp.lines(self.limit))
