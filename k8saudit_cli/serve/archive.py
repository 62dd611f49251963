"""The archive: accepted bodies appended to JSONL files, rotated by size and by hour.

Layout of the archive directory (``k8saudit scan DIR`` reads it back, in
name order, which is the order of writing):

* ``audit-20260316T010713.373884Z.jsonl``: the file being written (or left
  by a run that was killed);
* ``audit-20260316T000004.120001Z.jsonl.gz``: closed and compressed
  (:mod:`k8saudit_cli.serve.compress`);
* ``.k8saudit-work/``: compression in progress. ``scan`` does not recurse,
  so it never sees a half-written file there.

A line is written with one ``write`` of whole lines and never split across
files; the directory is locked (``flock``) against a second receiver.
"""

from __future__ import annotations

import fcntl
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NoReturn

from k8saudit_cli.serve.config import ArchiveOptions, ServeError

WORK_DIR = ".k8saudit-work"
GZIP_MAGIC = b"\x1f\x8b"
_NAME = re.compile(r"audit-\d{8}T\d{6}\.\d{6}Z\.jsonl")


class ArchiveError(Exception):
    """Writing or syncing failed: the lines concerned must not be acknowledged."""


@dataclass(frozen=True)
class Location:
    """Where a line went: its file and 1-based line number."""

    file: str
    line: int


def file_name(ts: float) -> str:
    """``audit-YYYYmmddTHHMMSS.ffffffZ.jsonl`` for a UTC time (sorts in time order)."""
    seconds = int(ts)
    micros = round((ts - seconds) * 1_000_000)
    if micros == 1_000_000:
        seconds, micros = seconds + 1, 0
    return f"audit-{time.strftime('%Y%m%dT%H%M%S', time.gmtime(seconds))}.{micros:06d}Z.jsonl"


def fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class Archive:
    """The open archive file and its rotation. Used from one thread only.

    ``on_closed(path)`` receives each file once it is closed and synced.
    The counters (``files_opened``, ``bytes_written``, ``lines_written``)
    are read by the metrics.
    """

    def __init__(
        self,
        options: ArchiveOptions,
        on_closed: Callable[[str], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.options = options
        self.clock = clock
        self.directory = options.directory
        self.work_dir = os.path.join(options.directory, WORK_DIR)
        self.on_closed = on_closed
        self.files_opened = self.bytes_written = self.lines_written = 0
        self._fd = -1
        self._path = ""
        self._size = self._lines = self._hour = 0
        self._last_ts = 0.0
        self._last_sync = time.monotonic()
        self._unsynced = False
        self._lock_fd = -1

    # ------------------------------------------------------------ start and stop

    def open(self) -> list[str]:
        """Create and lock the directory; return plain files left by an earlier run."""
        try:
            os.makedirs(self.work_dir, mode=0o750, exist_ok=True)
            self._lock_fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as exc:
            raise ServeError(f"cannot use --archive {self.directory}: {exc.strerror}") from None
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ServeError(
                f"--archive {self.directory} is in use by another k8saudit serve"
            ) from None
        for name in os.listdir(self.work_dir):  # compressions a killed run left unfinished
            os.unlink(os.path.join(self.work_dir, name))
        return self._repair()

    def _repair(self) -> list[str]:
        """Finish renames a killed run left half done; list its plain (uncompressed) files."""
        plain = []
        for name in sorted(os.listdir(self.directory)):
            path = os.path.join(self.directory, name)
            if not _NAME.fullmatch(name) or not os.path.isfile(path):
                continue
            with open(path, "rb") as fh:
                compressed = fh.read(2) == GZIP_MAGIC
            if compressed:
                os.rename(path, path + ".gz")
            else:
                plain.append(path)
        return plain

    def close(self) -> None:
        """Sync and close the current file (handing it to ``on_closed``) and the lock."""
        self._close_file()
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    # ------------------------------------------------------------ writing

    def write(self, lines: Sequence[bytes]) -> list[Location]:
        """Append whole lines, rotating as needed, then sync per the policy."""
        if not lines:
            return []
        now = self.clock()
        out: list[Location] = []
        start = 0
        while start < len(lines):
            self._ensure_file(now, len(lines[start]))
            end = self._fit(lines, start)
            out += self._append(lines[start:end])
            start = end
        self._after_write()
        return out

    def tick(self) -> None:
        """Called now and then: close the file at the turn of the hour, sync on interval."""
        if self._fd >= 0 and int(self.clock() // 3600) != self._hour:
            self._close_file()
        if self.options.fsync == "interval" and self._unsynced:
            if time.monotonic() - self._last_sync >= self.options.fsync_interval:
                self._sync()

    def _ensure_file(self, now: float, first: int) -> None:
        full = self._size > 0 and self._size + first > self.options.max_bytes
        if self._fd >= 0 and (full or int(now // 3600) != self._hour):
            self._close_file()
        if self._fd < 0:
            self._open_file(now)

    def _fit(self, lines: Sequence[bytes], start: int) -> int:
        """The end of the run of lines from ``start`` that fits the current file (at least one)."""
        size, end = self._size + len(lines[start]), start + 1
        while end < len(lines) and size + len(lines[end]) <= self.options.max_bytes:
            size += len(lines[end])
            end += 1
        return end

    def _append(self, chunk: Sequence[bytes]) -> list[Location]:
        data = b"".join(chunk)
        try:
            _write_all(self._fd, data)
        except OSError as exc:
            self._undo(exc)
        first = self._lines + 1
        self._lines += len(chunk)
        self._size += len(data)
        self.bytes_written += len(data)
        self.lines_written += len(chunk)
        self._unsynced = True
        return [Location(self._path, first + i) for i in range(len(chunk))]

    def _undo(self, exc: OSError) -> NoReturn:
        """Cut a failed write back off (or give the file up) and raise :class:`ArchiveError`."""
        try:
            os.ftruncate(self._fd, self._size)
        except OSError:
            self._close_file()  # the next write starts a fresh file
        raise ArchiveError(f"cannot write {self._path}: {exc.strerror}")

    def _after_write(self) -> None:
        policy = self.options.fsync
        if policy == "batch" or (
            policy == "interval"
            and time.monotonic() - self._last_sync >= self.options.fsync_interval
        ):
            self._sync()

    def _sync(self) -> None:
        try:
            os.fdatasync(self._fd)
        except OSError as exc:
            # After a failed fsync the kernel may have dropped the pages: start afresh.
            path = self._path
            self._close_file()
            raise ArchiveError(f"cannot sync {path}: {exc.strerror}") from None
        self._unsynced = False
        self._last_sync = time.monotonic()

    # ------------------------------------------------------------ files

    def _open_file(self, now: float) -> None:
        ts = max(now, self._last_ts + 1e-6)  # names keep the order of writing
        while True:
            path = os.path.join(self.directory, file_name(ts))
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o640)
                break
            except FileExistsError:
                ts += 1e-6
            except OSError as exc:
                raise ArchiveError(f"cannot create {path}: {exc.strerror}") from None
        if self.options.fsync != "never":
            fsync_dir(self.directory)  # the new name itself must survive a crash
        self._fd, self._path, self._last_ts = fd, path, ts
        self._size = self._lines = 0
        self._hour = int(now // 3600)
        self.files_opened += 1

    def _close_file(self) -> None:
        if self._fd < 0:
            return
        fd, path = self._fd, self._path
        self._fd = -1
        try:
            if self.options.fsync != "never" and self._unsynced:
                os.fdatasync(fd)
        except OSError:
            pass  # "batch" synced before each acknowledgement; the others promised no more
        finally:
            os.close(fd)
            self._unsynced = False
        self.on_closed(path)
