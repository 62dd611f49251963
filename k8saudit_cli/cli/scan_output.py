"""Where a scan's results go: the alert stream, the end-of-run report, the exit code."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

import click
import orjson

from k8saudit_cli import priority as prio
from k8saudit_cli.cli.common import fail, output_path
from k8saudit_cli.cli.console import exit_on_broken_pipe, stdout_to_devnull
from k8saudit_cli.cli.streams import stderr_is_terminal
from k8saudit_cli.empty_inputs import no_events_error
from k8saudit_cli.errors import InputError
from k8saudit_cli.report import plain_text, print_rich, summary_json
from k8saudit_cli.run_stats import RunStats


class OutputError(Exception):
    """The alert stream could not be written (a full disk, an I/O error)."""


class AlertStream:
    """The alert stream of a run, FILE or stdout; every failure to write names it."""

    def __init__(self, file: TextIO, name: str) -> None:
        self.file, self.name = file, name

    def write(self, text: str) -> None:
        try:
            self.file.write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise self._error(exc) from None

    def write_bytes(self, data: bytes) -> None:
        """Bytes as they are (``query`` prints events byte for byte); call after :meth:`flush`."""
        try:
            self.file.buffer.write(data)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise self._error(exc) from None

    def flush(self) -> None:
        """Write out what is buffered now (a live receiver flushes when it goes idle)."""
        try:
            self.file.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise self._error(exc) from None

    def close(self) -> None:
        """Write out what is buffered (and close FILE)."""
        try:
            if self.file is sys.stdout:
                self.file.flush()
            else:
                self.file.close()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise self._error(exc) from None

    def abandon(self) -> None:
        """After a write error: drop what is still buffered, quietly.

        stdout's buffer would otherwise be flushed again at exit, failing
        with a second message and exit status 120.
        """
        if self.file is sys.stdout:
            stdout_to_devnull()
            return
        try:
            self.file.close()
        except OSError:
            pass  # the error is already being reported

    def _error(self, exc: OSError) -> OutputError:
        return OutputError(f"cannot write '{self.name}': {exc.strerror or exc}")


@contextmanager
def alert_output(path: str | None) -> Iterator[AlertStream]:
    """The alert stream for the length of a run: FILE, or stdout (no FILE, or ``-``).

    Unreadable input and a stream that cannot be written exit 2 with one
    line; a reader that closed the pipe (``| head``) ends the scan quietly
    with 0, as other Unix tools do. Whatever else ends the run (an
    interrupt, a stopped run), the alerts written so far are flushed.
    """
    stream = _open_output(path)
    try:
        yield stream
    except InputError as exc:
        _close(stream)
        fail(str(exc))
    except OutputError as exc:
        stream.abandon()
        fail(str(exc))
    except BrokenPipeError:
        _quiet_broken_pipe()
    except BaseException:
        _close(stream)
        raise
    _close(stream)


def _open_output(path: str | None) -> AlertStream:
    path = output_path(path)
    if not path:
        if sys.stdout is None:  # started with stdout closed (>&-)
            fail("cannot write '<stdout>': stdout is closed")
        return AlertStream(sys.stdout, "<stdout>")
    try:
        return AlertStream(open(path, "w", encoding="utf-8"), path)
    except OSError as exc:
        fail(f"cannot write '{path}': {exc.strerror}")


def _close(stream: AlertStream) -> None:
    try:
        stream.close()
    except OutputError as exc:
        stream.abandon()
        fail(str(exc))
    except BrokenPipeError:
        _quiet_broken_pipe()


def _quiet_broken_pipe() -> None:
    exit_on_broken_pipe()


def write_summary_json(stats: RunStats, path: str) -> None:
    """``--summary-json``: the report's numbers as indented JSON, on stdout for ``-``.

    A file is written whole or not at all (see :func:`write_whole`): a run
    that fails or is killed while writing leaves the previous file, never half
    of a new one.
    """
    data = orjson.dumps(summary_json(stats), option=orjson.OPT_INDENT_2) + b"\n"
    if path == "-":
        _summary_to_stdout(data)
        return
    try:
        write_whole(path, data)
    except OSError as exc:
        fail(f"cannot write '{path}': {exc.strerror or exc}")


def _summary_to_stdout(data: bytes) -> None:
    try:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_broken_pipe()
    except OSError as exc:
        stdout_to_devnull()
        fail(f"cannot write '<stdout>': {exc.strerror or exc}")


def write_whole(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory, renamed
    into place once complete (the rename replaces the old file in one step).

    The temporary file is removed if anything fails. A path that is not a
    regular file (``/dev/stdout``, a FIFO) cannot be replaced and is written
    directly. A symlink is followed: its target is what gets replaced.
    """
    target = os.path.realpath(path)
    try:
        st: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        with open(target, "wb") as fh:
            fh.write(data)
        return
    mode = stat.S_IMODE(st.st_mode) if st is not None else _default_mode()
    folder, name = os.path.split(target)
    fd, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(temp, mode)
        if st is not None:  # keep the owner, as writing in place would (root only)
            with contextlib.suppress(OSError):
                os.chown(temp, st.st_uid, st.st_gid)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _default_mode() -> int:
    """What ``open(path, "w")`` would give a new file: 0666 less the umask."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def print_report(stats: RunStats) -> None:
    """The end-of-run report on stderr: tables at a terminal, Falco's text otherwise."""
    if stderr_is_terminal():
        from rich.console import Console

        print_rich(stats, Console(stderr=True))
    else:
        sys.stderr.write(plain_text(stats))


def exit_policy(stats: RunStats, strict: bool, fail_on: int | None) -> None:
    """Exit 2 when not one event was read from input that held something, or for
    skipped input under ``--strict``; 1 for an alert at or above ``--fail-on``."""
    nothing = no_events_error(stats.events_read, stats.problems)
    if nothing is not None:
        fail(nothing)
    if strict and stats.problems.skipped:
        fail(f"--strict: {stats.problems.skipped} input item(s) were skipped")
    if fail_on is not None and stats.most_severe is not None and stats.most_severe <= fail_on:
        click.echo(
            f"k8saudit: alerts at or above {prio.name(fail_on)}: failing (--fail-on)", err=True
        )
        sys.exit(1)
