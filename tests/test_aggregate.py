"""Sliding windows of aggregations: the semantics of docs/rules-language.md, checked
against a model that keeps every event, and the bounds on memory."""

from __future__ import annotations

from collections.abc import Hashable

from hypothesis import given, settings
from hypothesis import strategies as st

from k8saudit_cli.aggregate import Fired, WindowTable

S = 1_000_000_000


def feed(table: WindowTable, events: list[tuple[Hashable, Hashable, int]]) -> list[int]:
    """The indexes of the events that fired."""
    return [i for i, (k, v, t) in enumerate(events) if table.add(k, v, t) is not None]


def test_count_fires_when_the_threshold_is_reached_within_the_window() -> None:
    table = WindowTable(60 * S, 3, distinct=False)
    assert table.add("eve", None, 0) is None
    assert table.add("eve", None, 10 * S) is None
    assert table.add("eve", None, 20 * S) == Fired(3, 0, None)


def test_the_window_slides_and_its_edge_is_open() -> None:
    table = WindowTable(60 * S, 3, distinct=False)
    # 0 and 60 s are exactly one window apart: at 60 s the event at 0 has left
    assert feed(table, [("k", None, 0), ("k", None, 30 * S), ("k", None, 60 * S)]) == []
    assert table.add("k", None, 61 * S) == Fired(3, 30 * S, None)


def test_groups_count_separately() -> None:
    table = WindowTable(60 * S, 2, distinct=False)
    assert feed(table, [("a", None, 0), ("b", None, 1), ("a", None, 2), ("b", None, 3)]) == [2, 3]


def test_one_alert_then_quiet_for_a_window_then_re_armed() -> None:
    table = WindowTable(60 * S, 2, distinct=False)
    times = [0, 1, 2, 3, 30, 59, 61, 62]
    fired = feed(table, [("k", None, t * S) for t in times])
    # 1 fires; 2..59 are counted but quiet (the window after the alert at 1 s);
    # 61 is past the quiet time and the window (2..61) holds many events
    assert fired == [1, 6]


def test_the_next_alert_needs_events_after_the_last() -> None:
    table = WindowTable(60 * S, 3, distinct=False)
    fired = feed(table, [("k", None, t * S) for t in (0, 1, 2, 70, 200, 201, 202)])
    assert fired == [2, 6]


def test_distinct_counts_each_value_once_at_its_last_sighting() -> None:
    table = WindowTable(60 * S, 3, distinct=True)
    events = [("eve", "pods", 0), ("eve", "pods", 10 * S), ("eve", "secrets", 20 * S)]
    assert feed(table, events) == []
    fired = table.add("eve", "nodes", 65 * S)  # pods last seen at 10 s: still inside
    assert fired == Fired(3, 10 * S, ("pods", "secrets", "nodes"))


def test_distinct_values_age_out() -> None:
    table = WindowTable(60 * S, 3, distinct=True)
    events = [("k", "a", 0), ("k", "b", 10 * S), ("k", "c", 61 * S)]  # a has left at 61
    assert feed(table, events) == []
    assert table.add("k", "d", 62 * S) == Fired(3, 10 * S, ("b", "c", "d"))


def test_a_slightly_late_event_counts_at_the_latest_time() -> None:
    table = WindowTable(60 * S, 2, distinct=False)
    assert table.add("k", None, 100 * S) is None
    assert table.add("k", None, 90 * S) == Fired(2, 100 * S, None)


def test_an_event_a_window_earlier_starts_a_new_timeline() -> None:
    table = WindowTable(60 * S, 2, distinct=False)
    table.add("k", None, 1000 * S)
    table.add("other", None, 1001 * S)
    assert table.add("k", None, 10 * S) is None  # not counted with the event at 1000 s
    assert table.restarts == 1
    assert list(table.groups) == ["k"]
    assert table.add("k", None, 11 * S) == Fired(2, 10 * S, None)


def test_idle_groups_are_dropped_as_time_advances() -> None:
    table = WindowTable(60 * S, 5, distinct=False)
    for i in range(100):
        table.add(f"user{i}", None, i * S)
    assert len(table.groups) == 60
    table.add("late", None, 1000 * S)
    assert list(table.groups) == ["late"]
    assert table.peak == 60 and table.evicted == 0


def test_beyond_max_groups_the_least_recently_active_is_evicted() -> None:
    table = WindowTable(3600 * S, 2, distinct=False, max_groups=3)
    for key in ("a", "b", "c", "a", "d"):  # d evicts b, the least recently active
        table.add(key, None, S)
    assert list(table.groups) == ["c", "a", "d"]
    assert table.evicted == 1 and table.peak == 3


def test_state_per_group_is_bounded_by_the_threshold() -> None:
    table = WindowTable(3600 * S, 4, distinct=True)
    for i in range(1000):
        table.add("k", i % 50, i)
    group = table.groups["k"]
    assert group.values is not None and len(group.values) <= 4
    counting = WindowTable(3600 * S, 4, distinct=False)
    for i in range(1000):
        counting.add("k", None, i)
    assert counting.groups["k"].times is not None and len(counting.groups["k"].times) <= 4


# ---------------------------------------------------------------- against a model


def model(
    window: int, threshold: int, distinct: bool, events: list[tuple[int, int, int]]
) -> list[tuple[int, Fired]]:
    """The documented semantics, keeping every event: no caps, no expiry, no LRU."""
    clock: int | None = None
    counted: dict[int, list[tuple[int, int]]] = {}
    quiet: dict[int, int] = {}
    out = []
    for i, (key, value, t) in enumerate(events):
        if clock is not None and t <= clock - window:
            counted, quiet, clock = {}, {}, None
        t = t if clock is None or t >= clock else clock
        clock = t
        seen = [*counted.get(key, []), (t, value)]
        counted[key] = seen
        live = [(ts, v) for ts, v in seen if ts > t - window]
        if distinct:
            last: dict[int, int] = {}
            for ts, v in live:  # in the order of each value's last sighting
                last.pop(v, None)
                last[v] = ts
            n, first = len(last), min(last.values())
            values = tuple(last)
        else:
            n, first, values = len(live), live[0][0], None
        if n >= threshold and t >= quiet.get(key, 0):
            if distinct:  # the table keeps only the newest `threshold` values
                values = values[-threshold:] if values else values
                first = last[values[0]] if values else first
            else:
                first = live[-threshold][0]
                n = threshold
            out.append((i, Fired(min(n, threshold), first, values)))
            counted[key] = []
            quiet[key] = t + window
    return out


EVENTS = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 4), st.integers(0, 400)), max_size=120
).map(lambda evs: _mostly_ordered(evs))


def _mostly_ordered(events: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Times that mostly grow, with small and large steps back."""
    out, t = [], 0
    for key, value, step in events:
        t = t + step - 40 if step % 7 else max(0, t - 5 * step)
        out.append((key, value, max(t, 0)))
    return out


@settings(max_examples=300, deadline=None)
@given(
    events=EVENTS,
    window=st.integers(1, 200),
    threshold=st.integers(1, 6),
    distinct=st.booleans(),
)
def test_the_table_agrees_with_the_model(
    events: list[tuple[int, int, int]], window: int, threshold: int, distinct: bool
) -> None:
    table = WindowTable(window, threshold, distinct)
    got = []
    for i, (key, value, t) in enumerate(events):
        fired = table.add(key, value, t)
        if fired is not None:
            got.append((i, fired))
    assert got == model(window, threshold, distinct, events)
