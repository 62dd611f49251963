"""Read how an item changes an earlier one: the ``append`` flag and the ``override`` map.

Which keys may be appended to or replaced, and the order Falco checks them
in (which decides the error a user sees first), are stated here once.
"""

from __future__ import annotations

from collections.abc import Set

import yaml

from k8saudit_cli.ruleset.items import ItemBase
from k8saudit_cli.ruleset.node_values import Entries, flag, scalar_text
from k8saudit_cli.ruleset.read_context import ItemError, ReadContext
from k8saudit_cli.ruleset.yamlio import mapping_items

#: Keys a rule's ``override`` may append to / replace, in the order Falco checks them.
RULE_APPEND_ORDER = ("condition", "exceptions", "output", "desc", "tags")
RULE_REPLACE_ORDER = (
    "condition",
    "exceptions",
    "output",
    "desc",
    "tags",
    "priority",
    "capture",
    "capture_duration",
    "enabled",
    "warn_evttypes",
    "skip-if-unknown-filter",
)
RULE_APPENDABLE = frozenset(RULE_APPEND_ORDER)
RULE_REPLACEABLE = frozenset(RULE_REPLACE_ORDER)

_DEPRECATED_APPEND = (
    "'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') "
    "under 'override' instead."
)
_APPEND_AND_OVERRIDE = (
    "Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry "
    "(e.g. 'condition: append') under 'override' instead."
)


def read_append_override(
    ctx: ReadContext,
    item: ItemBase,
    e: Entries,
    appendable: Set[str],
    replaceable: Set[str],
) -> None:
    """Set ``item.append`` and ``item.override`` from the item's keys."""
    if "append" in e:
        item.append = flag(e["append"][1])
        if item.append:
            kind = type(item).__name__[:-3].lower()  # ListDef -> list
            ctx.warn(
                "LOAD_DEPRECATED_ITEM",
                _DEPRECATED_APPEND,
                ctx.pos(e["append"][0]),
                kind,
                item.name,
            )
    if "override" not in e:
        return
    onode = e["override"][1]
    if not isinstance(onode, yaml.MappingNode):
        raise ItemError("Value is not a map", onode, "overrides")
    for key, knode, vnode in mapping_items(onode):
        item.override[key] = _operation(key, knode, vnode, appendable, replaceable)
    if item.append and item.override:
        raise ItemError(_APPEND_AND_OVERRIDE, onode, "overrides")


def _operation(
    key: str,
    knode: yaml.Node,
    vnode: yaml.Node,
    appendable: Set[str],
    replaceable: Set[str],
) -> str:
    """``append`` or ``replace``, if allowed for ``key``."""
    op = scalar_text(vnode)
    if op == "append" and key not in appendable:
        raise ItemError(
            f"Key '{key}' cannot be appended to, use 'replace' instead", knode, "overrides"
        )
    if op == "replace" and key not in replaceable:
        raise ItemError(f"Key '{key}' cannot be replaced", knode, "overrides")
    if op is None or op not in ("append", "replace"):
        allowed = ("append " if key in appendable else "") + (
            "replace " if key in replaceable else ""
        )
        raise ItemError(
            f"Invalid override operation for key '{key}': '{op}'. Allowed values are: {allowed}",
            vnode,
            "overrides",
        )
    return op


def check_override_keys(override: dict[str, str], e: Entries, node: yaml.MappingNode) -> None:
    """Every key under ``override`` must be in the item and every overridable key
    in the item must be under ``override`` (Falco's reader, in its order)."""
    present = {k for k in RULE_APPENDABLE | RULE_REPLACEABLE if k in e}
    for op, keys in (("append", RULE_APPEND_ORDER), ("replace", RULE_REPLACE_ORDER)):
        for key in keys:
            if override.get(key) == op:
                if key not in present:
                    raise ItemError(
                        f"An {op} override for '{key}' was specified but '{key}' is not defined",
                        node,
                    )
                present.discard(key)
    if present:
        key = min(present)
        raise ItemError(
            f"Unexpected key '{key}': no corresponding entry under 'override' is defined.",
            e[key][1],
            "overrides",
        )
