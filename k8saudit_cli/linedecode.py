"""The decoder's core: a line -> audit events (Event, EventList, arrays), and why not.

A line holds one JSON value: an ``Event``, an ``EventList`` (its ``items``),
or an array of those. Anything else is counted under a reason and warned
about (rate-limited), never fatal: one broken line must not hide the rest
of an incident's log. Values of other formats (cloud exports) are handed
to hooks that :class:`k8saudit_cli.decode.Decoder` fills in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from k8saudit_cli.event import AuditEvent
from k8saudit_cli.jsontext import compact
from k8saudit_cli.problems import Problems
from k8saudit_cli.sources import LongLine
from k8saudit_cli.timestamps import event_time_ns, parse_time_ns

DEFAULT_MAX_EVENT_SIZE = 262144


@dataclass
class DecodeOptions:
    """``max_event_size``: events whose JSON is larger are skipped. ``input_format``:
    ``k8s`` (the default here) reads the API server's JSON lines exactly as always;
    ``auto`` (the CLI's default) also reads whole JSON documents and recognises cloud
    exports per file and record; ``eks``/``gke``/``aks`` that provider's records only.
    ``salvage_truncated`` scans what a cut event still says; ``gke_faithful`` rebuilds
    GKE events as close to the API server's as the entry allows (see
    :mod:`k8saudit_cli.formats`)."""

    max_event_size: int = DEFAULT_MAX_EVENT_SIZE
    input_format: str = "k8s"
    salvage_truncated: bool = False
    gke_faithful: bool = False


# ------------------------------------------------------------------ lines


#: The bytes a JSON value can start with (after blanks).
_JSON_STARTS = frozenset(b'{["-0123456789tfn')
#: Values worth parsing whatever they hold: objects, arrays, strings.
_PARSE_FIRST = frozenset(b'{["')
_BOM = b"\xef\xbb\xbf"


def classify_error(line: bytes, exc: Exception) -> tuple[str, str]:
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


class LineDecoder:
    """Decode lines into events; skipped items go to ``problems``."""

    def __init__(self, options: DecodeOptions, problems: Problems) -> None:
        self.max_size = options.max_event_size
        self.problems = problems
        self.options = options
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
                found = self._not_an_object(line, file, lineno)
            else:
                try:
                    value = loads(line)
                except orjson.JSONDecodeError as exc:
                    found = self._unparsed(line, exc, file, lineno)
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
                    found = self._value(value, len(line), file, lineno)
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
        return self._value(parsed, len(line), file, lineno)

    def decode_line(self, line: bytes, file: str, lineno: int) -> list[AuditEvent]:
        """The events of one line (``num`` left 0); problems are recorded, never raised."""
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            return self._unparsed(line, exc, file, lineno)
        return self._value(value, len(line), file, lineno)

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
        found = self._text_record(head, len(line), file, lineno)
        if found is not None:
            return found
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
        reason, detail = classify_error(line, exc)
        self.problems.add(reason, file, lineno, None, detail)
        return []

    def _value(
        self, value: Any, size: int, file: str, lineno: int, counter: list[int] | None = None
    ) -> list[AuditEvent]:
        """The events of one JSON value of ``size`` bytes: a line, or a document's record
        (``counter`` then numbers the events of its line across records)."""
        out: list[AuditEvent] = []
        big = size > self.max_size
        if isinstance(value, dict) and value.get("kind") == "Event":
            self._event(
                value, file, lineno, None if counter is None else next_index(counter), big, out
            )
        elif (isinstance(value, list) and not self._is_record(value)) or (
            isinstance(value, dict)
            and value.get("kind") == "EventList"
            and isinstance(value.get("items"), list)
        ):
            self._container(value, file, lineno, big, out, counter or [0])
        else:
            found = self._record(value, size, file, lineno, counter or [0])
            if found is None:
                index = None if counter is None else next_index(counter)
                self.problems.add("not_audit_event", file, lineno, index)
            else:
                out = found
        return out

    # Hooks for the records of other formats (see k8saudit_cli.decode.Decoder).

    def _is_record(self, value: list[Any]) -> bool:
        """Whether a list is one record of another format, not a list of events."""
        return False

    def _record(
        self, value: Any, size: int, file: str, lineno: int, counter: list[int]
    ) -> list[AuditEvent] | None:
        """The events of a value that is no audit event; ``None``: not recognised."""
        return None

    def _text_record(
        self, head: bytes, size: int, file: str, lineno: int
    ) -> list[AuditEvent] | None:
        """The events of a line that is not JSON; ``None``: not recognised."""
        return None

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
        if isinstance(value, list) and not self._is_record(value):
            for item in value:
                self._container(item, file, lineno, big, out, counter)
            return
        if isinstance(value, dict):
            kind = value.get("kind")
            items = value.get("items")
            if kind == "EventList" and isinstance(items, list):
                for item in items:
                    index = next_index(counter)
                    if isinstance(item, dict):
                        self._event(item, file, lineno, index, big, out)
                    else:
                        detail = "EventList item is not an object"
                        self.problems.add("not_audit_event", file, lineno, index, detail)
                return
            if kind == "Event":
                self._event(value, file, lineno, next_index(counter), big, out)
                return
        found = self._record(value, self.max_size + 1 if big else 0, file, lineno, counter)
        if found is None:
            self.problems.add("not_audit_event", file, lineno, next_index(counter))
        else:
            out.extend(found)

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


def next_index(counter: list[int]) -> int:
    """The next index of a line's items (``counter`` is the line's running count)."""
    index = counter[0]
    counter[0] += 1
    return index
