"""Open inputs (files, directories, globs, stdin) as streams of numbered lines.

Compressed inputs (gzip, bzip2, xz) are recognised by their magic bytes, not
their names, and decompressed on the fly. Nothing here holds more than one
line in memory, so a 20 MB line or a 20 GB file are both fine.
"""

from __future__ import annotations

import bz2
import glob
import gzip
import io
import lzma
import os
import sys
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO, cast

from k8saudit_cli.errors import InputError

STDIN = "-"

_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
)
_GLOB_CHARS = frozenset("*?[")


#: What reading a (possibly compressed) stream can raise part-way.
STREAM_ERRORS = (EOFError, OSError, zlib.error, lzma.LZMAError, ValueError)


@dataclass(frozen=True)
class LineError:
    """A stream that broke part-way (truncated or corrupt compressed data)."""

    line: int
    reason: str
    detail: str


def expand_inputs(specs: Sequence[str]) -> list[str]:
    """Turn command-line inputs into an ordered list of readable paths.

    A directory gives its regular files (not recursing) in name order; a
    pattern with ``* ? [`` gives its matches in name order; ``-`` is stdin.
    Raises :class:`InputError` for a path that does not exist or a pattern
    that matches nothing, before any event is read.
    """
    paths: list[str] = []
    for spec in specs:
        if spec == STDIN:
            paths.append(STDIN)
        elif os.path.isdir(spec):
            paths.extend(_dir_files(spec))
        elif os.path.exists(spec):
            if not os.access(spec, os.R_OK):
                raise InputError(f"cannot open '{spec}': permission denied")
            paths.append(spec)
        elif _GLOB_CHARS & set(spec):
            matches = sorted(p for p in glob.glob(spec) if os.path.isfile(p))
            if not matches:
                raise InputError(f"no file matches '{spec}'")
            paths.extend(matches)
        else:
            raise InputError(f"cannot open '{spec}': no such file or directory")
    return paths


def _dir_files(path: str) -> list[str]:
    try:
        names = sorted(os.listdir(path))
    except OSError as exc:
        raise InputError(f"cannot read directory '{path}': {exc.strerror}") from None
    return [os.path.join(path, n) for n in names if os.path.isfile(os.path.join(path, n))]


def compression_of(head: bytes) -> str | None:
    """The compression format named by the first bytes of a stream, if any."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return None


def _open_raw(path: str) -> BinaryIO:
    if path == STDIN:
        return sys.stdin.buffer
    try:
        return open(path, "rb", buffering=1 << 20)
    except OSError as exc:
        raise InputError(f"cannot open '{path}': {exc.strerror or exc}") from None


class Input:
    """One opened input: its display name, its line stream and its byte position.

    ``position()`` reports how far into the *underlying* (possibly compressed)
    bytes we are, which is what a progress bar over file sizes needs.
    """

    def __init__(self, path: str) -> None:
        self.name = "<stdin>" if path == STDIN else path
        self.path = path
        raw = _open_raw(path)
        # A replaced stdin (tests, embedding) may be any binary stream with ``readinto``.
        buffered = (
            raw
            if isinstance(raw, io.BufferedReader)
            else io.BufferedReader(cast(io.RawIOBase, raw))
        )
        self._raw = buffered
        self.compression = compression_of(buffered.peek(6)[:6])
        self._stream: BinaryIO = _decompressor(buffered, self.compression)
        self.error: LineError | None = None

    def size(self) -> int | None:
        """Size in bytes of a regular file input, ``None`` for pipes and stdin."""
        if self.path == STDIN:
            return None
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_size if os.path.isfile(self.path) else None

    def position(self) -> int:
        try:
            return self._raw.tell()
        except (OSError, ValueError):
            return 0

    @property
    def stream(self) -> BinaryIO:
        """The decompressed byte stream; iterate it for lines. Read errors surface
        as :data:`STREAM_ERRORS`, which :meth:`fail` turns into :attr:`error`."""
        return self._stream

    def fail(self, exc: BaseException, line: int) -> None:
        """Record why the stream broke at ``line``; what was read before still counts."""
        if isinstance(exc, EOFError):
            self.error = LineError(
                line, "truncated_stream", f"{self.compression} stream ends early (truncated file)"
            )
        else:
            reason = "truncated_stream" if self.compression else "read_error"
            self.error = LineError(line, reason, f"{self.compression or 'read'} error: {exc}")

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """Yield ``(line_number, bytes)`` pairs; line numbers are 1-based.

        A truncated or corrupt compressed stream ends the iteration early and
        leaves the reason in :attr:`error`; what was read before still counts.
        """
        lineno = 0
        try:
            for lineno, line in enumerate(self._stream, 1):
                yield lineno, line
        except STREAM_ERRORS as exc:
            self.fail(exc, lineno + 1)

    def close(self) -> None:
        if self.path != STDIN:
            self._stream.close()
            self._raw.close()


def _decompressor(raw: BinaryIO, compression: str | None) -> BinaryIO:
    """The decompressed stream. These readers buffer lines themselves: another
    buffer on top would ask for 1 MiB at a time and lose what was decompressed
    of that MiB when the stream turns out truncated."""
    if compression == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if compression == "bzip2":
        return bz2.BZ2File(raw, mode="rb")  # type: ignore[return-value]
    if compression == "xz":
        return lzma.LZMAFile(raw, mode="rb")  # type: ignore[return-value]
    return raw


def open_inputs(
    paths: Sequence[str], on_open: Callable[[Input], None] | None = None
) -> Iterator[Input]:
    """Open each path in turn (lazily, so only one file is open at a time)."""
    for path in paths:
        inp = Input(path)
        if on_open is not None:
            on_open(inp)
        try:
            yield inp
        finally:
            inp.close()
