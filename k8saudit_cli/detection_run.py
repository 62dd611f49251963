"""The scan pipeline: events -> time window -> detector -> alert sink, with counters.

Any event source feeds it (files and stdin via :func:`read_events` today, a
webhook or a cloud export later): it only needs an iterable of
:class:`AuditEvent`. The counters it keeps are exactly what the end-of-run
report and ``--summary-json`` show.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from k8saudit_cli.decode import Problems
from k8saudit_cli.detect import Alert, Detector
from k8saudit_cli.event import AuditEvent


@dataclass
class ScanOptions:
    """``since_ns``/``until_ns`` bound the event time (inclusive, exclusive)."""

    since_ns: int | None = None
    until_ns: int | None = None


@dataclass
class ScanStats:
    events_read: int = 0
    events_in_window: int = 0
    alerts: int = 0
    by_priority: Counter[int] = field(default_factory=Counter)
    by_rule: Counter[str] = field(default_factory=Counter)
    rule_order: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    problems: Problems = field(default_factory=Problems)
    started: float = field(default_factory=time.perf_counter)
    elapsed: float = 0.0

    @property
    def most_severe(self) -> int | None:
        """The most severe priority alerted (lowest number), if any."""
        return min(self.by_priority) if self.by_priority else None


def run_scan(
    events: Iterable[AuditEvent],
    detector: Detector,
    on_alert: Callable[[Alert], None],
    options: ScanOptions | None = None,
    stats: ScanStats | None = None,
) -> ScanStats:
    """Evaluate every event in the window; call ``on_alert`` for each match, in input order."""
    options = options or ScanOptions()
    stats = stats if stats is not None else ScanStats()
    since, until = options.since_ns, options.until_ns
    match = detector.match
    by_rule, by_priority = stats.by_rule, stats.by_priority
    read = in_window = 0
    for ev in events:
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
                stats.rule_order.setdefault(rule.name, rule.index)
                on_alert(Alert(rule, ev))
    stats.events_read += read
    stats.events_in_window += in_window
    stats.alerts = sum(by_rule.values())
    stats.elapsed = time.perf_counter() - stats.started
    return stats
