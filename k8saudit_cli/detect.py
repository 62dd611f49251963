"""Match events against the selected rules: Falco's ``rule_matching`` first or all.

The :class:`Detector` is the engine a Python user drives without the CLI:
feed it events from any source and it returns the rules each one triggers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Sequence

from k8saudit_cli.engine.index import admits, event_key, requirement
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.ruleset.compile import CompiledRule


@dataclass(frozen=True)
class Alert:
    """One rule match on one event."""

    rule: CompiledRule
    event: AuditEvent


class Detector:
    """Evaluates rules in definition order.

    ``match_all`` (our default) reports every matching rule per event, as
    Falco's ``rule_matching: all``; ``False`` stops at the first match, as
    Falco's default. ``fast`` picks the generated evaluators; ``False`` uses
    the reference closures and no rule index (tests compare both).
    """

    def __init__(self, rules: Sequence[CompiledRule], match_all: bool = True, fast: bool = True) -> None:
        self.rules = list(rules)
        self.match_all = match_all
        self.fast = fast
        self._checks = [(r, r.match if fast else r.match_reference) for r in self.rules]
        self._requirements = [requirement(r.bound) for r in self.rules]
        self._by_key: dict[tuple[Any, ...], list[tuple[CompiledRule, Any]]] = {}
        if fast:
            self.match = self._match_indexed  # type: ignore[method-assign]

    def candidates(self, key: tuple[Any, ...]) -> list[tuple[CompiledRule, Any]]:
        """The rules that can match an event with this (stage, verb, resource)."""
        found = self._by_key.get(key)
        if found is None:
            found = [rc for rc, req in zip(self._checks, self._requirements) if admits(req, key)]
            if len(self._by_key) > 4096:
                self._by_key.clear()
            self._by_key[key] = found
        return found

    def match(self, event: AuditEvent) -> list[CompiledRule]:
        """Every rule in order (the plain path)."""
        return self._run(self._checks, event)

    def _match_indexed(self, event: AuditEvent) -> list[CompiledRule]:
        """Only the rules the event's (stage, verb, resource) admits."""
        return self._run(self.candidates(event_key(event.raw)), event)

    def _run(self, checks: list[tuple[CompiledRule, Any]], event: AuditEvent) -> list[CompiledRule]:
        hits = []
        for rule, check in checks:
            if check(event):
                hits.append(rule)
                if not self.match_all:
                    break
        return hits

    def alerts(self, events: Iterable[AuditEvent]) -> Iterator[Alert]:
        for ev in events:
            for rule in self.match(ev):
                yield Alert(rule, ev)
