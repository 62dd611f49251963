"""Read one rules file into item records, collecting Falco's decoding errors.

Messages and codes follow Falco's rule_loader_reader.cpp so users who know
``falco -V`` recognise them; unlike Falco, a bad item does not stop the
file: we report it and read on, so one run shows every problem.
"""

from __future__ import annotations

import re

import yaml

from k8saudit_cli import priority as prio
from k8saudit_cli.errors import Diagnostic, Position, Severity
from k8saudit_cli.ruleset.items import (
    EngineVersionReq,
    ExceptionDef,
    ItemBase,
    ListDef,
    MacroDef,
    PluginRequirement,
    PluginVersionsReq,
    RuleDef,
    Scalar,
    SourceText,
    TextPiece,
)
from k8saudit_cli.ruleset.yamlio import (
    SourceFile,
    YamlError,
    compose_documents,
    is_null,
    mapping_items,
    node_position,
    scalar_bool,
)

ITEM_KINDS = ("required_engine_version", "required_plugin_versions", "list", "macro", "rule")
EXPECTED_KEYS = {
    "list": {"list", "items", "append", "override"},
    "macro": {"macro", "condition", "append", "override"},
    "rule": {
        "rule",
        "condition",
        "output",
        "desc",
        "priority",
        "source",
        "enabled",
        "capture",
        "capture_duration",
        "warn_evttypes",
        "skip-if-unknown-filter",
        "tags",
        "exceptions",
        "override",
        "append",
    },
    "required_engine_version": {"required_engine_version"},
    "required_plugin_versions": {"required_plugin_versions"},
}
#: Keys a rule's ``override`` may append to / replace, in the order Falco checks them.
_APPEND_ORDER = ("condition", "exceptions", "output", "desc", "tags")
_REPLACE_ORDER = (
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
RULE_APPENDABLE = frozenset(_APPEND_ORDER)
RULE_REPLACEABLE = frozenset(_REPLACE_ORDER)
_LIST_NAME = re.compile(r"[^()\"'\s=,]+\Z")
_MACRO_NAME = re.compile(r"[a-zA-Z]+[a-zA-Z0-9_]*\Z")
_SEMVER = re.compile(r"\s*(\d+)\.(\d+)\.(\d+)")

Item = ItemBase | EngineVersionReq | PluginVersionsReq


class ItemError(Exception):
    """A decoding error inside one item; ``node`` says where."""

    def __init__(
        self,
        message: str,
        node: yaml.Node | None,
        item_type: str | None = None,
        code: str = "LOAD_ERR_YAML_VALIDATE",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.node = node
        self.item_type = item_type
        self.code = code


class Reader:
    """Reads one file; ``items`` and ``diagnostics`` hold the results."""

    def __init__(self, src: SourceFile) -> None:
        self.src = src
        self.items: list[Item] = []
        self.diagnostics: list[Diagnostic] = []

    # ---------------------------------------------------------------- driving

    def read(self) -> Reader:
        try:
            docs = compose_documents(self.src)
        except YamlError as exc:
            self._diag("LOAD_ERR_YAML_PARSE", exc.message, exc.position, "rules content")
            return self
        for doc in docs:
            if doc is None or is_null(doc):
                continue
            if isinstance(doc, yaml.ScalarNode):
                self._diag(
                    "LOAD_ERR_YAML_VALIDATE",
                    "Rules content is not yaml",
                    self._pos(doc),
                    "rules content",
                )
            elif isinstance(doc, yaml.MappingNode):
                self._diag(
                    "LOAD_ERR_YAML_VALIDATE",
                    "Rules content is not yaml array of objects",
                    self._pos(doc),
                    "rules content",
                )
            else:
                for entry in doc.value:
                    self._entry(entry)
        return self

    def _entry(self, node: yaml.Node) -> None:
        if is_null(node):
            return
        if not isinstance(node, yaml.MappingNode):
            self._diag(
                "LOAD_ERR_YAML_VALIDATE",
                "Unexpected element type. Each element should be a yaml associative array.",
                self._pos(node),
                "rules content item",
            )
            return
        entries = {k: (kn, v) for k, kn, v in mapping_items(node)}
        kind = next((k for k in ITEM_KINDS if k in entries), None)
        if kind is None:
            self._diag(
                "LOAD_UNKNOWN_ITEM",
                "Unknown top level item",
                self._pos(node),
                "rules content item",
                warning=True,
            )
            return
        name = _scalar_text(entries[kind][1]) if kind in ("list", "macro", "rule") else None
        for key, (key_node, _) in entries.items():
            if key not in EXPECTED_KEYS[kind]:
                self._diag(
                    "LOAD_UNKNOWN_KEY",
                    f"Unknown key '{key}'. The key will be ignored.",
                    self._pos(key_node),
                    kind,
                    name,
                    warning=True,
                )
        try:
            item = getattr(self, "_read_" + kind)(node, entries)
        except ItemError as exc:
            where = self._pos(exc.node) if exc.node is not None else self._pos(node)
            self._diag(exc.code, exc.message, where, exc.item_type or kind, name)
            return
        if item is not None:
            self.items.append(item)

    # ---------------------------------------------------------------- kinds

    def _read_required_engine_version(self, node: yaml.MappingNode, e: dict) -> EngineVersionReq:
        vnode = e["required_engine_version"][1]
        text = self._req_scalar(e, "required_engine_version", node)
        if text.strip().isdigit():
            version = (0, int(text), 0)
        else:
            m = _SEMVER.match(text)
            if not m:
                raise ItemError(
                    f"Unable to parse engine version '{text}' as a semver string. Expected "
                    '"x.y.z" semver format.',
                    vnode,
                    "required_engine_version",
                )
            version = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
        return EngineVersionReq(version, text, self._pos(vnode))

    def _read_required_plugin_versions(self, node: yaml.MappingNode, e: dict) -> PluginVersionsReq:
        seq = e["required_plugin_versions"][1]
        itype = "required plugin versions"
        if not isinstance(seq, yaml.SequenceNode):
            raise ItemError("Value of required_plugin_versions must be a sequence", seq, itype)
        groups = []
        for entry in seq.value:
            if not isinstance(entry, yaml.MappingNode):
                raise ItemError(
                    "Plugin version must be a mapping", entry, "required plugin versions entry"
                )
            group = [self._plugin_req(entry)]
            alts = {k: v for k, _, v in mapping_items(entry)}.get("alternatives")
            if alts is not None:
                if not isinstance(alts, yaml.SequenceNode):
                    raise ItemError(
                        "Value of plugin version alternatives must be a sequence", alts, itype
                    )
                for alt in alts.value:
                    if not isinstance(alt, yaml.MappingNode):
                        raise ItemError(
                            "Plugin version must be a mapping",
                            alt,
                            "required plugin versions alternative",
                        )
                    req = self._plugin_req(alt)
                    if any(r.name == req.name for r in group):
                        raise ItemError(  # Falco checks this in its collector: a validation error
                            "Defined multiple alternative version requirements for plugin "
                            f"'{req.name}'",
                            alt,
                            itype,
                            "LOAD_ERR_VALIDATE",
                        )
                    group.append(req)
            groups.append(group)
        return PluginVersionsReq(groups, self._pos(seq))

    def _plugin_req(self, node: yaml.MappingNode) -> PluginRequirement:
        e = {k: (kn, v) for k, kn, v in mapping_items(node)}
        name = self._req_scalar(e, "name", node)
        version = self._req_scalar(e, "version", node)
        if not _SEMVER.match(version):
            raise ItemError(
                f"Invalid required version '{version}' for plugin '{name}'",
                e["version"][1],
                code="LOAD_ERR_VALIDATE",
            )
        return PluginRequirement(name, version)

    def _read_list(self, node: yaml.MappingNode, e: dict) -> ListDef:
        name = self._req_scalar(e, "list", node)
        if not _LIST_NAME.match(name):
            self._diag(
                "LOAD_INVALID_LIST_NAME",
                "List has an invalid name. List names should match a regular expression: "
                f"{_LIST_NAME.pattern[:-2]}",
                self._pos(node),
                "list",
                name,
                warning=True,
            )
        item = ListDef(name, self._pos(node), self.src, keys=frozenset(e))
        self._append_override(item, e, {"items"}, {"items"})
        if "items" not in e:
            raise ItemError("Item has no mapping for key 'items'", node)
        items_node = e["items"][1]
        if not isinstance(items_node, yaml.SequenceNode):
            raise ItemError("Value is not a sequence", items_node, "list")
        for child in items_node.value:
            if not isinstance(child, yaml.ScalarNode) or is_null(child):
                raise ItemError("sequence value is not scalar", child, "list item")
            item.items.append(Scalar(child.value, self._pos(child)))
        return item

    def _read_macro(self, node: yaml.MappingNode, e: dict) -> MacroDef:
        name = self._req_scalar(e, "macro", node)
        if not _MACRO_NAME.match(name):
            self._diag(
                "LOAD_INVALID_MACRO_NAME",
                "Macro has an invalid name. Macro names should match a regular expression: "
                f"{_MACRO_NAME.pattern[:-2]}",
                self._pos(node),
                "macro",
                name,
                warning=True,
            )
        item = MacroDef(name, self._pos(node), self.src, keys=frozenset(e))
        self._append_override(item, e, {"condition"}, {"condition"})
        self._req_scalar(e, "condition", node, item_type="macro condition")
        item.condition = SourceText.from_node(self.src, e["condition"][1])
        return item

    def _read_rule(self, node: yaml.MappingNode, e: dict) -> RuleDef:
        name = self._req_scalar(e, "rule", node)
        item = RuleDef(name, self._pos(node), self.src, keys=frozenset(e))
        self._append_override(item, e, RULE_APPENDABLE, RULE_REPLACEABLE)
        if item.override:
            _check_override_keys(item.override, e, node)
        for key in ("condition", "output"):
            if key in e:
                self._req_scalar(e, key, node, item_type=f"rule {key}")
                setattr(item, key, SourceText.from_node(self.src, e[key][1]))
        if item.output is not None:
            item.output = _strip_text(item.output)
        if "desc" in e:
            item.desc = self._req_scalar(e, "desc", node)
        if "priority" in e:
            text = self._req_scalar(e, "priority", node, item_type="rule priority")
            item.priority = prio.parse_priority(text)
            if item.priority is None:
                raise ItemError("Invalid priority", e["priority"][1], "rule priority")
        if "source" in e:
            item.source = _scalar_text(e["source"][1]) or None
        for key, attr in (
            ("enabled", "enabled"),
            ("skip-if-unknown-filter", "skip_if_unknown_filter"),
            ("warn_evttypes", "warn_evttypes"),
            ("capture", "capture"),
        ):
            if key in e:
                setattr(item, attr, self._bool(e[key][1]))
        if "tags" in e:
            item.tags = self._scalar_seq(e["tags"][1], "rule")
        if "exceptions" in e:
            appending = item.append or item.override.get("exceptions") == "append"
            item.exceptions = self._exceptions(e["exceptions"][1], appending)
        full = not item.append and not item.override
        if full:
            present = {k for k in ("condition", "output", "desc", "priority") if k in e}
            if present:
                for key in ("condition", "output", "desc", "priority"):
                    self._req_scalar(e, key, node)
                if "source" in e:
                    item.source = self._req_scalar(e, "source", node)
                else:
                    item.source = "syscall"
            elif "enabled" not in e:
                raise ItemError("Item has no mapping for key 'enabled'", node)
        return item

    # ---------------------------------------------------------------- pieces

    def _append_override(
        self,
        item: ItemBase,
        e: dict,
        appendable: frozenset[str] | set[str],
        replaceable: frozenset[str] | set[str],
    ) -> None:
        if "append" in e:
            item.append = bool(self._bool(e["append"][1]))
            if item.append:
                self._diag(
                    "LOAD_DEPRECATED_ITEM",
                    "'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') "
                    "under 'override' instead.",
                    self._pos(e["append"][0]),
                    type(item).__name__[:-3].lower(),
                    item.name,
                    warning=True,
                )
        if "override" not in e:
            return
        onode = e["override"][1]
        if not isinstance(onode, yaml.MappingNode):
            raise ItemError("Value is not a map", onode, "overrides")
        for key, knode, vnode in mapping_items(onode):
            op = _scalar_text(vnode)
            if op == "append" and key not in appendable:
                raise ItemError(
                    f"Key '{key}' cannot be appended to, use 'replace' instead", knode, "overrides"
                )
            if op == "replace" and key not in replaceable:
                raise ItemError(f"Key '{key}' cannot be replaced", knode, "overrides")
            if op not in ("append", "replace"):
                allowed = ("append " if key in appendable else "") + (
                    "replace " if key in replaceable else ""
                )
                raise ItemError(
                    f"Invalid override operation for key '{key}': '{op}'. Allowed values are: "
                    f"{allowed}",
                    vnode,
                    "overrides",
                )
            item.override[key] = op
        if item.append and item.override:
            raise ItemError(
                "Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry "
                "(e.g. 'condition: append') under 'override' instead.",
                onode,
                "overrides",
            )

    def _exceptions(self, node: yaml.Node, appending: bool) -> list[ExceptionDef]:
        """A rule's ``exceptions``; ``fields`` may be left out only when appending."""
        if is_null(node):
            return []
        if not isinstance(node, yaml.SequenceNode):
            raise ItemError("Rule exceptions must be a sequence", node, "exceptions")
        out = []
        for ex in node.value:
            if not isinstance(ex, yaml.MappingNode):
                raise ItemError("Rule exception must be a mapping", ex, "exception")
            e = {k: (kn, v) for k, kn, v in mapping_items(ex)}
            name = self._req_scalar(e, "name", ex, item_type="exception")
            d = ExceptionDef(name, self._pos(ex))
            if "fields" not in e and not appending:
                raise ItemError("Item has no mapping for key 'fields'", ex, "exception")
            for key in ("fields", "comps"):
                if key in e:
                    setattr(d, "has_" + key, True)
                    setattr(d, key, self._scalar_or_seq(e[key][1]))
            if "values" in e:
                d.has_values = True
                vnode = e["values"][1]
                if not isinstance(vnode, yaml.SequenceNode):
                    raise ItemError(
                        "Rule exception values must be a sequence", vnode, "exception values"
                    )
                d.values = [self._value_tree(v) for v in vnode.value]
            out.append(d)
        return out

    def _value_tree(self, node: yaml.Node) -> object:
        if isinstance(node, yaml.SequenceNode):
            return [self._value_tree(v) for v in node.value]
        if isinstance(node, yaml.ScalarNode) and not is_null(node):
            if node.value == "":
                raise ItemError("Value must be non-empty", node, "exception value")
            return node.value
        raise ItemError(
            "Expected values array to contain a list of strings", node, "exception value"
        )

    def _scalar_or_seq(self, node: yaml.Node) -> list[str] | str:
        if isinstance(node, yaml.SequenceNode):
            return self._scalar_seq(node, "exception")
        if isinstance(node, yaml.ScalarNode) and not is_null(node):
            return node.value
        raise ItemError("Value is not a scalar value", node, "exception")

    def _scalar_seq(self, node: yaml.Node, itype: str) -> list[str]:
        if not isinstance(node, yaml.SequenceNode):
            raise ItemError("Value is not a sequence", node, itype)
        out = []
        for child in node.value:
            if not isinstance(child, yaml.ScalarNode) or is_null(child):
                raise ItemError("sequence value is not scalar", child, itype)
            out.append(child.value)
        return out

    def _req_scalar(
        self, e: dict, key: str, parent: yaml.Node, item_type: str | None = None
    ) -> str:
        if key not in e:
            raise ItemError(f"Item has no mapping for key '{key}'", parent, item_type)
        node = e[key][1]
        if is_null(node):
            raise ItemError(f"Mapping for key '{key}' is empty", node, item_type)
        if not isinstance(node, yaml.ScalarNode):
            raise ItemError("Value is not a scalar value", node, item_type)
        if node.value == "":
            raise ItemError("Value must be non-empty", node, item_type)
        return node.value

    def _bool(self, node: yaml.Node) -> bool:
        value = scalar_bool(node.value) if isinstance(node, yaml.ScalarNode) else None
        if value is None:
            raise ItemError("Can't decode YAML scalar value", node)
        return value

    def _pos(self, node: yaml.Node) -> Position:
        return node_position(self.src, node)

    def _diag(
        self,
        code: str,
        message: str,
        pos: Position,
        item_type: str | None = None,
        item_name: str | None = None,
        warning: bool = False,
    ) -> None:
        sev = Severity.WARNING if warning else Severity.ERROR
        self.diagnostics.append(Diagnostic(code, sev, message, pos, item_type, item_name))


def _check_override_keys(override: dict[str, str], e: dict, node: yaml.MappingNode) -> None:
    """Every key under ``override`` must be in the item and every overridable key
    in the item must be under ``override`` (Falco's reader, in its order)."""
    present = {k for k in RULE_APPENDABLE | RULE_REPLACEABLE if k in e}
    for op, keys in (("append", _APPEND_ORDER), ("replace", _REPLACE_ORDER)):
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


def _scalar_text(node: yaml.Node) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) and not is_null(node) else None


def _strip_text(text: SourceText) -> SourceText:
    """Falco trims an output's surrounding whitespace; keep offsets aligned."""
    lead = len(text.value) - len(text.value.lstrip())
    value = text.value.strip()
    if not text.pieces:
        return SourceText(value)
    p = text.pieces[0]
    return SourceText(value, (TextPiece(p.start - lead, p.src, p.node),))
