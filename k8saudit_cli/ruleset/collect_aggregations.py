"""Merge ``aggregation`` items into the collection: definitions and ``override``.

A later definition replaces an earlier one and keeps its position, as for
rules; ``override`` appends to or replaces single keys of an aggregation
defined earlier (in this file or an earlier one). Name clashes with rules
are checked when compiling, once every file is in.
"""

from __future__ import annotations

from k8saudit_cli.errors import Position
from k8saudit_cli.ruleset.aggregation_items import AggregationDef, AggregationState
from k8saudit_cli.ruleset.states import CollectError, Collection

_NO_AGGREGATION = "Aggregation uses 'override' but no aggregation by that name already exists"


def collect_aggregation(coll: Collection, item: AggregationDef) -> None:
    old = coll.aggregations.get(item.name)
    if item.override:
        if old is None:
            raise CollectError(_NO_AGGREGATION)
        _override(old, item)
        return
    index = old.index if old else len(coll.aggregations)
    coll.aggregations[item.name] = _defined(item, index, old.pos if old else item.pos)


def _defined(item: AggregationDef, index: int, pos: Position) -> AggregationState:
    """The state of a full definition (the reader checked every key is there)."""
    assert item.condition and item.output and item.desc is not None
    assert item.priority is not None and item.window and item.threshold
    return AggregationState(
        item.name,
        index,
        pos,
        item.condition,
        item.output,
        item.desc,
        item.priority,
        list(item.group_by or []),
        item.distinct,
        item.window,
        item.threshold,
        enabled=True if item.enabled is None else item.enabled,
        tags=sorted(set(item.tags or [])),
    )


def _override(old: AggregationState, item: AggregationDef) -> None:
    """Appends first, then replacements (the reader checked each key is given)."""
    for key, op in item.override.items():
        if op == "append":
            _append_key(old, item, key)
    for key, op in item.override.items():
        if op == "replace":
            _replace_key(old, item, key)


def _append_key(old: AggregationState, item: AggregationDef, key: str) -> None:
    if key == "condition" and item.condition is not None and item.condition.value:
        old.condition = old.condition.join(item.condition)
    elif key == "output" and item.output is not None and item.output.value:
        old.output = old.output.join(item.output)
    elif key == "desc" and item.desc:
        old.desc = f"{old.desc} {item.desc}"
    elif key == "tags":
        old.tags = sorted(set(old.tags) | set(item.tags or []))


def _replace_key(old: AggregationState, item: AggregationDef, key: str) -> None:
    if key == "tags":
        old.tags = sorted(set(item.tags or []))
    elif key == "group_by":
        old.group_by = list(item.group_by or [])
    elif key == "count":
        old.distinct = None
    elif key == "enabled":
        old.enabled = bool(item.enabled)
    else:  # condition, output, desc, priority, distinct, window, threshold
        value = getattr(item, key)
        assert value is not None
        setattr(old, key, value)
