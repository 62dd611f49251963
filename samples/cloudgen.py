"""The attack story as the managed clouds export it: EKS, GKE and AKS shapes (stdlib + orjson).

Used by ``generate.py`` for ``samples/exports/``. Every EKS and AKS shape
carries each event's JSON line byte for byte (that is what those clouds
keep), so a scan gives exactly the alerts of ``attack-story.jsonl``. GKE
keeps no event, only a Cloud Logging entry built from it; the entries here
are built the way GKE builds them (see samples/README.md for the choices
where GKE's own behaviour is not documented).
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import gzip
import hashlib
import io
import json
import random
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

Event = dict[str, Any]

CLUSTER = "shop-prod"
AWS_ACCOUNT = "123456789012"
LOG_GROUP = f"/aws/eks/{CLUSTER}/cluster"
STREAMS = (
    "kube-apiserver-audit-6b1c2d3e4f5a69788796a5b4c3d2e1f0",
    "kube-apiserver-audit-0f1e2d3c4b5a69788796a5b4c3d2e1f6",
)
GCP_PROJECT = "shop-prod-4711"
GCP_LOCATION = "europe-west1"
AZURE_ID = (
    "/SUBSCRIPTIONS/0B5F3C2A-9D4E-4F6A-8B7C-1D2E3F4A5B6C/RESOURCEGROUPS/SHOP-PROD"
    "/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/SHOP-PROD"
)
AKS_OPERATION = "Microsoft.ContainerService/managedClusters/diagnosticLogs/Read"
AKS_POD = "kube-apiserver-7c9d8b6f5-x2k4p"
TRUNCATED = "[Truncated...]"
#: CloudWatch Logs' entry limit and the per-entry overhead it counts against it.
CLOUDWATCH_LIMIT = 262144 - 26
#: Where AKS storage exports cut properties.log (Azure/AKS#4635).
AKS_CUT = 16384


def stamp(event: Event) -> dt.datetime:
    return dt.datetime.fromisoformat(event["stageTimestamp"].replace("Z", "+00:00"))


def epoch_ms(t: dt.datetime) -> int:
    return int(t.timestamp() * 1000)


def iso_ms(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def stream_of(event: Event) -> str:
    """Which of the two API servers logged the request (by its auditID)."""
    return STREAMS[int(event["auditID"][-1], 16) % 2]


def digest(*parts: str, n: int = 16) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:n]


def pretty(value: Any, indent: int, sort_keys: bool = False) -> bytes:
    """JSON as the AWS CLI and gcloud print it (Python's json, non-ASCII kept)."""
    text = json.dumps(value, indent=indent, ensure_ascii=False, sort_keys=sort_keys)
    return text.encode() + b"\n"


def gz(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as f:
        f.write(data)
    return buf.getvalue()


# ---------------------------------------------------------------- EKS


def cloudwatch_event(event: Event, message: str, n: int) -> dict[str, Any]:
    t = stamp(event)
    return {
        "logStreamName": stream_of(event),
        "timestamp": epoch_ms(t),
        "message": message,
        "ingestionTime": epoch_ms(t) + 400 + n % 900,
        "eventId": str(37_000_000_000_000 + epoch_ms(t) * 1000 + n).ljust(56, "0"),
    }


def filter_log_events(events: list[Event], messages: list[str]) -> bytes:
    """``aws logs filter-log-events --log-group-name ... --output json`` (pages merged)."""
    doc = {
        "events": [
            cloudwatch_event(e, m, n) for n, (e, m) in enumerate(zip(events, messages, strict=True))
        ],
        "searchedLogStreams": [
            {"logStreamName": s, "searchedCompletely": True} for s in sorted(STREAMS)
        ],
    }
    return pretty(doc, 4)


def s3_export(events: list[Event], messages: list[str]) -> bytes:
    """A CloudWatch export object: ``<time> <message>`` lines, gzip, not quite in time
    order (adjacent events swapped here and there, as AWS warns)."""
    lines = [f"{iso_ms(stamp(e))} {m}\n" for e, m in zip(events, messages, strict=True)]
    rng = random.Random(15)
    for i in range(0, len(lines) - 1, 2):
        if rng.random() < 0.15:
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
    return gz("".join(lines).encode())


def subscription_records(pairs: Iterable[tuple[Event, str]]) -> Iterator[dict[str, Any]]:
    """What a subscription filter delivers: a CONTROL_MESSAGE when it is created, then
    DATA_MESSAGEs, each of up to 40 events of one log stream (so the streams' records
    interleave, and events are not quite in time order across records)."""
    batches: dict[str, list[dict[str, Any]]] = {s: [] for s in STREAMS}
    control = True
    for n, (event, message) in enumerate(pairs):
        t = epoch_ms(stamp(event))
        if control:
            yield _control_message(t)
            control = False
        stream = stream_of(event)
        batches[stream].append(
            {"id": f"{t:d}{n:06d}".ljust(56, "0"), "timestamp": t, "message": message}
        )
        if len(batches[stream]) == 40:
            yield _data_message(stream, batches[stream])
            batches[stream] = []
    for stream, batch in batches.items():
        if batch:
            yield _data_message(stream, batch)


def _control_message(t: int) -> dict[str, Any]:
    return {
        "messageType": "CONTROL_MESSAGE",
        "owner": "CloudwatchLogs",
        "logGroup": "",
        "logStream": "",
        "subscriptionFilters": [],
        "logEvents": [
            {
                "id": "",
                "timestamp": t,
                "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose.",
            }
        ],
    }


def _data_message(stream: str, batch: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "messageType": "DATA_MESSAGE",
        "owner": AWS_ACCOUNT,
        "logGroup": LOG_GROUP,
        "logStream": stream,
        "subscriptionFilters": ["k8saudit-to-s3"],
        "logEvents": batch,
    }


def firehose_object(records: list[dict[str, Any]]) -> bytes:
    """A Firehose S3 object: each record gzip-compressed by CloudWatch, written one after
    another with no separator (so: concatenated gzip members of JSON without newlines)."""
    return b"".join(gz(orjson.dumps(r)) for r in records)


def lambda_events(records: list[dict[str, Any]]) -> bytes:
    """Subscription records as a Lambda receives them, one event per line:
    ``{"awslogs": {"data": base64(gzip(record))}}``."""
    out = []
    for r in records:
        data = base64.b64encode(gz(orjson.dumps(r))).decode()
        out.append(orjson.dumps({"awslogs": {"data": data}}) + b"\n")
    return b"".join(out)


def insights_json(events: list[Event], messages: list[str]) -> bytes:
    """``aws logs get-query-results`` of ``fields @timestamp, @message | sort @timestamp asc``."""
    rows = []
    for n, (event, message) in enumerate(zip(events, messages, strict=True)):
        when = iso_ms(stamp(event)).replace("T", " ").rstrip("Z")
        rows.append(
            [
                {"field": "@timestamp", "value": when},
                {"field": "@message", "value": message},
                {"field": "@ptr", "value": base64.b64encode(digest(str(n)).encode()).decode()},
            ]
        )
    size = sum(len(m) for m in messages)
    doc = {
        "results": rows,
        "statistics": {
            "recordsMatched": float(len(rows)),
            "recordsScanned": float(len(rows)),
            "bytesScanned": float(size),
        },
        "status": "Complete",
    }
    return pretty(doc, 4)


def insights_csv(events: list[Event], messages: list[str]) -> bytes:
    """The console's "Export results: Download table (CSV)" of the same query."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["@timestamp", "@message"])
    for event, message in zip(events, messages, strict=True):
        writer.writerow([iso_ms(stamp(event)).replace("T", " ").rstrip("Z"), message])
    return buf.getvalue().encode()


def cut_cloudwatch(message: str) -> str:
    """A message past CloudWatch's limit, as CloudWatch keeps it."""
    data = message.encode()
    keep = CLOUDWATCH_LIMIT - len(TRUNCATED)
    return data[:keep].decode("utf-8", "ignore") + TRUNCATED


# ---------------------------------------------------------------- GKE

#: HTTP status -> google.rpc code, as Cloud Audit Logs records a failed call.
HTTP_TO_RPC = {400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 422: 3, 429: 8, 500: 13, 503: 14}
WRITES = frozenset({"create", "update", "patch", "delete", "deletecollection"})


def gke_entries(events: list[Event]) -> list[dict[str, Any]]:
    """One LogEntry per logged stage after RequestReceived (GKE logs no RequestReceived):
    a request with a ResponseStarted stage has two entries, ``operation.first`` on the
    first and ``operation.last`` on the second."""
    started = {e["auditID"] for e in events if e["stage"] == "ResponseStarted"}
    entries = []
    for e in events:
        if e["stage"] == "RequestReceived":
            continue
        first = e["stage"] == "ResponseStarted" or e["auditID"] not in started
        last = e["stage"] != "ResponseStarted"
        entries.append(gke_entry(e, first, last))
    return entries


def gke_entry(e: Event, first: bool, last: bool) -> dict[str, Any]:
    verb = e["verb"]
    ref = e.get("objectRef")
    resource_name = _resource_name(e, ref)
    method = _method_name(verb, ref)
    t = stamp(e)
    received = t + dt.timedelta(milliseconds=400 + int(digest(e["auditID"], n=4), 16) % 1200)
    proto: dict[str, Any] = {
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "authenticationInfo": {"principalEmail": e["user"]["username"]},
        "authorizationInfo": [
            {
                "granted": e.get("annotations", {}).get("authorization.k8s.io/decision") == "allow",
                "permission": method.rsplit(".", 1)[0] + "." + verb,
                "resource": resource_name,
            }
        ],
        "methodName": method,
        "requestMetadata": {
            "callerIp": e["sourceIPs"][0],
            "callerSuppliedUserAgent": e.get("userAgent", ""),
        },
        "resourceName": resource_name,
        "serviceName": "k8s.io",
        "status": _rpc_status(e),
    }
    if "requestObject" in e:
        proto["request"] = _typed(e["requestObject"], ref)
    if "responseObject" in e:
        proto["response"] = _typed(e["responseObject"], ref)
    log = "activity" if verb in WRITES else "data_access"
    return {
        "insertId": digest(e["auditID"], e["stage"], n=20),
        "labels": dict(e.get("annotations", {})),
        "logName": f"projects/{GCP_PROJECT}/logs/cloudaudit.googleapis.com%2F{log}",
        "operation": {"first": first, "id": e["auditID"], "last": last, "producer": "k8s.io"},
        "protoPayload": proto,
        "receiveTimestamp": received.strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z",
        "resource": {
            "labels": {
                "cluster_name": CLUSTER,
                "location": GCP_LOCATION,
                "project_id": GCP_PROJECT,
            },
            "type": "k8s_cluster",
        },
        "severity": "NOTICE" if log == "activity" else "INFO",
        "timestamp": e["stageTimestamp"],
    }


def gke_other_entry(t: str) -> dict[str, Any]:
    """An entry of another service in the same export (GKE's own API): not a k8s audit log."""
    return {
        "insertId": digest("container", t, n=12),
        "logName": f"projects/{GCP_PROJECT}/logs/cloudaudit.googleapis.com%2Factivity",
        "operation": {"first": True, "id": "operation-1773624000123-6a1b2c3d", "producer": "x"},
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "authenticationInfo": {"principalEmail": "alice@example.com"},
            "methodName": "google.container.v1.ClusterManager.SetNodePoolSize",
            "resourceName": f"projects/{GCP_PROJECT}/locations/{GCP_LOCATION}/clusters/{CLUSTER}",
            "serviceName": "container.googleapis.com",
        },
        "receiveTimestamp": t,
        "resource": {"labels": {"cluster_name": CLUSTER}, "type": "gke_cluster"},
        "severity": "NOTICE",
        "timestamp": t,
    }


def _group(ref: dict[str, Any] | None) -> str:
    return (ref or {}).get("apiGroup") or "core"


def _resource_name(e: Event, ref: dict[str, Any] | None) -> str:
    if ref is None:  # a non-resource URL: its path
        return e["requestURI"].split("?")[0].lstrip("/")
    parts = [_group(ref), ref.get("apiVersion", "v1")]
    if ref.get("namespace"):
        parts += ["namespaces", ref["namespace"]]
    parts.append(ref["resource"])
    if ref.get("name"):
        parts.append(ref["name"])
    if ref.get("subresource"):
        parts.append(ref["subresource"])
    return "/".join(parts)


def _method_name(verb: str, ref: dict[str, Any] | None) -> str:
    if ref is None:
        return f"io.k8s.{verb}"
    group = _group(ref).removesuffix(".k8s.io")
    parts = ["io", "k8s", *reversed(group.split(".")), ref.get("apiVersion", "v1")]
    parts.append(ref["resource"])
    if ref.get("subresource"):
        parts.append(ref["subresource"])
    return ".".join([*parts, verb])


def _rpc_status(e: Event) -> dict[str, Any]:
    status = e.get("responseStatus") or {}
    code = status.get("code", 200)
    if code < 400:
        return {}
    out: dict[str, Any] = {"code": HTTP_TO_RPC.get(code, 2)}
    if status.get("message"):
        out["message"] = status["message"]
    return out


def _typed(obj: Any, ref: dict[str, Any] | None) -> Any:
    """A body with the ``@type`` Cloud Logging gives it (``core.k8s.io/v1.Pod``)."""
    if not isinstance(obj, dict) or "kind" not in obj:
        return obj
    group = _group(ref)
    domain = group if "." in group else f"{group}.k8s.io"
    version = obj.get("apiVersion", "v1").rsplit("/", 1)[-1]
    return {"@type": f"{domain}/{version}.{obj['kind']}", **obj}


def gcloud_read(entries: list[dict[str, Any]]) -> bytes:
    """``gcloud logging read '...' --order=asc --format=json``: an indented array, keys sorted."""
    return pretty(entries, 2, sort_keys=True)


def sink_jsonl(entries: list[dict[str, Any]]) -> bytes:
    """A Log Router sink's hourly file in Cloud Storage: one entry per line."""
    return b"".join(orjson.dumps(e) + b"\n" for e in entries)


# ---------------------------------------------------------------- AKS


def azure_time(event: Event) -> str:
    """``2026-03-16T01:00:14.9862420Z``: seven fractional digits, as Azure writes them."""
    return event["stageTimestamp"].replace("Z", "0Z")


def aks_record(event: Event, log: str, category: str = "kube-audit") -> dict[str, Any]:
    return {
        "time": azure_time(event),
        "resourceId": AZURE_ID,
        "category": category,
        "operationName": AKS_OPERATION,
        "properties": {
            "log": log,
            "stream": "stdout",
            "pod": AKS_POD,
            "containerID": digest(AKS_POD, n=64),
        },
    }


def aks_noise(event: Event, n: int) -> dict[str, Any]:
    """A record of another category in the same export: the API server's klog text."""
    when = stamp(event).strftime("%m%d %H:%M:%S.%f")
    text = f'I{when}       1 httplog.go:132] "HTTP" verb="GET" URI="/livez" latency="{n}ms"'
    return aks_record(event, text, "kube-apiserver")


def azure_json(value: Any) -> bytes:
    """JSON as Azure Monitor writes it, with ``/`` escaped as ``\\/``."""
    return orjson.dumps(value).replace(b"/", b"\\/")


def aks_storage(events: list[Event], messages: list[str]) -> bytes:
    """A ``PT1H.json`` blob: one record per line, other categories mixed in."""
    out = []
    for n, (event, message) in enumerate(zip(events, messages, strict=True)):
        if n % 50 == 25:
            out.append(azure_json(aks_noise(event, n)) + b"\n")
        out.append(azure_json(aks_record(event, message)) + b"\n")
    return b"".join(out)


def aks_eventhub(events: list[Event], messages: list[str]) -> bytes:
    """Event Hub message bodies ``{"records": [...]}`` of up to 30 records, one per line
    (as a consumer that saves each body writes them), other categories mixed in."""
    out = []
    records: list[dict[str, Any]] = []
    for n, (event, message) in enumerate(zip(events, messages, strict=True)):
        if n % 40 == 13:
            records.append(aks_noise(event, n))
        records.append(aks_record(event, message))
        if len(records) >= 30:
            out.append(azure_json({"records": records}) + b"\n")
            records = []
    if records:
        out.append(azure_json({"records": records}) + b"\n")
    return b"".join(out)


# ---------------------------------------------------------------- truncation


def bloated(event: Event, size: int) -> Event:
    """The event with a pod object whose managedFields history makes it about ``size``
    bytes long, as a long-lived object's response can be."""
    big = json.loads(json.dumps(event))
    response = big.setdefault("responseObject", {"kind": "Pod", "metadata": {}})
    fields = response.setdefault("metadata", {}).setdefault("managedFields", [])
    n = 0
    while len(orjson.dumps(big)) < size:
        fields.append(
            {
                "manager": f"kubectl-client-side-apply-{n:05d}",
                "operation": "Update",
                "apiVersion": "v1",
                "time": big["stageTimestamp"][:19] + "Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:labels": {f"f:revision-{n:05d}": {}}}},
            }
        )
        n += 1
    return big
