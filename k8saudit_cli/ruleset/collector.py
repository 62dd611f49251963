"""Merge the items of several rules files into one state, with Falco's redefinition rules.

A later definition replaces an earlier one but keeps its position; ``append``
and ``override`` extend or replace single keys; the "enabled-only" item flips
a flag. Every definition bumps a counter (``seq``) so later passes can apply
Falco's visibility rules (a macro sees only macros defined before it).
Exceptions have their own checks, in :mod:`collect_exceptions`.
"""

from __future__ import annotations

from k8saudit_cli.errors import Diagnostic, Severity
from k8saudit_cli.ruleset.aggregation_items import AggregationDef
from k8saudit_cli.ruleset.collect_aggregations import collect_aggregation
from k8saudit_cli.ruleset.collect_exceptions import (
    append_exceptions,
    duplicate_exception_warnings,
    validated,
)
from k8saudit_cli.ruleset.items import (
    EngineVersionReq,
    ItemBase,
    ListDef,
    MacroDef,
    PluginVersionsReq,
    RuleDef,
)
from k8saudit_cli.ruleset.states import (
    CollectError,
    Collection,
    ListState,
    MacroState,
    RuleState,
)

#: Rule keys whose RuleDef/RuleState attribute is spelled differently.
_ATTR = {"skip-if-unknown-filter": "skip_if_unknown_filter"}
_NO_RULE_TO_APPEND = (
    "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists"
)
_NO_RULE_TO_REPLACE = (  # Falco's message really says "<key>".
    "An 'override.<key>: replace' to a rule was requested but no rule by that name already exists"
)
_STANDALONE_ENABLED = (
    "The standalone 'enabled' key usage is deprecated. The correct approach requires also a "
    "'replace' entry under the 'override' key (i.e. 'enabled: replace')."
)


class Collector:
    def __init__(self, collection: Collection | None = None) -> None:
        self.c = collection or Collection()

    def add(self, item: object) -> None:
        if isinstance(item, EngineVersionReq):
            self.c.engine_versions.append(item)
        elif isinstance(item, PluginVersionsReq):
            self.c.plugin_versions.append(item)
        elif isinstance(item, ItemBase):
            self.c.seq += 1
            try:
                self._definition(item)
            except CollectError as exc:
                kind = type(item).__name__[:-3].lower()  # RuleDef -> rule
                self.c.diagnostics.append(
                    Diagnostic(
                        exc.code, Severity.ERROR, exc.message, exc.pos or item.pos, kind, item.name
                    )
                )

    def _definition(self, item: ItemBase) -> None:
        if isinstance(item, ListDef):
            self._list(item)
        elif isinstance(item, MacroDef):
            self._macro(item)
        elif isinstance(item, RuleDef):
            self._rule(item)
        elif isinstance(item, AggregationDef):
            collect_aggregation(self.c, item)

    # ---------------------------------------------------------------- lists and macros

    def _list(self, item: ListDef) -> None:
        old = self.c.lists.get(item.name)
        if item.append or item.override.get("items") == "append":
            if old is None:
                raise CollectError(
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
                raise CollectError(
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
            raise CollectError(
                "Rule has been re-defined with a different source", code="LOAD_ERR_VALIDATE"
            )
        exceptions = [validated(ex) for ex in item.exceptions or []]
        self.c.diagnostics.extend(duplicate_exception_warnings(item.exceptions or []))
        self.c.rules[item.name] = RuleState(
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
            source_given=item.source is not None,
        )

    def _legacy_append(self, item: RuleDef, old: RuleState | None) -> None:
        if old is None:
            raise CollectError(_NO_RULE_TO_APPEND)
        if item.condition is None and item.exceptions is None:
            raise CollectError("Appended rule must have exceptions or condition property")
        _check_source(item, old)
        if item.condition is not None:
            old.condition = old.condition.join(item.condition)
        if item.exceptions is not None:
            append_exceptions(old, item.exceptions, self.c.diagnostics)

    def _override(self, item: RuleDef, old: RuleState | None) -> None:
        """``override:`` on a rule; the reader already checked its keys and operations."""
        if old is None:
            appends = any(op == "append" for op in item.override.values())
            raise CollectError(_NO_RULE_TO_APPEND if appends else _NO_RULE_TO_REPLACE)
        if "condition" in item.override:
            _check_source(item, old)
        for key, op in item.override.items():
            if op == "append":
                self._append_key(old, item, key)
        for key, op in item.override.items():
            if op == "replace":
                _replace_key(old, item, key)

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
            append_exceptions(old, item.exceptions or [], self.c.diagnostics)

    def _enabled_only(self, item: RuleDef, old: RuleState | None) -> None:
        self.c.diagnostics.append(
            Diagnostic(
                "LOAD_DEPRECATED_ITEM",
                Severity.WARNING,
                _STANDALONE_ENABLED,
                item.pos,
                "rule",
                item.name,
            )
        )
        if old is None:
            raise CollectError("Rule has 'enabled' key but no rule by that name already exists")
        if item.enabled is not None:
            old.enabled = item.enabled


def _replace_key(old: RuleState, item: RuleDef, key: str) -> None:
    if key == "exceptions":
        old.exceptions = [validated(ex) for ex in item.exceptions or []]
    elif key == "tags":
        old.tags = sorted(set(item.tags or []))
    elif key != "capture_duration":
        setattr(old, _ATTR.get(key, key), getattr(item, _ATTR.get(key, key)))


def _check_source(item: RuleDef, old: RuleState) -> None:
    if item.source and old.source and item.source != old.source:
        raise CollectError(
            "Rule has been re-defined with a different source", code="LOAD_ERR_VALIDATE"
        )
