"""The raw bytes of one input: sniffed without loss, capped, and counted.

Three things every reader above needs from the bottom of the stack:

* the first bytes, to recognise a compression format, read *once* and then
  served again (a pipe cannot be rewound: bytes read to sniff and dropped
  are events lost);
* a cap: a regular file is read up to the size it had when the scan
  started, so data appended meanwhile is left for the next scan, with one
  process or many (a file that reports size 0, as in ``/proc``, is read to
  its end);
* a count of the bytes delivered, for progress bars and the decompression
  ratio guard.
"""

from __future__ import annotations

import io
from typing import Any, BinaryIO

#: How many leading bytes recognise every format we know (xz's magic is 6 long).
SNIFF_BYTES = 6


class ByteSource(io.RawIOBase):
    """A raw, read-only stream over ``fileobj`` with its sniffed head put back.

    ``limit`` caps the bytes delivered (``None``: to the end); ``owns`` says
    whether closing this closes ``fileobj``. Reads on a pipe
    return what is there, as a raw stream should, so lines flow as they come.
    """

    def __init__(self, fileobj: Any, limit: int | None = None, owns: bool = True) -> None:
        super().__init__()
        self._file = fileobj
        self._owns = owns  # stdin is borrowed: closing this must not close it
        # A buffered stdin (or a test's BytesIO) returns what it has with
        # ``readinto1``; a raw file's ``readinto`` is a single read already.
        self._fill = getattr(fileobj, "readinto1", None) or fileobj.readinto
        self._left = limit
        self._head = b""
        self.delivered = 0

    def sniff(self, want: int = SNIFF_BYTES) -> bytes:
        """The first bytes (at least ``want`` unless the stream is shorter, at most one
        buffer's worth); they stay to be read again."""
        buf = bytearray(max(want, 8192))
        got = 0
        while got < want:
            n = self._raw_readinto(memoryview(buf)[got:])
            if not n:
                break
            got += n
        self._head = bytes(buf[:got]) + self._head
        return self._head

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self._head:
            n = min(len(b), len(self._head))
            b[:n] = self._head[:n]
            self._head = self._head[n:]
        else:
            n = self._raw_readinto(b)
        self.delivered += n
        return n

    def _raw_readinto(self, b: Any) -> int:
        left = self._left
        if left is not None:
            if left <= 0:
                return 0
            if left < len(b):
                b = memoryview(b).cast("B")[:left]
        n = int(self._fill(b) or 0)
        if left is not None:
            self._left = left - n
        return n

    def tell(self) -> int:
        return self.delivered

    def close(self) -> None:
        if not self.closed:
            try:
                if self._owns:
                    self._file.close()
            finally:
                super().close()


def buffered(source: ByteSource) -> BinaryIO:
    """``source`` behind a 1 MiB buffer, for ``readline`` and ``peek``."""
    return io.BufferedReader(source, buffer_size=1 << 20)
