"""A window on a stream of JSON text: read on as needed, dropped behind, lines counted.

What :class:`~k8saudit_cli.formats.jsondoc.DocumentReader` stands on: the
buffer holds from the start of the record being read to what has been read,
so memory is bounded by the largest record (plus a block); offsets are
stream offsets, so they survive the buffer being shifted; line numbers are
counted with C-speed ``count`` as records are handed out. Also here: the
small searches the reader is built of (blanks, a byte string, a member's
key, the end of a member's value).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from k8saudit_cli.formats.jsonscan import Scanner

#: Bytes read from the stream at a time.
BLOCK: Final = 1 << 20

_BLANKS: Final = re.compile(rb"[ \t\r\n]*")
_KEY: Final = re.compile(rb'"([^"\\]*(?:\\.[^"\\]*)*)"[ \t\r\n]*:[ \t\r\n]*', re.S)
#: A JSON scalar: a string, a number, a literal.
SCALAR: Final = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[-+0-9.eE]+|true|false|null', re.S)
_CLOSERS: Final = frozenset(b"{[")


class TooLarge(Exception):
    """A record grew past the limit before its end was found."""


class DocBuffer:
    """The text of ``read(n)`` (``b""`` at the end) held from the record being read on."""

    def __init__(self, read: Callable[[int], bytes], limit: int, block: int = BLOCK) -> None:
        self._read = read
        self.limit = limit
        self.block = block
        self.buf = b""
        self.base = 0  # stream offset of buf[0]
        self.eof = False
        self._line = 1
        self._line_pos = 0
        self._last = b""  # the last byte read: does the text end with a line break?
        self._line_start = 0  # where the last line that began in dropped text begins

    def _fill(self, keep: int) -> bool:
        """Append a block, dropping what lies before stream offset ``keep``; False at the end."""
        if self.eof:
            return False
        block = self._read(self.block)
        if not block:
            self.eof = True
            return False
        self._last = block[-1:]
        if keep > self.base:
            self.line_of(keep)
            newline = self.buf.rfind(b"\n", 0, keep - self.base)
            if newline >= 0:
                self._line_start = self.base + newline + 1
            self.buf = self.buf[keep - self.base :] + block
            self.base = keep
        else:
            self.buf += block
        return True

    def _end(self) -> int:
        return self.base + len(self.buf)

    def line_of(self, pos: int) -> int:
        """The line number at stream offset ``pos`` (offsets asked for never go back)."""
        if pos > self._line_pos:
            lo, hi = self._line_pos - self.base, pos - self.base
            self._line += self.buf.count(b"\n", lo, hi)
            self._line_pos = pos
        return self._line

    def reached(self) -> int:
        """The line the reader has read up to (for a read failure's message)."""
        held = self.buf.count(b"\n", max(0, self._line_pos - self.base))
        return self._line + held

    def lines_read(self) -> int:
        """Lines read so far, a last one without a line break too (as a line reader
        counts them)."""
        return self.reached() - (1 if self._last in (b"\n", b"") else 0)

    def column(self, pos: int) -> int:
        """The 1-based column of stream offset ``pos`` (in bytes)."""
        i = pos - self.base
        newline = self.buf.rfind(b"\n", 0, i)
        return pos - (self.base + newline + 1 if newline >= 0 else self._line_start) + 1

    def _byte(self, pos: int) -> int:
        return self.buf[pos - self.base]

    def _text(self, start: int, end: int) -> bytes:
        return self.buf[start - self.base : end - self.base]

    def _blank(self, pos: int, keep: int | None = None) -> int | None:
        """The offset of the next byte that is not a blank, or ``None`` at the end
        (what lies before ``keep``, by default all that is read, may be dropped)."""
        while True:
            i = _BLANKS.match(self.buf, pos - self.base).end()  # type: ignore[union-attr]
            if i < len(self.buf):
                return self.base + i
            if not self._fill(self._end() if keep is None else keep):
                return None
            pos = max(pos, self.base)

    def _search(self, find: Callable[[bytes, int], tuple[int, int]], start: int, frm: int) -> int:
        """Offset just past the first match of ``find`` at or after ``frm``, reading on as
        needed; -1 at the end. Raises :class:`TooLarge` past the limit from ``start``."""
        while True:
            at, length = find(self.buf, frm - self.base)
            if at >= 0:
                return self.base + at + length
            if self._end() - start > self.limit:
                raise TooLarge
            back = self._end() - 64  # a match may straddle the old end
            if not self._fill(start):
                return -1
            frm = max(start, back)

    def _skip_to_newline(self) -> int:
        """Drop text up to the next line break (an over-long junk line)."""
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                return self.base + i + 1
            if not self._fill(self._end()):
                return -1

    def _key(self, pos: int, keep: int) -> tuple[bytes, int] | None:
        """A member's key and the offset of its value."""
        at = self._blank(pos, keep)
        while at is not None:
            m = _KEY.match(self.buf, at - self.base)
            if m is not None and m.end() < len(self.buf):
                return m.group(1), self.base + m.end()
            if self._end() - keep > self.limit or not self._fill(keep):
                return None
        return None

    def _skip_value(self, at: int, keep: int) -> int | None:
        """Offset after the member value at ``at`` (not parsed)."""
        if self._byte(at) in _CLOSERS:
            scanner, i = Scanner(), at
            while True:
                end, i_rel = scanner.run(self.buf, i - self.base)
                i = self.base + i_rel
                if end >= 0:
                    return self.base + end
                if self._end() - keep > self.limit:
                    raise TooLarge
                if not self._fill(keep):
                    return None
        while True:
            m = SCALAR.match(self.buf, at - self.base)
            if m is not None and m.end() < len(self.buf):
                return self.base + m.end()
            if self._end() - keep > self.limit or not self._fill(keep):
                return None if m is None else self.base + m.end()


def find_bytes(needle: bytes) -> Callable[[bytes, int], tuple[int, int]]:
    """A search for ``needle``: (where it starts, its length)."""
    n = len(needle)

    def find(buf: bytes, i: int) -> tuple[int, int]:
        return buf.find(needle, i), n

    return find


def find_in(buf: bytes, marker: bytes, at: int) -> int:
    """The offset just past ``marker`` after ``at`` in ``buf``, or -1."""
    i = buf.find(marker, at)
    return -1 if i < 0 else i + len(marker)
