"""Read one list, macro or rule mapping into its item record.

A rule may be a full definition, an ``append``/``override`` of an earlier
rule, or the deprecated "enabled only" form; which keys are required
depends on that, exactly as in Falco's reader.
"""

from __future__ import annotations

import re

import yaml

from k8saudit_cli import priority as prio
from k8saudit_cli.ruleset.items import ListDef, MacroDef, RuleDef, Scalar, SourceText, TextPiece
from k8saudit_cli.ruleset.node_values import (
    Entries,
    flag,
    required_scalar,
    scalar_list,
    scalar_text,
)
from k8saudit_cli.ruleset.read_context import ItemError, ReadContext
from k8saudit_cli.ruleset.read_exceptions import read_exceptions
from k8saudit_cli.ruleset.read_overrides import (
    RULE_APPENDABLE,
    RULE_REPLACEABLE,
    check_override_keys,
    read_append_override,
)
from k8saudit_cli.ruleset.yamlio import is_null

_LIST_NAME = re.compile(r"[^()\"'\s=,]+\Z")
_MACRO_NAME = re.compile(r"[a-zA-Z]+[a-zA-Z0-9_]*\Z")
#: Boolean rule keys and the RuleDef attribute each sets.
_RULE_FLAGS = (
    ("enabled", "enabled"),
    ("skip-if-unknown-filter", "skip_if_unknown_filter"),
    ("warn_evttypes", "warn_evttypes"),
    ("capture", "capture"),
)
#: Keys a full rule definition must have (any one of them makes it full).
_FULL_RULE_KEYS = ("condition", "output", "desc", "priority")


def read_list(ctx: ReadContext, node: yaml.MappingNode, e: Entries) -> ListDef:
    name = required_scalar(e, "list", node)
    if not _LIST_NAME.match(name):
        ctx.warn(
            "LOAD_INVALID_LIST_NAME",
            "List has an invalid name. List names should match a regular expression: "
            f"{_LIST_NAME.pattern[:-2]}",
            ctx.pos(node),
            "list",
            name,
        )
    item = ListDef(name, ctx.pos(node), ctx.src, keys=frozenset(e))
    read_append_override(ctx, item, e, {"items"}, {"items"})
    if "items" not in e:
        raise ItemError("Item has no mapping for key 'items'", node)
    items_node = e["items"][1]
    if not isinstance(items_node, yaml.SequenceNode):
        raise ItemError("Value is not a sequence", items_node, "list")
    for child in items_node.value:
        if not isinstance(child, yaml.ScalarNode) or is_null(child):
            raise ItemError("sequence value is not scalar", child, "list item")
        item.items.append(Scalar(child.value, ctx.pos(child)))
    return item


def read_macro(ctx: ReadContext, node: yaml.MappingNode, e: Entries) -> MacroDef:
    name = required_scalar(e, "macro", node)
    if not _MACRO_NAME.match(name):
        ctx.warn(
            "LOAD_INVALID_MACRO_NAME",
            "Macro has an invalid name. Macro names should match a regular expression: "
            f"{_MACRO_NAME.pattern[:-2]}",
            ctx.pos(node),
            "macro",
            name,
        )
    item = MacroDef(name, ctx.pos(node), ctx.src, keys=frozenset(e))
    read_append_override(ctx, item, e, {"condition"}, {"condition"})
    required_scalar(e, "condition", node, item_type="macro condition")
    item.condition = _source_text(ctx, e["condition"][1])
    return item


def read_rule(ctx: ReadContext, node: yaml.MappingNode, e: Entries) -> RuleDef:
    """Keys are read in Falco's order, so the first error reported is Falco's."""
    name = required_scalar(e, "rule", node)
    item = RuleDef(name, ctx.pos(node), ctx.src, keys=frozenset(e))
    read_append_override(ctx, item, e, RULE_APPENDABLE, RULE_REPLACEABLE)
    if item.override:
        check_override_keys(item.override, e, node)
    _read_rule_texts(ctx, item, e, node)
    _read_rule_scalars(item, e, node)
    for key, attr in _RULE_FLAGS:
        if key in e:
            setattr(item, attr, flag(e[key][1]))
    if "tags" in e:
        item.tags = scalar_list(e["tags"][1], "rule")
    if "exceptions" in e:
        appending = item.append or item.override.get("exceptions") == "append"
        item.exceptions = read_exceptions(ctx, e["exceptions"][1], appending)
    if not item.append and not item.override:
        _check_full_rule(item, e, node)
    return item


def _read_rule_texts(ctx: ReadContext, item: RuleDef, e: Entries, node: yaml.MappingNode) -> None:
    if "condition" in e:
        required_scalar(e, "condition", node, item_type="rule condition")
        item.condition = _source_text(ctx, e["condition"][1])
    if "output" in e:
        required_scalar(e, "output", node, item_type="rule output")
        item.output = _strip_text(_source_text(ctx, e["output"][1]))


def _read_rule_scalars(item: RuleDef, e: Entries, node: yaml.MappingNode) -> None:
    if "desc" in e:
        item.desc = required_scalar(e, "desc", node)
    if "priority" in e:
        text = required_scalar(e, "priority", node, item_type="rule priority")
        item.priority = prio.parse_priority(text)
        if item.priority is None:
            raise ItemError("Invalid priority", e["priority"][1], "rule priority")
    if "source" in e:
        item.source = scalar_text(e["source"][1]) or None


def _check_full_rule(item: RuleDef, e: Entries, node: yaml.MappingNode) -> None:
    """A rule that neither appends nor overrides defines every key, or only ``enabled``."""
    if any(k in e for k in _FULL_RULE_KEYS):
        for key in _FULL_RULE_KEYS:
            required_scalar(e, key, node)
        # None when absent: the collector defaults it to syscall and remembers that it did.
        item.source = required_scalar(e, "source", node) if "source" in e else None
    elif "enabled" not in e:
        raise ItemError("Item has no mapping for key 'enabled'", node)


def _source_text(ctx: ReadContext, node: yaml.Node) -> SourceText:
    """The text of a scalar already checked by ``required_scalar``, with its origin."""
    assert isinstance(node, yaml.ScalarNode)
    return SourceText.from_node(ctx.src, node)


def _strip_text(text: SourceText) -> SourceText:
    """Falco trims an output's surrounding whitespace; keep offsets aligned."""
    lead = len(text.value) - len(text.value.lstrip())
    value = text.value.strip()
    if not text.pieces:
        return SourceText(value)
    p = text.pieces[0]
    return SourceText(value, (TextPiece(p.start - lead, p.src, p.node),))
