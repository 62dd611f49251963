"""The counters of a detection run, and the one loop that fills them.

:func:`match_in_window` is the run's inner loop (time window, rules,
counts), shared by the serial run and the worker processes of a parallel
one, so both count exactly the same way. Its counters are what the
end-of-run report and ``--summary-json`` show, also for a run that was
stopped part-way (:class:`StopRequest`, :class:`RunStopped`).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from k8saudit_cli.decode import Problems
from k8saudit_cli.detect import Alert
from k8saudit_cli.errors import K8sAuditError
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.ruleset.compile import CompiledRule


@dataclass
class RunStats:
    """What a run read and found. ``interrupted``: stopped on request (the counts
    cover what was scanned before); ``error``: why a run could not go on."""

    events_read: int = 0
    events_in_window: int = 0
    alerts: int = 0
    by_priority: Counter[int] = field(default_factory=Counter)
    by_rule: Counter[str] = field(default_factory=Counter)
    rule_order: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    #: Regular files by name, with the size they are read up to (their size at the start).
    read_up_to: dict[str, int] = field(default_factory=dict)
    #: Files that grew during the run: what was appended was not read (see :func:`grown_files`).
    grown: list[str] = field(default_factory=list)
    problems: Problems = field(default_factory=Problems)
    #: Aggregation counters (see aggregate_run.Counting.finish); empty without aggregations.
    aggregation: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.perf_counter)
    elapsed: float = 0.0
    interrupted: bool = False
    error: str | None = None

    @property
    def most_severe(self) -> int | None:
        """The most severe priority alerted (lowest number), if any."""
        return min(self.by_priority) if self.by_priority else None

    def add_counts(self, other: RunStats) -> None:
        """Add the event and alert counts of a later part of the input (not files or problems)."""
        self.events_read += other.events_read
        self.events_in_window += other.events_in_window
        self.by_rule.update(other.by_rule)
        self.by_priority.update(other.by_priority)
        for name, index in other.rule_order.items():
            self.rule_order.setdefault(name, index)

    def finish(self) -> RunStats:
        """Total the alerts and stop the clock."""
        self.alerts = sum(self.by_rule.values())
        self.elapsed = time.perf_counter() - self.started
        return self


def grown_files(read_up_to: dict[str, int]) -> list[str]:
    """The files now larger than the size they were read up to: one ``stat`` per file,
    at the end of a run, so that the report can say the appended data was not read."""
    grown: list[str] = []
    for name, size in read_up_to.items():
        try:
            now = os.stat(name).st_size
        except OSError:
            continue  # gone or rotated away: nothing appended to it can be read either
        if now > size:
            grown.append(name)
    return grown


class RunStopped(K8sAuditError):
    """A run that could not go on; ``stats`` counts what was scanned before it stopped."""

    code = "RUN_STOPPED"
    stats: RunStats | None = None


class StopRequest:
    """A flag a run checks between events and chunks: set it to stop the run soon.

    A plain attribute, so setting it is safe from a signal handler or another
    thread, and reading it costs the hot loop almost nothing.
    """

    __slots__ = ("requested",)

    def __init__(self) -> None:
        self.requested = False


#: The flag of runs that are never stopped (the workers of a parallel run).
NEVER = StopRequest()


def match_in_window(
    events: Iterable[AuditEvent],
    match: Callable[[AuditEvent], list[CompiledRule]],
    since_ns: int | None,
    until_ns: int | None,
    stats: RunStats,
    on_alert: Callable[[Alert], object],
    stop: StopRequest = NEVER,
) -> None:
    """Match every event in ``[since_ns, until_ns)``; count, and call ``on_alert`` per match.

    The hot loop of every run: locals only, and no call per event beyond
    the iterator and ``match``. It ends early when ``stop`` is requested;
    whatever ends it (a KeyboardInterrupt too), the counts of the events it
    went through are kept.
    """
    since, until = since_ns, until_ns
    by_rule, by_priority, rule_order = stats.by_rule, stats.by_priority, stats.rule_order
    read = in_window = 0
    try:
        for ev in events:
            if stop.requested:
                break
            read += 1
            t = ev.time_ns
            if (since is not None and t < since) or (until is not None and t >= until):
                continue
            in_window += 1
            hits = match(ev)
            if hits:
                for rule in hits:
                    by_rule[rule.name] += 1
                    by_priority[rule.priority] += 1
                    rule_order.setdefault(rule.name, rule.index)
                    on_alert(Alert(rule, ev))
    finally:
        stats.events_read += read
        stats.events_in_window += in_window
