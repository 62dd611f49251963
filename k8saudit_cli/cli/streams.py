"""stdout and stderr as the command line needs them, whatever state the caller left them in.

A descriptor closed by the shell (``>&-``, ``2>&-``) is held on /dev/null,
so that no file opened later lands on it; stderr that cannot be written
(closed, a full disk, a vanished terminal) drops our diagnostics instead of
failing: a warning that cannot be shown must never stop a scan or change
its exit code. stdout is left as it is: a command that must write there
says so itself.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


class QuietStderr(io.TextIOWrapper):
    """stderr that drops what it cannot write instead of raising."""

    def write(self, text: str) -> int:
        try:
            return super().write(text)
        except OSError:
            return len(text)

    def flush(self) -> None:
        try:
            super().flush()
        except OSError:
            pass


@contextmanager
def tolerant_std_streams() -> Iterator[None]:
    """For the length of a command: closed descriptors held, the process's stderr quiet.

    Only the process's own stderr is replaced (a test runner's capture is left alone).
    """
    _hold_closed(1)
    _hold_closed(2)
    original = sys.stderr
    if original is None or original is sys.__stderr__:
        sys.stderr = _quiet(original)
    try:
        yield
    finally:
        if sys.stderr is not original:
            sys.stderr.flush()
            sys.stderr = original


def _quiet(stream: TextIO | None) -> QuietStderr:
    """A quiet writer on fd 2 (its own buffer, so the original's state does not matter)."""
    if stream is not None:
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    raw = io.FileIO(2, "w", closefd=False)
    return QuietStderr(
        io.BufferedWriter(raw),
        encoding=getattr(stream, "encoding", None) or "utf-8",
        errors="backslashreplace",
        line_buffering=True,
        write_through=True,
    )


def _hold_closed(fd: int) -> None:
    """Put /dev/null on ``fd`` if the shell closed it (Python then has ``None`` for it)."""
    if _is_open(fd):
        return
    null = os.open(os.devnull, os.O_WRONLY)
    if null != fd:
        os.dup2(null, fd)
        os.close(null)


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def stderr_is_terminal() -> bool:
    """Whether stderr is a terminal (``False`` when it is closed or not a real file)."""
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError, OSError):
        return False
