"""The bounded queue between the receiver and the one detection run, and the run's thread.

Accepted batches go into :class:`EventFeed`; a single thread runs
``DetectionRun.scan_events`` over :meth:`EventFeed.events`, a generator
that numbers events (``evt.num``) across batches and blocks while the
queue is empty. The run therefore counts, orders and reports exactly as a
``scan`` of the same events does, and ends when the feed is closed and
drained. The queue never refuses a batch itself: the receiver asks
:meth:`EventFeed.has_room` before it reads a body and answers 503 if not.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator

from k8saudit_cli.detection_run import DetectionRun
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.run_stats import RunStats


class EventFeed:
    """Batches of events waiting for the rules, bounded in events by ``capacity``.

    ``on_idle`` is called (in the run's thread) each time the queue runs
    empty, before waiting: the place to flush the alert output.
    """

    def __init__(self, capacity: int, on_idle: Callable[[], object] | None = None) -> None:
        self.capacity = capacity
        self.on_idle = on_idle
        self.depth = 0  # events queued
        self.evaluated = 0  # events handed to the rules
        self._batches: deque[list[AuditEvent]] = deque()
        self._cond = threading.Condition()
        self._closed = False

    def has_room(self) -> bool:
        return self.depth < self.capacity

    def put(self, events: list[AuditEvent]) -> None:
        if not events:
            return
        with self._cond:
            self._batches.append(events)
            self.depth += len(events)
            self._cond.notify()

    def close(self) -> None:
        """No more batches: :meth:`events` ends once the queue is drained."""
        with self._cond:
            self._closed = True
            self._cond.notify()

    def events(self) -> Iterator[AuditEvent]:
        num = 0
        while (batch := self._next_batch()) is not None:
            for event in batch:
                num += 1
                event.num = num
                yield event
            self.evaluated = num

    def _next_batch(self) -> list[AuditEvent] | None:
        if self.on_idle is not None and self._idle():
            self.on_idle()  # outside the lock: flushing output may block
        with self._cond:
            while not self._batches and not self._closed:
                self._cond.wait()
            if not self._batches:
                return None
            batch = self._batches.popleft()
            self.depth -= len(batch)
            return batch

    def _idle(self) -> bool:
        with self._cond:
            return not self._batches and not self._closed


class DetectionThread:
    """Runs one :class:`DetectionRun` over a feed until the feed is closed."""

    def __init__(self, run: DetectionRun, feed: EventFeed) -> None:
        self.run = run
        self.feed = feed
        self.stats: RunStats | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="k8saudit-rules", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def alive(self) -> bool:
        return self._thread.is_alive()

    def join(self) -> RunStats:
        """The run's statistics once the feed is drained; re-raises a failure of the run."""
        self._thread.join()
        if self.error is not None:
            raise self.error
        assert self.stats is not None
        return self.stats

    def _main(self) -> None:
        try:
            self.stats = self.run.scan_events(self.feed.events())
        except BaseException as exc:  # handed to join(): the main thread reports it
            self.error = exc
