"""The fuzz targets of ``bench/fuzz.py``: each takes bytes and raises only on a bug.

Expected failures (a line that is not JSON, a condition that does not parse,
a rules file with errors) are data; anything raised is a finding.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from k8saudit_cli.alerts import AlertRenderer
from k8saudit_cli.decode import DecodeOptions, Decoder, Problems
from k8saudit_cli.detect import Alert, Detector
from k8saudit_cli.engine.parser import parse_condition
from k8saudit_cli.engine.unparse import render
from k8saudit_cli.errors import ConditionSyntaxError
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fields import FIELDS, to_json, to_text
from k8saudit_cli.ruleset import load_texts
from k8saudit_cli.ruleset.defaults import default_rules_path

ROOT = Path(__file__).resolve().parent.parent
#: What no line of output may hold raw (the newline only between lines).
RAW_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
JSON_BREAKS = ("\u2028", "\u2029", "\x85")

#: A rule that matches every event and prints many kinds of fields.
EVERY_EVENT = """\
- rule: Fuzz every event
  desc: renders many fields of every event
  condition: ka.verb exists or not ka.verb exists
  output: >-
    u=%ka.user.name g=%ka.user.groups v=%ka.verb uri=%ka.uri
    cmd=%ka.uri.param[command] ua=%ka.useragent b=%b64(ka.useragent)
    low=%tolower(ka.target.name) img=%ka.req.pod.containers.image ips=%ka.sourceips
    j=%json.value[/requestObject/spec] obj=%jevt.obj t=%evt.time n=%20ka.target.namespace
  priority: INFO
  source: k8s_audit
"""


@cache
def _detection() -> tuple[Detector, Detector, AlertRenderer]:
    default = Path(default_rules_path()).read_text(encoding="utf-8")
    ruleset = load_texts([("default.yaml", default), ("fuzz.yaml", EVERY_EVENT)])
    assert ruleset.ok, [d.render() for d in ruleset.errors]
    rules = [r for r in ruleset.rules if r.enabled]
    return Detector(rules), Detector(rules, fast=False), AlertRenderer()


def _check_lines(text: str, what: str) -> None:
    for line in text.split("\n"):
        found = RAW_CONTROLS.search(line)
        assert found is None, f"raw {found.group()!r} in {what}: {line!r}"


def _check_event(ev: AuditEvent) -> None:
    fast, reference, renderer = _detection()
    hits, expected = fast.match(ev), reference.match(ev)
    assert [r.name for r in hits] == [r.name for r in expected], "the evaluators disagree"
    for rule in hits:
        alert = Alert(rule, ev)
        line = renderer.line(alert)
        assert line.endswith("\n")
        _check_lines(line[:-1], "a text alert")
        encoded = renderer.json_text(alert)
        assert encoded.endswith("\n") and "\n" not in encoded[:-1]
        assert not any(c in encoded for c in JSON_BREAKS), "a raw line break in JSON"
        json.loads(encoded)
    for fdef in FIELDS:
        if fdef.arg is None or not fdef.arg.required:
            value = fdef.bind(None)(ev)
            to_text(value, fdef)
            json.dumps(to_json(value, fdef, ev))


def check_decoder(data: bytes) -> None:
    """One input line: decoded, matched on both evaluators, rendered."""
    events = Decoder(DecodeOptions(), Problems()).decode_line(data, "fuzz.jsonl", 1)
    for ev in events:
        _check_event(ev)


def _rule_text(condition: str) -> str:
    return (
        "- rule: fuzz\n  desc: d\n  output: o %ka.verb\n  priority: INFO\n"
        f"  source: k8s_audit\n  condition: {json.dumps(condition)}\n"
    )


def check_parser(data: bytes) -> None:
    """Condition text: parsed (or refused with a syntax error), rendered back, loaded."""
    text = data.decode("utf-8", "replace")
    try:
        ast = parse_condition(text)
    except ConditionSyntaxError:
        return
    assert parse_condition(render(ast)) == ast, "the canonical text parses differently"
    ruleset = load_texts([("fuzz.yaml", _rule_text(text))])
    for d in [*ruleset.errors, *ruleset.warnings]:
        _check_lines(d.render(), "a diagnostic")


@cache
def _sample_events() -> list[AuditEvent]:
    lines = (ROOT / "samples" / "attack-story.jsonl").read_bytes().splitlines()
    decoder = Decoder(DecodeOptions(), Problems())
    picked = lines[:3] + lines[-40:]
    return [ev for line in picked for ev in decoder.decode_line(line, "sample", 1)]


def check_rules(data: bytes) -> None:
    """A rules file: loaded (errors are data), diagnostics rendered, rules run."""
    text = data.decode("utf-8", "replace")
    ruleset = load_texts([("fuzz.yaml", text)])
    for d in [*ruleset.errors, *ruleset.warnings]:
        _check_lines(d.render(), "a diagnostic")
    if not ruleset.ok:
        return
    rules = [r for r in ruleset.rules if r.source == "k8s_audit"]
    fast, reference = Detector(rules), Detector(rules, fast=False)
    for ev in _sample_events():
        assert [r.name for r in fast.match(ev)] == [r.name for r in reference.match(ev)]
        for rule in fast.match(ev):
            _check_lines(AlertRenderer().text(Alert(rule, ev)), "a text alert")


TARGETS = {"decoder": check_decoder, "parser": check_parser, "rules": check_rules}


def _default_items() -> list[Any]:
    loaded = yaml.safe_load(Path(default_rules_path()).read_text(encoding="utf-8"))
    return [item for item in loaded if isinstance(item, dict)]


def _seeds() -> dict[str, list[bytes]]:
    lines = (ROOT / "samples" / "attack-story.jsonl").read_bytes().splitlines()
    items = _default_items()
    conditions = [i["condition"] for i in items if isinstance(i.get("condition"), str)]
    # Prefixes of the default rules: every rule with the lists and macros before it.
    cuts = range(len(items) // 10, len(items) + 1, max(1, len(items) // 10))
    rules_files = [yaml.safe_dump(items[:cut], sort_keys=False) for cut in cuts]
    return {
        "decoder": [lines[i] for i in range(0, len(lines), max(1, len(lines) // 40))],
        "parser": [c.encode() for c in conditions[:60]],
        "rules": [f.encode() for f in rules_files],
    }


SEEDS = _seeds()
