"""One opened input: its display name, its bounded line stream, and what went wrong.

Opening stacks the pieces: the file (or stdin) -> :class:`ByteSource`
(sniffed head put back, capped at the size seen at open, bytes counted) ->
a 1 MiB buffer -> the decompressor the head names -> :class:`LineReader`.
A problem met while reading (a truncated stream, an I/O error, a binary
file, a decompression bomb) ends this input with :attr:`Input.error` set;
what was read before still counts, and the next input is read as usual.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO, Final

from k8saudit_cli.sources.byte_source import ByteSource, buffered
from k8saudit_cli.sources.compression import (
    BINARY_PROBE,
    STREAM_ERRORS,
    UnsupportedInput,
    binary_kind,
    compression_of,
    decompressor,
)
from k8saudit_cli.sources.lines import DEFAULT_LINE_LIMIT, LineReader
from k8saudit_cli.sources.paths import STDIN
from k8saudit_cli.sources.remote import is_url, open_url

#: The ratio guard looks at a compressed line once it has inflated this far...
BOMB_MIN_BYTES: Final = 64 << 20
#: ...and gives up on the stream if it inflated more than this per compressed byte.
BOMB_RATIO: Final = 100


@dataclass(frozen=True)
class LineError:
    """Why an input stopped early (truncated or corrupt compressed data, a read error,
    a binary file, a decompression bomb): a problem reason and a detail."""

    line: int
    reason: str
    detail: str


class DecompressionBomb(Exception):
    """A compressed line inflated past the ratio guard."""


#: What ends one input's lines early without ending the scan.
_READ_FAILURES = (DecompressionBomb, *STREAM_ERRORS)


class Input:
    """One opened input: its display name, its line stream and its byte position.

    ``start``/``end`` select a byte range of a plain regular file (parallel
    chunks); by default the whole input, up to the size it had at open.
    ``position()`` reports how far into the *underlying* (possibly compressed)
    bytes we are, which is what a progress bar over file sizes needs.
    """

    def __init__(self, path: str, start: int = 0, end: int | None = None) -> None:
        self.name = "<stdin>" if path == STDIN else path
        self.path = path
        self.error: LineError | None = None
        self.compression: str | None = None
        self.reader: LineReader | None = None
        self._size: int | None = None
        self._source = self._open(start, end)
        self._raw = buffered(self._source)
        self._stream: BinaryIO = self._raw
        try:
            if start == 0 and self.error is None:
                self._unpack()
        except UnsupportedInput as exc:
            self.error = LineError(1, "binary_input", str(exc))
        except STREAM_ERRORS as exc:
            self.fail(exc, 1)
        if self.error is not None:
            if self._stream is not self._raw:
                self._stream.close()
            self._stream = io.BytesIO()  # nothing more is read from this input

    def _open(self, start: int, end: int | None) -> ByteSource:
        if self.path == STDIN:
            if sys.stdin is None:  # started with stdin closed (``<&-``)
                return self._unreadable("stdin is closed")
            return ByteSource(sys.stdin.buffer, owns=False)
        if is_url(self.path):
            return self._open_url(start, end)
        try:
            fh = open(self.path, "rb", buffering=0)
        except OSError as exc:
            # Listed at the start, gone or unreadable now (rotated, say): this input
            # is a counted problem and the scan goes on.
            return self._unreadable(f"cannot open: {_os_error_text(exc)}")
        try:
            st = os.fstat(fh.fileno())
            if stat.S_ISREG(st.st_mode):
                self._size = st.st_size
                # Read up to the size seen now: data appended during the scan is
                # left for the next one. Size 0 (procfs and the like) means unknown.
                if end is None and st.st_size > 0:
                    end = st.st_size
            if start:
                fh.seek(start)
        except OSError as exc:
            fh.close()
            return self._unreadable(_os_error_text(exc))
        return ByteSource(fh, None if end is None else max(0, end - start))

    def _open_url(self, start: int, end: int | None) -> ByteSource:
        """An object named by URL (sources/remote.py): read up to its size at open."""
        try:
            fh, self._size = open_url(self.path)
            if start:
                fh.seek(start)
        except OSError as exc:
            return self._unreadable(f"cannot open: {_os_error_text(exc)}")
        end = self._size if end is None else end
        return ByteSource(fh, None if end is None else max(0, end - start))

    def _unreadable(self, detail: str) -> ByteSource:
        """Record a read error at open; the input then reads as empty."""
        self.error = LineError(1, "read_error", detail)
        return ByteSource(io.BytesIO(), 0)

    def _unpack(self) -> None:
        """Name the compression from the head, refuse binary data, set up decompression."""
        head = self._source.sniff()
        self.compression = compression_of(head)
        if self.compression is None:
            kind = binary_kind(head)
            if kind is not None:
                raise UnsupportedInput(kind)
            return
        self._stream = decompressor(self._raw, self.compression)

    def _check_unpacked(self) -> None:
        """Refuse binary data inside a compressed stream (a .tar.gz, say). Done on the
        first read rather than at open, which only looks at the compressed head."""
        if self.compression is None or self.error is not None:
            return
        kind = binary_kind(self._stream.peek(BINARY_PROBE))  # type: ignore[attr-defined]
        if kind is not None:
            raise UnsupportedInput(f"{kind} in a {self.compression} stream")

    def size(self) -> int | None:
        """Size in bytes of a regular file input when opened, ``None`` for pipes and stdin."""
        return self._size

    def position(self) -> int:
        try:
            return self._raw.tell()
        except (OSError, ValueError):
            return 0

    @property
    def stream(self) -> BinaryIO:
        """The decompressed byte stream. Prefer :meth:`lines`, which bounds line length;
        read errors surface as :data:`STREAM_ERRORS`, which :meth:`fail` records."""
        return self._stream

    def fail(self, exc: BaseException, line: int) -> None:
        """Record why the stream broke at ``line``; what was read before still counts."""
        if isinstance(exc, EOFError):
            self.error = LineError(
                line, "truncated_stream", f"{self.compression} stream ends early (truncated file)"
            )
        elif self.compression:
            self.error = LineError(line, "truncated_stream", f"{self.compression} error: {exc}")
        else:
            self.error = LineError(line, "read_error", _os_error_text(exc))

    def lines(self, limit: int = DEFAULT_LINE_LIMIT) -> Iterator[tuple[int, bytes]]:
        """``(line_number, line)`` pairs, 1-based, blank lines left out.

        A line longer than ``limit`` bytes comes as a :class:`LongLine`, skipped
        unread. A truncated or corrupt stream, a read error, binary content or a
        decompression bomb ends the lines early and leaves the reason in :attr:`error`.
        """
        guard = _RatioGuard(self) if self.compression else None
        self.reader = LineReader(self._stream, limit, guard, _READ_FAILURES, self._failed)
        try:
            self._check_unpacked()
        except UnsupportedInput as exc:
            self.error = LineError(1, "binary_input", str(exc))
            return iter(())
        except STREAM_ERRORS as exc:
            self.fail(exc, 1)
            return iter(())
        return iter(self.reader)

    def _failed(self, exc: BaseException, begun: int) -> None:
        """The lines ended early; ``begun`` is the last line begun (a bomb is in it,
        other errors come at the start of the next)."""
        if isinstance(exc, DecompressionBomb):
            self.error = LineError(begun, "decompression_bomb", str(exc))
        else:
            self.fail(exc, begun + 1)

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            self._raw.close()


def _os_error_text(exc: BaseException) -> str:
    """``Input/output error (EIO)`` rather than ``[Errno 5] Input/output error``."""
    if isinstance(exc, OSError) and exc.strerror:
        name = errno.errorcode.get(exc.errno or 0)
        return f"{exc.strerror} ({name})" if name else exc.strerror
    return str(exc)


class _RatioGuard:
    """Gives up on a compressed input whose long line inflates too far: past
    :data:`BOMB_MIN_BYTES` at more than :data:`BOMB_RATIO` bytes per compressed byte."""

    def __init__(self, inp: Input) -> None:
        self.inp = inp
        self.started = 0

    def begin(self) -> None:
        self.started = self.inp.position()

    def check(self, skipped: int) -> None:
        if skipped < BOMB_MIN_BYTES:
            return
        packed = max(1, self.inp.position() - self.started)
        if skipped > BOMB_RATIO * packed:
            raise DecompressionBomb(
                f"{self.inp.compression} data inflates past {skipped >> 20} MiB at "
                f"{skipped // packed}:1 with no line break; the rest of this input is not read"
            )


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
