"""Our own ``ka.*`` fields: what the per-field cases do not show.

The values for each field are data in tests/data/fields/cases/extension.yaml;
this file checks the properties around them: upstream fields keep their
meaning, the per-event memo never leaks between events, paths and networks
are normalised as documented, and Falco can skip every rule that uses them.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fields import FIELDS, MISSING, resolve
from k8saudit_cli.fields.netaddr import networks_of
from k8saudit_cli.fields.podspec_values import normalise_path, registry
from k8saudit_cli.ruleset import load_rules
from k8saudit_cli.ruleset.defaults import default_rules_path

DATA = Path(__file__).parent / "data" / "fields"
EVENTS: dict[str, Any] = yaml.safe_load((DATA / "events.yaml").read_text())
OWN_PREFIXES = (
    "ka.req.podspec.",
    "ka.req.patch.",
    "ka.req.replicas",
    "ka.client.",
    "ka.sourceips.networks",
)
OWN_FIELDS = [f.name for f in FIELDS if f.desc.startswith("Extension:")]


def value(field: str, raw: dict[str, Any]) -> Any:
    return resolve(field)[1](AuditEvent(raw, 0))


def test_upstream_pod_fields_do_not_read_templates_or_patches() -> None:
    for name in ("template", "cronjob", "json_patch", "smp_patch"):
        assert value("ka.req.pod.containers.image", EVENTS[name]) is MISSING
        assert value("ka.req.pod.host_pid", EVENTS[name]) is MISSING
    assert value("ka.req.podspec.images", EVENTS["template"]) != []


def test_memo_follows_the_event_not_its_content() -> None:
    first = copy.deepcopy(EVENTS["template"])
    second = copy.deepcopy(EVENTS["template"])
    second["requestObject"]["spec"]["template"]["spec"]["hostPID"] = False
    assert value("ka.req.podspec.host_namespaces", first) == ["pid"]
    assert value("ka.req.podspec.host_namespaces", second) == []
    assert value("ka.req.podspec.host_namespaces", first) == ["pid"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("//", "/"),
        ("/.", "/"),
        ("/etc//cron.d/", "/etc/cron.d"),
        ("/var/log/../../etc/./shadow", "/etc/shadow"),
        ("/../../..", "/"),
        ("relative/./dir", "relative/dir"),
    ],
)
def test_host_paths_are_resolved_lexically(path: str, expected: str) -> None:
    assert normalise_path(path) == expected


@pytest.mark.parametrize(
    ("image", "host"),
    [
        ("nginx", "docker.io"),
        ("bitnami/redis:7", "docker.io"),
        ("localhost/app:1", "localhost"),
        ("localhost:5001/app", "localhost:5001"),
        ("registry.k8s.io/pause:3.9", "registry.k8s.io"),
        ("10.1.2.3:5000/a/b", "10.1.2.3:5000"),
        ("[fd00::1]:5000/app", "[fd00::1]:5000"),
    ],
)
def test_registry_host_follows_the_runtimes(image: str, host: str) -> None:
    assert registry(image) == host


def test_networks_cover_the_address_at_every_prefix() -> None:
    v4 = networks_of("203.0.113.45")
    assert v4[0] == "203.0.113.45" and len(v4) == 34
    assert {"203.0.113.45/32", "203.0.113.0/24", "192.0.0.0/2", "0.0.0.0/0"} <= set(v4)
    v6 = networks_of("2001:db8::7")
    assert len(v6) == 130 and "2001:db8::/32" in v6 and "::/0" in v6
    assert "10.0.0.0/8" in networks_of("::ffff:10.1.2.3")
    assert networks_of("not an address") == ()


def test_rules_using_our_fields_are_skippable_by_falco() -> None:
    """Falco does not know our fields: a rule using them must say skip-if-unknown-filter."""
    items = yaml.safe_load(Path(default_rules_path()).read_text())
    texts = {i["macro"]: i["condition"] for i in items if "macro" in i}
    uses = [i for i in items if "rule" in i and any(p in i["condition"] for p in OWN_PREFIXES)]
    assert uses
    for rule in uses:
        assert rule.get("skip-if-unknown-filter") is True, rule["rule"]
    # Falco skips a rule on its condition; output and exceptions come later.
    for rule in (i for i in items if "rule" in i and i not in uses):
        rest = str(rule.get("output", "")) + str(rule.get("exceptions", ""))
        assert not any(p in rest for p in OWN_PREFIXES), rule["rule"]
    for name, text in texts.items():
        assert not any(p in text for p in OWN_PREFIXES), f"macro {name} uses our fields"
    ruleset = load_rules([default_rules_path()])
    assert {r.name for r in ruleset.rules} >= {r["rule"] for r in uses}


def test_deeply_nested_bodies_do_not_raise() -> None:
    """orjson accepts deeper nesting than Python recursion allows; no field may recurse."""
    body: dict[str, Any] = {}
    cur = body
    for _ in range(5000):
        cur["spec"] = {}
        cur = cur["spec"]
    for verb in ("patch", "update"):
        raw = {"auditID": "d", "verb": verb, "objectRef": {"resource": "deployments"}}
        raw["requestObject"] = body
        for name in OWN_FIELDS:
            resolve(name)[1](AuditEvent(raw, 0))
