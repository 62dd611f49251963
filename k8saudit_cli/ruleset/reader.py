"""Read one rules file into item records, collecting Falco's decoding errors.

This module walks the documents and dispatches each entry to the reader of
its kind (:mod:`read_items`, :mod:`read_requirements`). Messages and codes
follow Falco's rule_loader_reader.cpp so users who know ``falco -V``
recognise them; unlike Falco, a bad item does not stop the file: we report
it and read on, so one run shows every problem.
"""

from __future__ import annotations

from collections.abc import Callable

import yaml

from k8saudit_cli.errors import Diagnostic
from k8saudit_cli.ruleset.items import EngineVersionReq, ItemBase, PluginVersionsReq
from k8saudit_cli.ruleset.node_values import Entries, entries_of, scalar_text
from k8saudit_cli.ruleset.read_aggregation import EXPECTED_KEYS as AGGREGATION_KEYS
from k8saudit_cli.ruleset.read_aggregation import read_aggregation
from k8saudit_cli.ruleset.read_context import ItemError, ReadContext
from k8saudit_cli.ruleset.read_items import read_list, read_macro, read_rule
from k8saudit_cli.ruleset.read_requirements import read_engine_version, read_plugin_versions
from k8saudit_cli.ruleset.yamlio import Node, SourceFile, YamlError, compose_documents, is_null

Item = ItemBase | EngineVersionReq | PluginVersionsReq
ItemReader = Callable[[ReadContext, yaml.MappingNode, Entries], Item]

#: Item kinds by the key that names them, in the order an ambiguous entry is tried.
READERS: dict[str, ItemReader] = {
    "required_engine_version": read_engine_version,
    "required_plugin_versions": read_plugin_versions,
    "list": read_list,
    "macro": read_macro,
    "rule": read_rule,
    "aggregation": read_aggregation,  # our extension: Falco skips it (LOAD_UNKNOWN_ITEM)
}
ITEM_KINDS = tuple(READERS)
_NAMED_KINDS = ("list", "macro", "rule", "aggregation")
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
    "aggregation": set(AGGREGATION_KEYS),
}
_CONTENT = "rules content"
_ITEM = "rules content item"


class Reader:
    """Reads one file; ``items`` and ``diagnostics`` hold the results."""

    def __init__(self, src: SourceFile) -> None:
        self.src = src
        self.ctx = ReadContext(src)
        self.items: list[Item] = []

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.ctx.diagnostics

    def read(self) -> Reader:
        try:
            docs, duplicates = compose_documents(self.src)
        except YamlError as exc:
            self.ctx.error("LOAD_ERR_YAML_PARSE", exc.message, exc.position, _CONTENT)
            return self
        for dup in duplicates:
            first = self.ctx.pos(dup.first)
            self.ctx.error(
                "LOAD_ERR_YAML_PARSE",
                f"duplicate key '{dup.key}' (first at line {first.line}, column {first.col})",
                self.ctx.pos(dup.again),
                _CONTENT,
            )
        for doc in docs:
            self._document(doc)
        return self

    def _document(self, doc: Node | None) -> None:
        if doc is None or is_null(doc):
            return
        if isinstance(doc, yaml.SequenceNode):
            for entry in doc.value:
                self._entry(entry)
            return
        message = (
            "Rules content is not yaml"
            if isinstance(doc, yaml.ScalarNode)
            else "Rules content is not yaml array of objects"
        )
        self.ctx.error("LOAD_ERR_YAML_VALIDATE", message, self.ctx.pos(doc), _CONTENT)

    def _entry(self, node: yaml.Node) -> None:
        if is_null(node):
            return
        if not isinstance(node, yaml.MappingNode):
            self.ctx.error(
                "LOAD_ERR_YAML_VALIDATE",
                "Unexpected element type. Each element should be a yaml associative array.",
                self.ctx.pos(node),
                _ITEM,
            )
            return
        e = entries_of(node)
        kind = next((k for k in ITEM_KINDS if k in e), None)
        if kind is None:
            self.ctx.warn("LOAD_UNKNOWN_ITEM", "Unknown top level item", self.ctx.pos(node), _ITEM)
            return
        name = scalar_text(e[kind][1]) if kind in _NAMED_KINDS else None
        self._unknown_keys(e, kind, name)
        try:
            item = READERS[kind](self.ctx, node, e)
        except ItemError as exc:
            where = self.ctx.pos(exc.node if exc.node is not None else node)
            self.ctx.error(exc.code, exc.message, where, exc.item_type or kind, name)
            return
        self.items.append(item)

    def _unknown_keys(self, e: Entries, kind: str, name: str | None) -> None:
        for key, (key_node, _) in e.items():
            if key not in EXPECTED_KEYS[kind]:
                self.ctx.warn(
                    "LOAD_UNKNOWN_KEY",
                    f"Unknown key '{key}'. The key will be ignored.",
                    self.ctx.pos(key_node),
                    kind,
                    name,
                )
