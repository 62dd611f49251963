"""GKE Cloud Logging entries (LogEntry with an AuditLog ``protoPayload``) -> audit events.

GKE does not keep the API server's event: Cloud Logging stores an AuditLog,
from which an event is rebuilt. By default the rebuilt event is the one
Falco's k8saudit-gke plugin makes (``convert.go``), so rules written for
that plugin see the same fields:

* ``auditID`` is the entry's ``insertId``; ``verb`` the last dot-part of
  ``methodName``; ``objectRef`` parsed from ``resourceName`` (the core group
  is spelled ``core``); ``requestURI`` is ``/`` + ``resourceName``;
* ``user.username`` is ``principalEmail`` (no groups); ``sourceIPs`` the
  ``callerIp``; ``userAgent`` the ``callerSuppliedUserAgent``;
* ``responseStatus`` is inferred: 201 for ``create``, else 200; ``exec`` and
  ``attach`` are level Request, stage ResponseStarted, code 101; everything
  else RequestResponse/ResponseComplete;
* both timestamps are ``receiveTimestamp``; annotations are the entry's
  ``labels`` plus ``resource.labels`` (``cluster_name`` and the rest).

``--gke-faithful`` keeps what the entry knows instead: ``operation.id`` (the
real auditID), ``timestamp``, the status code (``protoPayload.status``,
google.rpc codes mapped to HTTP), the stage from ``operation.first/last``,
the level from which bodies are present, the core group as an empty group
and ``requestURI`` as the API path (``/api/v1/...``, no query string).
Entries that are not Kubernetes audit logs are counted and skipped, as the
plugin drops them.
"""

from __future__ import annotations

import re
from typing import Any, Final

from k8saudit_cli.formats.items import Item, Payload, Skip
from k8saudit_cli.timestamps import parse_time_ns, utc_iso

AUDIT_LOG_TYPE: Final = "type.googleapis.com/google.cloud.audit.AuditLog"
AUDIT_LOG_NAMES: Final = (
    "cloudaudit.googleapis.com%2Factivity",
    "cloudaudit.googleapis.com%2Fdata_access",
)
_STREAMING: Final = frozenset({"exec", "attach"})
_HEAD_KEYS: Final = ("level", "auditID", "stage", "requestURI", "verb")
_VERSION: Final = re.compile(r"v\d+(?:(?:alpha|beta)\d+)?$")

#: google.rpc.Code -> the HTTP status the API server answered with.
RPC_TO_HTTP: Final = {
    0: 200, 1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403,
    8: 429, 9: 400, 10: 409, 11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401,
}  # fmt: skip


def logentry(entry: dict[str, Any], faithful: bool = False) -> list[Item]:
    """One LogEntry: its rebuilt event, or why it holds none."""
    why = not_k8s_audit(entry)
    if why:
        return [Skip("gke_not_k8s_audit", f"{why} (insertId {entry.get('insertId', '?')})")]
    build = faithful_event if faithful else falco_event
    return [Payload("gke", event=build(entry, entry["protoPayload"]))]


def not_k8s_audit(entry: dict[str, Any]) -> str:
    """Why an entry is not a Kubernetes audit log (empty when it is one), as the plugin
    checks: an audit log name, a ``k8s_cluster`` resource, an AuditLog from ``k8s.io``."""
    name = entry.get("logName")
    if not isinstance(name, str) or not name.endswith(AUDIT_LOG_NAMES):
        return f"log {name!r} is not an audit log"
    resource = entry.get("resource")
    kind = resource.get("type") if isinstance(resource, dict) else None
    if kind != "k8s_cluster":
        return f"resource type {kind!r} is not k8s_cluster"
    proto = entry.get("protoPayload")
    if not isinstance(proto, dict) or proto.get("@type") != AUDIT_LOG_TYPE:
        return "no AuditLog protoPayload"
    if proto.get("serviceName") != "k8s.io":
        return f"service {proto.get('serviceName')!r} is not k8s.io"
    return ""


def falco_event(entry: dict[str, Any], proto: dict[str, Any]) -> dict[str, Any]:
    """The event Falco's k8saudit-gke plugin makes of an entry (see the module text)."""
    verb = _verb(proto)
    resource_name = _text(proto.get("resourceName"))
    ref = object_ref(resource_name)
    if ref is not None and ref.get("subresource") in _STREAMING:
        level, stage = "Request", "ResponseStarted"
        status = _inferred(101, "Switching Protocols (inferred)")
    else:
        level, stage = "RequestResponse", "ResponseComplete"
        status = _inferred(201, "Created (inferred)") if verb == "create" else _inferred(200)
    head = (level, _text(entry.get("insertId")), stage, "/" + resource_name, verb)
    time = micro_time(entry.get("receiveTimestamp"))
    return _event(entry, proto, head, (ref, status, proto.get("request"), time))


def faithful_event(entry: dict[str, Any], proto: dict[str, Any]) -> dict[str, Any]:
    """The event as close to the API server's as the entry allows (``--gke-faithful``)."""
    verb = _verb(proto)
    resource_name = _text(proto.get("resourceName"))
    ref = object_ref(resource_name, faithful=True)
    streaming = ref is not None and ref.get("subresource") in _STREAMING
    stage = _stage(entry.get("operation"), streaming)
    request = proto.get("request")
    if isinstance(request, dict) and "@type" in request:
        request = {k: v for k, v in request.items() if k != "@type"}
    level = "RequestResponse" if "response" in proto else "Request" if request else "Metadata"
    operation = entry.get("operation")
    op_id = operation.get("id") if isinstance(operation, dict) else None
    audit_id = _text(op_id or entry.get("insertId"))
    head = (level, audit_id, stage, api_path(resource_name), verb)
    time = entry.get("timestamp") or entry.get("receiveTimestamp")
    status = response_status(proto, verb, streaming)
    return _event(entry, proto, head, (ref, status, request, time))


def _event(
    entry: dict[str, Any],
    proto: dict[str, Any],
    head: tuple[str, str, str, str, str],
    tail: tuple[dict[str, str] | None, dict[str, Any], Any, Any],
) -> dict[str, Any]:
    """The event, keys in the API server's order: ``head`` is (level, auditID, stage,
    requestURI, verb), ``tail`` (objectRef, responseStatus, requestObject, time)."""
    ref, status, request, time = tail
    auth = proto.get("authenticationInfo")
    email = auth.get("principalEmail") if auth.__class__ is dict else None
    meta = proto.get("requestMetadata")
    if meta.__class__ is not dict:
        meta = {}
    event: dict[str, Any] = {"kind": "Event", "apiVersion": "audit.k8s.io/v1"}
    event.update(zip(_HEAD_KEYS, head, strict=True))
    event["user"] = {"username": email} if email else {}
    event["sourceIPs"] = [_text(meta.get("callerIp"))]
    agent = meta.get("callerSuppliedUserAgent")
    if agent:
        event["userAgent"] = agent
    if ref is not None:
        event["objectRef"] = ref
    event["responseStatus"] = status
    if request is not None:
        event["requestObject"] = request
    response = proto.get("response")
    if response is not None:
        event["responseObject"] = response
    event["requestReceivedTimestamp"] = event["stageTimestamp"] = time
    annotations = annotations_of(entry)
    if annotations:
        event["annotations"] = annotations
    return event


def annotations_of(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry's ``labels`` and its resource's labels, which win on a clash."""
    out: dict[str, Any] = {}
    labels = entry.get("labels")
    if isinstance(labels, dict):
        out.update(labels)
    resource = entry.get("resource")
    resource_labels = resource.get("labels") if isinstance(resource, dict) else None
    if isinstance(resource_labels, dict):
        out.update(resource_labels)
    return out


def object_ref(resource_name: str, faithful: bool = False) -> dict[str, str] | None:
    """``resourceName`` parsed as the plugin parses it; ``faithful`` also reads a
    collection (``group/version/resource``) and spells the core group as native
    events do (no ``apiGroup``). Keys in the order the API server writes them."""
    parts = resource_name.split("/") if resource_name else []
    n = len(parts)
    if n >= 5 and parts[2] == "namespaces":  # group/version/namespaces/ns/resource[/name[/sub]]
        found = (parts[4], parts[3], parts[5] if n > 5 else "", parts[6] if n > 6 else "")
    elif n >= 4:  # group/version/resource/name[/sub]
        found = (parts[2], "", parts[3], parts[4] if n > 4 else "")
    elif n == 3 and faithful and _VERSION.match(parts[1]):
        found = (parts[2], "", "", "")
    else:
        return None
    resource, namespace, name, subresource = found
    ref: dict[str, str] = {}
    for key, value in (("resource", resource), ("namespace", namespace), ("name", name)):
        if value:
            ref[key] = value
    group = parts[0]
    if group and not (faithful and group == "core"):
        ref["apiGroup"] = group
    if parts[1]:
        ref["apiVersion"] = parts[1]
    if subresource:
        ref["subresource"] = subresource
    return ref


def api_path(resource_name: str) -> str:
    """The API path a ``resourceName`` stands for: ``core/v1/namespaces/a/pods`` ->
    ``/api/v1/namespaces/a/pods``; a non-resource name (``version``) -> ``/version``."""
    parts = resource_name.split("/")
    if len(parts) < 3 or not _VERSION.match(parts[1]):
        return "/" + resource_name
    group, version, rest = parts[0], parts[1], "/".join(parts[2:])
    prefix = f"/api/{version}" if group == "core" else f"/apis/{group}/{version}"
    return f"{prefix}/{rest}"


def response_status(proto: dict[str, Any], verb: str, streaming: bool) -> dict[str, Any]:
    """The status the entry records: a k8s ``Status`` response, ``protoPayload.status``
    (google.rpc), or success as the verb implies."""
    response = proto.get("response")
    if isinstance(response, dict) and response.get("kind") == "Status":
        code = response.get("code")
        if isinstance(code, int):
            keep = ("status", "message", "reason", "code")
            return {"metadata": {}, **{k: response[k] for k in keep if k in response}}
    status = proto.get("status")
    rpc = status.get("code") if isinstance(status, dict) else None
    if isinstance(rpc, int) and rpc != 0:
        out: dict[str, Any] = {"metadata": {}, "status": "Failure"}
        if status and status.get("message"):
            out["message"] = status["message"]
        out["code"] = RPC_TO_HTTP.get(rpc, 500)
        return out
    code = 101 if streaming else 201 if verb == "create" else 200
    return {"metadata": {}, "code": code}


def _stage(operation: Any, streaming: bool) -> str:
    """ResponseStarted for the first entry of a long-running request, ResponseComplete
    for its last; a lone entry of exec/attach is ResponseStarted, as the plugin has it."""
    if isinstance(operation, dict):
        first, last = bool(operation.get("first")), bool(operation.get("last"))
        if first != last:
            return "ResponseStarted" if first else "ResponseComplete"
    return "ResponseStarted" if streaming else "ResponseComplete"


def _verb(proto: dict[str, Any]) -> str:
    return _text(proto.get("methodName")).rsplit(".", 1)[-1]


def _inferred(code: int, text: str = "OK (inferred)") -> dict[str, Any]:
    """An inferred status; the three there are are built once and shared (events are
    read, never changed, after decoding)."""
    known = _INFERRED.get(code)
    if known is not None:
        return known
    return {"metadata": {}, "status": text, "message": text, "code": code}


_INFERRED: Final[dict[int, dict[str, Any]]] = {}
_INFERRED.update(
    (code, _inferred(code, text))
    for code, text in (
        (200, "OK (inferred)"),
        (201, "Created (inferred)"),
        (101, "Switching Protocols (inferred)"),
    )
)


def _text(value: Any) -> str:
    return value if value.__class__ is str else ""


def micro_time(text: Any) -> str | None:
    """An RFC 3339 time as Go's ``metav1.MicroTime`` writes it (6 digits, UTC)."""
    if (
        text.__class__ is str
        and len(text) >= 21
        and text[-1] == "Z"
        and text[19] == "."
        and text[20:-1].isdigit()
    ):
        return (text[:-1] + "000000")[:26] + "Z"  # UTC already: pad or cut the fraction
    ns = parse_time_ns(text)
    if ns is None:
        return None
    return utc_iso(ns)[:-4] + "Z"  # nine digits and "Z" -> six digits and "Z"
