"""Numbered lines of a byte stream, with a bound on how much of one line is held.

A line longer than the bound is not read into memory: it is skipped by
scanning to its line break a block at a time, and handed on as a
:class:`LongLine` that says how long it was, so the decoder can count and
name it like any other skipped line. Memory stays at one block whatever the
input: a 200 MB line, ``/dev/zero`` or 10 GB of gzipped zeros alike.

Blank lines (a bare ``\\n``) are consumed here and never handed on, a whole
run of them at a time: their numbers simply go by.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import BinaryIO, Final, Protocol

#: How far a line may run past ``--max-event-size`` before it is skipped unread.
#: Room for an ``EventList`` or array line carrying several events, each of
#: which the decoder still holds to the size limit.
LINE_SLACK: Final = 4 << 20
#: Bytes read at a time while skipping a long line.
SKIP_BLOCK: Final = 1 << 20
#: The decoder's default ``--max-event-size`` (kept here so sources need not import it).
DEFAULT_EVENT_SIZE: Final = 262144


def line_limit(max_event_size: int) -> int:
    """The longest line (in bytes, not counting its line break) read into memory."""
    return max_event_size + LINE_SLACK


DEFAULT_LINE_LIMIT: Final = line_limit(DEFAULT_EVENT_SIZE)


class LongLine(bytes):
    """Stands in for a line that was longer than the bound: a one-space ``bytes``
    (so it flows wherever a line does, and no JSON parser takes it) with ``size``,
    the line's length without its line break, which is also its ``len()``."""

    size: int

    def __new__(cls, size: int) -> LongLine:
        line = super().__new__(cls, b" ")
        line.size = size
        return line

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return f"LongLine({self.size})"


class SkipGuard(Protocol):
    """Watches a long line being skipped; may raise to give up on the stream
    (the decompression ratio guard does)."""

    def begin(self) -> None:
        """A long line starts being skipped."""

    def check(self, skipped: int) -> None:
        """Called every :data:`SKIP_BLOCK` with the bytes skipped so far."""


class LineReader:
    """Iterate ``(line_number, line)`` (a line may be a :class:`LongLine`); :attr:`count`
    is the last line number read.

    ``count`` includes blank lines, which are not yielded, so a caller that
    splits a file in pieces can still number the next piece. An exception of
    a type in ``catch`` ends the lines and goes to ``on_error`` with the
    number of the last line begun (the owner words it; the reader stays the
    only generator between the stream and the decoder).
    """

    def __init__(
        self,
        stream: BinaryIO,
        limit: int,
        guard: SkipGuard | None = None,
        catch: tuple[type[BaseException], ...] = (),
        on_error: Callable[[BaseException, int], None] | None = None,
    ) -> None:
        self.stream = stream
        self.limit = limit
        self.guard = guard
        self.catch = catch
        self.on_error = on_error
        self.count = 0
        self._peek = getattr(stream, "peek", None)

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        readline = self.stream.readline
        cap = self.limit + 1
        lineno = self.count
        try:
            while True:
                line = readline(cap)
                if not line:
                    return
                lineno += 1
                if len(line) < cap or line[-1] == 10:
                    if line != b"\n":
                        yield lineno, line
                    elif self._peek is not None:
                        lineno += skip_blank_run(self.stream, self._peek)
                    continue
                # Longer than the bound: scan on to the line break, holding one block.
                if self.guard is not None:
                    self.guard.begin()
                yield lineno, LongLine(skip_line(self.stream, line, self.guard))
        except self.catch as exc:
            if self.on_error is None:
                raise
            self.on_error(exc, lineno)
        finally:
            self.count = lineno


_NOT_NEWLINE = re.compile(b"[^\n]")


def skip_blank_run(stream: BinaryIO, peek: Callable[[int], bytes]) -> int:
    """Consume the empty lines that follow in the stream's buffer; how many there were.

    Only runs after a blank line, so a log without blank lines never pays
    for it; a run of millions costs a regex scan per buffer, not a loop turn
    per line.
    """
    skipped = 0
    while True:
        buf = peek(1)
        if not buf:
            return skipped
        other = _NOT_NEWLINE.search(buf)
        run = other.start() if other else len(buf)
        if run:
            stream.read(run)
            skipped += run
        if other is not None:
            return skipped


def skip_line(stream: BinaryIO, first: bytes, guard: SkipGuard | None = None) -> int:
    """Read on to the end of a line whose ``first`` bytes (no line break yet) are
    already read; the line's size, its line break (``\\n`` or ``\\r\\n``) excluded."""
    size, before = len(first), first[-1:]
    while True:
        block = stream.readline(SKIP_BLOCK)
        if not block:
            return size
        if block[-1] == 10:
            crlf = block.endswith(b"\r\n") or (block == b"\n" and before == b"\r")
            return size + len(block) - (2 if crlf else 1)
        size += len(block)
        before = block[-1:]
        if guard is not None:
            guard.check(size)
