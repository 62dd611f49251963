"""Shared pieces of the catalogue-coverage fixtures (workloads, defence, access themes).

Imported by the ``themes_*.py`` modules that ``make_fixtures.py`` runs; it
reuses that script's actors and :class:`Theme`. Workload objects and patches
are built here with the API server's URI, objectRef and body shapes:

* a create or update carries the whole object;
* a patch carries the body the client sent: a JSON patch is a list of
  operations, a merge or strategic-merge patch an object shaped like the
  resource, a server-side apply the whole object with apiVersion and kind.
"""

from __future__ import annotations

from typing import Any

import make_fixtures as mf
from auditgen import HARDENED, Actor, component_ua, container, objref, sa_groups, ts

Event = dict[str, Any]

# ------------------------------------------------------------------ rule names
R_TPL_PRIV = "Privileged Container In Workload Template Or Patch"
R_TPL_MOUNT = "Sensitive HostPath In Workload Template Or Patch"
R_TPL_HOSTNS = "Host Namespace In Workload Template Or Patch"
R_TPL_CAPS = "Dangerous Capabilities In Workload Template Or Patch"
R_ADDED = "Container Added To Workload By Patch"
R_REGISTRY = "Workload Image From Unapproved Registry"
R_RAWIP = "Image From Raw IP Registry"
R_KUBENS_WL = "Workload Created In Kube Namespace"
R_DS = "DaemonSet Created By User"
R_STATIC = "Unexpected Static Pod"
R_MASQ = "Pod Masquerading As System Component"
R_INTERACTIVE = "Interactive Pod Created"
R_MINER = "Crypto Miner Or Proxyware In Pod Spec"
R_SSH = "SSH Port In Pod Spec"
R_NODE_AGENT = "Node Agent Pod With Host Access"
R_SECTOOL_SCALE = "Security Tool Scaled Down Or Unscheduled"
R_NETPOL = "NetworkPolicy Deleted"
R_POLICY_DEL = "Security Policy Deleted"
R_DNS_CFG = "CoreDNS Configuration Changed"
R_DNS_SCALE = "CoreDNS Scaled Down Or Deleted"
R_PV_DEL = "Persistent Volume Deleted By User"
R_BACKUP_DEL = "Volume Snapshot Or Backup Deleted"
R_EXPOSE = "Sensitive Interface Exposed"
R_WEBHOOK_INFO = "Admission Webhook Maintained By Known Controller"
R_APISVC_INFO = "Known APIService Maintenance"
R_SA_OUTSIDE = "Service Account Token Used From Outside The Cluster"
R_LISTED_NET = "API Request From Listed Network"
R_AUTH_FAIL = "K8s API Authentication Failed"
R_TOKEN_EXEC = "Service Account Token Read Through Exec"
R_RBAC_ENUM = "RBAC Enumerated By Service Account"
R_ADMIN_PATCH = "Subject Added To Admin Binding By Patch"
R_BIND_PATCH = "Binding Subjects Changed By Patch"
R_ROLE_JSON = "Role Rules Changed By JSON Patch"
R_IMP_CHECK = "Impersonated Permission Check"
R_METRICS_INFO = "Kubelet Metrics Read Through Node Proxy"

# ------------------------------------------------------------------ actors
HELM_UA = "Helm/3.14.4"
KUBEADM_UA = component_ua("kubeadm")
ATTACKER_IP = "198.51.100.77"
SUPER_ADMIN = Actor(
    "kubernetes-super-admin", ("system:masters", "system:authenticated"), "10.0.0.10", KUBEADM_UA
)


def service_account(ns: str, name: str, ip: str, ua: str) -> Actor:
    return Actor(f"system:serviceaccount:{ns}:{name}", sa_groups(ns), ip, ua)


# ------------------------------------------------------------------ workloads
#: kind -> (resource, API group, API version)
KINDS: dict[str, tuple[str, str, str]] = {
    "Deployment": ("deployments", "apps", "v1"),
    "DaemonSet": ("daemonsets", "apps", "v1"),
    "StatefulSet": ("statefulsets", "apps", "v1"),
    "ReplicaSet": ("replicasets", "apps", "v1"),
    "Job": ("jobs", "batch", "v1"),
    "CronJob": ("cronjobs", "batch", "v1"),
    "Pod": ("pods", "", "v1"),
}


def base_path(kind: str, ns: str) -> str:
    resource, group, version = KINDS[kind]
    root = f"/apis/{group}/{version}" if group else f"/api/{version}"
    return f"{root}/namespaces/{ns}/{resource}"


def ref_for(kind: str, ns: str, name: str, subresource: str | None = None) -> dict[str, Any]:
    resource, group, version = KINDS[kind]
    return objref(resource, ns, name, group=group or None, version=version, subresource=subresource)


def pod_spec(
    containers: list[dict[str, Any]], restart: str = "Always", **extra: Any
) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if "volumes" in extra:
        spec["volumes"] = extra.pop("volumes")
    if "init_containers" in extra:
        spec["initContainers"] = extra.pop("init_containers")
    spec["containers"] = containers
    spec["restartPolicy"] = restart
    spec["terminationGracePeriodSeconds"] = 30
    spec["dnsPolicy"] = "ClusterFirst"
    spec.update(extra)
    spec["securityContext"] = spec.get("securityContext", {})
    spec["schedulerName"] = "default-scheduler"
    return spec


def workload(kind: str, name: str, ns: str, spec: dict[str, Any]) -> dict[str, Any]:
    """A whole workload object whose pod template has ``spec``."""
    _, group, version = KINDS[kind]
    labels = {"app.kubernetes.io/name": name}
    template = {"metadata": {"labels": labels}, "spec": spec}
    body: dict[str, Any] = {
        "kind": kind,
        "apiVersion": f"{group}/{version}" if group else version,
        "metadata": {"name": name, "namespace": ns, "labels": labels},
    }
    if kind == "Pod":
        body["spec"] = spec
    elif kind == "CronJob":
        job = {"template": template, "backoffLimit": 1}
        body["spec"] = {"schedule": "*/10 * * * *", "jobTemplate": {"spec": job}}
    elif kind == "Job":
        spec.setdefault("restartPolicy", "Never")
        body["spec"] = {"template": template, "backoffLimit": 1}
    else:
        sel = {"selector": {"matchLabels": labels}}
        replicas = {} if kind == "DaemonSet" else {"replicas": 1}
        body["spec"] = {**replicas, **sel, "template": template}
    return body


def stored(t: mf.Theme, body: dict[str, Any]) -> dict[str, Any]:
    """The object as the API server answers: the body plus uid and resourceVersion."""
    meta = dict(body.get("metadata", {}), uid=t.gen.uid(), resourceVersion=t.gen.rv())
    return dict(body, metadata=meta)


def write(
    t: mf.Theme,
    actor: Actor,
    verb: str,
    kind: str,
    ns: str,
    name: str,
    body: Any,
    *,
    query: str = "",
    code: int | None = None,
    subresource: str | None = None,
) -> list[Event]:
    """One create/update/patch of a workload (or pod) with its body at RequestResponse."""
    uri = base_path(kind, ns) + ("" if verb == "create" else f"/{name}")
    if subresource:
        uri += f"/{subresource}"
    if query:
        uri += f"?{query}"
    resp = stored(t, body) if isinstance(body, dict) and "kind" in body else None
    return t.req(
        actor,
        verb,
        uri,
        ref_for(kind, ns, name, subresource),
        code=code,
        level="RequestResponse",
        req=body,
        resp=resp,
    )


def create(t: mf.Theme, actor: Actor, kind: str, ns: str, name: str, spec: Any) -> list[Event]:
    return write(
        t,
        actor,
        "create",
        kind,
        ns,
        name,
        workload(kind, name, ns, spec),
        query="fieldManager=kubectl-client-side-apply&fieldValidation=Strict",
    )


def template_patch(kind: str, spec_part: dict[str, Any]) -> dict[str, Any]:
    """A merge-style patch body writing ``spec_part`` into the pod template."""
    if kind == "Pod":
        return {"spec": spec_part}
    if kind == "CronJob":
        return {"spec": {"jobTemplate": {"spec": {"template": {"spec": spec_part}}}}}
    return {"spec": {"template": {"spec": spec_part}}}


def json_op(op: str, path: str, value: Any) -> dict[str, Any]:
    return {"op": op, "path": path, "value": value}


PRIV = {"privileged": True}
NS = "shop"


def app(image: str = "registry.example.com/shop/cart:2.14.1", **kw: Any) -> dict[str, Any]:
    """The shop's hardened application container."""
    return container("cart", image, security_context=HARDENED, ports=[8080], **kw)


# ------------------------------------------------------------------ other objects
def simple(
    t: mf.Theme,
    actor: Actor,
    verb: str,
    uri: str,
    ref: dict[str, Any],
    body: Any = None,
    *,
    code: int | None = None,
) -> list[Event]:
    """A request on any object, with its body (if any) at RequestResponse."""
    level = "RequestResponse" if body is not None else "Metadata"
    resp = stored(t, body) if isinstance(body, dict) and "kind" in body else None
    return t.req(actor, verb, uri, ref, code=code, level=level, req=body, resp=resp)


def auth_failure(
    t: mf.Theme, ip: str, ua: str, verb: str, uri: str, ref: dict[str, Any] | None, methods: str
) -> list[Event]:
    """The one event the API server writes for a failed authentication.

    ``WithFailedAuthenticationAudit`` audits it at stage ResponseStarted (no
    RequestReceived, no ResponseComplete), with an empty user, no
    authorization annotations, and the methods tried as the status message.
    """
    t0 = t.tick()
    stamp = t0 + t.gen.ms(0.3, 1.5)
    message = (
        f"Authentication failed, attempted: {methods}"
        if methods
        else "Authentication failed, no credentials provided"
    )
    ev: Event = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "auditID": t.gen.uid(),
        "stage": "ResponseStarted",
        "requestURI": uri,
        "verb": verb,
        "user": {},
        "sourceIPs": [ip],
        "userAgent": ua,
    }
    if ref is not None:
        ev["objectRef"] = ref
    ev["responseStatus"] = {"metadata": {}, "message": message, "code": 401}
    ev["requestReceivedTimestamp"] = ts(t0)
    ev["stageTimestamp"] = ts(stamp)
    return [ev]
