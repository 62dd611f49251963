"""Read one ``aggregation`` item (our extension) into its record.

The key that names the item, ``aggregation``, is not one of Falco's: Falco
0.44's reader warns ``LOAD_UNKNOWN_ITEM`` ("Unknown top level item") and
skips the whole entry, so a file of aggregations still loads in Falco.
Shape errors (a window without a unit, a threshold that is not a number,
both ``count`` and ``distinct``) point at the value at fault; field names in
``group_by`` and ``distinct`` are checked when the item is compiled.
"""

from __future__ import annotations

import re

import yaml

from k8saudit_cli import priority as prio
from k8saudit_cli.ruleset.aggregation_items import (
    COUNT_EVENTS,
    AggregationDef,
    Threshold,
    Window,
)
from k8saudit_cli.ruleset.items import Scalar, SourceText, TextPiece
from k8saudit_cli.ruleset.node_values import Entries, flag, required_scalar, scalar_list
from k8saudit_cli.ruleset.read_context import ItemError, ReadContext
from k8saudit_cli.ruleset.read_overrides import read_append_override
from k8saudit_cli.ruleset.yamlio import is_null

KIND = "aggregation"
EXPECTED_KEYS = frozenset(
    {
        "aggregation",
        "condition",
        "output",
        "desc",
        "priority",
        "source",
        "enabled",
        "tags",
        "group_by",
        "count",
        "distinct",
        "window",
        "threshold",
        "override",
    }
)
#: Keys an ``override`` may append to / replace, in the order they are checked.
APPEND_ORDER = ("condition", "output", "desc", "tags")
REPLACE_ORDER = (
    "condition",
    "output",
    "desc",
    "priority",
    "tags",
    "enabled",
    "group_by",
    "count",
    "distinct",
    "window",
    "threshold",
)
#: Keys a full definition must have (``count`` or ``distinct`` as well).
_FULL_KEYS = ("condition", "output", "desc", "priority", "window", "threshold")
SOURCE = "k8s_audit"

_DURATION_PART = re.compile(r"(\d+)(ms|s|m|h)")
_UNIT_NS = {"ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
#: Longest window: the state kept per group is bounded by the threshold, but a
#: window of days would keep groups alive (and memory used) for days of input.
MAX_WINDOW_NS = 24 * _UNIT_NS["h"]
MAX_THRESHOLD = 100_000


def parse_window(text: str) -> int | None:
    """``30s``, ``5m``, ``1h30m``, ``500ms`` -> nanoseconds; ``None`` if not that shape."""
    text = text.strip()
    pos, total = 0, 0
    while pos < len(text):
        m = _DURATION_PART.match(text, pos)
        if m is None:
            return None
        total += int(m.group(1)) * _UNIT_NS[m.group(2)]
        pos = m.end()
    return total if text else None


def read_aggregation(ctx: ReadContext, node: yaml.MappingNode, e: Entries) -> AggregationDef:
    """An aggregation item; raises :class:`ItemError` at the first problem, as rules do."""
    name = required_scalar(e, KIND, node)
    item = AggregationDef(name, ctx.pos(node), ctx.src, keys=frozenset(e))
    plain = {k: v for k, v in e.items() if k != "append"}  # no deprecated form to keep
    read_append_override(ctx, item, plain, frozenset(APPEND_ORDER), frozenset(REPLACE_ORDER))
    if item.override:
        _check_override_keys(item.override, e, node)
    _read_texts(ctx, item, e, node)
    _read_scalars(item, e, node)
    _read_measure(ctx, item, e)
    _read_window(ctx, item, e, node)
    if not item.override:
        _check_full(item, e, node)
    return item


def _read_texts(ctx: ReadContext, item: AggregationDef, e: Entries, node: yaml.Node) -> None:
    for key in ("condition", "output"):
        if key in e:
            required_scalar(e, key, node, item_type=f"{KIND} {key}")
            vnode = e[key][1]
            assert isinstance(vnode, yaml.ScalarNode)
            text = SourceText.from_node(ctx.src, vnode)
            setattr(item, key, _strip(text) if key == "output" else text)


def _read_scalars(item: AggregationDef, e: Entries, node: yaml.Node) -> None:
    if "desc" in e:
        item.desc = required_scalar(e, "desc", node)
    if "priority" in e:
        text = required_scalar(e, "priority", node, item_type=f"{KIND} priority")
        item.priority = prio.parse_priority(text)
        if item.priority is None:
            raise ItemError("Invalid priority", e["priority"][1], f"{KIND} priority")
    if "source" in e:
        item.source = required_scalar(e, "source", node)
        if item.source != SOURCE:
            raise ItemError(
                f"Aggregations only evaluate source {SOURCE}, not '{item.source}'",
                e["source"][1],
                f"{KIND} source",
            )
    if "enabled" in e:
        item.enabled = flag(e["enabled"][1])
    if "tags" in e:
        item.tags = scalar_list(e["tags"][1], KIND)


def _read_measure(ctx: ReadContext, item: AggregationDef, e: Entries) -> None:
    """``group_by``, and what is counted: ``count: events`` or ``distinct: FIELD``."""
    if "group_by" in e:
        gnode = e["group_by"][1]
        if is_null(gnode):
            item.group_by = []
        elif not isinstance(gnode, yaml.SequenceNode):
            raise ItemError("Value is not a sequence", gnode, f"{KIND} group_by")
        else:
            scalar_list(gnode, f"{KIND} group_by")  # shape check, with Falco's messages
            item.group_by = [Scalar(c.value.strip(), ctx.pos(c)) for c in gnode.value]
    if "count" in e and "distinct" in e:
        raise ItemError(
            "Keys 'count' and 'distinct' cannot be used together: count events, or "
            "distinct values of one field",
            e["distinct"][0],
            KIND,
        )
    if "count" in e:
        item.count = _scalar(ctx, e, "count")
        if item.count.text != COUNT_EVENTS:
            raise ItemError(
                f"Invalid count '{item.count.text}': 'count' counts 'events'; to count "
                "distinct values of a field, write 'distinct: FIELD'",
                e["count"][1],
                f"{KIND} count",
            )
    if "distinct" in e:
        item.distinct = _scalar(ctx, e, "distinct")


def _read_window(ctx: ReadContext, item: AggregationDef, e: Entries, node: yaml.Node) -> None:
    if "window" in e:
        text = required_scalar(e, "window", node, item_type=f"{KIND} window").strip()
        vnode = e["window"][1]
        ns = parse_window(text)
        if ns is None or ns == 0:
            raise ItemError(
                f"Invalid window '{text}': a length of event time with a unit (ms, s, m, "
                "h), e.g. 30s, 5m, 1h30m",
                vnode,
                f"{KIND} window",
            )
        if ns > MAX_WINDOW_NS:
            raise ItemError(
                f"Window '{text}' is longer than the maximum of 24h", vnode, f"{KIND} window"
            )
        item.window = Window(text, ns, ctx.pos(vnode))
    if "threshold" in e:
        text = required_scalar(e, "threshold", node, item_type=f"{KIND} threshold").strip()
        vnode = e["threshold"][1]
        if not text.isdigit() or not 1 <= int(text) <= MAX_THRESHOLD:
            raise ItemError(
                f"Invalid threshold '{text}': a whole number from 1 to {MAX_THRESHOLD}",
                vnode,
                f"{KIND} threshold",
            )
        item.threshold = Threshold(int(text), ctx.pos(vnode))


def _scalar(ctx: ReadContext, e: Entries, key: str) -> Scalar:
    vnode = e[key][1]
    if is_null(vnode) or not isinstance(vnode, yaml.ScalarNode) or not vnode.value.strip():
        raise ItemError("Value must be a non-empty scalar", vnode, f"{KIND} {key}")
    return Scalar(vnode.value.strip(), ctx.pos(vnode))


def _check_full(item: AggregationDef, e: Entries, node: yaml.Node) -> None:
    """A definition (not an override) gives every key, and one of count/distinct."""
    for key in _FULL_KEYS:
        if key not in e:
            raise ItemError(f"Item has no mapping for key '{key}'", node, KIND)
    if item.count is None and item.distinct is None:
        raise ItemError(
            "Item has no mapping for key 'count' or 'distinct' (count: events, or distinct: FIELD)",
            node,
            KIND,
        )


def _check_override_keys(override: dict[str, str], e: Entries, node: yaml.Node) -> None:
    """As for rules: every key under ``override`` is given, and every given key is under it."""
    for key in override:
        if key not in e:
            raise ItemError(
                f"An {override[key]} override for '{key}' was specified but '{key}' is not defined",
                node,
                KIND,
            )
    extra = sorted(k for k in REPLACE_ORDER if k in e and k not in override)
    if extra:
        raise ItemError(
            f"Unexpected key '{extra[0]}': no corresponding entry under 'override' is defined.",
            e[extra[0]][1],
            "overrides",
        )


def _strip(text: SourceText) -> SourceText:
    """Outputs are trimmed, as Falco trims a rule's; offsets stay aligned."""
    lead = len(text.value) - len(text.value.lstrip())
    p = text.pieces[0]
    return SourceText(text.value.strip(), (TextPiece(p.start - lead, p.src, p.node),))
