"""Chunks as Dask tasks, a bounded window ahead of the consumer, results taken in input order.

:class:`OrderedTasks` submits one task per chunk (the spec shipped once,
as a task of its own that the scheduler recomputes if every copy is lost,
and copied to every worker),
keeps at most ``window`` tasks submitted but not yet taken, and yields
results in chunk order, so the parent can replay them as it replays
``--jobs`` results. Dask itself reruns the task of a worker that died
(up to its ``allowed-failures``), and ``retries`` reruns a task that raised.
Leaving early, by a stop, an exception or Ctrl-C, cancels every task not
yet taken. While the consumer waits it hears about progress: bytes of the
chunks whose tasks are done, taken or not.
"""

from __future__ import annotations

import uuid
from collections import Counter, deque
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import Any

from k8saudit_cli.chunk_worker import Chunk
from k8saudit_cli.cluster.connect import Connection, dask_distributed
from k8saudit_cli.cluster.tasks import identity
from k8saudit_cli.run_stats import RunStopped

#: Seconds between two progress reports while the consumer waits for a task.
_POLL = 0.25


class WorkerTally:
    """Per Dask worker: tasks, bytes and events it scanned (for the report)."""

    def __init__(self) -> None:
        self.tasks: Counter[str] = Counter()
        self.bytes: Counter[str] = Counter()
        self.events: Counter[str] = Counter()

    def add(self, worker: str, chunk: Chunk, events: int) -> None:
        self.tasks[worker] += 1
        self.bytes[worker] += chunk.size()
        self.events[worker] += events

    def lines(self) -> list[str]:
        """``tcp://10.0.0.7:40123: 12 tasks, 201.3 MB, 400000 events``, by address."""
        return [
            f"{w}: {_count(self.tasks[w], 'task')}, {self.bytes[w] / 1e6:.1f} MB, "
            f"{_count(self.events[w], 'event')}"
            for w in sorted(self.tasks)
        ]


def report_lines(connection: Connection, tasks: int, tally: WorkerTally) -> list[str]:
    """What a cluster run adds after its report: the scheduler, dashboard, each worker."""
    head = f"Dask cluster: {connection.address}, {_count(tasks, 'task')}"
    link = connection.dashboard()
    lines = [head + (f", dashboard {link}" if link else "")]
    return lines + [f"   {line}" for line in tally.lines()]


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


class OrderedTasks:
    """``fn(spec, chunk)`` for each chunk on a Dask cluster; :meth:`results` in chunk order."""

    def __init__(
        self,
        client: Any,
        fn: Callable[[Any, Chunk], Any],
        spec: Any,
        window: int,
        retries: int = 2,
    ) -> None:
        self.client, self.fn, self.window, self.retries = client, fn, window, retries
        self.run_id = uuid.uuid4().hex[:12]
        self.spec = client.submit(identity, spec, key=f"k8saudit-spec-{self.run_id}")
        if client.nthreads():  # no worker yet: tasks wait for one, and fetch the spec then
            # A copy on every worker: a task never has to fetch the spec from a peer,
            # which may be the worker that just died.
            try:
                client.replicate([self.spec])
            except OSError as exc:
                raise RunStopped(f"cannot send the rules to the Dask workers: {exc}") from None
        self._pending: deque[tuple[Chunk, Any]] = deque()

    def results(
        self, chunks: Sequence[Chunk], on_progress: Callable[[int], object] | None = None
    ) -> Generator[tuple[Chunk, Any], None, None]:
        """``(chunk, result)`` in order; ``on_progress(done_bytes)`` while waiting."""
        todo = iter(enumerate(chunks))
        taken_bytes = 0
        try:
            while True:
                self._fill(todo)
                if not self._pending:
                    return
                chunk, future = self._pending[0]
                self._wait(future, on_progress, taken_bytes)
                result = _result(future, chunk)
                self._pending.popleft()
                future.release()
                taken_bytes += chunk.size()
                yield chunk, result
        finally:
            self.cancel()

    def _fill(self, todo: Iterator[tuple[int, Chunk]]) -> None:
        while len(self._pending) < self.window:
            item = next(todo, None)
            if item is None:
                return
            index, chunk = item
            future = self.client.submit(
                self.fn,
                self.spec,
                chunk,
                key=f"k8saudit-chunk-{self.run_id}-{index}",
                retries=self.retries,
            )
            self._pending.append((chunk, future))

    def _wait(
        self, future: Any, on_progress: Callable[[int], object] | None, taken_bytes: int
    ) -> None:
        """Until ``future`` is done: progress every :data:`_POLL` seconds (and a chance
        for Ctrl-C to be noticed: a plain blocking wait would hold it off)."""
        wait = dask_distributed().wait
        while not future.done():
            if on_progress is not None:
                done = sum(c.size() for c, f in self._pending if f.done())
                on_progress(taken_bytes + done)
            try:
                wait([future], timeout=_POLL)
            except (TimeoutError, OSError):  # OSError: a comm broke; result() tells what it means
                pass

    def cancel(self) -> None:
        """Cancel the tasks not yet taken, and the spec."""
        futures = [f for _, f in self._pending]
        self._pending.clear()
        try:
            self.client.cancel([*futures, self.spec])
        except Exception:  # a client already closed or cut off: nothing left to cancel
            pass


def _result(future: Any, chunk: Chunk) -> Any:
    """The task's result; a cluster that lost it for good stops the run."""
    from distributed import CancelledError
    from distributed.scheduler import KilledWorker

    try:
        return future.result()
    except KilledWorker as exc:
        message = f"Dask workers died again and again while scanning {chunk}: {exc}"
        raise RunStopped(message) from None
    except CancelledError:
        raise RunStopped(f"the Dask cluster dropped the task of {chunk}") from None
    except OSError as exc:  # never a quiet BrokenPipeError: that one means our stdout closed
        raise RunStopped(f"lost the Dask cluster while scanning {chunk}: {exc}") from None
