"""Every field against events written for it: present, missing and wrong-type values.

Cases live in tests/data/fields/cases/*.yaml (see the comments there); this
file only loads them, builds the event and compares.
"""

from __future__ import annotations

import copy
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fields import FIELDS, MISSING, FieldError, get_field, resolve

DATA = Path(__file__).parent / "data" / "fields"
EVENTS: dict[str, Any] = yaml.safe_load((DATA / "events.yaml").read_text())
LISTS = ("containers", "initContainers", "ephemeralContainers")
DEFAULT_TIME_NS = 1714557600012345678
DEFAULT_NUM = 7


@pytest.fixture(autouse=True)
def _utc_and_hostname(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("FALCO_HOSTNAME", "node-1")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _move_containers(event: dict[str, Any], target: str) -> dict[str, Any]:
    """The event with ``requestObject.spec.containers`` renamed to ``target``."""
    event = copy.deepcopy(event)
    spec = event.get("requestObject", {}).get("spec")
    if target != "containers" and isinstance(spec, dict) and "containers" in spec:
        spec[target] = spec.pop("containers")
    return event


def _expand(case: dict[str, Any]) -> Iterator[dict[str, Any]]:
    event = case["event"]
    event = EVENTS[event] if isinstance(event, str) else event
    if "*" not in case["field"]:
        yield {**case, "event": event}
        return
    for target in LISTS:
        name = case["field"].replace("*", target)
        if get_field(name) is not None:  # ephemeral containers have no host_port
            yield {**case, "field": name, "event": _move_containers(event, target)}


def _cases() -> list[dict[str, Any]]:
    out = []
    for path in sorted((DATA / "cases").glob("*.yaml")):
        for i, case in enumerate(yaml.safe_load(path.read_text())):
            for expanded in _expand(case):
                out.append({**expanded, "where": f"{path.stem}:{i}"})
    return out


CASES = _cases()


def _case_id(case: dict[str, Any]) -> str:
    arg = f"[{case['arg']}]" if "arg" in case else ""
    return f"{case['where']}-{case['field']}{arg}-{case['kind']}"


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_field_case(case: dict[str, Any]) -> None:
    ev = AuditEvent(
        case["event"], case.get("time_ns", DEFAULT_TIME_NS), num=case.get("num", DEFAULT_NUM)
    )
    _, extract = resolve(case["field"], case.get("arg"))
    expected = MISSING if case["expect"] is None else case["expect"]
    got = extract(ev)
    assert got == expected and type(got) is type(expected)


# Fields whose value cannot be absent or of a wrong type (built-ins, whole-event json).
ALWAYS_THERE = {f.name for f in FIELDS if f.source == "evt"} | {
    "json.obj",
    "jevt.obj",
    "json.rawtime",
    "jevt.rawtime",
}


def test_every_field_has_present_missing_and_wrong_type_cases() -> None:
    kinds: dict[str, set[str]] = defaultdict(set)
    for case in CASES:
        kinds[case["field"]].add(case["kind"])
    gaps = []
    for f in FIELDS:
        wanted = {"present"} if f.name in ALWAYS_THERE else {"present", "missing", "wrong_type"}
        if f.name == "evt.asynctype":
            wanted = {"missing"}
        if not wanted <= kinds[f.name]:
            gaps.append(f"{f.name}: lacks {sorted(wanted - kinds[f.name])}")
    assert gaps == []


@pytest.mark.parametrize(
    "field", [f for f in FIELDS if f.source == "k8saudit"], ids=lambda f: f.name
)
def test_ka_fields_are_unavailable_without_audit_id(field: Any) -> None:
    raw = copy.deepcopy(EVENTS["pod"])
    del raw["auditID"]
    arg = "x" if field.arg is not None and field.arg.required else None
    _, extract = resolve(field.name, arg)
    assert extract(AuditEvent(raw, 0)) is MISSING


ARG_ERRORS = yaml.safe_load((DATA / "arg_errors.yaml").read_text())


@pytest.mark.parametrize("case", ARG_ERRORS, ids=lambda c: f"{c['field']}[{c.get('arg')}]")
def test_field_reference_errors(case: dict[str, Any]) -> None:
    with pytest.raises(FieldError) as info:
        resolve(case["field"], case.get("arg"))
    assert (info.value.kind, str(info.value)) == (case["kind"], case["message"])
