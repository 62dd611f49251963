"""Match events against the selected rules: Falco's ``rule_matching`` first or all.

The :class:`Detector` returns the rules one event triggers;
:class:`~k8saudit_cli.detection_run.DetectionRun` drives it over a whole input.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from k8saudit_cli.engine.codegen import generate_group
from k8saudit_cli.engine.index import admits, event_key, requirement, residual
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.ruleset.compile import CompiledRule


class Alert:
    """One rule match on one event.

    A plain class with slots, not a dataclass: a run makes one per alert,
    and a frozen dataclass costs twice as much to make. It compares and
    prints as the dataclass did.
    """

    __slots__ = ("event", "rule")
    __match_args__ = ("rule", "event")

    def __init__(self, rule: CompiledRule, event: AuditEvent) -> None:
        self.rule = rule
        self.event = event

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Alert)
        return (self.rule, self.event) == (other.rule, other.event)

    __hash__ = None  # type: ignore[assignment]  # as the dataclass: its rule is unhashable

    def __repr__(self) -> str:
        return f"Alert(rule={self.rule!r}, event={self.event!r})"


class Detector:
    """Evaluates rules in definition order.

    ``match_all`` (our default) reports every matching rule per event, as
    Falco's ``rule_matching: all``; ``False`` stops at the first match, as
    Falco's default. ``fast`` (default) uses the rule index and one generated
    function per set of candidate rules, extracting each field once per
    event; ``False`` runs every rule's reference closure in order (tests
    compare both).
    """

    def __init__(
        self, rules: Sequence[CompiledRule], match_all: bool = True, fast: bool = True
    ) -> None:
        self.rules = list(rules)
        self.match_all = match_all
        self.fast = fast
        self._reference = [(r, r.match_reference) for r in self.rules]
        self._requirements = [requirement(r.bound) for r in self.rules]
        self._by_key: dict[tuple[Any, ...], Callable[[AuditEvent], list[CompiledRule]]] = {}
        self._groups: dict[tuple[int, ...], Callable[[AuditEvent], list[CompiledRule]]] = {}
        if fast:
            self.match = self._match_indexed  # type: ignore[method-assign]

    def match(self, event: AuditEvent) -> list[CompiledRule]:
        """Every rule in order, with the reference evaluator."""
        hits = []
        for rule, check in self._reference:
            if check(event):
                hits.append(rule)
                if not self.match_all:
                    break
        return hits

    def _match_indexed(self, event: AuditEvent) -> list[CompiledRule]:
        key = event_key(event.ka, event.raw)
        group = self._by_key.get(key)
        if group is None:
            group = self._group_for(key)
        return group(event)

    def matcher_for(self, key: tuple[Any, ...]) -> Callable[[AuditEvent], list[CompiledRule]]:
        """What ``match`` runs for events whose index key (``event_key``) is ``key``:
        for callers that match one event against several detectors and compute
        the key once."""
        if not self.fast:
            return self.match
        group = self._by_key.get(key)
        return group if group is not None else self._group_for(key)

    def candidates_for(
        self, key: tuple[Any, ...]
    ) -> Callable[[AuditEvent], list[CompiledRule]] | None:
        """As :meth:`matcher_for`, but ``None`` when no rule can match events of ``key``
        (the fused run loop then skips the call)."""
        group = self.matcher_for(key)
        return None if group is _no_rules else group

    def _group_for(self, key: tuple[Any, ...]) -> Callable[[AuditEvent], list[CompiledRule]]:
        ids = tuple(i for i, req in enumerate(self._requirements) if admits(req, key))
        group = self._groups.get(ids)
        if group is None:
            group = self._groups[ids] = self._compile_group(ids)
        if len(self._by_key) > 65536:
            self._by_key.clear()
        self._by_key[key] = group
        return group

    def _compile_group(self, ids: tuple[int, ...]) -> Callable[[AuditEvent], list[CompiledRule]]:
        if not ids:
            return _no_rules
        members = [(self.rules[i], residual(self.rules[i].bound)) for i in ids]
        try:
            fn, _ = generate_group(members, first_only=not self.match_all)
            return fn
        except (SyntaxError, RecursionError, MemoryError, ValueError):
            return self._slow_group([self.rules[i] for i in ids])

    def _slow_group(self, rules: list[CompiledRule]) -> Callable[[AuditEvent], list[CompiledRule]]:
        """For conditions too deep for Python's compiler: each rule's own evaluator."""
        checks = [(r, r.match) for r in rules]
        first_only = not self.match_all

        def run(event: AuditEvent) -> list[CompiledRule]:
            hits = []
            for rule, check in checks:
                if check(event):
                    hits.append(rule)
                    if first_only:
                        break
            return hits

        return run


def _no_rules(event: AuditEvent) -> list[CompiledRule]:
    return []
