"""The merged state of a set of rules files: lists, macros and rules as they stand.

The collector builds it item by item, the compiler reads it. Positions stay
those of the first definition, so diagnostics point where a name was born.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from k8saudit_cli.errors import Diagnostic, Position
from k8saudit_cli.ruleset.aggregation_items import AggregationState
from k8saudit_cli.ruleset.items import (
    EngineVersionReq,
    ExceptionDef,
    PluginVersionsReq,
    Scalar,
    SourceText,
)


@dataclass
class ListState:
    """``index``: the counter at first definition; ``seq``: at the last change."""

    name: str
    items: list[Scalar]
    index: int
    seq: int
    pos: Position


@dataclass
class MacroState:
    name: str
    condition: SourceText
    index: int
    seq: int
    pos: Position


@dataclass
class RuleState:
    name: str
    index: int
    pos: Position
    condition: SourceText
    output: SourceText
    desc: str
    priority: int
    source: str
    enabled: bool = True
    tags: list[str] = field(default_factory=list)
    exceptions: list[ExceptionDef] = field(default_factory=list)
    skip_if_unknown_filter: bool = False
    warn_evttypes: bool = True
    capture: bool = False
    #: False when the rule had no ``source:`` and took Falco's default (syscall).
    source_given: bool = True


@dataclass
class Collection:
    """Everything loaded so far, in definition order."""

    lists: dict[str, ListState] = field(default_factory=dict)
    macros: dict[str, MacroState] = field(default_factory=dict)
    rules: dict[str, RuleState] = field(default_factory=dict)
    aggregations: dict[str, AggregationState] = field(default_factory=dict)
    engine_versions: list[EngineVersionReq] = field(default_factory=list)
    plugin_versions: list[PluginVersionsReq] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    seq: int = 0


class CollectError(Exception):
    """An item that cannot be merged; the collector reports it against the item."""

    def __init__(
        self, message: str, pos: Position | None = None, code: str = "LOAD_ERR_VALIDATE"
    ) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.code = code
