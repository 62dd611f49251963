"""Rule fixtures: YAML cases of events and the alerts they must (not) raise.

A fixture file::

    cases:
      - name: privileged pod fires
        events: privileged_pod.jsonl      # relative to the fixture file
        expect: {Create Privileged Pod: 1}
        expect_none: [Create Sensitive Mount Pod]
      - name: quiet pod
        events: [{kind: Event, ...}]      # or inline events
        expect_none: [Create Privileged Pod]

Every rule runs on every event (``rule_matching: all``), so a case checks
each rule on its own, not which rule happens to come first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml

from k8saudit_cli.decode import DecodeOptions, Decoder, Problems, read_events
from k8saudit_cli.detect import Alert
from k8saudit_cli.detection_run import DetectionRun
from k8saudit_cli.errors import K8sAuditError
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.ruleset.compile import CompiledRule
from k8saudit_cli.run_options import RunOptions


class FixtureError(K8sAuditError):
    """A fixture file that cannot be read or does not have the expected shape."""

    code = "FIXTURE_INVALID"


@dataclass
class Case:
    name: str
    file: str
    events: list[AuditEvent]
    expect: dict[str, int]
    expect_none: list[str]


@dataclass
class CaseResult:
    case: Case
    counts: dict[str, int]
    alerts: list[Alert]
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def load_fixture(path: str) -> list[Case]:
    """Read a fixture file; raises :class:`FixtureError` naming the file and case."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise FixtureError(f"cannot read fixture '{path}': {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise FixtureError(yaml_error_text(path, exc)) from None
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise FixtureError(f"{path}: a fixture is a mapping with a 'cases' list")
    return [_case(path, i, c) for i, c in enumerate(data["cases"], 1)]


def yaml_error_text(path: str, exc: yaml.YAMLError) -> str:
    """``file:line:col: invalid YAML: problem (context)`` on one line, as ``validate`` says it."""
    if not isinstance(exc, yaml.MarkedYAMLError):
        return f"{path}: invalid YAML: {exc}"
    mark = exc.problem_mark or exc.context_mark
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
    problem = exc.problem or exc.context or "invalid YAML"
    context = f" ({exc.context})" if exc.context and exc.problem else ""
    return f"{where}: invalid YAML: {problem}{context}"


def _case(path: str, number: int, raw: Any) -> Case:
    where = f"{path}: case {number}"
    if not isinstance(raw, dict):
        raise FixtureError(f"{where}: a case is a mapping")
    name = str(raw.get("name") or f"case {number}")
    where = f"{path}: case '{name}'"
    expect = raw.get("expect") or {}
    expect_none = raw.get("expect_none") or []
    if not isinstance(expect, dict) or not all(
        isinstance(v, int) and v >= 0 for v in expect.values()
    ):
        raise FixtureError(f"{where}: 'expect' maps rule names to alert counts (integers >= 0)")
    if not isinstance(expect_none, list):
        raise FixtureError(f"{where}: 'expect_none' is a list of rule names")
    if not expect and not expect_none:
        raise FixtureError(f"{where}: give 'expect' and/or 'expect_none'")
    events = _events(path, where, raw.get("events"))
    return Case(
        name, path, events, {str(k): v for k, v in expect.items()}, [str(r) for r in expect_none]
    )


def _events(path: str, where: str, spec: Any) -> list[AuditEvent]:
    problems = Problems()
    if isinstance(spec, str):
        target = Path(path).parent / spec
        if not target.is_file():
            raise FixtureError(f"{where}: events file '{spec}' not found (relative to the fixture)")
        events = list(read_events([str(target)], DecodeOptions(), problems))
    elif isinstance(spec, list):
        decoder = Decoder(DecodeOptions(), problems)
        events = []
        for i, obj in enumerate(spec, 1):
            for ev in decoder.decode_line(orjson.dumps(obj), f"{where} events", i):
                ev.num = len(events) + 1
                events.append(ev)
    else:
        raise FixtureError(f"{where}: 'events' is a JSONL path or a list of events")
    if problems.counts:
        detail = ", ".join(f"{n} {r}" for r, n in problems.counts.items())
        raise FixtureError(f"{where}: events could not all be read ({detail})")
    return events


def run_case(case: Case, rules: Sequence[CompiledRule], fast: bool = True) -> CaseResult:
    """Evaluate a case and compare the per-rule alert counts with its expectations."""
    alerts: list[Alert] = []
    options = RunOptions(rule_matching="all", evaluator="fast" if fast else "reference")
    stats = DetectionRun(rules, options, alerts.append).scan_events(case.events)
    counts = dict(stats.by_rule)
    result = CaseResult(case, counts, alerts)
    known = {r.name for r in rules}
    for rule, want in case.expect.items():
        if rule not in known:
            result.failures.append(f"rule '{rule}' is not loaded (or not enabled)")
        elif counts.get(rule, 0) != want:
            result.failures.append(f"'{rule}': expected {want} alert(s), got {counts.get(rule, 0)}")
    for rule in case.expect_none:
        if rule not in known:
            result.failures.append(f"rule '{rule}' is not loaded (or not enabled)")
        elif counts.get(rule, 0):
            result.failures.append(f"'{rule}': expected no alert, got {counts[rule]}")
    return result
