"""``query``: the selected events as their JSON text (jq's ``select``, in the rules language).

An event that is a line of its own is given as that line's bytes,
unchanged (without the line ending). An item of an EventList or of an
array has no text of its own in the input, so it is given as its compact
JSON (keys in their input order, no spaces, non-ASCII characters as
themselves): one event per output line either way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from k8saudit_cli.forensics.selection import (
    Selection,
    SelectionStats,
    selected_events,
    selected_with_text,
)


def query(
    paths: Sequence[str],
    selection: Selection,
    write: Callable[[bytes], object],
    stats: SelectionStats | None = None,
) -> SelectionStats:
    """Write each selected event's JSON text and a newline; returns the counts."""
    stats = stats if stats is not None else SelectionStats()
    for text in selected_with_text(paths, selection, stats):
        write(text + b"\n")
    return stats


def count(
    paths: Sequence[str], selection: Selection, stats: SelectionStats | None = None
) -> SelectionStats:
    """Only count the selected events (``stats.events_selected``)."""
    stats = stats if stats is not None else SelectionStats()
    for _ in selected_events(paths, selection, stats):
        pass
    return stats
