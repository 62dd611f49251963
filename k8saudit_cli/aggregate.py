"""Sliding windows over event time: the counting state of one aggregation.

:class:`WindowTable` takes the events an aggregation's condition matched,
in input order, as ``(group key, distinct value, time)`` and says when a
group's count reaches the threshold. The semantics, in full:

* **Sliding window.** When an event at time *t* is counted, the count is
  over the group's counted events in ``(t - window, t]``: events, or
  distinct values (a value counts once, at the last time it was seen).
* **Alert once, then re-arm.** The event that makes the count reach the
  threshold fires. The group's window is then emptied (those events made
  their alert) and the group stays quiet for one window: counting goes on,
  but the next alert comes no earlier than ``window`` after this one, and
  needs ``threshold`` events counted after it.
* **Out-of-order input.** An event earlier than the latest one counted (a few
  API servers' logs interleaved) is counted at that latest time, so windows
  never move backwards. An event more than one window earlier (files given
  out of time order) starts a new timeline: every open window is dropped,
  counted in :attr:`WindowTable.restarts`.
* **Bounded memory.** A group keeps at most ``threshold`` timestamps (or
  distinct values): only the newest ones can matter. Groups idle for a window
  are dropped as time advances; beyond ``max_groups`` live groups the least
  recently active one is evicted (:attr:`WindowTable.evicted`).

Everything depends only on the sequence of calls, so a parallel run that
feeds the same events in the same order gets the same alerts.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Hashable
from dataclasses import dataclass

#: Live groups per aggregation before the least recently active is evicted.
MAX_GROUPS = 50_000


@dataclass(frozen=True)
class Fired:
    """A group's count reached the threshold."""

    count: int
    first_ns: int
    values: tuple[Hashable, ...] | None


class _Group:
    """One group's window: timestamps (count) or value -> last time seen (distinct)."""

    __slots__ = ("last", "quiet_until", "times", "values")

    def __init__(self, threshold: int, distinct: bool) -> None:
        self.last = 0
        self.quiet_until = 0
        self.times: deque[int] | None = None if distinct else deque(maxlen=threshold)
        self.values: dict[Hashable, int] | None = {} if distinct else None


class WindowTable:
    """The open windows of one aggregation, one per group key."""

    def __init__(
        self, window_ns: int, threshold: int, distinct: bool, max_groups: int | None = None
    ) -> None:
        self.window_ns = window_ns
        self.threshold = threshold
        self.distinct = distinct
        self.max_groups = max_groups or MAX_GROUPS
        self.groups: OrderedDict[Hashable, _Group] = OrderedDict()
        self.clock: int | None = None
        self.counted = 0
        self.evicted = 0
        self.restarts = 0
        self.peak = 0

    def add(self, key: Hashable, value: Hashable, time_ns: int) -> Fired | None:
        """Count one event of group ``key`` (``value``: its distinct value, if counting those)."""
        t = self._advance(time_ns)
        group = self._group(key, t)
        self.counted += 1
        if group.times is not None:
            n, first = self._count_event(group.times, t)
        else:
            assert group.values is not None
            n, first = self._count_value(group.values, value, t)
        if n < self.threshold or t < group.quiet_until:
            return None
        values = tuple(group.values) if group.values is not None else None
        if group.times is not None:
            group.times.clear()
        if group.values is not None:
            group.values.clear()
        group.quiet_until = t + self.window_ns
        return Fired(n, first, values)

    def _advance(self, time_ns: int) -> int:
        """The time the event counts at; drops windows that time has left behind."""
        clock = self.clock
        if clock is not None and time_ns <= clock - self.window_ns:
            self.groups.clear()
            self.restarts += 1
            clock = None
        if clock is not None and time_ns < clock:
            return clock
        self.clock = time_ns
        horizon = time_ns - self.window_ns
        groups = self.groups
        while groups:
            oldest = next(iter(groups.values()))
            if oldest.last > horizon:
                break
            groups.popitem(last=False)
        return time_ns

    def _group(self, key: Hashable, t: int) -> _Group:
        groups = self.groups
        group = groups.get(key)
        if group is None:
            if len(groups) >= self.max_groups:
                groups.popitem(last=False)
                self.evicted += 1
            group = groups[key] = _Group(self.threshold, self.distinct)
            self.peak = max(self.peak, len(groups))
        else:
            groups.move_to_end(key)
        group.last = t
        return group

    def _count_event(self, times: deque[int], t: int) -> tuple[int, int]:
        times.append(t)  # the deque keeps the newest `threshold` only
        horizon = t - self.window_ns
        while times[0] <= horizon:
            times.popleft()
        return len(times), times[0]

    def _count_value(self, values: dict[Hashable, int], value: Hashable, t: int) -> tuple[int, int]:
        values.pop(value, None)
        values[value] = t  # insertion order is last-seen order
        horizon = t - self.window_ns
        while True:
            oldest, seen = next(iter(values.items()))
            if seen > horizon and len(values) <= self.threshold:
                return len(values), seen
            del values[oldest]
