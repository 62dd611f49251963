"""The items of a rules file as plain records, each knowing where it was written.

Texts (conditions, outputs) keep the YAML scalars they came from, so an
offset inside a condition, even one joined from several ``append`` items in
several files, maps back to the file, line and column the author wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from k8saudit_cli.errors import Position
from k8saudit_cli.ruleset.yamlio import SourceFile, scalar_offset_position


@dataclass(frozen=True)
class TextPiece:
    start: int  # offset of this piece in the joined text
    src: SourceFile
    node: yaml.ScalarNode


@dataclass(frozen=True)
class SourceText:
    """A condition or output: its text, and the YAML scalars it was joined from."""

    value: str
    pieces: tuple[TextPiece, ...] = ()

    @classmethod
    def from_node(cls, src: SourceFile, node: yaml.ScalarNode) -> SourceText:
        return cls(node.value, (TextPiece(0, src, node),))

    def join(self, other: SourceText, sep: str = " ") -> SourceText:
        """Falco's text append: ``old + sep + new``."""
        shift = len(self.value) + len(sep)
        moved = tuple(TextPiece(p.start + shift, p.src, p.node) for p in other.pieces)
        return SourceText(self.value + sep + other.value, self.pieces + moved)

    def position(self, offset: int = 0) -> Position | None:
        """The file position of the character at ``offset`` of the joined text."""
        piece = None
        for p in self.pieces:
            if p.start <= offset:
                piece = p
        if piece is None:
            return None
        return scalar_offset_position(piece.src, piece.node, offset - piece.start)

    def line_at(self, offset: int = 0) -> str:
        pos = self.position(offset)
        piece = next((p for p in reversed(self.pieces) if p.start <= offset), None)
        if pos is None or piece is None:
            return self.value.splitlines()[0] if self.value else ""
        return piece.src.line_text(pos.line)


@dataclass(frozen=True)
class Scalar:
    text: str
    pos: Position


@dataclass
class ItemBase:
    name: str
    pos: Position
    src: SourceFile
    append: bool = False
    override: dict[str, str] = field(default_factory=dict)
    keys: frozenset[str] = frozenset()


@dataclass
class ListDef(ItemBase):
    items: list[Scalar] = field(default_factory=list)


@dataclass
class MacroDef(ItemBase):
    condition: SourceText | None = None


@dataclass
class ExceptionDef:
    name: str
    pos: Position
    fields: list[str] | str | None = None
    comps: list[str] | str | None = None
    values: list[object] | None = None  # nested lists of str, as written
    has_fields: bool = False
    has_comps: bool = False
    has_values: bool = False


@dataclass
class RuleDef(ItemBase):
    condition: SourceText | None = None
    output: SourceText | None = None
    desc: str | None = None
    priority: int | None = None
    source: str | None = None
    enabled: bool | None = None
    tags: list[str] | None = None
    exceptions: list[ExceptionDef] | None = None
    skip_if_unknown_filter: bool | None = None
    warn_evttypes: bool | None = None
    capture: bool | None = None


@dataclass
class PluginRequirement:
    name: str
    version: str


@dataclass
class EngineVersionReq:
    version: tuple[int, int, int]
    text: str
    pos: Position


@dataclass
class PluginVersionsReq:
    groups: list[list[PluginRequirement]]
    pos: Position
