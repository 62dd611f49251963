"""Turn input lines into audit events, accounting for every line that is not one.

A line holds one JSON value: an ``Event``, an ``EventList`` (its ``items``),
or an array of those. Anything else is counted under a reason and warned
about (rate-limited), never fatal: one broken line must not hide the rest
of an incident's log.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from k8saudit_cli.escape import visible
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.jsontext import compact
from k8saudit_cli.sources import Input, LongLine, expand_inputs, line_limit, open_inputs
from k8saudit_cli.timestamps import event_time_ns, parse_time_ns

DEFAULT_MAX_EVENT_SIZE = 262144
WARNINGS_PER_REASON = 20

#: Why input was skipped (or, for ``time_fallback``, kept with a warning).
REASONS: dict[str, str] = {
    "invalid_json": "invalid JSON",
    "invalid_utf8": "invalid UTF-8",
    "nul_byte": "NUL byte in line",
    "too_deep": "JSON nesting too deep",
    "not_audit_event": "data not recognized as a k8s audit event",
    "legacy_format": "legacy text audit format (not JSON)",
    "too_large": "event larger than --max-event-size",
    "no_timestamp": "no usable timestamp",
    "truncated_stream": "truncated or corrupt compressed stream",
    "read_error": "read error",
    "binary_input": "unsupported compression or binary file",
    "decompression_bomb": "compressed data inflates too far without a line break",
    "time_fallback": "stageTimestamp missing or unparsable, used a fallback time",
}

#: Reasons that do not drop anything.
KEPT_REASONS = frozenset({"time_fallback"})


@dataclass
class DecodeOptions:
    max_event_size: int = DEFAULT_MAX_EVENT_SIZE


@dataclass
class InputTally:
    """What one input gave when read to its end: lines (blank ones too) and events."""

    lines: int = 0
    events: int = 0


@dataclass
class Problems:
    """Counts of skipped input by reason and by input, and the rate-limited warnings.

    ``emit`` receives each warning line (the CLI points it at stderr); a
    library user may leave it ``None`` and read :attr:`counts` afterwards.
    :attr:`by_file` and :attr:`inputs` say, per input, what was skipped and
    what was read, so an input that gave no event can be described.
    """

    emit: Callable[[str], None] | None = None
    limit: int = WARNINGS_PER_REASON
    counts: Counter[str] = field(default_factory=Counter)
    #: The first ``limit`` problems per reason as ``(reason, file, line, index, detail)``,
    #: kept so a parallel scan can replay them in input order.
    shown: list[tuple[str, str, int, int | None, str]] = field(default_factory=list)
    #: The first problem per reason past ``limit``, with its place in :attr:`shown`:
    #: where a serial scan says further warnings are not shown.
    first_hidden: list[tuple[int, tuple[str, str, int, int | None, str]]] = field(
        default_factory=list
    )
    #: Counts by ``(file, reason)``, added as each input ends (see :meth:`tally`):
    #: nothing more per problem or per event.
    by_file: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: Lines and events of each input read to its end, by name, in reading order.
    inputs: dict[str, InputTally] = field(default_factory=dict)

    def add(
        self, reason: str, file: str, line: int, index: int | None = None, detail: str = ""
    ) -> None:
        self.counts[reason] += 1
        n = self.counts[reason]
        if n > self.limit:
            if n == self.limit + 1:
                self.first_hidden.append((len(self.shown), (reason, file, line, index, detail)))
            if n == self.limit + 1 and self.emit is not None:
                text = REASONS.get(reason, reason)
                self.emit(
                    f"k8saudit: warning: further '{text}' warnings are not shown "
                    "(counted in the summary)"
                )
            return
        self.shown.append((reason, file, line, index, detail))
        if self.emit is not None:
            text = REASONS.get(reason, reason)
            where = f"{file}:{line}" + (f"[{index}]" if index is not None else "")
            message = f"k8saudit: warning: {where}: {text}" + (f": {detail}" if detail else "")
            self.emit(visible(message))  # file names and details may hold any character

    def shows(self, reason: str) -> bool:
        """Whether the next problem of ``reason`` would be shown (not only counted)."""
        return self.counts[reason] < self.limit

    @property
    def skipped(self) -> int:
        """Number of skipped items (lines or events), excluding kept-with-warning ones."""
        return sum(n for r, n in self.counts.items() if r not in KEPT_REASONS)

    def tally(self, file: str, lines: int, events: int, skipped: Mapping[str, int]) -> None:
        """Count what an input (or a part of it: the counts add up) gave: lines,
        events, and the problems met in it by reason."""
        seen = self.inputs.setdefault(file, InputTally())
        seen.lines += lines
        seen.events += events
        for reason, n in skipped.items():
            if n:
                self.by_file[file, reason] += n

    def final_lines(self) -> list[str]:
        """One ``count reason`` line per reason seen, for the end-of-run report."""
        return [f"{n} {REASONS.get(r, r)}" for r, n in sorted(self.counts.items())]


# ------------------------------------------------------------------ lines


#: The bytes a JSON value can start with (after blanks).
_JSON_STARTS = frozenset(b'{["-0123456789tfn')
#: Values worth parsing whatever they hold: objects, arrays, strings.
_PARSE_FIRST = frozenset(b'{["')
_BOM = b"\xef\xbb\xbf"


def _classify_error(line: bytes, exc: Exception) -> tuple[str, str]:
    """Name the reason a line failed to decode, most specific first."""
    shown = _visible_reason(line)
    if shown is not None:
        return shown
    msg = str(exc)
    if "ecursion" in msg or "depth limit" in msg:
        return "too_deep", msg
    return "invalid_json", msg


def _visible_reason(line: bytes) -> tuple[str, str] | None:
    """A reason the line itself shows, no parser needed: a NUL byte, bytes that are
    not UTF-8, the legacy text format. ``None``: it is plain invalid JSON (or too deep)."""
    nul = line.find(b"\x00")
    if nul >= 0:
        return "nul_byte", f"at byte {nul}"
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as err:
        return "invalid_utf8", f"at byte {err.start}"
    stripped = line.strip()
    if b" AUDIT: " in stripped[:200] and not stripped.startswith((b"{", b"[")):
        return "legacy_format", "use --audit-log-format=json on the API server"
    return None


def _parser_message(line: bytes) -> str:
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return str(exc)
    return ""


class Decoder:
    """Decode lines of one input into events; skipped items go to ``problems``."""

    def __init__(self, options: DecodeOptions, problems: Problems) -> None:
        self.max_size = options.max_event_size
        self.problems = problems
        #: Events produced so far by :meth:`events` (``evt.num`` of the last one).
        self.count = 0

    def events(self, lines: Iterable[tuple[int, bytes]], file: str) -> Iterator[AuditEvent]:
        """Every event of numbered lines, ``num`` continuing from :attr:`count`.

        The common line (one ``Event`` with a good ``stageTimestamp``, not
        over the size limit) is decoded inline; anything else takes the full
        path of :meth:`decode_line`, with the same result. A line that fails
        to parse is parsed only once: junk costs no more than an event.
        """
        loads, parse, max_size = orjson.loads, parse_time_ns, self.max_size
        for lineno, line in lines:
            if line[0] != 123:  # not "{" (a reader never yields an empty line)
                found = self.other_events(line, None, file, lineno)
            else:
                try:
                    value = loads(line)
                except orjson.JSONDecodeError as exc:
                    found = self.other_events(line, exc, file, lineno)
                else:
                    if (
                        value.__class__ is dict
                        and value.get("kind") == "Event"
                        and len(line) <= max_size
                    ):
                        t = parse(value.get("stageTimestamp"))
                        if t is not None:
                            self.count += 1
                            yield AuditEvent(value, t, self.count, file, lineno, None)
                            continue
                    found = self.other_events(line, value, file, lineno)
            for ev in found:
                self.count += 1
                ev.num = self.count
                yield ev

    def other_events(self, line: bytes, parsed: Any, file: str, lineno: int) -> list[AuditEvent]:
        """The events of a line the inline path of :meth:`events` did not take (``num``
        left 0): ``parsed`` is the line's value, the parser's error, or ``None`` for a
        line that does not start with ``{`` (it is not parsed yet). The fused run loop
        (:mod:`k8saudit_cli.fused_loop`) hands such lines here too."""
        if parsed is None:
            return self._not_an_object(line, file, lineno)
        if isinstance(parsed, orjson.JSONDecodeError):
            return self._unparsed(line, parsed, file, lineno)
        return self._value(parsed, line, file, lineno)

    def decode_line(self, line: bytes, file: str, lineno: int) -> list[AuditEvent]:
        """The events of one line (``num`` left 0); problems are recorded, never raised."""
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            return self._unparsed(line, exc, file, lineno)
        return self._value(value, line, file, lineno)

    def _not_an_object(self, line: bytes, file: str, lineno: int) -> list[AuditEvent]:
        """A line that does not start with ``{``: an array, blanks, a BOM, a LongLine, junk.

        Junk is named without the parser when the line shows what it is (NUL
        bytes, bad UTF-8, the legacy text format) or cannot be JSON at all: the
        parser's error costs microseconds, and ten million lines of junk should
        cost no more than as many events. The parser still words the
        invalid-JSON warnings that are shown.
        """
        if isinstance(line, LongLine):
            self.problems.add(
                "too_large", file, lineno, None, f"{line.size} bytes > {self.max_size}"
            )
            return []
        head = line.lstrip()
        if not head:
            return []
        if head[0] in _PARSE_FIRST or head.startswith(_BOM):
            return self.decode_line(line, file, lineno)
        # No JSON value that starts here can hold a NUL, bad UTF-8 or " AUDIT: ".
        visible = _visible_reason(line)
        if visible is None and head[0] in _JSON_STARTS:
            return self.decode_line(line, file, lineno)  # a number or literal, maybe
        reason, detail = visible or ("invalid_json", "")
        if reason == "invalid_json" and self.problems.shows(reason):
            detail = _parser_message(line)
        self.problems.add(reason, file, lineno, None, detail)
        return []

    def _unparsed(self, line: bytes, exc: Exception, file: str, lineno: int) -> list[AuditEvent]:
        """A line that is not JSON as it stands: blank, behind a BOM, too long, or junk."""
        if isinstance(line, LongLine):
            return self._not_an_object(line, file, lineno)
        if not line or line.isspace():
            return []
        if line.startswith(_BOM):
            return self.decode_line(line[3:], file, lineno)
        reason, detail = _classify_error(line, exc)
        self.problems.add(reason, file, lineno, None, detail)
        return []

    def _value(self, value: Any, line: bytes, file: str, lineno: int) -> list[AuditEvent]:
        out: list[AuditEvent] = []
        big = len(line) > self.max_size
        if isinstance(value, dict) and value.get("kind") == "Event":
            self._event(value, file, lineno, None, big, out)
        elif isinstance(value, list) or (
            isinstance(value, dict)
            and value.get("kind") == "EventList"
            and isinstance(value.get("items"), list)
        ):
            self._container(value, file, lineno, big, out, [0])
        else:
            self.problems.add("not_audit_event", file, lineno, None)
        return out

    def _container(
        self,
        value: Any,
        file: str,
        lineno: int,
        big: bool,
        out: list[AuditEvent],
        counter: list[int],
    ) -> None:
        """Walk an EventList or an array (arrays may nest), numbering every item in order.

        Each leaf (an event, or something that is not one) takes the next
        index, so warnings and events of one line say ``[0]``, ``[1]``... as
        they appear.
        """
        if isinstance(value, list):
            for item in value:
                self._container(item, file, lineno, big, out, counter)
            return
        if isinstance(value, dict):
            kind = value.get("kind")
            items = value.get("items")
            if kind == "EventList" and isinstance(items, list):
                for item in items:
                    index = self._next(counter)
                    if isinstance(item, dict):
                        self._event(item, file, lineno, index, big, out)
                    else:
                        self.problems.add(
                            "not_audit_event",
                            file,
                            lineno,
                            index,
                            "EventList item is not an object",
                        )
                return
            if kind == "Event":
                self._event(value, file, lineno, self._next(counter), big, out)
                return
        self.problems.add("not_audit_event", file, lineno, self._next(counter))

    @staticmethod
    def _next(counter: list[int]) -> int:
        index = counter[0]
        counter[0] += 1
        return index

    def _event(
        self,
        obj: dict[str, Any],
        file: str,
        lineno: int,
        index: int | None,
        big: bool,
        out: list[AuditEvent],
    ) -> None:
        if big:
            size = len(compact(obj).encode("utf-8", "surrogatepass"))
            if size > self.max_size:
                self.problems.add(
                    "too_large", file, lineno, index, f"{size} bytes > {self.max_size}"
                )
                return
        t, fallback = event_time_ns(obj)
        if t is None:
            self.problems.add(
                "no_timestamp",
                file,
                lineno,
                index,
                "no parsable stageTimestamp, requestReceivedTimestamp or timestamp",
            )
            return
        if fallback is not None:
            self.problems.add("time_fallback", file, lineno, index, f"used {fallback}")
        out.append(AuditEvent(obj, t, 0, file, lineno, index))


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
    for inp, lines in input_lines(inputs, options, on_open):
        before = (decoder.count, problems.counts.copy())
        yield from decoder.events(lines, inp.name)
        input_done(inp, problems, before, decoder.count)


def input_lines(
    inputs: Sequence[str],
    options: DecodeOptions,
    on_open: Callable[[Input], None] | None = None,
) -> Iterator[tuple[Input, Iterable[tuple[int, bytes]]]]:
    """Each input opened in turn (one at a time), with the numbered lines a decoder
    reads from it: what :func:`read_events` and the fused run loop both consume."""
    limit = line_limit(options.max_event_size)
    for inp in open_inputs(expand_inputs(inputs), on_open):
        yield inp, inp.lines(limit)


def input_done(
    inp: Input, problems: Problems, before: tuple[int, Counter[str]], events: int
) -> None:
    """Record how an input read to its end went: why it stopped early, if it did
    (a read error, a truncated stream...), and what it gave. ``before``: the event
    count and the problem counts when it began, ``events`` the event count now."""
    if inp.error is not None:
        problems.add(inp.error.reason, inp.name, inp.error.line, None, inp.error.detail)
    lines = inp.reader.count if inp.reader is not None else 0
    problems.tally(inp.name, lines, events - before[0], problems.counts - before[1])
