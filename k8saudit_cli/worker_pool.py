"""Forked worker processes that run one function over a list of tasks, results in task order.

Each worker has its own pipe. A manager thread hands out one task at a time
per worker and waits on the pipes and on the processes themselves, so a
result is taken in as soon as it is sent (a worker never waits for the
consumer) and a worker that dies (killed, out of memory) is noticed at once,
not when a queue times out. Its task is retried once in a fresh worker; a
second death of the same task raises :class:`WorkerDied` when the consumer
gets to that task, after the results of every task before it (as does an
exception of the task itself). Workers ignore SIGINT (Ctrl-C reaches the
whole process group, and the parent decides what it means) and are
terminated by the parent when it is done, stopped or failed. The function
and everything it reads are set before the fork: only tasks and results
are pickled.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import signal
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, Generic, TypeVar

from k8saudit_cli.run_stats import RunStopped

T = TypeVar("T")
R = TypeVar("R")

#: Signals only the main thread handles; a worker blocks them until it has its own handlers.
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
#: Seconds a terminated worker (or a stuck manager thread) gets before it is killed.
_GRACE = 2.0
#: Seconds between two looks at pending signals while the consumer waits.
_POLL = 0.25


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
    how)`` is told of every worker that died and was replaced (``task`` is
    ``None`` for an idle one), in the consumer's thread.
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
        self._tasks: Sequence[T] = ()
        # Shared by the consumer and the manager thread, under _lock.
        self._lock = threading.Condition()
        self._done: dict[int, R] = {}
        #: Tasks that will have no result, and what the consumer gets instead.
        self._failed: dict[int, BaseException] = {}
        self._deaths_seen: list[tuple[T | None, str]] = []
        self._taken = 0
        self._closing = False
        # The manager thread's own.
        self._slots: list[_Slot] = []
        self._deaths: Counter[int] = Counter()
        self._requeued: deque[int] = deque()
        self._next_new = 0
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._manager: threading.Thread | None = None

    def __enter__(self) -> OrderedPool[T, R]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------ the consumer's side

    def results(self, tasks: Sequence[T]) -> Iterator[R]:
        """Each task's result, in order; a task that failed raises here, in its turn."""
        self._tasks = tasks
        self._manager = threading.Thread(target=self._manage, name="k8saudit-workers", daemon=True)
        self._manager.start()
        for index in range(len(tasks)):
            yield self._take(index)

    def _take(self, index: int) -> R:
        while True:
            with self._lock:
                if not self._deaths_seen and not self._finished(index):
                    self._lock.wait(_POLL)  # bounded: pending signals are handled in between
                deaths, self._deaths_seen = self._deaths_seen, []
                failure = self._failed.get(index)
                if index in self._done:
                    result = self._done.pop(index)
                    self._taken = index + 1
                    break
            self._report(deaths)
            if failure is not None:
                raise failure
        self._report(deaths)
        self._wake()  # the window moved: more tasks can be handed out
        return result

    def _finished(self, index: int) -> bool:
        return index in self._done or index in self._failed

    def _report(self, deaths: list[tuple[T | None, str]]) -> None:
        if self._on_death is not None:
            for task, how in deaths:
                self._on_death(task, how)

    def close(self) -> None:
        """Stop the manager, terminate every worker (SIGTERM, then SIGKILL) and reap it."""
        with self._lock:
            self._closing = True
        self._wake()
        if self._manager is not None:
            self._manager.join(_GRACE)  # at once, unless it is stuck on a worker:
            self._terminate(list(self._slots))  # this unsticks it
            self._manager.join()
        self._terminate(self._slots)
        for slot in self._slots:
            slot.process.join(_GRACE)
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join()
            slot.process.close()
            slot.conn.close()
        self._slots = []
        os.close(self._wake_r)
        os.close(self._wake_w)

    @staticmethod
    def _terminate(slots: list[_Slot]) -> None:
        for slot in slots:
            if slot.process.is_alive():
                slot.process.terminate()

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"\0")
        except BlockingIOError:  # already full of wake-ups
            pass

    # ------------------------------------------------------------ the manager thread

    def _manage(self) -> None:
        """Start the workers, then hand out tasks and take results in until closed."""
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)  # they are the main thread's
        try:
            while len(self._slots) < min(self._jobs, len(self._tasks)):
                self._spawn()
            while not self._closing:
                self._hand_out()
                self._wait()
        except BaseException as exc:  # a bug, or no worker could start: the consumer raises it
            with self._lock:
                self._failed[self._first_unfinished()] = exc
                self._lock.notify()

    def _first_unfinished(self) -> int:
        return next(i for i in range(self._taken, len(self._tasks) + 1) if i not in self._done)

    def _hand_out(self) -> None:
        """Give every idle worker a task: requeued ones first, then new ones inside the
        window and before the first task that failed (nothing after it will be used)."""
        with self._lock:
            limit = min(len(self._tasks), self._taken + self._window, *self._failed)
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
        """Wait until a result arrives, a worker dies or the consumer wakes us; handle each."""
        watched: dict[Any, _Slot | None] = {self._wake_r: None}  # fd or pipe -> its worker
        for slot in self._slots:
            watched[slot.process.sentinel] = slot
            if slot.task is not None:
                watched[slot.conn] = slot
        handled: list[_Slot] = []
        for ready in wait(list(watched)):
            worker = watched[ready]
            if self._closing:
                return
            if worker is None:
                os.read(self._wake_r, 4096)
            elif not any(worker is seen for seen in handled):
                handled.append(worker)
                self._attend(worker, ready)

    def _attend(self, slot: _Slot, ready: object) -> None:
        """A worker's pipe or process is ready: take its result, or replace it if it died."""
        if slot.task is not None and slot.conn.poll():
            if not self._receive(slot):  # its pipe ended: it died on its task
                self._replace(slot)
        elif ready == slot.process.sentinel:
            self._replace(slot)

    def _receive(self, slot: _Slot) -> bool:
        """Take a worker's result; ``False`` when its pipe ended instead (it died).

        The worker gets its next task before its result is unpickled: it
        need not wait for that.
        """
        try:
            data = slot.conn.recv_bytes()
        except (EOFError, OSError):
            return False
        assert slot.task is not None
        index, slot.task = slot.task, None
        self._hand_out()
        outcome = pickle.loads(data)
        with self._lock:
            if isinstance(outcome, _Raised):
                self._failed[index] = outcome.exc
            else:
                self._done[index] = outcome
            self._lock.notify()
        return True

    def _replace(self, dead: _Slot) -> None:
        """Reap a dead worker and start a fresh one, which gets the lost task unless
        that task already cost a worker: then the task fails (:class:`WorkerDied`)."""
        how = self._reap(dead)
        lost = dead.task
        retry = lost is not None and not self._deaths[lost]
        with self._lock:
            if lost is not None and not retry:
                self._failed[lost] = WorkerDied(self._tasks[lost], how)
            else:
                self._deaths_seen.append((None if lost is None else self._tasks[lost], how))
            self._lock.notify()
        fresh = self._spawn()  # the tasks before a failed one still need workers
        if lost is not None and retry:
            self._deaths[lost] += 1
            self._send(fresh, lost)

    def _reap(self, dead: _Slot) -> str:
        """Forget a dead worker; how it ended, for messages."""
        dead.process.join(_GRACE)
        if dead.process.is_alive():  # its pipe ended but it lingers: finish it
            dead.process.kill()
            dead.process.join()
        how = _how_it_ended(dead.process.exitcode)
        self._slots.remove(dead)
        dead.process.close()
        dead.conn.close()
        return how

    def _spawn(self) -> _Slot:
        """Fork a worker (SIGINT/SIGTERM stay blocked in it until it has its own handlers)."""
        parent_end, child_end = self._ctx.Pipe()
        # The worker closes its copies of the parent's ends (its own included), so
        # that its pipe ends when the parent goes, however the parent goes.
        parents_ends = [slot.conn for slot in self._slots] + [parent_end]
        process = self._ctx.Process(
            target=_worker_main,
            args=(self._work, child_end, parents_ends, (self._wake_r, self._wake_w)),
            daemon=True,
        )
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            process.start()
        except OSError as exc:  # no fork: out of processes or memory
            parent_end.close()
            raise RunStopped(f"cannot start a worker process: {exc.strerror or exc}") from None
        finally:
            child_end.close()
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        slot = _Slot(process, parent_end)
        self._slots.append(slot)
        return slot


def _how_it_ended(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit status {exitcode}"


# ---------------------------------------------------------------- the worker's side


def _worker_main(
    work: Callable[[T], R],
    conn: Connection,
    parents_ends: list[Connection],
    parents_fds: tuple[int, ...],
) -> None:
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
        for fd in parents_fds:
            os.close(fd)
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
