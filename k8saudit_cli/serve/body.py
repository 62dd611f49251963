"""A request body read within its limits: size, time and decompressed size.

``Content-Length`` over the limit is refused before a byte of the body is
read; a chunked body is counted while it arrives and refused as soon as it
goes over. ``Content-Encoding: gzip`` is inflated here, never by the HTTP
library, with the output bounded by the same limit, so a small "gzip bomb"
costs at most the limit in memory.
"""

from __future__ import annotations

import asyncio
import zlib
from typing import Protocol

#: Status codes of refused bodies, with the text sent back.
TOO_LARGE = 413


class BodyError(Exception):
    """A request refused with ``status`` and a short ``reason`` (sent as the body)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Stream(Protocol):
    """What is read of a request body (aiohttp's ``StreamReader``)."""

    async def readany(self) -> bytes: ...


def check_headers(content_length: int | None, encoding: str, limit: int) -> str:
    """The body's encoding (``identity`` or ``gzip``), or :class:`BodyError` before reading."""
    if content_length is not None and content_length > limit:
        raise BodyError(TOO_LARGE, f"body of {content_length} bytes is over {limit}")
    coding = encoding.strip().lower() or "identity"
    if coding == "x-gzip":
        coding = "gzip"
    if coding not in ("identity", "gzip"):
        raise BodyError(415, f"Content-Encoding '{encoding}' is not supported (use gzip)")
    return coding


async def read_body(stream: Stream, encoding: str, limit: int, timeout: float) -> tuple[int, bytes]:
    """Bytes received, and the whole body inflated; 408 after ``timeout`` s, 413 past ``limit``."""
    try:
        raw = await asyncio.wait_for(_read_bounded(stream, limit), timeout)
    except asyncio.TimeoutError:
        raise BodyError(408, f"body not received within {timeout:g} s") from None
    return len(raw), gunzip_bounded(raw, limit) if encoding == "gzip" else raw


async def _read_bounded(stream: Stream, limit: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    while True:
        chunk = await stream.readany()
        if not chunk:
            return b"".join(parts)
        size += len(chunk)
        if size > limit:
            raise BodyError(TOO_LARGE, f"body is over {limit} bytes")
        parts.append(chunk)


def gunzip_bounded(data: bytes, limit: int) -> bytes:
    """gzip data inflated (several members allowed), 413 once the output passes ``limit``."""
    out: list[bytes] = []
    size = 0
    while data:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            piece = inflater.decompress(data, limit - size + 1)
        except zlib.error as exc:
            raise BodyError(400, f"invalid gzip body: {exc}") from None
        size += len(piece)
        if size > limit or inflater.unconsumed_tail:
            raise BodyError(TOO_LARGE, f"body inflates to more than {limit} bytes")
        if not inflater.eof:
            raise BodyError(400, "invalid gzip body: truncated")
        out.append(piece)
        data = inflater.unused_data
    return b"".join(out)
