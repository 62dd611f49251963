"""The records of an ``aggregation`` item (our extension): as read, and as merged.

An aggregation counts the events that match its condition, per group of
field values, over a sliding window of event time, and alerts when a count
reaches its threshold. :class:`AggregationDef` is one item as written in
one file; :class:`AggregationState` is what the collector keeps once every
file has had its say (redefinitions and ``override``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from k8saudit_cli.errors import Position
from k8saudit_cli.ruleset.items import ItemBase, Scalar, SourceText

#: The one thing ``count:`` can count.
COUNT_EVENTS = "events"


@dataclass(frozen=True)
class Window:
    """A window length as written (``5m``) and in nanoseconds."""

    text: str
    ns: int
    pos: Position


@dataclass(frozen=True)
class Threshold:
    value: int
    pos: Position


@dataclass
class AggregationDef(ItemBase):
    """One ``aggregation`` item of one file; ``None`` means the key was not given."""

    condition: SourceText | None = None
    output: SourceText | None = None
    desc: str | None = None
    priority: int | None = None
    source: str | None = None
    enabled: bool | None = None
    tags: list[str] | None = None
    group_by: list[Scalar] | None = None
    count: Scalar | None = None
    distinct: Scalar | None = None
    window: Window | None = None
    threshold: Threshold | None = None


@dataclass
class AggregationState:
    """An aggregation as it stands after every file; ``distinct`` None counts events."""

    name: str
    index: int
    pos: Position
    condition: SourceText
    output: SourceText
    desc: str
    priority: int
    group_by: list[Scalar]
    distinct: Scalar | None
    window: Window
    threshold: Threshold
    enabled: bool = True
    tags: list[str] = field(default_factory=list)
