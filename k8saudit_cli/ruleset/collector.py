"""Merge the items of several rules files into one state, with Falco's redefinition rules.

A later definition replaces an earlier one but keeps its position; ``append``
and ``override`` extend or replace single keys; the "enabled-only" item flips
a flag. Every definition bumps a counter (``seq``) so later passes can apply
Falco's visibility rules (a macro sees only macros defined before it).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from k8saudit_cli.errors import Diagnostic, Position, Severity
from k8saudit_cli.ruleset.items import (
    EngineVersionReq,
    ExceptionDef,
    ItemBase,
    ListDef,
    MacroDef,
    PluginVersionsReq,
    RuleDef,
    Scalar,
    SourceText,
)

APPENDABLE = {"condition", "output", "desc", "tags", "exceptions"}
REPLACEABLE = {
    "condition",
    "output",
    "desc",
    "priority",
    "tags",
    "exceptions",
    "enabled",
    "warn_evttypes",
    "skip-if-unknown-filter",
    "capture",
    "capture_duration",
}
_ATTR = {"skip-if-unknown-filter": "skip_if_unknown_filter"}
LIST_COMPS = ("in", "pmatch", "intersects")
SUPPORTED_COMPS = {
    "=",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "contains",
    "icontains",
    "bcontains",
    "startswith",
    "bstartswith",
    "endswith",
    "glob",
    "iglob",
    "regex",
    "in",
    "intersects",
    "pmatch",
}
MODIFIERS = ("oneof", "anyof", "allof")


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


@dataclass
class Collection:
    """Everything loaded so far, in definition order."""

    lists: dict[str, ListState] = field(default_factory=dict)
    macros: dict[str, MacroState] = field(default_factory=dict)
    rules: dict[str, RuleState] = field(default_factory=dict)
    engine_versions: list[EngineVersionReq] = field(default_factory=list)
    plugin_versions: list[PluginVersionsReq] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    seq: int = 0


def is_modifier_comp(comp: str) -> bool:
    parts = comp.split()
    return (
        len(parts) == 2 and parts[1] in MODIFIERS and parts[0] in SUPPORTED_COMPS - set(LIST_COMPS)
    )


class Collector:
    def __init__(self, collection: Collection | None = None) -> None:
        self.c = collection or Collection()

    def add(self, item: object) -> None:
        if isinstance(item, EngineVersionReq):
            self.c.engine_versions.append(item)
        elif isinstance(item, PluginVersionsReq):
            self.c.plugin_versions.append(item)
        else:
            self.c.seq += 1
            try:
                if isinstance(item, ListDef):
                    self._list(item)
                elif isinstance(item, MacroDef):
                    self._macro(item)
                elif isinstance(item, RuleDef):
                    self._rule(item)
            except _Fail as exc:
                kind = type(item).__name__[:-3].lower()
                assert isinstance(item, ItemBase)
                self.c.diagnostics.append(
                    Diagnostic(
                        exc.code, Severity.ERROR, exc.message, exc.pos or item.pos, kind, item.name
                    )
                )

    # ---------------------------------------------------------------- lists and macros

    def _list(self, item: ListDef) -> None:
        old = self.c.lists.get(item.name)
        if item.append or item.override.get("items") == "append":
            if old is None:
                raise _Fail(
                    "List uses 'append' or 'override.items: append' but no list by that name "
                    "already exists"
                )
            old.items = old.items + item.items
            old.seq = self.c.seq
            return
        index = old.index if old else self.c.seq
        self.c.lists[item.name] = ListState(
            item.name, list(item.items), index, self.c.seq, item.pos
        )

    def _macro(self, item: MacroDef) -> None:
        assert item.condition is not None
        old = self.c.macros.get(item.name)
        if item.append or item.override.get("condition") == "append":
            if old is None:
                raise _Fail(
                    "Macro uses 'append' or 'override.condition: append' but no macro by that "
                    "name already exists"
                )
            old.condition = old.condition.join(item.condition)
            old.seq = self.c.seq
            return
        index = old.index if old else self.c.seq
        self.c.macros[item.name] = MacroState(
            item.name, item.condition, index, self.c.seq, item.pos
        )

    # ---------------------------------------------------------------- rules

    def _rule(self, item: RuleDef) -> None:
        old = self.c.rules.get(item.name)
        if item.append:
            self._legacy_append(item, old)
        elif item.override:
            self._override(item, old)
        elif (
            item.condition is None
            and item.output is None
            and item.desc is None
            and item.priority is None
        ):
            self._enabled_only(item, old)
        else:
            self._define(item, old)

    def _define(self, item: RuleDef, old: RuleState | None) -> None:
        assert (
            item.condition and item.output and item.desc is not None and item.priority is not None
        )
        source = item.source or "syscall"
        if old is not None and old.source and old.source != source:
            raise _Fail(
                "Rule has been re-defined with a different source", code="LOAD_ERR_VALIDATE"
            )
        exceptions = [self._validated(ex) for ex in item.exceptions or []]
        self._unique_exceptions(item)
        state = RuleState(
            item.name,
            old.index if old else len(self.c.rules),
            old.pos if old else item.pos,
            item.condition,
            item.output,
            item.desc,
            item.priority,
            source,
            enabled=True if item.enabled is None else item.enabled,
            tags=sorted(set(item.tags or [])),
            exceptions=exceptions,
            skip_if_unknown_filter=bool(item.skip_if_unknown_filter),
            warn_evttypes=True if item.warn_evttypes is None else item.warn_evttypes,
            capture=bool(item.capture),
        )
        self.c.rules[item.name] = state

    def _legacy_append(self, item: RuleDef, old: RuleState | None) -> None:
        if old is None:
            raise _Fail(
                "Rule uses 'append' or 'override.<key>: append' but no rule by that name already "
                "exists"
            )
        if item.condition is None and item.exceptions is None:
            raise _Fail("Appended rule must have exceptions or condition property")
        self._check_source(item, old)
        if item.condition is not None:
            old.condition = old.condition.join(item.condition)
        if item.exceptions is not None:
            self._append_exceptions(old, item)

    def _override(self, item: RuleDef, old: RuleState | None) -> None:
        """``override:`` on a rule; the reader already checked its keys and operations."""
        if old is None:
            if any(op == "append" for op in item.override.values()):
                raise _Fail(
                    "Rule uses 'append' or 'override.<key>: append' but no rule by that name "
                    "already exists"
                )
            # Falco's message really says "<key>".
            raise _Fail(
                "An 'override.<key>: replace' to a rule was requested but no rule by that name "
                "already exists"
            )
        if "condition" in item.override:
            self._check_source(item, old)
        for key, op in item.override.items():
            if op == "append":
                self._append_key(old, item, key)
        for key, op in item.override.items():
            if op == "replace":
                self._replace_key(old, item, key)

    def _append_key(self, old: RuleState, item: RuleDef, key: str) -> None:
        if key in ("condition", "output"):
            new = getattr(item, key)
            if new is not None and new.value:
                setattr(old, key, getattr(old, key).join(new))
        elif key == "desc":
            if item.desc:
                old.desc = old.desc + " " + item.desc
        elif key == "tags":
            old.tags = sorted(set(old.tags) | set(item.tags or []))
        elif key == "exceptions":
            self._append_exceptions(old, item)

    def _replace_key(self, old: RuleState, item: RuleDef, key: str) -> None:
        if key == "exceptions":
            old.exceptions = [self._validated(ex) for ex in item.exceptions or []]
        elif key == "tags":
            old.tags = sorted(set(item.tags or []))
        elif key != "capture_duration":
            setattr(old, _ATTR.get(key, key), getattr(item, _ATTR.get(key, key)))

    def _enabled_only(self, item: RuleDef, old: RuleState | None) -> None:
        self.c.diagnostics.append(
            Diagnostic(
                "LOAD_DEPRECATED_ITEM",
                Severity.WARNING,
                "The standalone 'enabled' key usage is deprecated. The correct approach requires "
                "also a "
                "'replace' entry under the 'override' key (i.e. 'enabled: replace').",
                item.pos,
                "rule",
                item.name,
            )
        )
        if old is None:
            raise _Fail("Rule has 'enabled' key but no rule by that name already exists")
        if item.enabled is not None:
            old.enabled = item.enabled

    def _check_source(self, item: RuleDef, old: RuleState) -> None:
        if item.source and old.source and item.source != old.source:
            raise _Fail(
                "Rule has been re-defined with a different source", code="LOAD_ERR_VALIDATE"
            )

    # ---------------------------------------------------------------- exceptions

    def _append_exceptions(self, old: RuleState, item: RuleDef) -> None:
        by_name = {ex.name: ex for ex in old.exceptions}
        for ex in item.exceptions or []:
            if not ex.has_values:
                self.c.diagnostics.append(
                    Diagnostic(
                        "LOAD_APPEND_NO_VALUES",
                        Severity.WARNING,
                        "Overriding/appending exception with no values",
                        ex.pos,
                        "exception",
                        ex.name,
                    )
                )
            if ex.name in by_name:
                if ex.has_fields:
                    raise _Fail(
                        "Can not append exception fields to existing exception, only values", ex.pos
                    )
                if ex.has_comps:
                    raise _Fail(
                        "Can not append exception comps to existing exception, only values", ex.pos
                    )
                target = by_name[ex.name]
                target.values = (target.values or []) + (ex.values or [])
                continue
            if not ex.has_fields:
                raise _Fail(
                    "Rule exception must have fields property with a list of fields", ex.pos
                )
            if not ex.has_values:
                raise _Fail(
                    "Rule exception must have values property with a list of values", ex.pos
                )
            added = self._validated(ex)
            old.exceptions.append(added)
            by_name[added.name] = added

    def _validated(self, ex: ExceptionDef) -> ExceptionDef:
        """Falco's validate_exception_info: check shapes and fill default comps."""
        ex = copy.deepcopy(ex)
        if not ex.fields:
            raise _Fail(
                "Rule exception item must have fields property with a list of fields", ex.pos
            )
        if isinstance(ex.fields, list):
            comps = ex.comps if ex.comps is not None else ["="] * len(ex.fields)
            if isinstance(comps, str) or len(comps) != len(ex.fields):
                raise _Fail("Fields and comps lists must have equal length", ex.pos)
            comps = [c.strip() for c in comps]
            for comp in comps:
                if comp not in SUPPORTED_COMPS and not is_modifier_comp(comp):
                    raise _Fail(f"'{comp}' is not a supported comparison operator", ex.pos)
            ex.comps = comps
        else:
            comp = ex.comps if ex.comps is not None else "in"
            if isinstance(comp, list):
                raise _Fail("Fields and comps must both be strings", ex.pos)
            comp = comp.strip()
            if comp not in LIST_COMPS and not is_modifier_comp(comp):
                raise _Fail(
                    "When fields is a single value, comps must be one of (in, pmatch, intersects) "
                    "or a "
                    "modifier operator (e.g. startswith oneof)",
                    ex.pos,
                )
            ex.comps = comp
        return ex

    def _unique_exceptions(self, item: RuleDef) -> None:
        seen: set[str] = set()
        for ex in item.exceptions or []:
            if ex.name in seen:
                self.c.diagnostics.append(
                    Diagnostic(
                        "LOAD_EXCEPTION_NAME_NOT_UNIQUE",
                        Severity.WARNING,
                        f"Multiple definitions of exception '{ex.name}' in the same rule",
                        ex.pos,
                        "exception",
                        ex.name,
                    )
                )
            seen.add(ex.name)


class _Fail(Exception):
    def __init__(
        self, message: str, pos: Position | None = None, code: str = "LOAD_ERR_VALIDATE"
    ) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.code = code
