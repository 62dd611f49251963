"""Choose which compiled rules run: priority threshold, then enable/disable steps in order.

Mirrors Falco's ``priority`` setting and its ``rules:`` selection config
(``disable``/``enable`` by rule-name wildcard or by tag, applied in order,
overriding ``enabled:`` from the files).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from k8saudit_cli.ruleset.compile import CompiledRule


@dataclass(frozen=True)
class Step:
    """One selection step: ``action`` enable|disable, ``by`` rule|tag, ``pattern``."""

    action: str
    by: str
    pattern: str


@lru_cache(maxsize=256)
def _wildcard(pattern: str) -> re.Pattern[str]:
    """``*`` is the only metacharacter and the whole name must match."""
    return re.compile(".*".join(re.escape(p) for p in pattern.split("*")) + r"\Z", re.DOTALL)


def step_matches(step: Step, rule: CompiledRule) -> bool:
    if step.by == "tag":
        return step.pattern in rule.tags
    return _wildcard(step.pattern).match(rule.name) is not None


def select_rules(
    rules: Sequence[CompiledRule], steps: Sequence[Step] = (), min_priority: int = 7
) -> list[CompiledRule]:
    """The rules to evaluate, in definition order.

    Rules less severe than ``min_priority`` are dropped first and cannot be
    re-enabled, as in Falco. Unlike Falco, a re-enabled rule keeps its
    definition position (Falco appends it in pointer order).
    """
    eligible = [r for r in rules if r.priority <= min_priority]
    enabled = {r.name: r.enabled for r in eligible}
    for step in steps:
        for r in eligible:
            if step_matches(step, r):
                enabled[r.name] = step.action == "enable"
    return [r for r in eligible if enabled[r.name]]


def unmatched_steps(rules: Sequence[CompiledRule], steps: Sequence[Step]) -> list[Step]:
    """Steps that select no rule at all (likely a typo worth a warning)."""
    return [s for s in steps if not any(step_matches(s, r) for r in rules)]
