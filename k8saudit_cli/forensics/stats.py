"""``stats``: selected events counted per group of field values, with first and last time seen.

Memory grows with the number of distinct groups, not with the input. The
result is a table of its own (the ``--by`` columns, then ``count``,
``first_seen``, ``last_seen``), so every writer of
:mod:`~k8saudit_cli.forensics.tabular` can print it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fields import MISSING
from k8saudit_cli.forensics.columns import Column
from k8saudit_cli.forensics.selection import Selection, SelectionStats, selected_events
from k8saudit_cli.timestamps import evt_iso8601_text


def _computed(ev: AuditEvent) -> Any:
    """The ``get`` of a column computed from groups, never read from an event."""
    return MISSING


#: The columns every result has after the ``--by`` ones.
COUNT_COLUMNS = (
    Column("count", "int", _computed),
    Column("first_seen", "time", _computed, evt_iso8601_text),
    Column("last_seen", "time", _computed, evt_iso8601_text),
)


@dataclass
class GroupCounts:
    """Per group key (one value per ``--by`` column): ``[count, first_ns, last_ns]``.

    Groups are kept in the order they first appear in the input.
    """

    columns: Sequence[Column]
    groups: dict[tuple[Any, ...], list[int]] = field(default_factory=dict)
    stats: SelectionStats = field(default_factory=SelectionStats)

    @property
    def result_columns(self) -> list[Column]:
        return [*self.columns, *COUNT_COLUMNS]

    def rows(self, top: int | None = None) -> list[list[Any]]:
        """Result rows, most frequent first (ties: first seen first), at most ``top``."""
        ordered = sorted(self.groups.items(), key=lambda kv: -kv[1][0])
        if top is not None:
            ordered = ordered[:top]
        return [[*(_listed(v) for v in key), *counts] for key, counts in ordered]


def _hashable(value: Any) -> Any:
    return tuple(value) if value.__class__ is list else value


def _listed(value: Any) -> Any:
    return list(value) if value.__class__ is tuple else value


def count_groups(events: Iterable[AuditEvent], counts: GroupCounts) -> None:
    """Add ``events`` to ``counts`` (the hot loop: locals only)."""
    getters = [c.get for c in counts.columns]
    groups = counts.groups
    for ev in events:
        key = tuple([_hashable(get(ev)) for get in getters])
        t = ev.time_ns
        group = groups.get(key)
        if group is None:
            groups[key] = [1, t, t]
            continue
        group[0] += 1
        if t < group[1]:
            group[1] = t
        elif t > group[2]:
            group[2] = t


def group_counts(
    paths: Sequence[str],
    columns: Sequence[Column],
    selection: Selection,
    stats: SelectionStats | None = None,
) -> GroupCounts:
    """Count the events of ``paths`` that ``selection`` keeps, per value of ``columns``."""
    counts = GroupCounts(columns, stats=stats if stats is not None else SelectionStats())
    count_groups(selected_events(paths, selection, counts.stats), counts)
    return counts
