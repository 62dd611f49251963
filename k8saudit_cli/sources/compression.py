"""Recognise how an input is packed from its first bytes, and unpack it on the fly.

gzip, bzip2, xz and zstd are read, by content, never by file name. Other
archive and compression formats, and binary data in general, are recognised
only so they can be refused once, by name, instead of giving a warning per
line of garbage. Every decompressor here returns bounded output per read:
memory never depends on how far a stream inflates.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zlib
from typing import Any, BinaryIO, Final

_MAGIC: Final = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)
#: Formats we can name but not read.
_UNSUPPORTED: Final = (
    (b"PK\x03\x04", "zip archive"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"\x04\x22\x4d\x18", "lz4"),
    (b"LZIP", "lzip"),
    (b"\x1f\x9d", "compress (.Z)"),
    (b"\xff\xfe", "UTF-16 or UTF-32 text"),
    (b"\xfe\xff", "UTF-16 text"),
)
#: How much of the start of a stream is looked at for NUL bytes.
BINARY_PROBE: Final = 8192
#: Compressed bytes fed to zstd per call: zstd inflates at most ~32768:1, so a
#: call returns at most 8 MiB whatever the input.
_ZSTD_FEED: Final = 256


class UnsupportedInput(Exception):
    """The input is compressed in a format we cannot read, or is not text at all."""


def compression_of(head: bytes) -> str | None:
    """The compression format named by the first bytes of a stream, if any."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    if len(head) >= 4 and head[0] & 0xF0 == 0x50 and head[1:4] == b"\x2a\x4d\x18":
        return "zstd"  # a skippable frame first, as pzstd writes
    return None


def binary_kind(head: bytes) -> str | None:
    """What a head that cannot be audit-log text looks like, or ``None`` when it could be.

    Binary means a known magic, or NUL bytes in a head that does not start
    like JSON. A JSON log with a stray NUL in some line is still text: that
    line gets its own warning and the rest is read.
    """
    for magic, name in _UNSUPPORTED:
        if head.startswith(magic):
            return name
    probe = head[:BINARY_PROBE]
    if b"\x00" not in probe:
        return None
    if probe[:2] in (b"{\x00", b"[\x00", b"\x00{", b"\x00["):
        return "UTF-16 text"
    if probe.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] in (b"{", b"["):
        return None
    return "binary data"


def splittable(head: bytes) -> bool:
    """Whether a regular file starting with ``head`` may be cut into byte ranges read
    apart: plain text only (a compressed or binary file is read whole, by one reader)."""
    return compression_of(head) is None and binary_kind(head) is None


def decompressor(raw: BinaryIO, compression: str | None) -> BinaryIO:
    """The decompressed stream. These readers buffer lines themselves: another
    buffer on top would ask for 1 MiB at a time and lose what was decompressed
    of that MiB when the stream turns out truncated."""
    if compression == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if compression == "bzip2":
        return bz2.BZ2File(raw, mode="rb")  # type: ignore[return-value]
    if compression == "xz":
        return lzma.LZMAFile(raw, mode="rb")  # type: ignore[return-value]
    if compression == "zstd":
        return io.BufferedReader(ZstdReader(raw), buffer_size=1 << 16)
    return raw


class ZstdReader(io.RawIOBase):
    """zstd frames (any number, skippable ones too) as a raw stream.

    ``zstandard``'s own stream reader ends quietly on a truncated frame; here
    the frame state is watched, so a cut stream raises :class:`EOFError` like
    gzip, bzip2 and xz do.
    """

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        try:
            import zstandard
        except ImportError:  # pragma: no cover - a declared dependency
            raise UnsupportedInput("zstd (install the 'zstandard' package to read it)") from None
        self._raw = raw
        self._new = zstandard.ZstdDecompressor().decompressobj
        self._error = zstandard.ZstdError
        self._obj = self._new()
        self._in_frame = False
        self._out = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._out:
            if not self._more():
                return 0
        n = min(len(b), len(self._out))
        b[:n] = self._out[:n]
        self._out = self._out[n:]
        return n

    def _more(self) -> bool:
        data = self._raw.read(_ZSTD_FEED)
        if not data:
            if self._in_frame:
                raise EOFError("zstd stream ends early")
            return False
        try:
            out = self._obj.decompress(data)
            self._in_frame = True
            while self._obj.eof:  # a frame ended inside ``data``: start the next
                rest = self._obj.unused_data
                self._obj, self._in_frame = self._new(), False
                if not rest:
                    break
                out += self._obj.decompress(rest)
                self._in_frame = True
        except self._error as exc:
            raise OSError(str(exc)) from None
        self._out = memoryview(out)
        return True


#: What reading a (possibly compressed) stream can raise part-way.
STREAM_ERRORS: Final = (EOFError, OSError, zlib.error, lzma.LZMAError, ValueError)
