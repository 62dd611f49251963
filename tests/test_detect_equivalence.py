"""The fast detector must match exactly what the reference detector matches.

The fast path (``Detector(fast=True)``) skips rules with the stage/verb/resource
index, drops the checks the index already proved, and runs one generated
function per group of candidate rules with shared field slots and fused ``or``
runs. The reference path (``fast=False``) runs every rule's closure in order.
Both must give the same rules, in the same order, for every event, with
``match_all`` on and off, on:

(a) every event of samples/ (and samples/rotated/) and of the legacy Falco
    conformance traces, with the built-in ruleset and upstream's current one;
(b) hypothesis-mutated versions of realistic events;
(c) a hand-written ruleset that stresses the code generator and the index.
"""

from __future__ import annotations

import copy
import functools
import os
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from k8saudit_cli.decode import read_events
from k8saudit_cli.detect import Detector
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.ruleset import CompiledRule, load_rules, load_texts
from k8saudit_cli.ruleset.defaults import default_rules_path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
CONFORMANCE = ROOT.parent / "shared" / "conformance"
TRACES = CONFORMANCE / "falco-legacy" / "traces"
UPSTREAM_RULES = CONFORMANCE / "upstream-current" / "k8s_audit_rules.yaml"


# ------------------------------------------------------------------ rulesets

STRESS_RULES = r"""
- list: sensitive_resources
  items: [secrets, configmaps, clusterroles]
- list: admin_groups
  items: ["system:masters", cluster-admins]
- list: admin_users
  items: [admin, root, "kubernetes-admin"]
- list: tool_agents
  items: ["python-requests/2.31", "Go-http-client/1.1"]

- macro: complete
  condition: ka.stage = ResponseComplete
- macro: started
  condition: jevt.value[/stage] = ResponseStarted
- macro: writes
  condition: (ka.verb in (create, update, patch) or ka.verb = delete)
- macro: on_pods
  condition: ka.target.resource = pods
- macro: nested_or
  condition: (complete and (writes or ka.verb = get)) or started
- macro: agent_is_tool
  condition: >
    (ka.useragent startswith kubectl or ka.useragent startswith helm or ka.useragent = "curl/8.0"
     or ka.useragent in (tool_agents) or ka.useragent endswith "/1.30" or ka.useragent endswith "(linux/amd64)")
- macro: system_user
  condition: (ka.user.name startswith "system:" or ka.user.name in (admin_users) or ka.user.name = "eks:admin")

- rule: R01 stage only
  desc: only a key check
  condition: ka.stage = ResponseComplete
  output: "%ka.verb"
  priority: INFO
  source: k8s_audit
- rule: R02 verb and resource only
  desc: only key checks
  condition: ka.verb in (create, delete) and ka.target.resource = pods
  output: "%ka.verb"
  priority: NOTICE
  source: k8s_audit
- rule: R03 pointer stage only
  desc: only a json.value key check
  condition: jevt.value[/stage] = ResponseStarted
  output: "%ka.verb"
  priority: INFO
  source: k8s_audit
- rule: R04 pointer without slash
  desc: the leading slash of a pointer is optional
  condition: json.value[stage] in (RequestReceived, Panic)
  output: "%ka.verb"
  priority: INFO
  source: k8s_audit
- rule: R05 pointer resource and verb
  desc: json.value key checks on two dimensions
  condition: json.value[/objectRef/resource] = secrets and json.value[verb] intersects (get, list)
  output: "%ka.verb"
  priority: WARNING
  source: k8s_audit
- rule: R06 key checks inside or
  desc: key checks that are not top-level conjuncts
  condition: ka.stage = ResponseComplete or ka.verb = watch or jevt.value[/objectRef/resource] = nodes
  output: "%ka.verb"
  priority: INFO
  source: k8s_audit
- rule: R07 key checks under not
  desc: negated key checks
  condition: not ka.stage = ResponseComplete and not jevt.value[/objectRef/resource] in (pods, secrets) and not ka.verb exists
  output: "%ka.verb"
  priority: INFO
  source: k8s_audit
- rule: R08 not around or of key checks
  desc: d
  condition: not (ka.verb = get or ka.verb = list or ka.verb = watch) and complete
  output: "%ka.verb"
  priority: INFO
  source: k8s_audit
- rule: R09 or chain one field
  desc: fused runs of startswith, =, in, endswith on one field
  condition: >
    complete and (ka.user.name startswith "system:" or ka.user.name startswith "kube-" or ka.user.name = alice
    or ka.user.name == "bob@example.com" or ka.user.name in (carol, dave) or ka.user.name intersects (eve)
    or ka.user.name endswith "@example.com" or ka.user.name endswith ".local" or ka.user.name startswith ci:
    or ka.user.name contains admin or ka.user.name = mallory)
  output: "%ka.user.name"
  priority: INFO
  source: k8s_audit
- rule: R10 or chain fields interleaved
  desc: runs broken by other fields
  condition: >
    ka.user.name = alice or ka.verb = create or ka.user.name = bob or ka.target.namespace = kube-system
    or ka.target.namespace startswith kube or ka.target.namespace startswith default or ka.uri startswith /api
    or ka.uri startswith /apis or ka.uri startswith /healthz or ka.target.name in (coredns, kube-proxy)
  output: "%ka.user.name"
  priority: INFO
  source: k8s_audit
- rule: R11 not around or with lists
  desc: d
  condition: complete and not (system_user or ka.user.groups intersects (admin_groups)) and not agent_is_tool
  output: "%ka.user.name"
  priority: WARNING
  source: k8s_audit
- rule: R12 nested macros
  desc: d
  condition: nested_or and not agent_is_tool and (on_pods or ka.target.resource in (sensitive_resources))
  output: "%ka.user.name"
  priority: ERROR
  source: k8s_audit
- rule: R13 val comparisons
  desc: d
  condition: >
    (ka.user.name = val(ka.impuser.name) or ka.target.namespace = val(ka.target.name)
     or ka.user.name startswith val(ka.target.namespace) or ka.useragent contains val(ka.verb))
    and ka.target.namespace != val(ka.user.name)
  output: "%ka.user.name"
  priority: INFO
  source: k8s_audit
- rule: R14 list fields
  desc: d
  condition: >
    (ka.user.groups in (admin_groups) or ka.user.groups intersects ("system:masters", devs)
     or (ka.req.pod.containers.image exists and not ka.req.pod.volumes.hostpath exists)
     or ka.req.pod.containers.privileged intersects (true) or ka.req.pod.containers.image in (nginx, busybox))
    and ka.user.groups exists
  output: "%ka.user.groups"
  priority: WARNING
  source: k8s_audit
- rule: R15 transformers
  desc: d
  condition: >
    tolower(ka.user.name) in (admin, root, alice) or toupper(ka.verb) = CREATE
    or basename(ka.uri) startswith exec or len(ka.user.groups) > 2
    or tolower(ka.user.groups) intersects ("system:masters") or tolower(ka.useragent) contains curl
    or toupper(tolower(ka.target.resource)) = SECRETS or b64(ka.target.name) exists
  output: "%ka.user.name"
  priority: INFO
  source: k8s_audit
- rule: R16 key field transformed
  desc: a transformed key field is not a key check
  condition: tolower(ka.verb) = create and toupper(ka.stage) = RESPONSECOMPLETE
  output: "%ka.verb"
  priority: INFO
  source: k8s_audit
- rule: R17 not equal stage
  desc: d
  condition: ka.stage != ResponseComplete and ka.verb != get
  output: "%ka.verb"
  priority: INFO
  source: k8s_audit
- rule: R18 exists checks
  desc: d
  condition: ka.stage exists and not ka.verb exists or jevt.value[/stage] exists and not ka.stage exists
  output: "%ka.verb"
  priority: INFO
  source: k8s_audit
- rule: R19 contradiction
  desc: can never match
  condition: ka.verb = create and ka.verb = delete
  output: "%ka.verb"
  priority: INFO
  source: k8s_audit
- rule: R20 ka and json views differ
  desc: without auditID the ka view is empty, the json view is not
  condition: ka.stage in (ResponseComplete, ResponseStarted) and jevt.value[/stage] = ResponseComplete and json.value[/verb] != watch
  output: "%ka.verb"
  priority: INFO
  source: k8s_audit
- rule: R21 key check in and inside or
  desc: d
  condition: ka.stage = ResponseComplete and (ka.verb = create or ka.stage = ResponseStarted or (ka.verb = get and ka.target.resource = secrets))
  output: "%ka.verb"
  priority: INFO
  source: k8s_audit
- rule: R22 modifiers
  desc: d
  condition: ka.user.name startswith anyof ("system:", kube-) or ka.verb = oneof (create, update) or ka.uri endswith allof (exec, "c")
  output: "%ka.verb"
  priority: INFO
  source: k8s_audit
- rule: R23 index args
  desc: d
  condition: >
    ka.uri.param[watch] = true or ka.req.pod.containers.image[0] startswith nginx
    or ka.req.volume.hostpath[/var/run/docker.sock] = true or ka.req.pod.containers.image[1] exists
    or ka.uri.param[command] in (sh, bash)
  output: "%ka.verb"
  priority: INFO
  source: k8s_audit
- rule: R24 string operators
  desc: d
  condition: >
    ka.uri glob "/api/v1/namespaces/*/secrets*" or ka.user.name regex "system:serviceaccount:[a-z-]+:.*"
    or ka.uri pmatch (/api/v1/namespaces, /apis) or ka.useragent icontains KUBECTL
    or ka.user.name iglob "*ADMIN*" or ka.response.code in ("403", "404")
  output: "%ka.verb"
  priority: INFO
  source: k8s_audit
- rule: R25 numbers
  desc: d
  condition: evt.num > 3 and evt.num in (4, 5, 8, 13) or evt.rawtime.s >= 1714557600 and ka.stage = Panic
  output: "%ka.verb"
  priority: INFO
  source: k8s_audit
- rule: R26 exceptions
  desc: d
  condition: complete and ka.verb in (get, list, create)
  exceptions:
    - name: known
      fields: [ka.user.name, ka.target.namespace]
      comps: [=, startswith]
      values:
        - [alice, dev]
        - ["system:kube-scheduler", kube]
    - name: by_resource
      fields: ka.target.resource
      comps: in
      values: [configmaps, leases]
  output: "%ka.verb"
  priority: INFO
  source: k8s_audit
- rule: R27 only pointer checks in or and not
  desc: d
  condition: >
    (jevt.value[/verb] = get or json.value[/verb] = list)
    and not (jevt.value[/objectRef/resource] = secrets or jevt.value[objectRef/resource] = configmaps)
  output: "%ka.verb"
  priority: INFO
  source: k8s_audit
- rule: R28 deep and or nest
  desc: d
  condition: >
    ((ka.verb = get and (ka.user.name = alice or (ka.target.resource = secrets and not ka.target.namespace = kube-system)))
     or (ka.verb = create and not (ka.user.name startswith "system:" and ka.target.namespace = kube-system)))
    and (complete or started) and not (ka.useragent startswith kube-probe or ka.useragent = "")
  output: "%ka.verb"
  priority: INFO
  source: k8s_audit
- rule: R29 same slot different modes
  desc: one field read raw, normalised, transformed and as val()
  condition: >
    (ka.user.groups exists and tolower(ka.user.groups) exists)
    or (ka.user.name = val(ka.user.name) and tolower(ka.user.name) = val(ka.user.name))
  output: "%ka.verb"
  priority: INFO
  source: k8s_audit
- rule: R30 anything with an auditID
  desc: d
  condition: ka.auditid exists
  output: "%ka.verb"
  priority: DEBUG
  source: k8s_audit
- rule: R31 val field read after a missing left side
  desc: the right-hand slot is only filled when the left side exists
  condition: >
    ka.target.subresource = val(ka.impuser.name) or ka.user.name = val(ka.impuser.name)
    or ka.useragent startswith val(ka.impuser.name)
  output: "%ka.verb"
  priority: INFO
  source: k8s_audit
"""


@functools.cache
def ruleset(name: str) -> tuple[CompiledRule, ...]:
    if name == "default":
        rs = load_rules([default_rules_path()])
    elif name == "upstream":
        rs = load_rules([str(UPSTREAM_RULES)])
    else:
        rs = load_texts([("stress.yaml", STRESS_RULES)])
    assert rs.ok, [d.render() for d in rs.errors]
    return tuple(rs.rules)


RULESETS = ["default", "stress"] + (["upstream"] if UPSTREAM_RULES.is_file() else [])


@functools.cache
def detectors(name: str, match_all: bool) -> tuple[Detector, Detector]:
    rules = ruleset(name)
    return Detector(rules, match_all, fast=True), Detector(rules, match_all, fast=False)


def differences(name: str, match_all: bool, events: list[AuditEvent]) -> tuple[list[str], int]:
    """Events on which the two detectors disagree (described), and the reference hit count."""
    fast, reference = detectors(name, match_all)
    out, hits = [], 0
    for ev in events:
        want = [r.name for r in reference.match(ev)]
        got = [r.name for r in fast.match(ev)]
        hits += len(want)
        if got != want:
            out.append(
                f"{ev.where}: fast={got} reference={want} event={orjson.dumps(ev.raw)[:300]!r}"
            )
    return out, hits


# ------------------------------------------------------------------ (a) real events


def sample_files() -> list[str]:
    files = []
    for folder, dirs, names in os.walk(SAMPLES):
        dirs.sort()
        files += [os.path.join(folder, n) for n in sorted(names) if not n.endswith((".py", ".md"))]
    return files


@functools.cache
def real_events() -> tuple[AuditEvent, ...]:
    events = list(read_events(sample_files()))
    assert len(events) > 3000
    if TRACES.is_dir():
        events += read_events([str(TRACES)])
    return tuple(events)


def test_sample_files_cover_the_rotated_folder() -> None:
    names = [os.path.relpath(f, SAMPLES) for f in sample_files()]
    assert "attack-story.jsonl" in names
    assert any(n.startswith("rotated" + os.sep) and n.endswith(".gz") for n in names)


@pytest.mark.parametrize("match_all", [True, False], ids=["all", "first"])
@pytest.mark.parametrize("name", RULESETS)
def test_real_events(name: str, match_all: bool) -> None:
    bad, hits = differences(name, match_all, list(real_events()))
    assert bad == [], "\n".join(bad[:10])
    assert hits > 50  # the comparison is not vacuous


def test_conformance_traces_are_compared() -> None:
    if not TRACES.is_dir():
        pytest.skip("../shared/conformance is not available (fresh clone)")
    traces = list(read_events([str(TRACES)]))
    assert len(traces) > 40
    bad, hits = differences("default", True, traces)
    assert bad == [] and hits > 10


# ------------------------------------------------------------------ (c) hand-written events


def base(**changes: Any) -> dict[str, Any]:
    ev: dict[str, Any] = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "RequestResponse",
        "auditID": "5e1f7a52-0000-4000-8000-000000000001",
        "stage": "ResponseComplete",
        "requestURI": "/api/v1/namespaces/dev/pods",
        "verb": "create",
        "user": {"username": "mallory", "groups": ["devs", "system:authenticated"]},
        "sourceIPs": ["10.8.0.66"],
        "userAgent": "evil/1.0",
        "objectRef": {"resource": "pods", "namespace": "dev", "name": "x", "apiVersion": "v1"},
        "responseStatus": {"metadata": {}, "code": 201},
        "requestObject": {
            "kind": "Pod",
            "spec": {
                "containers": [
                    {"name": "c", "image": "nginx", "securityContext": {"privileged": True}}
                ]
            },
        },
        "requestReceivedTimestamp": "2024-05-01T10:00:00.000000Z",
        "stageTimestamp": "2024-05-01T10:00:00.012345Z",
    }
    for key, value in changes.items():
        if value is None:
            ev.pop(key, None)
        else:
            ev[key] = value
    return ev


HANDMADE = [
    base(),
    base(auditID=None),
    base(stage="RequestReceived", verb=None, objectRef={"resource": "configmaps"}),
    base(auditID=None, stage="ResponseStarted", verb=None),
    base(stage="Panic", verb="update", userAgent="kubectl/v1.30.0 (linux/amd64) kubernetes/1.30"),
    base(
        user={"username": "bob", "groups": ["system:masters"]},
        impersonatedUser={"username": "bob"},
        objectRef={"resource": "secrets", "namespace": "kube-system", "name": "kube-system"},
        verb="get",
    ),
    base(
        user={"username": "dev", "groups": []},
        objectRef={"resource": "pods", "namespace": "dev"},
        userAgent="curl/8.0",
        requestURI="/api/v1/namespaces/dev/pods/x/exec?command=sh&stdin=true",
    ),
    base(stage=["ResponseComplete"], verb={"create": True}, objectRef={"resource": 7}),
    base(stage=None, verb=None, objectRef=None, user=None),
    base(stage="ResponseComplete", verb="create", objectRef="pods"),
    base(
        requestObject={
            "spec": {
                "containers": [{"image": "busybox"}, {"image": "nginx:1"}],
                "volumes": [{"name": "d", "hostPath": {"path": "/var/run/docker.sock"}}],
            }
        }
    ),
    base(
        user={"username": "ADMIN", "groups": ["A", "B", "C"]},
        userAgent="",
        verb="get",
        objectRef={"resource": "secrets", "namespace": "prod", "name": "db"},
    ),
    base(auditID=None, stage="RequestReceived", verb="list", objectRef={"resource": "secrets"}),
    base(
        stage=None,
        requestURI="/api/v1/watch/pods?watch=true",
        verb="watch",
        user={"username": "system:kube-scheduler"},
    ),
    base(impersonatedUser={"username": "mallory"}),
    base(impersonatedUser={"username": "evil"}),
]


@pytest.mark.parametrize("match_all", [True, False], ids=["all", "first"])
@pytest.mark.parametrize("name", RULESETS)
def test_handmade_events(name: str, match_all: bool) -> None:
    events = [
        AuditEvent(raw, 1_714_557_600_012_345_000 + i, i + 1, "handmade", i + 1)
        for i, raw in enumerate(HANDMADE)
    ]
    bad, _ = differences(name, match_all, events)
    assert bad == [], "\n".join(bad)


def test_stress_ruleset_rules_all_fire() -> None:
    """Each stress rule (but the contradiction) matches some event, so none is compared idly."""
    events = list(real_events()) + [
        AuditEvent(raw, 1_714_557_600_012_345_000, i + 1, "handmade", i + 1)
        for i, raw in enumerate(HANDMADE)
    ]
    _, reference = detectors("stress", True)
    fired = {r.name for ev in events for r in reference.match(ev)}
    names = [r.name for r in ruleset("stress")]
    assert len(names) == 31
    assert [n for n in names if n not in fired] == ["R19 contradiction"]


@pytest.mark.parametrize("key", ["stage", "verb", "objectRef"])
def test_deeply_nested_key_value(key: str) -> None:
    deep = b"[" * 300 + b"]" * 300
    value = deep if key != "objectRef" else b'{"resource":' + deep + b"}"
    raw = orjson.loads(orjson.dumps(base())[:-1] + b',"' + key.encode() + b'":' + value + b"}")
    ev = AuditEvent(raw, 1_714_557_600_012_345_000, 1, "deep", 1)
    for name in ("default", "stress"):
        fast, reference = detectors(name, True)
        assert [r.name for r in fast.match(ev)] == [r.name for r in reference.match(ev)]


# ------------------------------------------------------------------ (b) mutated events


def first_of_each_kind() -> list[dict[str, Any]]:
    """One attack-story event per (stage, verb, resource, subresource): realistic and varied."""
    seen, out = set(), []
    with open(SAMPLES / "attack-story.jsonl", "rb") as fh:
        for raw_line in fh:
            ev = orjson.loads(raw_line)
            ref = ev.get("objectRef") or {}
            key = (ev.get("stage"), ev.get("verb"), ref.get("resource"), ref.get("subresource"))
            if key not in seen:
                seen.add(key)
                out.append(ev)
    return out


BASES = first_of_each_kind()

STAGES = ["RequestReceived", "ResponseStarted", "ResponseComplete", "Panic"]
VERBS = [
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "connect",
]
RESOURCES = [
    "pods",
    "secrets",
    "configmaps",
    "clusterroles",
    "clusterrolebindings",
    "rolebindings",
    "deployments",
    "daemonsets",
    "services",
    "namespaces",
    "serviceaccounts",
    "nodes",
    "leases",
]
WORDS = [
    *STAGES,
    *VERBS,
    *RESOURCES,
    "exec",
    "attach",
    "portforward",
    "status",
    "log",
    "token",
    "",
    "true",
    "false",
    "system:anonymous",
    "system:unauthenticated",
    "system:masters",
    "system:authenticated",
    "alice",
    "bob",
    "admin",
    "ADMIN",
    "eks:admin",
    "system:serviceaccount:kube-system:default",
    "kube-system",
    "default",
    "dev",
    "kubectl/v1.30.0 (linux/amd64) kubernetes/1.30",
    "curl/8.0",
    "kube-probe/1.30",
    "Go-http-client/1.1",
    "/api/v1/namespaces/dev/pods/x/exec?command=sh&command=-c",
    "/api/v1/secrets?watch=true",
    "/healthz",
    "nginx",
    "busybox",
    "docker.io/library/nginx:1.25",
    "/var/run/docker.sock",
    "/proc",
    "allow",
    "forbid",
    "ResponseComplete ",
    "Pods",
    "CREATE",
    "5",
    "null",
]
WORD = st.sampled_from(WORDS)
JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**63 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=6),
        WORD,
    ),
    lambda kids: (
        st.lists(kids, max_size=3)
        | st.dictionaries(st.one_of(WORD, st.text(max_size=4)), kids, max_size=3)
    ),
    max_leaves=8,
)
VALUE = st.one_of(WORD, WORD, JSON)
SECURITY = st.fixed_dictionaries(
    {},
    optional={
        "privileged": st.one_of(st.booleans(), VALUE),
        "allowPrivilegeEscalation": st.booleans(),
        "runAsUser": st.one_of(st.integers(0, 2000), VALUE),
        "readOnlyRootFilesystem": st.booleans(),
        "capabilities": st.fixed_dictionaries(
            {}, optional={"add": st.lists(st.sampled_from(["SYS_ADMIN", "NET_RAW", "ALL"]))}
        ),
    },
)
CONTAINER = st.fixed_dictionaries(
    {"name": st.sampled_from(["app", "side", "x"])},
    optional={
        "image": VALUE,
        "securityContext": st.one_of(SECURITY, VALUE),
        "ports": st.lists(
            st.fixed_dictionaries(
                {}, optional={"hostPort": st.integers(0, 9000), "containerPort": VALUE}
            ),
            max_size=2,
        ),
    },
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a key of an object or an element of an array inside ``value``."""
    out = []
    if isinstance(value, dict):
        for k, v in value.items():
            out.append((*prefix, k))
            out += paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.append((*prefix, i))
            out += paths(v, (*prefix, i))
    return out


def parent(doc: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        doc = doc[step]
    return doc


def obj_at(ev: dict[str, Any], *keys: str) -> dict[str, Any]:
    """The object at ``keys``, replacing whatever non-object is in the way."""
    cur = ev
    for k in keys:
        if not isinstance(cur.get(k), dict):
            cur[k] = {}
        cur = cur[k]
    return cur


@st.composite
def mutated_events(draw: st.DrawFn) -> AuditEvent:
    ev = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(0, 6))):
        op = draw(
            st.sampled_from(
                [
                    "stage",
                    "verb",
                    "resource",
                    "subresource",
                    "namespace",
                    "user",
                    "groups",
                    "agent",
                    "uri",
                    "auditid",
                    "delete",
                    "replace",
                    "containers",
                    "init",
                    "no_containers",
                    "volumes",
                    "impersonate",
                ]
            )
        )
        if op == "stage":
            ev["stage"] = draw(st.one_of(st.sampled_from(STAGES), VALUE))
        elif op == "verb":
            ev["verb"] = draw(st.one_of(st.sampled_from(VERBS), VALUE))
        elif op == "resource":
            obj_at(ev, "objectRef")["resource"] = draw(st.one_of(st.sampled_from(RESOURCES), VALUE))
        elif op == "subresource":
            obj_at(ev, "objectRef")["subresource"] = draw(VALUE)
        elif op == "namespace":
            obj_at(ev, "objectRef")["namespace"] = draw(VALUE)
        elif op == "user":
            obj_at(ev, "user")["username"] = draw(VALUE)
        elif op == "groups":
            obj_at(ev, "user")["groups"] = draw(st.one_of(st.lists(WORD, max_size=4), VALUE))
        elif op == "agent":
            ev["userAgent"] = draw(VALUE)
        elif op == "uri":
            ev["requestURI"] = draw(VALUE)
        elif op == "auditid":
            ev.pop("auditID", None)
        elif op == "impersonate":
            ev["impersonatedUser"] = {"username": draw(VALUE)}
        elif op in ("delete", "replace"):
            candidates = [p for p in paths(ev) if p != ("kind",)]
            if candidates:
                path = draw(st.sampled_from(candidates))
                holder = parent(ev, path)
                if op == "delete":
                    del holder[path[-1]]
                else:
                    holder[path[-1]] = draw(VALUE)
        elif op in ("containers", "init"):
            spec = obj_at(ev, "requestObject", "spec")
            spec["containers" if op == "containers" else "initContainers"] = draw(
                st.lists(CONTAINER, max_size=3)
            )
        elif op == "no_containers":
            obj_at(ev, "requestObject", "spec").pop("containers", None)
        elif op == "volumes":
            obj_at(ev, "requestObject", "spec")["volumes"] = draw(
                st.lists(
                    st.fixed_dictionaries(
                        {"name": st.just("v")},
                        optional={"hostPath": st.fixed_dictionaries({"path": VALUE})},
                    ),
                    max_size=3,
                )
            )
    num = draw(st.integers(1, 20))
    return AuditEvent(ev, 1_714_557_600_000_000_000 + num, num, "mutated", num)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ev=mutated_events())
def test_mutated_events(ev: AuditEvent) -> None:
    for name in RULESETS:
        for match_all in (True, False):
            bad, _ = differences(name, match_all, [ev])
            assert bad == [], bad[0]


@settings(max_examples=60, deadline=None)
@given(ev=mutated_events())
def test_mutated_events_without_audit_id(ev: AuditEvent) -> None:
    raw = dict(ev.raw)
    raw.pop("auditID", None)
    stripped = AuditEvent(raw, ev.time_ns, ev.num, ev.file, ev.line)
    assert not stripped.ka
    for name in RULESETS:
        for match_all in (True, False):
            bad, _ = differences(name, match_all, [stripped])
            assert bad == [], bad[0]


def test_fresh_detectors_agree_event_by_event() -> None:
    """New detectors (empty group caches) on an interleaving of keys, first and all."""
    events = [
        AuditEvent(b, 1_714_557_600_000_000_000, i + 1, "bases", i + 1) for i, b in enumerate(BASES)
    ]
    events = events + events[::-1]
    for name in RULESETS:
        for match_all in (True, False):
            rules = ruleset(name)
            fast, reference = Detector(rules, match_all, True), Detector(rules, match_all, False)
            assert [[r.name for r in fast.match(e)] for e in events] == [
                [r.name for r in reference.match(e)] for e in events
            ]
