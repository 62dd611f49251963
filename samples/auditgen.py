"""Build realistic audit.k8s.io/v1 events (standard library only).

Shared by ``samples/generate.py`` and ``rules/tests/make_fixtures.py``. One
:class:`Gen` owns a seeded random generator, so the same calls always give
the same bytes. :meth:`Gen.request` turns one API request into the events
the API server writes for it (RequestReceived, ResponseStarted for
long-running requests, ResponseComplete), with the keys in the order the
API server serialises them.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

K8S_VERSION = "v1.30.4"
K8S_COMMIT = "a51b3b7"
PLATFORM = "(linux/amd64)"
UTC = dt.timezone.utc

# generateName suffixes use this alphabet (k8s.io/apimachinery utilrand).
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

Event = dict[str, Any]


def ts(t: dt.datetime) -> str:
    """RFC 3339 with microseconds and Z, as the API server writes it."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def at(day: str, hms: str) -> dt.datetime:
    """``at("2026-03-14", "09:26:53")`` -> aware UTC datetime."""
    return dt.datetime.fromisoformat(f"{day}T{hms}+00:00")


def component_ua(binary: str, suffix: str = "") -> str:
    ua = f"{binary}/{K8S_VERSION} {PLATFORM} kubernetes/{K8S_COMMIT}"
    return f"{ua}/{suffix}" if suffix else ua


@dataclass(frozen=True)
class Actor:
    """Who sends a request, from where, with what client."""

    username: str
    groups: tuple[str, ...]
    ip: str
    ua: str | None
    uid: str | None = None
    extra: dict[str, list[str]] | None = None

    def user(self) -> dict[str, Any]:
        u: dict[str, Any] = {"username": self.username}
        if self.uid:
            u["uid"] = self.uid
        u["groups"] = list(self.groups)
        if self.extra:
            u["extra"] = self.extra
        return u

    def with_ip(self, ip: str, ua: str | None = None) -> Actor:
        return Actor(
            self.username, self.groups, ip, ua if ua is not None else self.ua, self.uid, self.extra
        )


def sa_groups(namespace: str) -> tuple[str, ...]:
    return ("system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated")


def objref(
    resource: str,
    namespace: str | None = None,
    name: str | None = None,
    *,
    group: str | None = None,
    version: str = "v1",
    subresource: str | None = None,
    uid: str | None = None,
    resource_version: str | None = None,
) -> dict[str, Any]:
    """objectRef with the API server's key order; apiGroup is omitted for core."""
    ref: dict[str, Any] = {"resource": resource}
    if namespace:
        ref["namespace"] = namespace
    if name:
        ref["name"] = name
    if uid:
        ref["uid"] = uid
    if group:
        ref["apiGroup"] = group
    ref["apiVersion"] = version
    if resource_version:
        ref["resourceVersion"] = resource_version
    if subresource:
        ref["subresource"] = subresource
    return ref


_REASON_WORD = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "AlreadyExists",
    422: "Invalid",
    500: "InternalError",
}


def failure_status(
    code: int, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    st: dict[str, Any] = {
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": _REASON_WORD.get(code, "Unknown"),
    }
    if details is not None:
        st["details"] = details
    st["code"] = code
    return st


def forbidden(
    actor: Actor,
    verb: str,
    resource: str,
    group: str = "",
    namespace: str | None = None,
    name: str | None = None,
    nonresource: str | None = None,
) -> dict[str, Any]:
    """The Status the API server returns for an RBAC denial."""
    if nonresource:
        msg = f'forbidden: User "{actor.username}" cannot {verb} path "{nonresource}"'
        return failure_status(403, msg, {})
    base_resource = resource.split("/")[0]
    what = base_resource + (f".{group}" if group else "")
    named = f' "{name}"' if name else ""
    scope = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
    msg = (
        f'{what}{named} is forbidden: User "{actor.username}" cannot {verb} resource '
        f'"{resource}" in API group "{group}"{scope}'
    )
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    details["kind"] = base_resource
    return failure_status(403, msg, details)


def rbac_reason(
    kind: str,
    binding: str,
    role_kind: str,
    role: str,
    subject_kind: str,
    subject: str,
    namespace: str | None = None,
) -> str:
    where = f' in namespace "{namespace}"' if namespace else ""
    return (
        f'RBAC: allowed by {kind} "{binding}" of {role_kind} "{role}" to '
        f'{subject_kind} "{subject}"{where}'
    )


@dataclass
class Gen:
    """Seeded source of ids, names and events."""

    seed: int
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    # ------------------------------------------------------------ ids
    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def suffix(self, n: int = 5) -> str:
        return "".join(self.rng.choice(_NAME_ALPHABET) for _ in range(n))

    def hexstr(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def rv(self) -> str:
        return str(self.rng.randint(1_200_000, 9_800_000))

    def ms(self, lo: float, hi: float) -> dt.timedelta:
        return dt.timedelta(microseconds=int(self.rng.uniform(lo, hi) * 1000))

    # ------------------------------------------------------------ events
    def request(
        self,
        t0: dt.datetime,
        actor: Actor,
        verb: str,
        uri: str,
        ref: dict[str, Any] | None = None,
        *,
        level: str = "Metadata",
        code: int = 200,
        status: dict[str, Any] | None = None,
        req: Any = None,
        resp: Any = None,
        decision: str = "allow",
        reason: str = "",
        latency: tuple[float, float] = (1.5, 25.0),
        stream_seconds: float | None = None,
        received: bool = True,
        started: bool = True,
        annotations: dict[str, str] | None = None,
        impersonated: dict[str, Any] | None = None,
        audit_id: str | None = None,
    ) -> list[Event]:
        """All stage events of one request.

        ``stream_seconds`` marks a long-running request (exec, attach,
        portforward, proxy, log, watch): a ResponseStarted event is written
        when the response starts and ResponseComplete when the stream ends.
        ``received=False`` models a policy with ``omitStages: [RequestReceived]``.
        """
        aid = audit_id or self.uid()
        t_start = t0 + self.ms(*latency)
        t_end = t_start + dt.timedelta(seconds=stream_seconds) if stream_seconds else t_start
        if status is None:
            status = {"metadata": {}, "code": code}
        ann = {"authorization.k8s.io/decision": decision, "authorization.k8s.io/reason": reason}
        if annotations:
            ann.update(annotations)

        def base(stage: str, stamp: dt.datetime) -> Event:
            e: Event = {
                "kind": "Event",
                "apiVersion": "audit.k8s.io/v1",
                "level": level,
                "auditID": aid,
                "stage": stage,
                "requestURI": uri,
                "verb": verb,
                "user": actor.user(),
            }
            if impersonated:
                e["impersonatedUser"] = impersonated
            e["sourceIPs"] = [actor.ip]
            if actor.ua is not None:
                e["userAgent"] = actor.ua
            if ref is not None:
                e["objectRef"] = ref
            return e

        out: list[Event] = []
        if received:
            e = base("RequestReceived", t0)
            e["requestReceivedTimestamp"] = ts(t0)
            e["stageTimestamp"] = ts(t0)
            out.append(e)
        if stream_seconds is not None and started:
            e = base("ResponseStarted", t_start)
            e["responseStatus"] = status
            e["requestReceivedTimestamp"] = ts(t0)
            e["stageTimestamp"] = ts(t_start)
            e["annotations"] = ann
            out.append(e)
        e = base("ResponseComplete", t_end)
        e["responseStatus"] = status
        if level in ("Request", "RequestResponse") and req is not None:
            e["requestObject"] = req
        if level == "RequestResponse" and resp is not None:
            e["responseObject"] = resp
        e["requestReceivedTimestamp"] = ts(t0)
        e["stageTimestamp"] = ts(t_end)
        e["annotations"] = ann
        out.append(e)
        return out

    # ------------------------------------------------------------ objects
    def pod(
        self,
        t: dt.datetime,
        *,
        namespace: str,
        containers: list[dict[str, Any]],
        name: str | None = None,
        generate_name: str | None = None,
        init_containers: list[dict[str, Any]] | None = None,
        volumes: list[dict[str, Any]] | None = None,
        labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None,
        owner: dict[str, Any] | None = None,
        service_account: str = "default",
        node: str | None = None,
        host_network: bool = False,
        host_pid: bool = False,
        host_ipc: bool = False,
        pod_security_context: dict[str, Any] | None = None,
        priority_class: str | None = None,
        restart_policy: str = "Always",
    ) -> tuple[dict[str, Any], dict[str, Any], str]:
        """(requestObject, responseObject, pod name) of a pod create."""
        final = name or f"{generate_name}{self.suffix()}"
        meta: dict[str, Any] = {}
        if name:
            meta["name"] = name
        if generate_name:
            meta["generateName"] = generate_name
        meta["namespace"] = namespace
        meta["creationTimestamp"] = None
        if labels:
            meta["labels"] = labels
        if annotations:
            meta["annotations"] = annotations
        if owner:
            meta["ownerReferences"] = [owner]
        spec: dict[str, Any] = {}
        if volumes:
            spec["volumes"] = volumes
        if init_containers:
            spec["initContainers"] = init_containers
        spec["containers"] = containers
        spec["restartPolicy"] = restart_policy
        spec["terminationGracePeriodSeconds"] = 30
        spec["dnsPolicy"] = "ClusterFirstWithHostNet" if host_network else "ClusterFirst"
        spec["serviceAccountName"] = service_account
        if node:
            spec["nodeName"] = node
        if host_network:
            spec["hostNetwork"] = True
        if host_pid:
            spec["hostPID"] = True
        if host_ipc:
            spec["hostIPC"] = True
        spec["securityContext"] = pod_security_context or {}
        spec["schedulerName"] = "default-scheduler"
        if priority_class:
            spec["priorityClassName"] = priority_class
        spec["enableServiceLinks"] = True
        req = {"kind": "Pod", "apiVersion": "v1", "metadata": meta, "spec": spec, "status": {}}

        rmeta = dict(meta)
        rmeta["name"] = final
        rmeta["uid"] = self.uid()
        rmeta["resourceVersion"] = self.rv()
        rmeta["creationTimestamp"] = t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        rspec = dict(spec)
        token_vol = {
            "name": f"kube-api-access-{self.suffix()}",
            "projected": {
                "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {
                        "configMap": {
                            "name": "kube-root-ca.crt",
                            "items": [{"key": "ca.crt", "path": "ca.crt"}],
                        }
                    },
                    {
                        "downwardAPI": {
                            "items": [
                                {
                                    "path": "namespace",
                                    "fieldRef": {
                                        "apiVersion": "v1",
                                        "fieldPath": "metadata.namespace",
                                    },
                                }
                            ]
                        }
                    },
                ],
                "defaultMode": 420,
            },
        }
        if not annotations or "kubernetes.io/config.mirror" not in annotations:
            rspec["volumes"] = [*list(spec.get("volumes", [])), token_vol]
        rspec["tolerations"] = [
            {
                "key": "node.kubernetes.io/not-ready",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            },
            {
                "key": "node.kubernetes.io/unreachable",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            },
        ]
        rspec["priority"] = (
            2000001000
            if priority_class == "system-node-critical"
            else (2000000000 if priority_class == "system-cluster-critical" else 0)
        )
        rspec["preemptionPolicy"] = "PreemptLowerPriority"
        status = {
            "phase": "Pending",
            "qosClass": "BestEffort"
            if not any(c.get("resources") for c in containers)
            else "Burstable",
        }
        resp = {
            "kind": "Pod",
            "apiVersion": "v1",
            "metadata": rmeta,
            "spec": rspec,
            "status": status,
        }
        return req, resp, final


def container(
    name: str,
    image: str,
    *,
    security_context: dict[str, Any] | None = None,
    ports: Iterable[int] = (),
    command: list[str] | None = None,
    args: list[str] | None = None,
    resources: dict[str, Any] | None = None,
    mounts: list[dict[str, Any]] | None = None,
    env: list[dict[str, Any]] | None = None,
    stdin: bool = False,
) -> dict[str, Any]:
    c: dict[str, Any] = {"name": name, "image": image}
    if command:
        c["command"] = command
    if args:
        c["args"] = args
    p = [{"containerPort": port, "protocol": "TCP"} for port in ports]
    if p:
        c["ports"] = p
    if env:
        c["env"] = env
    c["resources"] = resources or {}
    if mounts:
        c["volumeMounts"] = mounts
    c["terminationMessagePath"] = "/dev/termination-log"
    c["terminationMessagePolicy"] = "File"
    c["imagePullPolicy"] = "IfNotPresent"
    if security_context is not None:
        c["securityContext"] = security_context
    if stdin:
        c["stdin"] = True
        c["tty"] = True
    return c


HARDENED = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
}

SMALL = {"limits": {"memory": "256Mi"}, "requests": {"cpu": "50m", "memory": "128Mi"}}


def host_path(name: str, path: str, kind: str = "Directory") -> dict[str, Any]:
    return {"name": name, "hostPath": {"path": path, "type": kind}}


def mount(name: str, path: str, read_only: bool = False) -> dict[str, Any]:
    m: dict[str, Any] = {"name": name, "mountPath": path}
    if read_only:
        m["readOnly"] = True
    return m


def owner_ref(kind: str, name: str, uid: str, api_version: str = "apps/v1") -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": name,
        "uid": uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def sort_events(events: Iterable[Event]) -> list[Event]:
    """Order events as the log backend writes them: by stage timestamp."""
    order = {"RequestReceived": 0, "ResponseStarted": 1, "ResponseComplete": 2, "Panic": 3}
    return sorted(events, key=lambda e: (e["stageTimestamp"], order[e["stage"]], e["auditID"]))
