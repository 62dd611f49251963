"""The archive's writer thread: requests wait for their line to be on disk, in group commits.

Every request hands its line to :meth:`ArchiveWriter.append` with an
``on_written`` callback, and waits. The thread takes all lines waiting at
that moment, writes them with one ``write`` per file and syncs once
(``--fsync batch``); then, in the event loop and in the order the lines
were written, it calls each ``on_written`` (which queues the batch's events
for the rules) and wakes its request. So the rules see events in archive
order, and a written line reaches them even if its request was cancelled.
Syncing once for many requests is what keeps ``batch`` fast.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from k8saudit_cli.serve.archive import Archive, ArchiveError, Location

#: Seconds between two calls of :meth:`Archive.tick` when nothing is written.
TICK = 0.5

OnWritten = Callable[[Location], object]
_Waiter = tuple[bytes, OnWritten, "asyncio.Future[Location]"]


class ArchiveWriter:
    def __init__(self, archive: Archive, on_error: Callable[[str], object] | None = None) -> None:
        self.archive = archive
        self.on_error = on_error
        self._waiting: list[_Waiter] = []
        self._cond = threading.Condition()
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name="k8saudit-archive", daemon=True)

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread.start()

    async def append(self, line: bytes, on_written: OnWritten) -> Location:
        """Where ``line`` was written, once it is (and synced, per the policy)."""
        assert self._loop is not None
        future: asyncio.Future[Location] = self._loop.create_future()
        with self._cond:
            if self._closing:
                raise ArchiveError("the archive is closed")
            self._waiting.append((line, on_written, future))
            self._cond.notify()
        return await future

    def close(self) -> None:
        """Write what is waiting, close the archive, stop the thread (blocking)."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        if self._thread.ident is not None:
            self._thread.join()

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._waiting and not self._closing:
                    self._cond.wait(TICK)
                group, self._waiting = self._waiting, []
                closing = self._closing
            if group:
                self._write(group)
            else:
                self._tick()
            if closing and not group:
                break
        self.archive.close()

    def _write(self, group: list[_Waiter]) -> None:
        try:
            result: list[Location] | ArchiveError = self.archive.write([w[0] for w in group])
        except (ArchiveError, OSError) as exc:  # the thread must live on: answer 503, go on
            result = exc if isinstance(exc, ArchiveError) else ArchiveError(str(exc))
            if self.on_error is not None:
                self.on_error(str(exc))
        assert self._loop is not None
        self._loop.call_soon_threadsafe(_wake, group, result)

    def _tick(self) -> None:
        try:
            self.archive.tick()
        except (ArchiveError, OSError) as exc:
            if self.on_error is not None:
                self.on_error(str(exc))


def _wake(group: list[_Waiter], result: list[Location] | ArchiveError) -> None:
    """Hand on each written line and wake its request, in write order (in the event loop)."""
    for i, (_, on_written, future) in enumerate(group):
        if isinstance(result, ArchiveError):
            if not future.done():
                future.set_exception(result)
            continue
        on_written(result[i])  # even when the request was cancelled: the line is written
        if not future.done():
            future.set_result(result[i])
