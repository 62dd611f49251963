"""Whole JSON documents read record by record, in memory bounded by the largest record.

What ``gcloud ... --format=json`` and ``aws logs ... --output json`` write
is one JSON document spread over many lines; a Firehose object is JSON
values one after another with no line break. :class:`DocumentReader`
yields, in order and with the line each starts on:

* each element of a top-level array;
* each element of the array under a wrapper key (``events``, ``records``,
  ``results``, ``entries``, ``items``) of a top-level object, the other
  members being skipped;
* every other top-level value whole (JSON values one after another, on one
  line or pretty-printed, as ``jq .`` writes them).

Finding where a record ends is the cost that matters, so it is done with
C-speed searches whose result the parser then confirms: a pretty-printed
element ends at the first line holding only its closing bracket at its own
indentation; a top-level value at the end of its line or before the next
value's ``{``. Only when that guess fails (odd layout, a compact array) is
the text followed byte class by byte class (:class:`~.jsonscan.Scanner`).
A record larger than the limit is skipped without being held.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any, Final

import orjson

from k8saudit_cli.formats.docbuffer import (
    BLOCK,
    SCALAR,
    DocBuffer,
    TooLarge,
    find_bytes,
    find_in,
)
from k8saudit_cli.formats.jsonscan import Scanner

#: Keys whose array is streamed element by element.
STREAM_KEYS: Final = frozenset({b"events", b"records", b"results", b"entries", b"items"})
#: How far into a top-level object a wrapper key is looked for (wrappers put it first,
#: or after a few short members: an EventList's kind and metadata, a Firehose
#: transformation's invocationId, deliveryStreamArn and region).
WRAPPER_WINDOW: Final = 1024

_QUOTED_KEYS: Final = tuple(b'"' + key + b'"' for key in sorted(STREAM_KEYS))
_WRAPPER: Final = re.compile(rb'"(?:events|records|results|entries|items)"\s*:\s*\[')
_BOM: Final = b"\xef\xbb\xbf"
#: A comma, a line break and the indented opening of the next element.
_NEXT_ELEMENT: Final = re.compile(rb",[ \t\r]*\n([ \t]*)[{\[]")
_CLOSER: Final = {0x7B: b"}", 0x5B: b"]"}


@dataclass(slots=True)
class DocRecord:
    """One record: the line it starts on, its parsed value and its size in bytes, or
    ``error`` (a problem reason and detail) when it is not usable (``value`` then holds
    a line that is not JSON, for the decoder to try as base64 records); ``whole_line``
    when it is a line by itself (JSON lines read as a document), numbered as one."""

    line: int
    value: Any = None
    size: int = 0
    error: tuple[str, str] | None = None
    #: The record is a whole line by itself (JSON lines read as a document).
    whole_line: bool = False


#: Records, then the offset after the value they came from (``None``: the input ended).
_Records = Generator[DocRecord, None, int | None]


class DocumentReader(DocBuffer):
    """Records of the JSON document(s) read with ``read(n)`` (``b""`` at the end)."""

    def __init__(self, read: Callable[[int], bytes], limit: int, block: int = BLOCK) -> None:
        super().__init__(read, limit, block)
        #: Whether a top-level value has been a whole line (JSON lines, not pretty-printed).
        self._lines_seen = False

    # ------------------------------------------------------------ records

    def __iter__(self) -> Iterator[DocRecord]:
        pos = self._blank(0)
        if pos is not None and self.buf.startswith(_BOM):
            pos = self._blank(3)
        while pos is not None:
            c = self._byte(pos)
            if c == 0x5B:  # "["
                pos = yield from self._array(pos)
            elif c == 0x7B:  # "{"
                pos = yield from self._object(pos)
            else:
                pos = yield from self._junk(pos)
            if pos is None:
                return
            pos = self._blank(pos)

    def _junk(self, pos: int) -> _Records:
        """Text that starts no JSON value: one problem, then on from the next line."""
        line = self.line_of(pos)
        end = self._line_end(pos)
        text = self._text(pos, end) if end is not None and end - pos <= self.limit else b""
        yield DocRecord(line, text, len(text), ("invalid_json", "not a JSON object or array"))
        return end

    def _line_end(self, pos: int) -> int | None:
        try:
            end = self._search(find_bytes(b"\n"), pos, pos)
        except TooLarge:
            end = self._skip_to_newline()
        return None if end < 0 else end

    def _array(self, start: int) -> _Records:
        """Each element of the array opening at ``start``; returns the offset after it."""
        first_line = self.line_of(start)
        pos: int | None = start + 1
        while True:
            assert pos is not None
            at = self._blank(pos)
            if at is None:
                yield DocRecord(first_line, error=_CUT_ARRAY)
                return None
            c = self._byte(at)
            if c == 0x5D:  # "]"
                return at + 1
            if c == 0x2C:  # ","
                pos = at + 1
                continue
            record, pos = self._element(at)
            yield record
            if pos is None:
                return None
            pos = yield from self._pretty_run(pos)

    def _pretty_run(self, pos: int) -> _Records:
        """The elements that follow laid out as the one before (``,`` line break, indent,
        ``{``, ..., a line of the indent and ``}``): two C searches and a parse each.
        Returns where the run stopped (the general path goes on from there)."""
        m = _NEXT_ELEMENT.match(self.buf, pos - self.base)
        if m is None:
            return pos
        head = m.group(0)
        marker = b"\n" + m.group(1) + _CLOSER[head[-1]]
        loads, find, limit = orjson.loads, find_in, self.limit
        while True:
            buf, base = self.buf, self.base
            i = pos - base
            if not buf.startswith(head, i):
                return pos
            at = i + len(head) - 1
            end = find(buf, marker, at)
            if end < 0 or end - at > limit:
                return pos  # to be read on (or skipped) by the general path
            try:
                value = loads(buf[at:end])
            except orjson.JSONDecodeError:
                return pos
            yield DocRecord(self.line_of(base + at), value, end - at)
            pos = base + end

    def _element(self, at: int) -> tuple[DocRecord, int | None]:
        """One array element: by its closing line when pretty-printed, else followed."""
        line = self.line_of(at)
        c = self._byte(at)
        if c not in _CLOSER:
            return self._scalar(at, line)
        indent = self._indent(at)
        if indent is not None:
            try:
                end = self._search(find_bytes(b"\n" + indent + _CLOSER[c]), at, at)
            except TooLarge:
                return self._skipped(at, line)
            if end > 0:
                record = self._parsed(at, end, line)
                if record.error is None:
                    return record, end
        return self._followed(at, line)

    def _indent(self, at: int) -> bytes | None:
        """The blanks before ``at`` on its line, or ``None`` if other text precedes it."""
        i = at - self.base
        line_start = self.buf.rfind(b"\n", 0, i) + 1
        if line_start == 0 and self.base > 0:
            return None  # the line began before the buffer: not a layout to trust
        indent = self.buf[line_start:i]
        return indent if not indent.strip(b" \t") else None

    def _followed(self, at: int, line: int) -> tuple[DocRecord, int | None]:
        """Find the end by following strings and brackets; then parse."""
        scanner, i = Scanner(), at
        while True:
            end, i_rel = scanner.run(self.buf, i - self.base)
            i = self.base + i_rel
            if end >= 0:
                end += self.base
                return self._parsed(at, end, line), end
            if self._end() - at > self.limit:
                return self._skip_rest(scanner, i, at, line)
            if not self._fill(at):
                return DocRecord(line, error=_CUT_DOCUMENT), None

    def _skipped(self, at: int, line: int) -> tuple[DocRecord, int | None]:
        """A record past the limit: followed from its start without being held."""
        scanner = Scanner()
        end, i_rel = scanner.run(self.buf, at - self.base)
        if end >= 0:  # the value ended in what is held, but it is still too large
            return _too_large(line, self.base + end - at), self.base + end
        return self._skip_rest(scanner, self.base + i_rel, at, line)

    def _skip_rest(
        self, scanner: Scanner, i: int, at: int, line: int
    ) -> tuple[DocRecord, int | None]:
        while self._fill(i):
            end, i_rel = scanner.run(self.buf, i - self.base)
            i = self.base + i_rel
            if end >= 0:
                return _too_large(line, self.base + end - at), self.base + end
        return DocRecord(line, error=_CUT_DOCUMENT), None

    def _scalar(self, at: int, line: int) -> tuple[DocRecord, int | None]:
        while True:
            m = SCALAR.match(self.buf, at - self.base)
            if m is not None and m.end() < len(self.buf):
                end = self.base + m.end()
                return self._parsed(at, end, line), end
            if self._end() - at > self.limit:
                return self._skipped_line(at, line)
            if not self._fill(at):
                if m is None:
                    return DocRecord(line, error=_CUT_DOCUMENT), None
                return self._parsed(at, self._end(), line), self._end()

    def _skipped_line(self, at: int, line: int) -> tuple[DocRecord, int | None]:
        end = self._skip_to_newline()
        return _too_large(line, self._end() - at), (None if end < 0 else end)

    def _parsed(self, at: int, end: int, line: int) -> DocRecord:
        """The record of the text from ``at`` to ``end`` (starting on ``line``); a parse
        error says where in the file it is, not where in the record."""
        text = self._text(at, end)
        try:
            return DocRecord(line, orjson.loads(text), len(text))
        except orjson.JSONDecodeError as exc:
            row, col = line + exc.lineno - 1, exc.colno
            if exc.lineno == 1:
                col += self.column(at) - 1
            detail = f"{exc.msg} (line {row}, column {col})"
            return DocRecord(line, size=len(text), error=("invalid_json", detail))

    # ------------------------------------------------------------ top-level objects

    def _object(self, at: int) -> _Records:
        """A top-level object: a wrapper's records streamed, or the object as one record."""
        wrapped = self._wrapper_array(at)
        if wrapped is not None:
            end = yield from self._array(wrapped)
            if end is None:
                return None
            return self._rest_of_object(end)
        record, end = self._top_value(at)
        yield record
        return end

    def _wrapper_array(self, at: int) -> int | None:
        """If the object at ``at`` has a wrapper key among its own members, within
        :data:`WRAPPER_WINDOW`, the offset of that key's ``[``; else ``None``."""
        while self._end() - at < WRAPPER_WINDOW and self._fill(at):
            pass
        window = self.buf[at - self.base : at - self.base + WRAPPER_WINDOW]
        if not any(key in window for key in _QUOTED_KEYS):
            return None  # the common case, settled by C searches
        last = None
        for m in _WRAPPER.finditer(window):
            last = at + m.end()
        if last is None:
            return None
        try:
            return self._member_array(at, last)
        except TooLarge:
            return None

    def _member_array(self, at: int, last: int) -> int | None:
        """Walk the object's members up to offset ``last``, looking for a wrapper key
        (holding on to the object from ``at``: it is one record if it is no wrapper)."""
        pos = at + 1
        while pos < last:
            key = self._key(pos, at)
            if key is None:
                return None
            name, value_at = key
            if name in STREAM_KEYS and self._byte(value_at) == 0x5B:
                return value_at
            after = self._skip_value(value_at, at)
            at_next = None if after is None else self._blank(after, at)
            if at_next is None or self._byte(at_next) != 0x2C:
                return None
            pos = at_next + 1
        return None

    def _rest_of_object(self, pos: int) -> int | None:
        """Skip the members after a wrapper's array, up to the object's ``}``."""
        while True:
            at = self._blank(pos)
            if at is None:
                return None
            c = self._byte(at)
            if c == 0x7D:  # "}"
                return at + 1
            if c != 0x2C:
                return at  # not JSON: the top level will say so
            key = self._key(at + 1, at)
            if key is None:
                return None
            try:
                after = self._skip_value(key[1], key[1])
            except TooLarge:
                return None
            if after is None:
                return None
            pos = after

    def _top_value(self, at: int) -> tuple[DocRecord, int | None]:
        """A top-level value that is not a wrapper: a line, one of several values on a
        line, or a pretty-printed value over several lines."""
        line = self.line_of(at)
        frm = at
        while True:
            try:
                end = self._search(_find_top_end, at, frm)
            except TooLarge:
                return self._skipped(at, line)
            if end < 0:
                end = self._end()
                return self._parsed(at, end, line), end
            if self._byte(end - 1) == 0x0A:  # "\n": the value's line is complete
                return self._line_value(at, end, line)
            record = self._parsed(at, end, line)  # closed right before the next value
            if record.error is None:
                return record, end
            frm = end

    def _line_value(self, at: int, end: int, line: int) -> tuple[DocRecord, int | None]:
        text = self._text(at, end)
        record = self._parsed(at, end, line)
        if record.error is None:
            self._lines_seen = record.whole_line = True
            return record, end
        if self._lines_seen or not record.error[1].startswith("unexpected end of data"):
            return record, end  # a broken line among lines: skip just it
        indent = self._indent(at)
        if indent is not None and not text.strip()[1:]:
            closer = _CLOSER[self._byte(at)]
            try:
                stop = self._search(find_bytes(b"\n" + indent + closer), at, at)
            except TooLarge:
                return self._skipped(at, line)
            if stop > 0:
                pretty = self._parsed(at, stop, line)
                if pretty.error is None:
                    return pretty, stop
        return self._followed(at, line)


_CUT_DOCUMENT: Final = ("invalid_json", "the document ends inside this record (a cut file?)")
_CUT_ARRAY: Final = ("invalid_json", "the document ends before this array is closed (a cut file?)")


def _find_top_end(buf: bytes, i: int) -> tuple[int, int]:
    """The end of a top-level value's line, or a ``}{`` where one object closes right
    before the next (values written with no separator, as Firehose does). Looked for
    in a growing window, so neither search runs far past the record."""
    size, n = 1 << 14, len(buf)
    while True:
        hi = min(n, i + size)
        joined = buf.find(b"}{", i, hi)
        line_end = buf.find(b"\n", i, joined if joined >= 0 else hi)
        if line_end >= 0:
            return line_end, 1
        if joined >= 0 or hi == n:
            return joined, 1
        size <<= 2


def _too_large(line: int, size: int) -> DocRecord:
    return DocRecord(line, size=size, error=("too_large", f"{size} bytes"))
