"""Each provider's records -> audit events, through the decoder every command uses.

Hand-written records, read back with :func:`read_events` in ``auto`` mode
(unless a test says otherwise): the exact events and the exact problems
(reasons by provider and cause, warnings with their place).
"""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from k8saudit_cli import parallel_run
from k8saudit_cli.decode import DecodeOptions, Problems, read_events
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.formats.gke import api_path, faithful_event, falco_event, object_ref
from k8saudit_cli.formats.salvage import TRUNCATED_ANNOTATION, salvage, truncation_mark

EVENT: dict[str, Any] = {
    "kind": "Event",
    "apiVersion": "audit.k8s.io/v1",
    "level": "RequestResponse",
    "auditID": "7e1c0000-0000-4000-8000-000000000001",
    "stage": "ResponseComplete",
    "requestURI": "/api/v1/namespaces/dev/pods",
    "verb": "create",
    "user": {"username": "alice", "groups": ["devs"]},
    "sourceIPs": ["10.0.0.7"],
    "userAgent": "kubectl/v1.30.0",
    "objectRef": {"resource": "pods", "namespace": "dev", "name": "dbg", "apiVersion": "v1"},
    "responseStatus": {"metadata": {}, "code": 201},
    "requestObject": {"kind": "Pod", "spec": {"containers": [{"name": "c", "image": "x" * 400}]}},
    "responseObject": {"kind": "Pod", "metadata": {"name": "dbg"}},
    "requestReceivedTimestamp": "2024-05-01T10:00:00.000000Z",
    "stageTimestamp": "2024-05-01T10:00:00.012345Z",
}
MESSAGE = orjson.dumps(EVENT).decode()
T = 1714557600012345000  # EVENT's stageTimestamp in ns


def read_as(problems: Problems, name: str) -> tuple[str, int]:
    """What an input was read as, and the events it gave."""
    return problems.formats[name], problems.inputs[name].events


def read(tmp_path: Path, data: bytes, **opts: Any) -> tuple[list[AuditEvent], Problems, list[str]]:
    path = tmp_path / "export"
    path.write_bytes(data)
    warnings: list[str] = []
    problems = Problems(emit=warnings.append)
    options = DecodeOptions(**{"input_format": "auto", **opts})
    events = list(read_events([str(path)], options, problems))
    return events, problems, [w.replace(str(path), "<f>") for w in warnings]


def lines(*values: Any) -> bytes:
    return b"".join(orjson.dumps(v) + b"\n" for v in values)


# ---------------------------------------------------------------- EKS


def cw(message: str, ms: int = 1714557600012) -> dict[str, Any]:
    return {"logStreamName": "kube-apiserver-audit-x", "timestamp": ms, "message": message}


def test_filter_log_events_and_get_log_events(tmp_path: Path) -> None:
    filtered = {"events": [cw(MESSAGE), cw(MESSAGE)], "searchedLogStreams": []}
    events, problems, _ = read(tmp_path, json.dumps(filtered, indent=4).encode())
    assert [(e.line, e.index, e.time_ns, e.raw) for e in events] == [
        (3, 0, T, EVENT),
        (8, 0, T, EVENT),
    ]
    assert read_as(problems, str(tmp_path / "export")) == ("eks-cloudwatch/document", 2)
    got = {
        "events": [{"timestamp": 1, "message": MESSAGE, "ingestionTime": 2}],
        "nextForwardToken": "f",
    }
    events, _, _ = read(tmp_path, json.dumps(got, indent=4).encode())
    assert [e.raw for e in events] == [EVENT]


def test_a_message_may_hold_an_event_list(tmp_path: Path) -> None:
    batch = {"kind": "EventList", "items": [EVENT, EVENT]}
    events, _, _ = read(tmp_path, lines(cw(orjson.dumps(batch).decode())))
    assert [(e.line, e.index) for e in events] == [(1, 0), (1, 1)]


def test_truncated_message_is_counted_not_dropped(tmp_path: Path) -> None:
    cut = MESSAGE[:300] + "[Truncated...]"
    events, problems, warnings = read(tmp_path, lines(cw(MESSAGE), cw(cut)))
    assert [e.line for e in events] == [1]
    assert problems.counts == {"truncated_eks": 1}
    assert warnings == [
        "k8saudit: warning: <f>:2[0]: EKS event cut by CloudWatch Logs ('[Truncated...]' or cut "
        f"JSON): eks: [Truncated...] at 300 bytes, auditID {EVENT['auditID']}"
    ]


def test_truncated_message_salvaged(tmp_path: Path) -> None:
    cut = MESSAGE[: MESSAGE.index('"responseObject"') + 30] + "[Truncated...]"
    events, problems, _ = read(tmp_path, lines(cw(cut, 1714557600123)), salvage_truncated=True)
    assert problems.counts == {"salvaged_eks": 1}
    (event,) = events
    raw = event.raw
    assert [k for k in raw if k != "annotations"] == [*list(EVENT)[:13], "stageTimestamp"]
    assert raw["stageTimestamp"] == "2024-05-01T10:00:00.123000000Z"  # the CloudWatch time
    note = raw["annotations"][TRUNCATED_ANNOTATION]
    assert note.startswith("eks: [Truncated...] at ")
    assert note.endswith("requestObject; stageTimestamp from the log record")
    assert truncation_mark(raw).startswith(" (truncated event: eks: [Truncated...] at ")


def test_too_little_to_salvage_stays_counted_as_truncated(tmp_path: Path) -> None:
    cut = MESSAGE[:30] + "[Truncated...]"  # no verb yet
    events, problems, warnings = read(tmp_path, lines(cw(cut)), salvage_truncated=True)
    assert events == [] and problems.counts == {"truncated_eks": 1}
    assert warnings[0].endswith("too little of it is whole to salvage")


def subscription(events: list[dict[str, Any]], kind: str = "DATA_MESSAGE") -> dict[str, Any]:
    return {"messageType": kind, "logGroup": "/aws/eks/c/cluster", "logEvents": events}


def test_subscription_records_plain_and_base64(tmp_path: Path) -> None:
    control = subscription(
        [{"id": "", "timestamp": 1, "message": "CWL CONTROL MESSAGE"}], "CONTROL_MESSAGE"
    )
    data = subscription([cw(MESSAGE), cw(MESSAGE)])
    packed = base64.b64encode(gzip.compress(orjson.dumps(data))).decode()
    firehose = {"records": [{"recordId": "1", "approximateArrivalTimestamp": 1, "data": packed}]}
    body = (
        orjson.dumps(control)
        + orjson.dumps(data)
        + b"\n"
        + lines({"awslogs": {"data": packed}}, firehose)
        + packed.encode()
        + b"\n"
    )
    events, problems, warnings = read(tmp_path, body)
    assert [(e.line, e.index) for e in events] == [
        (1, 0),
        (1, 1),
        (2, 0),
        (2, 1),
        (3, 0),
        (3, 1),
        (4, 0),
        (4, 1),
    ]
    assert problems.counts == {"cwl_control_message": 1}
    assert warnings == []  # counted in the summary, not warned about one by one


def test_base64_that_is_not_a_record(tmp_path: Path) -> None:
    junk = base64.b64encode(gzip.compress(b"not json")).decode()
    events, problems, _ = read(tmp_path, lines({"awslogs": {"data": junk}}))
    assert events == [] and list(problems.counts) == ["invalid_json"]


def test_insights_json_rows_and_console_objects(tmp_path: Path) -> None:
    row = [
        {"field": "@timestamp", "value": "2024-05-01 10:00:00.012"},
        {"field": "@message", "value": MESSAGE},
    ]
    doc = {"results": [row, row], "statistics": {}, "status": "Complete"}
    events, _, _ = read(tmp_path, json.dumps(doc, indent=4).encode())
    assert [e.raw for e in events] == [EVENT, EVENT]
    console = [{"@timestamp": "2024-05-01 10:00:00.012", "@message": MESSAGE}]
    events, _, _ = read(tmp_path, json.dumps(console, indent=2).encode())
    assert [e.raw for e in events] == [EVENT]


def test_insights_csv(tmp_path: Path) -> None:
    quoted = '"' + MESSAGE.replace('"', '""') + '"'
    data = f"@timestamp,@message\n2024-05-01 10:00:00.012,{quoted}\nx,y\n".encode()
    events, problems, _ = read(tmp_path, data)
    assert [(e.line, e.raw) for e in events] == [(2, EVENT)]
    assert problems.counts == {"invalid_json": 1}
    other = f"@log,@message,@timestamp\ng,{quoted},2024-05-01 10:00:00.012\n".encode()
    events, _, _ = read(tmp_path, other)
    assert [e.raw for e in events] == [EVENT]


def test_s3_export_lines(tmp_path: Path) -> None:
    data = f"2024-05-01T10:00:00.012Z {MESSAGE}\n2024-05-01T10:00:00.013Z {MESSAGE[:99]}[Truncated...]\n"
    events, problems, _ = read(tmp_path, gzip.compress(data.encode()))
    assert [(e.line, e.index) for e in events] == [(1, 0)]
    assert problems.counts == {"truncated_eks": 1}
    path = str(tmp_path / "export")
    assert read_as(problems, path) == ("eks-export/prefixed", 1)


# ---------------------------------------------------------------- GKE


def entry(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "insertId": "ins-1",
        "labels": {"authorization.k8s.io/decision": "allow", "cluster_name": "mine"},
        "logName": "projects/p/logs/cloudaudit.googleapis.com%2Factivity",
        "operation": {"id": "op-1", "producer": "k8s.io", "first": True, "last": True},
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "authenticationInfo": {"principalEmail": "alice@example.com"},
            "methodName": "io.k8s.core.v1.pods.create",
            "requestMetadata": {"callerIp": "10.0.0.7", "callerSuppliedUserAgent": "kubectl"},
            "resourceName": "core/v1/namespaces/dev/pods/dbg",
            "serviceName": "k8s.io",
            "request": {"@type": "core.k8s.io/v1.Pod", "kind": "Pod"},
            "status": {},
        },
        "receiveTimestamp": "2024-05-01T10:00:00.512345678Z",
        "resource": {"type": "k8s_cluster", "labels": {"cluster_name": "c1", "location": "eu"}},
        "timestamp": "2024-05-01T10:00:00.012Z",
    }
    for key, value in changes.items():
        if key == "proto":
            base["protoPayload"] = {**base["protoPayload"], **value}
        else:
            base[key] = value
    return base


def test_gke_falco_mapping() -> None:
    e = entry()
    assert falco_event(e, e["protoPayload"]) == {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "RequestResponse",
        "auditID": "ins-1",
        "stage": "ResponseComplete",
        "requestURI": "/core/v1/namespaces/dev/pods/dbg",
        "verb": "create",
        "user": {"username": "alice@example.com"},
        "sourceIPs": ["10.0.0.7"],
        "userAgent": "kubectl",
        "objectRef": {
            "resource": "pods",
            "namespace": "dev",
            "name": "dbg",
            "apiGroup": "core",
            "apiVersion": "v1",
        },
        "responseStatus": {
            "metadata": {},
            "status": "Created (inferred)",
            "message": "Created (inferred)",
            "code": 201,
        },
        "requestObject": {"@type": "core.k8s.io/v1.Pod", "kind": "Pod"},
        "requestReceivedTimestamp": "2024-05-01T10:00:00.512345Z",
        "stageTimestamp": "2024-05-01T10:00:00.512345Z",
        "annotations": {
            "authorization.k8s.io/decision": "allow",
            "cluster_name": "c1",  # the resource's label wins
            "location": "eu",
        },
    }


def test_gke_falco_mapping_of_exec_and_denied_calls() -> None:
    e = entry(
        proto={
            "methodName": "io.k8s.core.v1.pods.exec.create",
            "resourceName": "core/v1/namespaces/dev/pods/dbg/exec",
            "status": {"code": 7},
        }
    )
    event = falco_event(e, e["protoPayload"])
    assert (event["level"], event["stage"], event["responseStatus"]["code"]) == (
        "Request",
        "ResponseStarted",
        101,
    )
    e = entry(
        proto={
            "methodName": "io.k8s.core.v1.secrets.list",
            "resourceName": "core/v1/secrets",
            "status": {"code": 7},
        }
    )
    event = falco_event(e, e["protoPayload"])
    assert event["responseStatus"]["code"] == 200  # the plugin ignores the status
    assert "objectRef" not in event  # nor does it read a collection


def test_gke_faithful_mapping() -> None:
    e = entry(
        operation={"id": "op-1", "first": False, "last": True},
        proto={
            "methodName": "io.k8s.core.v1.secrets.list",
            "resourceName": "core/v1/secrets",
            "status": {"code": 7, "message": "forbidden"},
        },
    )
    event = faithful_event(e, e["protoPayload"])
    assert event["auditID"] == "op-1"
    assert event["requestURI"] == "/api/v1/secrets"
    assert event["objectRef"] == {"resource": "secrets", "apiVersion": "v1"}
    assert event["responseStatus"] == {
        "metadata": {},
        "status": "Failure",
        "message": "forbidden",
        "code": 403,
    }
    assert (
        event["stageTimestamp"] == event["requestReceivedTimestamp"] == "2024-05-01T10:00:00.012Z"
    )
    assert event["requestObject"] == {"kind": "Pod"}
    assert event["level"] == "Request"
    first = entry(
        operation={"id": "op-2", "first": True, "last": False},
        proto={"resourceName": "core/v1/namespaces/dev/pods/dbg/exec"},
    )
    event = faithful_event(first, first["protoPayload"])
    assert (event["stage"], event["responseStatus"]["code"]) == ("ResponseStarted", 101)


@pytest.mark.parametrize(
    ("name", "ref", "path"),
    [
        (
            "core/v1/namespaces/dev/pods",
            {"resource": "pods", "namespace": "dev", "apiGroup": "core", "apiVersion": "v1"},
            "/api/v1/namespaces/dev/pods",
        ),
        (
            "rbac.authorization.k8s.io/v1/clusterrolebindings/b",
            {
                "resource": "clusterrolebindings",
                "name": "b",
                "apiGroup": "rbac.authorization.k8s.io",
                "apiVersion": "v1",
            },
            "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/b",
        ),
        (
            "core/v1/nodes/n1/status",
            {
                "resource": "nodes",
                "name": "n1",
                "subresource": "status",
                "apiGroup": "core",
                "apiVersion": "v1",
            },
            "/api/v1/nodes/n1/status",
        ),
        (
            "core/v1/namespaces/dev",
            {"resource": "namespaces", "name": "dev", "apiGroup": "core", "apiVersion": "v1"},
            "/api/v1/namespaces/dev",
        ),
        (
            "authorization.k8s.io/v1/selfsubjectrulesreviews",
            None,
            "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
        ),
        ("version", None, "/version"),
    ],
)
def test_gke_resource_names(name: str, ref: dict[str, str] | None, path: str) -> None:
    assert object_ref(name) == ref
    assert api_path(name) == path


def test_gke_entries_that_are_no_k8s_audit_log_are_counted_quietly(tmp_path: Path) -> None:
    other = entry(proto={"serviceName": "container.googleapis.com"})
    logs = entry(logName="projects/p/logs/stdout")
    events, problems, warnings = read(tmp_path, lines(entry(), other, logs))
    assert [e.raw["auditID"] for e in events] == ["ins-1"]
    assert problems.counts == {"gke_not_k8s_audit": 2} and warnings == []
    events, _, _ = read(tmp_path, lines(entry()), gke_faithful=True)
    assert [e.raw["auditID"] for e in events] == ["op-1"]


# ---------------------------------------------------------------- AKS


def record(log: str, category: str = "kube-audit") -> dict[str, Any]:
    return {
        "time": "2024-05-01T10:00:00.0123450Z",
        "resourceId": "/SUBSCRIPTIONS/X/MANAGEDCLUSTERS/AKS1",
        "category": category,
        "operationName": "Microsoft.ContainerService/managedClusters/diagnosticLogs/Read",
        "properties": {"log": log, "stream": "stdout", "pod": "kube-apiserver-1"},
    }


def test_aks_storage_lines_and_event_hub_bodies(tmp_path: Path) -> None:
    escaped = orjson.dumps(record(MESSAGE)).replace(b"/", b"\\/")  # as Azure writes it
    klog = record('I0501 10:00:00.1 1 httplog.go:132] "HTTP"', "kube-apiserver")
    admin = record(MESSAGE, "kube-audit-admin")
    body = escaped + b"\n" + lines(klog, {"records": [admin, klog, admin]})
    events, problems, warnings = read(tmp_path, body)
    assert [(e.line, e.index) for e in events] == [(1, 0), (3, 0), (3, 2)]
    assert all(e.raw == EVENT for e in events)
    assert problems.counts == {"aks_other_category": 2} and warnings == []


def test_aks_cut_log_counted_or_salvaged(tmp_path: Path) -> None:
    cut = MESSAGE[: MESSAGE.index('"requestObject"') + 40]
    events, problems, _ = read(tmp_path, lines(record(cut)))
    assert events == [] and problems.counts == {"truncated_aks": 1}
    events, problems, _ = read(tmp_path, lines(record(cut)), salvage_truncated=True)
    assert problems.counts == {"salvaged_aks": 1}
    (event,) = events
    assert event.raw["stageTimestamp"] == "2024-05-01T10:00:00.0123450Z"  # the record's time
    assert "requestObject" not in event.raw and event.raw["verb"] == "create"
    note = event.raw["annotations"][TRUNCATED_ANNOTATION]
    assert note.startswith(f"aks: properties.log cut at {len(cut)} bytes; kept: kind, apiVersion")


def test_aks_log_that_is_not_json(tmp_path: Path) -> None:
    events, problems, _ = read(tmp_path, lines(record("not json at all")))
    assert events == [] and problems.counts == {"invalid_json": 1}


# ---------------------------------------------------------------- mixing, modes, salvage


def test_formats_mix_per_record(tmp_path: Path) -> None:
    body = lines(EVENT, cw(MESSAGE), entry(), record(MESSAGE), {"kind": "Other"})
    events, problems, _ = read(tmp_path, body)
    assert [(e.line, e.index) for e in events] == [(1, None), (2, 0), (3, 0), (4, 0)]
    assert problems.counts == {"not_audit_event": 1}
    assert read_as(problems, str(tmp_path / "export")) == ("eks-cloudwatch/lines", 4)


@pytest.mark.parametrize(
    ("mode", "read_lines"),
    [("auto", [1, 2, 3, 4]), ("eks", [1, 2]), ("gke", [1, 3]), ("aks", [1, 4]), ("k8s", [1])],
)
def test_input_format_limits_the_providers(
    tmp_path: Path, mode: str, read_lines: list[int]
) -> None:
    body = lines(EVENT, cw(MESSAGE), entry(), record(MESSAGE))
    events, _, _ = read(tmp_path, body, input_format=mode)
    assert [e.line for e in events] == read_lines


def test_salvage_keeps_only_whole_members() -> None:
    text = MESSAGE[: MESSAGE.index('"userAgent"') + 5]
    event = salvage(text, 1714557600000000000, "eks: test")
    assert event is not None
    assert list(event) == [*list(EVENT)[:9], "stageTimestamp", "annotations"]
    assert salvage('{"kind":"Event","verb', None, "x") is None
    assert salvage('{"kind":"Other","verb":"get",', None, "x") is None


# ---------------------------------------------------------------- --jobs


def test_jobs_split_export_lines_and_keep_documents_whole(tmp_path: Path) -> None:
    export = tmp_path / "export.txt"
    line = f"2024-05-01T10:00:00.012Z {MESSAGE}\n".encode()
    export.write_bytes(line * (9 * (1 << 20) // len(line)))
    doc = tmp_path / "doc.json"
    doc.write_bytes(json.dumps([EVENT] * 12000, indent=2).encode())
    assert doc.stat().st_size > 2 * parallel_run.MIN_CHUNK
    chunks = parallel_run.plan_chunks([str(export), str(doc)], 2, input_format="auto")
    assert {c.framing for c in chunks if c.path == str(export)} == {"prefixed"}
    assert len([c for c in chunks if c.path == str(export)]) > 1
    assert [(c.start, c.end) for c in chunks if c.path == str(doc)] == [(0, None)]
    assert len(parallel_run.plan_chunks([str(doc)], 2)) > 1  # k8s: lines, as always
