"""Compose a rules file into YAML nodes with aliases bounded and duplicate keys noted.

An alias is a pointer: a few hundred bytes of anchors can stand for 10^8
nodes once a reader walks them (the "billion laughs"). This composer counts
what a walk of each document would see, as if every alias were written out
in full: each node costs :data:`NODE_COST` plus the length of its scalar
text, and an alias costs what its anchor stands for. The alias that takes a
document past :data:`MAX_EXPANDED` is refused where it is written, so one
bound covers every part of a rules file (items, exception values, conditions,
keys nobody reads). The cost of checking is linear in the file: sizes are
kept per node, never recomputed.

It also notes keys written twice in one mapping: YAML forbids them, and
PyYAML would let the last one win without a word.

libyaml still does the scanning and parsing; only composing (events to
nodes, a small share of the time) runs in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.composer import Composer, ComposerError
from yaml.events import AliasEvent

#: The most a document may expand to, in the units below (about bytes written out).
MAX_EXPANDED = 16 << 20
#: What one node costs on top of its scalar text (a rough written-out size).
NODE_COST = 32

try:  # libyaml's parser; the pure-Python one when PyYAML was built without it
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, Parser):  # type: ignore[no-redef,misc]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)


@dataclass(frozen=True)
class DuplicateKey:
    """A key written twice in one mapping: where first, and where again."""

    key: str
    first: yaml.Node
    again: yaml.Node


class _BoundedComposer(Composer):  # type: ignore[misc]
    """PyYAML's composer, keeping each node's expanded size and the document's total."""

    def __init__(self) -> None:
        super().__init__()
        self.duplicates: list[DuplicateKey] = []
        self._sizes: dict[int, int] = {}
        self._total = 0

    def compose_document(self) -> Any:
        self._total = 0
        return super().compose_document()

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(AliasEvent):
            event = self.peek_event()
            target = self.anchors.get(event.anchor)
            if target is not None:
                self._alias(event, target)
        return super().compose_node(parent, index)

    def compose_scalar_node(self, anchor: Any) -> Any:
        node = super().compose_scalar_node(anchor)
        return self._sized(node, NODE_COST + len(node.value))

    def compose_sequence_node(self, anchor: Any) -> Any:
        node = super().compose_sequence_node(anchor)
        sizes = self._sizes
        return self._sized(node, NODE_COST + sum(sizes[id(c)] for c in node.value))

    def compose_mapping_node(self, anchor: Any) -> Any:
        node = super().compose_mapping_node(anchor)
        sizes = self._sizes
        size = NODE_COST + sum(sizes[id(k)] + sizes[id(v)] for k, v in node.value)
        self._note_duplicates(node)
        return self._sized(node, size)

    def _sized(self, node: yaml.Node, size: int) -> yaml.Node:
        self._sizes[id(node)] = size
        # Children were counted as they were composed; a collection adds only itself.
        own = size if isinstance(node, yaml.ScalarNode) else NODE_COST
        self._total += own
        if self._total > MAX_EXPANDED:
            raise ComposerError(
                None,
                None,
                f"the document is larger than {MAX_EXPANDED >> 20} MiB",
                node.start_mark,
            )
        return node

    def _alias(self, event: AliasEvent, target: yaml.Node) -> None:
        where = f"anchor '&{event.anchor}' at {_line_col(target.start_mark)}"
        size = self._sizes.get(id(target))
        if size is None:  # the anchored node is still being composed
            raise ComposerError(
                None,
                None,
                f"alias '*{event.anchor}' refers to a node that contains it ({where})",
                event.start_mark,
            )
        # The composer returns the anchored node itself, whose own size the
        # enclosing collection adds again: count only the copy here.
        self._total += size
        if self._total > MAX_EXPANDED:
            raise ComposerError(
                None,
                None,
                f"alias '*{event.anchor}' makes the document expand beyond "
                f"{MAX_EXPANDED >> 20} MiB ({where}; aliases count as if written out)",
                event.start_mark,
            )

    def _note_duplicates(self, node: yaml.MappingNode) -> None:
        seen: dict[str, yaml.Node] = {}
        for key, _ in node.value:
            if not isinstance(key, yaml.ScalarNode):
                continue
            first = seen.setdefault(key.value, key)
            if first is not key:
                self.duplicates.append(DuplicateKey(key.value, first, key))


def _line_col(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"


class BoundedLoader(_BoundedComposer, _Parser, yaml.resolver.Resolver):  # type: ignore[misc]
    """A loader that only composes: libyaml's parser, the bounded composer, the resolver."""

    def __init__(self, stream: str) -> None:
        _Parser.__init__(self, stream)
        _BoundedComposer.__init__(self)
        yaml.resolver.Resolver.__init__(self)


def compose_bounded(text: str) -> tuple[list[yaml.Node | None], list[DuplicateKey]]:
    """Every document of ``text`` and the duplicate keys found in them.

    Raises :class:`yaml.MarkedYAMLError` (its ``problem_mark`` says where) for
    invalid YAML and for an alias that expands a document beyond the bound.
    """
    loader = BoundedLoader(text)
    try:
        docs = []
        while loader.check_node():
            docs.append(loader.get_node())
        return docs, loader.duplicates
    finally:
        loader.dispose()
