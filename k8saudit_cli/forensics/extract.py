"""``extract``: one row of field values per selected event, streamed to a writer.

Rows go to the writer as they are read (constant memory), or, with
``sort``, through :func:`~k8saudit_cli.forensics.extsort.sorted_by_time`
(event-time order across every input, spilling to temporary files).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from k8saudit_cli.event import AuditEvent
from k8saudit_cli.forensics.columns import Column, row_reader
from k8saudit_cli.forensics.extsort import RUN_ROWS, sorted_by_time
from k8saudit_cli.forensics.selection import Selection, SelectionStats, selected_events
from k8saudit_cli.forensics.tabular import RowWriter


@dataclass(frozen=True)
class SortOptions:
    """``--sort``: rows per in-memory run, and where run files go (``None``: the temp dir)."""

    run_rows: int = RUN_ROWS
    tmp_dir: str | None = None


def timed_rows(
    events: Iterable[AuditEvent], columns: Sequence[Column]
) -> Iterator[tuple[int, list[Any]]]:
    """``(event time, row)`` of each event: what the sort orders by."""
    row = row_reader(columns)
    return ((ev.time_ns, row(ev)) for ev in events)


def extract(
    paths: Sequence[str],
    columns: Sequence[Column],
    selection: Selection,
    writer: RowWriter,
    sort: SortOptions | None = None,
    stats: SelectionStats | None = None,
) -> SelectionStats:
    """Write the row of every event of ``paths`` that ``selection`` keeps; returns the counts
    (``stats``, when given, receives them and its ``problems`` the skipped input).

    The writer is not closed: the caller owns it.
    """
    stats = stats if stats is not None else SelectionStats()
    events = selected_events(paths, selection, stats)
    if sort is None:
        writer.write_events(events, columns)
    else:
        ordered = sorted_by_time(timed_rows(events, columns), sort.run_rows, sort.tmp_dir)
        writer.write_rows(ordered)
    return stats
