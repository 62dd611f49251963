"""Forked worker processes that run one function over a list of tasks, results in task order.

Each worker has its own pipe; the parent hands out one task at a time and
waits on the pipes and on the processes themselves, so a worker that dies
(killed, out of memory) is noticed at once, not when a queue times out.
Its task is retried once in a fresh worker; a second death of the same task
raises :class:`WorkerDied`. Workers ignore SIGINT (Ctrl-C reaches the whole
process group, and the parent decides what it means) and are terminated by
the parent when it is done, stopped or failed. The function and everything
it reads are set before the fork: only tasks and results are pickled.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import signal
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, Generic, TypeVar

from k8saudit_cli.run_stats import RunStopped

T = TypeVar("T")
R = TypeVar("R")

#: Signals a worker must not receive between fork and setting its own handlers.
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
#: Seconds a terminated worker gets to exit before it is killed.
_GRACE = 2.0


class WorkerDied(RunStopped):
    """The worker of one task died twice: the run cannot be completed."""

    code = "WORKER_DIED"

    def __init__(self, task: object, how: str) -> None:
        super().__init__(f"a worker process died twice while scanning {task} ({how})")
        self.task, self.how = task, how


@dataclass
class _Slot:
    """One worker: its process, the parent's end of its pipe, the task it has (an index)."""

    process: BaseProcess
    conn: Connection
    task: int | None = None


class _Raised:
    """An exception of the task function, carried back to be raised in the parent."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class OrderedPool(Generic[T, R]):
    """``jobs`` workers running ``work``; :meth:`results` yields in task order.

    At most ``window`` tasks are handed out or done but not yet taken by the
    consumer, so a slow consumer never lets results pile up. ``on_death(task,
    how)`` is told of every worker that died (``task`` is ``None`` for an idle one).
    """

    def __init__(
        self,
        work: Callable[[T], R],
        jobs: int,
        window: int,
        on_death: Callable[[T | None, str], object] | None = None,
    ) -> None:
        self._work, self._jobs, self._window, self._on_death = work, jobs, window, on_death
        self._ctx = mp.get_context("fork")
        self._slots: list[_Slot] = []
        self._tasks: Sequence[T] = ()
        self._done: dict[int, R] = {}
        self._deaths: Counter[int] = Counter()
        self._requeued: deque[int] = deque()
        self._next_new = 0

    def __enter__(self) -> OrderedPool[T, R]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def results(self, tasks: Sequence[T]) -> Iterator[R]:
        """Each task's result, in order; a task's exception is raised here."""
        self._tasks, self._next_new = tasks, 0
        while len(self._slots) < min(self._jobs, len(tasks)):
            self._spawn()
        for index in range(len(tasks)):
            while index not in self._done:
                self._hand_out(index)
                self._wait()
            yield self._done.pop(index)

    def close(self) -> None:
        """Terminate every worker (SIGTERM, then SIGKILL after a grace period) and reap it."""
        slots, self._slots = self._slots, []
        for slot in slots:
            if slot.process.is_alive():
                slot.process.terminate()
        for slot in slots:
            slot.process.join(_GRACE)
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join()
            slot.process.close()
            slot.conn.close()

    # ------------------------------------------------------------ the parent's side

    def _hand_out(self, first_wanted: int) -> None:
        """Give every idle worker a task: requeued ones first, then new ones inside the window."""
        limit = min(len(self._tasks), first_wanted + self._window)
        for slot in self._slots:
            if slot.task is not None:
                continue
            if self._requeued:
                index = self._requeued.popleft()
            elif self._next_new < limit:
                index, self._next_new = self._next_new, self._next_new + 1
            else:
                return
            self._send(slot, index)

    def _send(self, slot: _Slot, index: int) -> None:
        try:
            slot.conn.send(self._tasks[index])
        except OSError:  # it died idle: the task goes to the next idle worker
            self._requeued.appendleft(index)
            return
        slot.task = index

    def _wait(self) -> None:
        """Block until a result arrives or a worker dies; handle every one that is ready."""
        watched: dict[Any, _Slot] = {}  # a sentinel (int) or a pipe -> its worker
        for slot in self._slots:
            watched[slot.process.sentinel] = slot
            if slot.task is not None:
                watched[slot.conn] = slot
        handled: list[_Slot] = []
        for ready in wait(list(watched)):
            slot = watched[ready]
            if any(slot is seen for seen in handled):
                continue
            handled.append(slot)
            if slot.task is not None and slot.conn.poll():
                if not self._receive(slot):  # its pipe ended: it died on its task
                    self._replace(slot)
            elif ready == slot.process.sentinel:
                self._replace(slot)

    def _receive(self, slot: _Slot) -> bool:
        """Take a worker's result; ``False`` when its pipe ended instead (it died)."""
        try:
            outcome = slot.conn.recv()
        except (EOFError, OSError):
            return False
        assert slot.task is not None
        index, slot.task = slot.task, None
        if isinstance(outcome, _Raised):
            raise outcome.exc
        self._done[index] = outcome
        return True

    def _replace(self, dead: _Slot) -> None:
        """Reap a dead worker, start a fresh one, and give it the lost task (once)."""
        dead.process.join(_GRACE)
        if dead.process.is_alive():  # its pipe ended but it lingers: finish it
            dead.process.kill()
            dead.process.join()
        how = _how_it_ended(dead.process.exitcode)
        self._slots.remove(dead)
        dead.process.close()
        dead.conn.close()
        lost = dead.task
        if lost is not None:
            self._deaths[lost] += 1
            if self._deaths[lost] > 1:
                raise WorkerDied(self._tasks[lost], how)
        if self._on_death is not None:
            self._on_death(None if lost is None else self._tasks[lost], how)
        fresh = self._spawn()
        if lost is not None:
            self._send(fresh, lost)

    def _spawn(self) -> _Slot:
        """Fork a worker; SIGINT/SIGTERM wait until it has set its own handlers."""
        parent_end, child_end = self._ctx.Pipe()
        # The worker closes its copies of the parent's ends (its own included), so
        # that its pipe ends when the parent goes, however the parent goes.
        parents_ends = [slot.conn for slot in self._slots] + [parent_end]
        process = self._ctx.Process(
            target=_worker_main, args=(self._work, child_end, parents_ends), daemon=True
        )
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            process.start()
            slot = _Slot(process, parent_end)
            self._slots.append(slot)  # before a pending signal can interrupt us
        except OSError as exc:  # no fork: out of processes or memory
            parent_end.close()
            raise RunStopped(f"cannot start a worker process: {exc.strerror or exc}") from None
        finally:
            child_end.close()
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        return slot


def _how_it_ended(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit status {exitcode}"


# ---------------------------------------------------------------- the worker's side


def _worker_main(work: Callable[[T], R], conn: Connection, parents_ends: list[Connection]) -> None:
    """Run tasks until the parent closes the pipe; leave with ``os._exit``.

    ``os._exit`` because everything else at exit would act on the parent's
    copies: flushing its buffered alerts a second time, running its atexit
    handlers. Anything that breaks the pipe means the parent is gone or has
    given up on us: leave quietly, never with a traceback.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    status = 0
    try:
        for end in parents_ends:
            end.close()
        while True:
            task = conn.recv()
            conn.send(_outcome(work, task))
    except EOFError:
        pass
    except BaseException:
        status = 1
    finally:
        os._exit(status)


def _outcome(work: Callable[[T], R], task: T) -> R | _Raised:
    try:
        return work(task)
    except Exception as exc:
        try:
            pickle.dumps(exc)
        except Exception:
            exc = RuntimeError(f"{type(exc).__name__}: {exc}")
        return _Raised(exc)
