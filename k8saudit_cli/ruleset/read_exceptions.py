"""Read a rule's ``exceptions`` block into :class:`ExceptionDef` records.

Shapes only: whether fields, comps and values fit together is checked when
the rule is collected, because an appending item may supply just values.
"""

from __future__ import annotations

import yaml

from k8saudit_cli.ruleset.items import ExceptionDef
from k8saudit_cli.ruleset.node_values import entries_of, required_scalar, scalar_or_list
from k8saudit_cli.ruleset.read_context import ItemError, ReadContext
from k8saudit_cli.ruleset.yamlio import is_null


def read_exceptions(ctx: ReadContext, node: yaml.Node, appending: bool) -> list[ExceptionDef]:
    """A rule's ``exceptions``; ``fields`` may be left out only when appending."""
    if is_null(node):
        return []
    if not isinstance(node, yaml.SequenceNode):
        raise ItemError("Rule exceptions must be a sequence", node, "exceptions")
    return [_read_exception(ctx, ex, appending) for ex in node.value]


def _read_exception(ctx: ReadContext, ex: yaml.Node, appending: bool) -> ExceptionDef:
    if not isinstance(ex, yaml.MappingNode):
        raise ItemError("Rule exception must be a mapping", ex, "exception")
    e = entries_of(ex)
    name = required_scalar(e, "name", ex, item_type="exception")
    d = ExceptionDef(name, ctx.pos(ex))
    if "fields" not in e and not appending:
        raise ItemError("Item has no mapping for key 'fields'", ex, "exception")
    if "fields" in e:
        d.has_fields = True
        d.fields = scalar_or_list(e["fields"][1], "exception")
    if "comps" in e:
        d.has_comps = True
        d.comps = scalar_or_list(e["comps"][1], "exception")
    if "values" in e:
        d.has_values = True
        vnode = e["values"][1]
        if not isinstance(vnode, yaml.SequenceNode):
            raise ItemError("Rule exception values must be a sequence", vnode, "exception values")
        d.values = [_value_tree(v) for v in vnode.value]
    return d


def _value_tree(node: yaml.Node) -> object:
    """Values as written: strings, or (nested) lists of strings."""
    if isinstance(node, yaml.SequenceNode):
        return [_value_tree(v) for v in node.value]
    if isinstance(node, yaml.ScalarNode) and not is_null(node):
        if node.value == "":
            raise ItemError("Value must be non-empty", node, "exception value")
        text: str = node.value
        return text
    raise ItemError("Expected values array to contain a list of strings", node, "exception value")
