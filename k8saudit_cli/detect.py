"""Match events against the selected rules: Falco's ``rule_matching`` first or all.

The :class:`Detector` is the engine a Python user drives without the CLI:
feed it events from any source and it returns the rules each one triggers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

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
    the reference closures (tests compare both).
    """

    def __init__(self, rules: Sequence[CompiledRule], match_all: bool = True, fast: bool = True) -> None:
        self.rules = list(rules)
        self.match_all = match_all
        self.fast = fast
        self._checks = [(r, r.match if fast else r.match_reference) for r in self.rules]

    def match(self, event: AuditEvent) -> list[CompiledRule]:
        hits = []
        for rule, check in self._checks:
            if check(event):
                hits.append(rule)
                if not self.match_all:
                    break
        return hits

    def alerts(self, events: Iterable[AuditEvent]) -> Iterator[Alert]:
        for ev in events:
            for rule in self.match(ev):
                yield Alert(rule, ev)
