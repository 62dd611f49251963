"""Aggregations in a detection run: what each event adds to them, and their alerts.

:class:`Aggregations` holds the selected aggregations and finds, per event,
the ones whose condition matches (with the rule index and generated code,
as for rules), giving compact observations ``(aggregation, group key,
distinct value)``. :class:`Counting` is one scan's state: it feeds the
observations, in input order, to one :class:`~k8saudit_cli.aggregate.WindowTable`
per aggregation and turns each crossing into an :class:`Alert` whose rule is
the aggregation.

A serial run wraps its match function and alert callback (:meth:`Counting.serial`):
an event's aggregation alerts follow its rule alerts. A parallel run's
workers record observations (:meth:`Aggregations.recorder`) and the parent
feeds them between the chunk's rule alerts (:func:`interleave`,
:meth:`Counting.replay`), so both give the same alerts in the same order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Any, TypeVar

import orjson

from k8saudit_cli.aggregate import Fired, WindowTable
from k8saudit_cli.detect import Alert, Detector
from k8saudit_cli.engine.index import event_key
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fields import Value
from k8saudit_cli.ruleset.aggregate_output import AggregateEvent, AggregateHit, Key
from k8saudit_cli.ruleset.compile import CompiledRule
from k8saudit_cli.ruleset.compile_aggregations import CompiledAggregation
from k8saudit_cli.run_stats import RunStats

#: What one event adds to one aggregation: (position, group key, distinct value).
Observation = tuple[int, Key, Hashable]
#: An observation made in a worker, with what the parent needs to alert on it:
#: (local event number, position, time, key, value, output snapshot, local
#: line, index in line, event JSON when the sink wants Alert objects).
ChunkObservation = tuple[
    int, int, int, Key, Hashable, tuple[Value, ...], int, "int | None", "bytes | None"
]
Match = Callable[[AuditEvent], list[CompiledRule]]
#: ``(aggregations an event matched, the event) -> the alerts they raise now (or None)``.
CountStep = Callable[[list[CompiledRule], AuditEvent], Any]
_A = TypeVar("_A", bound=tuple[Any, ...])


def split_aggregations(
    rules: Sequence[CompiledRule],
) -> tuple[list[CompiledRule], list[CompiledAggregation]]:
    """Rules (alert per event) and aggregations (count events), each in order."""
    plain = [r for r in rules if not isinstance(r, CompiledAggregation)]
    return plain, [r for r in rules if isinstance(r, CompiledAggregation)]


class Aggregations:
    """The aggregations of a run and the index that finds those an event matches.

    Conditions are evaluated on every event whatever ``--rule-matching`` says:
    an aggregation counts events, it does not compete with rules.
    """

    def __init__(self, rules: Sequence[CompiledAggregation], fast: bool = True) -> None:
        self.rules = list(rules)
        self.detector = Detector(self.rules, match_all=True, fast=fast)
        self._position = {r.name: i for i, r in enumerate(self.rules)}

    def observe(self, event: AuditEvent) -> list[Observation]:
        """The aggregations ``event`` counts for, with its group key and distinct value."""
        return self._observations(self.detector.match(event), event)

    def _observations(self, hits: list[CompiledRule], event: AuditEvent) -> list[Observation]:
        if not hits:
            return []
        out: list[Observation] = []
        for agg in hits:
            assert isinstance(agg, CompiledAggregation)
            value = None
            if agg.distinct is not None:
                value = agg.distinct_value(event)
                if value is None:
                    continue
            out.append((self._position[agg.name], agg.group_key(event), value))
        return out

    def start(self) -> Counting:
        """Fresh windows for one scan."""
        return Counting(self)

    def both(
        self, rules: Detector
    ) -> Callable[[AuditEvent], tuple[list[CompiledRule], list[Observation]]]:
        """``event -> (rules matched, observations)``, with the index key computed once."""
        rules_for, aggregations_for = rules.matcher_for, self.detector.matcher_for
        observations = self._observations

        def match_both(ev: AuditEvent) -> tuple[list[CompiledRule], list[Observation]]:
            key = event_key(ev.ka, ev.raw)
            return rules_for(key)(ev), observations(aggregations_for(key)(ev), ev)

        return match_both

    def recorder(self, rules: Detector, out: list[ChunkObservation], with_raw: bool) -> Match:
        """A worker's match function: ``rules``' matches, recording every observation in ``out``."""
        match_both, record = self.both(rules), self.record_into(out, with_raw)

        def match_and_record(ev: AuditEvent) -> list[CompiledRule]:
            hits, observations = match_both(ev)
            record(observations, ev)
            return hits

        return match_and_record

    def record_into(
        self, out: list[ChunkObservation], with_raw: bool
    ) -> Callable[[list[Observation], AuditEvent], None]:
        """Records a worker's observations of one event in ``out`` (see :meth:`recorder`)."""
        aggs = self.rules

        def record(observations: list[Observation], ev: AuditEvent) -> None:
            for pos, key, value in observations:
                raw = orjson.dumps(ev.raw) if with_raw else None
                snap = aggs[pos].snapshot(ev)
                out.append((ev.num, pos, ev.time_ns, key, value, snap, ev.line, ev.index, raw))

        return record

    def counter(self, then: Callable[[list[Observation], AuditEvent], Any]) -> CountStep:
        """``(aggregations matched, event) -> then(observations, event)``, for the fused
        run loop, which finds the matching aggregations itself."""
        observations = self._observations

        def count(found: list[CompiledRule], ev: AuditEvent) -> Any:
            return then(observations(found, ev), ev)

        return count


class Counting:
    """One scan's windows, one :class:`WindowTable` per aggregation."""

    def __init__(self, aggregations: Aggregations) -> None:
        self.aggregations = aggregations
        self.rules = aggregations.rules
        self.tables = [
            WindowTable(r.window_ns, r.threshold, r.distinct is not None) for r in self.rules
        ]

    def serial(
        self, rules: Detector, on_alert: Callable[[Alert], object]
    ) -> tuple[Match, Callable[[Alert], object]]:
        """The match function and alert callback of a serial run: ``rules``' matches
        and ``on_alert``, with this scan's aggregations added.

        The run's loop counts every rule the match function returns and calls
        the callback for each, in order; an aggregation that fires is returned
        after the event's rules, and its alert (with the hit) is swapped in.
        """
        match_both, pending = self.aggregations.both(rules), deque[Alert]()

        def match_and_count(ev: AuditEvent) -> list[CompiledRule]:
            hits, observations = match_both(ev)
            if not observations:
                return hits
            fired = self.fire(observations, ev)
            if not fired:
                return hits
            pending.extend(fired)
            return [*hits, *(a.rule for a in fired)]

        def deliver(alert: Alert) -> object:
            if isinstance(alert.rule, CompiledAggregation):
                alert = pending.popleft()
            return on_alert(alert)

        return match_and_count, deliver

    def fire(self, observations: list[Observation], ev: AuditEvent) -> list[Alert]:
        """Count one event's observations; the alerts of the windows that crossed."""
        alerts = []
        for pos, key, value in observations:
            fired = self.tables[pos].add(key, value, ev.time_ns)
            if fired is not None:
                rule = self.rules[pos]
                hit = _hit(key, fired, rule.snapshot(ev))
                event = AggregateEvent(ev.raw, ev.time_ns, ev.num, ev.file, ev.line, ev.index, hit)
                alerts.append(Alert(rule, event))
        return alerts

    def replay(
        self,
        obs: ChunkObservation,
        place: tuple[int, str, int],
        sink: Callable[[Alert], object],
        stats: RunStats,
    ) -> None:
        """Feed one worker observation; ``place`` is (events before the chunk, file,
        line offset of the chunk). An alert is counted in ``stats`` and sent to ``sink``."""
        num, pos, time_ns, key, value, snap, line, index, raw = obs
        fired = self.tables[pos].add(key, value, time_ns)
        if fired is None:
            return
        events_before, file, line_offset = place
        rule = self.rules[pos]
        body: dict[str, Any] = orjson.loads(raw) if raw is not None else {}
        hit = _hit(key, fired, snap)
        event = AggregateEvent(
            body, time_ns, events_before + num, file, line_offset + line, index, hit
        )
        stats.by_rule[rule.name] += 1
        stats.by_priority[rule.priority] += 1
        stats.rule_order.setdefault(rule.name, rule.index)
        sink(Alert(rule, event))

    def finish(self, stats: RunStats) -> None:
        """Put this scan's aggregation counters in ``stats`` (the report shows them)."""
        tables = self.tables
        stats.aggregation.update(
            aggregations=len(tables),
            events_counted=sum(t.counted for t in tables),
            groups_evicted=sum(t.evicted for t in tables),
            timeline_restarts=sum(t.restarts for t in tables),
        )
        stats.aggregation["peak_groups"] = max(
            stats.aggregation["peak_groups"], max((t.peak for t in tables), default=0)
        )


def _hit(key: Key, fired: Fired, snapshot: tuple[Value, ...]) -> AggregateHit:
    return AggregateHit(key, fired.count, fired.first_ns, fired.values, snapshot)


def interleave(
    alerts: list[_A], observations: Sequence[ChunkObservation]
) -> Iterator[tuple[list[_A], ChunkObservation | None]]:
    """A chunk's rule alerts and observations in event order: (alerts before, observation)
    pairs, an event's rule alerts first, then ``(the rest, None)``. Both lists are in
    event order and start with the local event number."""
    start = 0
    for obs in observations:
        end = start
        while end < len(alerts) and alerts[end][0] <= obs[0]:
            end += 1
        yield alerts[start:end], obs
        start = end
    yield alerts[start:], None
