"""Where a JSON value ends, found without parsing it: bracket depth over text fed in pieces.

Strings and their escapes are understood (a ``}`` inside a string is text),
nothing else is checked: the parser that reads the value afterwards does
that. :class:`Scanner` keeps its state between pieces, so a value can be
followed across blocks of a stream, or skipped without being held.
:func:`last_member_end` finds how much of a cut object is whole.
"""

from __future__ import annotations

import re
from typing import Final

#: The bytes that change depth or open a string.
_STRUCT: Final = re.compile(rb'[\[\]{}"]')
#: The rest of a string up to its closing quote (or the end of the text, or a backslash
#: that is the last byte: its escaped byte is not there yet).
_STRING_REST: Final = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*', re.S)
#: Depth changes, member commas and string openings, for :func:`last_member_end`.
_MEMBER_STRUCT: Final = re.compile(rb'[\[\]{}",]')

_QUOTE: Final = 0x22
_OPENERS: Final = frozenset(b"{[")


class Scanner:
    """Follows one value (an object or array) from its first byte to its last.

    Feed it the text from the value's first byte on, in as many pieces as
    needed: :meth:`run` says where the value ends, or that it needs more.
    """

    __slots__ = ("depth", "in_string")

    def __init__(self) -> None:
        self.depth = 0
        self.in_string = False

    def run(self, buf: bytes, i: int) -> tuple[int, int]:
        """Scan ``buf`` from index ``i``: ``(end, i)`` where ``end`` is just past the
        value's last byte, or -1 when ``buf`` ran out first; then ``i`` is where to go
        on once more text is appended (it may point at a trailing backslash)."""
        depth, n = self.depth, len(buf)
        search, rest = _STRUCT.search, _STRING_REST.match
        while i < n:
            if self.in_string:
                i = rest(buf, i).end()  # type: ignore[union-attr]
                if i >= n or buf[i] != _QUOTE:
                    break  # the string goes on in the next piece
                self.in_string = False
                i += 1
                continue
            m = search(buf, i)
            if m is None:
                i = n
                break
            i = m.end()
            c = buf[i - 1]
            if c == _QUOTE:
                self.in_string = True
            elif c in _OPENERS:
                depth += 1
            else:
                depth -= 1
                if depth <= 0:
                    self.depth = 0
                    return i, i
        self.depth = depth
        return -1, i


def last_member_end(text: bytes) -> int | None:
    """In the cut JSON text of an object, the index of the comma after its last whole
    member (``text[:i] + b"}"`` is then a valid object), or ``None`` when no member is
    whole. Members of nested values do not count: only those of the outer object."""
    depth, i, n, last = 0, 0, len(text), None
    search, rest = _MEMBER_STRUCT.search, _STRING_REST.match
    while i < n:
        m = search(text, i)
        if m is None:
            break
        i = m.end()
        c = text[i - 1]
        if c == _QUOTE:
            i = rest(text, i).end()  # type: ignore[union-attr]
            if i >= n or text[i] != _QUOTE:
                break  # cut inside a string
            i += 1
        elif c in _OPENERS:
            depth += 1
        elif c == 0x2C:  # ","
            if depth == 1:
                last = i - 1
        else:
            depth -= 1
            if depth <= 0:
                return None  # not cut after all: the caller parses the whole text
    return last
