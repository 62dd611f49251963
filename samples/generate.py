"""Regenerate every sample audit log under samples/ (deterministic).

    python samples/generate.py            write the files
    python samples/generate.py --check    exit 1 if a file on disk differs

Standard library and orjson only. Fixed seeds: every run writes the same
bytes. The simulated cluster is described in samples/README.md.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cloudgen
from auditgen import (
    HARDENED,
    SMALL,
    Actor,
    Event,
    Gen,
    at,
    component_ua,
    container,
    forbidden,
    host_path,
    mount,
    objref,
    owner_ref,
    rbac_reason,
    sa_groups,
    sort_events,
)

HERE = Path(__file__).resolve().parent
DAY = "2026-03-14"
ATTACK_DAY = "2026-03-16"
COORD = "coordination.k8s.io"
RBAC = "rbac.authorization.k8s.io"

NODES = {
    "cp-1": "10.0.0.10",
    "worker-1": "10.0.0.21",
    "worker-2": "10.0.0.22",
    "worker-3": "10.0.0.23",
}
WORKERS = ["worker-1", "worker-2", "worker-3"]
API_IP = "10.0.0.10"
LOOPBACK = "::1"

KUBECTL_MAC = "kubectl/v1.30.2 (darwin/arm64) kubernetes/3968350"
KUBECTL_LINUX = "kubectl/v1.29.7 (linux/amd64) kubernetes/4e4a188"
ATTACKER_KUBECTL = "kubectl/v1.29.3 (darwin/arm64) kubernetes/6813625"


def kubelet(node: str) -> Actor:
    return Actor(
        f"system:node:{node}",
        ("system:nodes", "system:authenticated"),
        NODES[node],
        component_ua("kubelet"),
    )


def controller(name: str) -> Actor:
    return Actor(
        f"system:serviceaccount:kube-system:{name}",
        sa_groups("kube-system"),
        API_IP,
        component_ua("kube-controller-manager", f"system:serviceaccount:kube-system:{name}"),
    )


def sa(
    ns: str, name: str, ip: str, ua: str, node: str | None = None, pod: str | None = None
) -> Actor:
    extra = None
    if pod and node:
        extra = {
            "authentication.kubernetes.io/credential-id": [f"JTI={_jti(ns + name)}"],
            "authentication.kubernetes.io/node-name": [node],
            "authentication.kubernetes.io/pod-name": [pod],
        }
    return Actor(f"system:serviceaccount:{ns}:{name}", sa_groups(ns), ip, ua, extra=extra)


def _jti(seed: str) -> str:
    h = 0
    for ch in seed:
        h = (h * 131 + ord(ch)) % (1 << 128)
    s = f"{h:032x}"
    return f"{s[:8]}-{s[8:12]}-4{s[13:16]}-a{s[17:20]}-{s[20:32]}"


APISERVER = Actor(
    "system:apiserver",
    ("system:authenticated", "system:masters"),
    LOOPBACK,
    component_ua("kube-apiserver"),
    uid="6e2f3a1b-0c4d-4e5f-8a9b-7c6d5e4f3a2b",
)
KCM_LEADER = Actor(
    "system:kube-controller-manager",
    ("system:authenticated",),
    API_IP,
    component_ua("kube-controller-manager", "leader-election"),
)
KCM = Actor(
    "system:kube-controller-manager",
    ("system:authenticated",),
    API_IP,
    component_ua("kube-controller-manager", "shared-informers"),
)
SCHED_LEADER = Actor(
    "system:kube-scheduler",
    ("system:authenticated",),
    API_IP,
    component_ua("kube-scheduler", "leader-election"),
)
SCHED = Actor(
    "system:kube-scheduler",
    ("system:authenticated",),
    API_IP,
    component_ua("kube-scheduler", "scheduler"),
)
COREDNS = [
    sa("kube-system", "coredns", ip, "coredns/v0.0.0 (linux/amd64) kubernetes/$Format", node, pod)
    for ip, node, pod in (
        ("10.244.0.3", "cp-1", "coredns-7db6d8ff4d-b8x2n"),
        ("10.244.2.4", "worker-2", "coredns-7db6d8ff4d-kq5wz"),
    )
]
PROMETHEUS = sa(
    "monitoring",
    "prometheus-k8s",
    "10.244.2.15",
    "Prometheus/2.53.1",
    "worker-2",
    "prometheus-k8s-0",
)
KSM = sa(
    "monitoring",
    "kube-state-metrics",
    "10.244.1.9",
    "kube-state-metrics/v2.13.0 (linux/amd64) kubernetes/$Format",
    "worker-1",
    "kube-state-metrics-6f7c9d8b5-tw4rx",
)
INGRESS = sa(
    "ingress-nginx",
    "ingress-nginx",
    "10.244.3.4",
    "nginx-ingress-controller/v1.11.2 (linux/amd64) ingress-nginx/46e76e5916813cfca2a9b0bfdc34b69a0000f6b9",
    "worker-3",
    "ingress-nginx-controller-7d4db76476-8hx2v",
)
CI = Actor(
    "system:serviceaccount:ci:deployer",
    sa_groups("ci"),
    "10.0.5.20",
    component_ua("kubectl"),
    uid="3f1c2b9e-6d0a-4c55-9a51-0c7f3e2d8b14",
    extra={
        "authentication.kubernetes.io/credential-id": ["JTI=8d2f6a41-3c1e-4b7a-9f0d-5e6c7b8a9d10"]
    },
)
ALICE = Actor(
    "alice@example.com", ("platform-team", "system:authenticated"), "10.8.0.14", KUBECTL_MAC
)
BOB = Actor("bob@example.com", ("developers", "system:authenticated"), "10.8.0.22", KUBECTL_LINUX)
PROBE = Actor("system:anonymous", ("system:unauthenticated",), API_IP, "kube-probe/1.30")
LB_PROBE = [
    Actor("system:anonymous", ("system:unauthenticated",), ip, None)
    for ip in ("10.0.0.4", "10.0.0.5")
]

ALLOW = {
    ALICE.username: rbac_reason(
        "ClusterRoleBinding",
        "platform-admins",
        "ClusterRole",
        "cluster-admin",
        "Group",
        "platform-team",
    ),
    BOB.username: rbac_reason(
        "RoleBinding", "developers-edit", "ClusterRole", "edit", "Group", "developers", "shop"
    ),
    CI.username: rbac_reason(
        "ClusterRoleBinding",
        "ci-deployer",
        "ClusterRole",
        "cluster-admin",
        "ServiceAccount",
        "deployer/ci",
    ),
    PROMETHEUS.username: rbac_reason(
        "ClusterRoleBinding",
        "prometheus-k8s",
        "ClusterRole",
        "prometheus-k8s",
        "ServiceAccount",
        "prometheus-k8s/monitoring",
    ),
    KSM.username: rbac_reason(
        "ClusterRoleBinding",
        "kube-state-metrics",
        "ClusterRole",
        "kube-state-metrics",
        "ServiceAccount",
        "kube-state-metrics/monitoring",
    ),
    INGRESS.username: rbac_reason(
        "ClusterRoleBinding",
        "ingress-nginx",
        "ClusterRole",
        "ingress-nginx",
        "ServiceAccount",
        "ingress-nginx/ingress-nginx",
    ),
    "system:serviceaccount:kube-system:coredns": rbac_reason(
        "ClusterRoleBinding",
        "system:coredns",
        "ClusterRole",
        "system:coredns",
        "ServiceAccount",
        "coredns/kube-system",
    ),
    "system:kube-controller-manager": rbac_reason(
        "ClusterRoleBinding",
        "system:kube-controller-manager",
        "ClusterRole",
        "system:kube-controller-manager",
        "User",
        "system:kube-controller-manager",
    ),
    "system:kube-scheduler": rbac_reason(
        "ClusterRoleBinding",
        "system:kube-scheduler",
        "ClusterRole",
        "system:kube-scheduler",
        "User",
        "system:kube-scheduler",
    ),
}
PUBLIC_INFO = rbac_reason(
    "ClusterRoleBinding",
    "system:public-info-viewer",
    "ClusterRole",
    "system:public-info-viewer",
    "Group",
    "system:unauthenticated",
)
DISCOVERY = rbac_reason(
    "ClusterRoleBinding",
    "system:discovery",
    "ClusterRole",
    "system:discovery",
    "Group",
    "system:authenticated",
)


def reason_for(actor: Actor) -> str:
    if (
        actor.username.startswith("system:serviceaccount:kube-system:")
        and actor.username not in ALLOW
    ):
        ctrl = actor.username.rsplit(":", 1)[1]
        return rbac_reason(
            "ClusterRoleBinding",
            f"system:controller:{ctrl}",
            "ClusterRole",
            f"system:controller:{ctrl}",
            "ServiceAccount",
            f"{ctrl}/kube-system",
        )
    return ALLOW.get(actor.username, "")


@dataclass
class App:
    """A Deployment of the shop and its current pods."""

    name: str
    image: str
    version: str
    rs_hash: str
    rs_uid: str
    pods: list[tuple[str, str]]  # (pod name, node)
    port: int


@dataclass
class Sim:
    """One simulated API server writing one audit log."""

    gen: Gen
    received: bool = True
    events: list[Event] = field(default_factory=list)

    # ------------------------------------------------------------ primitives
    def req(
        self,
        t: dt.datetime,
        actor: Actor,
        verb: str,
        uri: str,
        ref: dict[str, Any] | None = None,
        *,
        code: int | None = None,
        level: str = "Metadata",
        reason: str | None = None,
        **kw: Any,
    ) -> list[Event]:
        if code is None:
            code = 201 if verb == "create" else 200
        decision = "forbid" if code == 403 and "status" not in kw else "allow"
        if code == 403 and "status" not in kw:
            res = (ref or {}).get("resource", "")
            if ref and ref.get("subresource"):
                res += "/" + ref["subresource"]
            kw["status"] = forbidden(
                actor,
                verb,
                res,
                (ref or {}).get("apiGroup", ""),
                (ref or {}).get("namespace"),
                (ref or {}).get("name"),
                nonresource=None if ref else uri.split("?")[0],
            )
            kw.pop("req", None)
            kw.pop("resp", None)
        if reason is None:
            reason = (
                ""
                if decision == "forbid"
                or actor.username.startswith("system:node:")
                or actor.username == "system:apiserver"
                else reason_for(actor)
            )
        evs = self.gen.request(
            t,
            actor,
            verb,
            uri,
            ref,
            code=code,
            level=level,
            reason=reason,
            decision=decision,
            received=self.received,
            **kw,
        )
        self.events.extend(evs)
        return evs

    def every(
        self,
        start: dt.datetime,
        end: dt.datetime,
        seconds: float,
        fn: Callable[[dt.datetime], Any],
        jitter: float = 0.3,
    ) -> None:
        t = start + dt.timedelta(seconds=self.gen.rng.uniform(0, seconds))
        while t < end:
            fn(t)
            t += dt.timedelta(seconds=seconds * self.gen.rng.uniform(1 - jitter, 1 + jitter))

    def watch(
        self,
        t: dt.datetime,
        actor: Actor,
        resource: str,
        group: str | None = None,
        version: str = "v1",
        ns: str | None = None,
        selector: str = "",
    ) -> None:
        timeout = self.gen.rng.randint(300, 600)
        base = f"/apis/{group}/{version}" if group else "/api/v1"
        path = f"{base}/namespaces/{ns}/{resource}" if ns else f"{base}/{resource}"
        q = f"?allowWatchBookmarks=true{selector}&resourceVersion={self.gen.rv()}&timeout={timeout // 60}m{timeout % 60}s&timeoutSeconds={timeout}&watch=true"
        self.req(
            t,
            actor,
            "watch",
            path + q,
            objref(resource, ns, group=group, version=version),
            stream_seconds=float(timeout),
            latency=(0.5, 3.0),
        )

    # ------------------------------------------------------------ background traffic
    def node_lease(self, t: dt.datetime, node: str) -> None:
        self.req(
            t,
            kubelet(node),
            "update",
            f"/apis/{COORD}/v1/namespaces/kube-node-lease/leases/{node}?timeout=10s",
            objref("leases", "kube-node-lease", node, group=COORD),
            latency=(1.5, 6.0),
        )

    def leader_lease(self, t: dt.datetime, actor: Actor, ns: str, name: str) -> None:
        self.req(
            t,
            actor,
            "update",
            f"/apis/{COORD}/v1/namespaces/{ns}/leases/{name}?timeout=5s",
            objref("leases", ns, name, group=COORD),
            latency=(1.5, 5.0),
        )

    def node_status(self, t: dt.datetime, node: str) -> None:
        self.req(
            t,
            kubelet(node),
            "patch",
            f"/api/v1/nodes/{node}/status?timeout=10s",
            objref("nodes", None, node, subresource="status"),
            latency=(3.0, 12.0),
        )

    def probe(self, t: dt.datetime, actor: Actor, path: str) -> None:
        self.req(t, actor, "get", path, None, reason=PUBLIC_INFO, latency=(0.3, 2.5))

    def background(self, start: dt.datetime, end: dt.datetime, scale: float = 1.0) -> None:
        """Heartbeats, leader elections, probes, watches and scrapes (thinned by ``scale``)."""
        s = scale
        for node in NODES:
            self.every(start, end, 900 * s, lambda t, n=node: self.node_lease(t, n))
            self.every(start, end, 3600 * s, lambda t, n=node: self.node_status(t, n))
        self.every(
            start,
            end,
            1200 * s,
            lambda t: self.leader_lease(t, KCM_LEADER, "kube-system", "kube-controller-manager"),
        )
        self.every(
            start,
            end,
            1200 * s,
            lambda t: self.leader_lease(t, SCHED_LEADER, "kube-system", "kube-scheduler"),
        )
        self.every(
            start,
            end,
            1200 * s,
            lambda t: self.leader_lease(
                t, APISERVER, "kube-system", "apiserver-x5q7d2mhbu4rk3zoyxbgmmpxvu"
            ),
        )
        self.every(
            start,
            end,
            1800 * s,
            lambda t: self.leader_lease(t, INGRESS, "ingress-nginx", "ingress-nginx-leader"),
        )
        self.every(start, end, 1200 * s, lambda t: self.probe(t, PROBE, "/livez"))
        self.every(start, end, 1200 * s, lambda t: self.probe(t, PROBE, "/readyz"))
        for lb, path in zip(LB_PROBE, ("/healthz", "/readyz"), strict=False):
            self.every(start, end, 1500 * s, lambda t, a=lb, p=path: self.probe(t, a, p))
        self.every(
            start,
            end,
            1800 * s,
            lambda t: self.req(t, PROMETHEUS, "get", "/metrics", None, latency=(8.0, 40.0)),
        )
        for dns in COREDNS:
            self.every(start, end, 7200 * s, lambda t, a=dns: self.watch(t, a, "services"))
            self.every(
                start,
                end,
                7200 * s,
                lambda t, a=dns: self.watch(t, a, "endpointslices", "discovery.k8s.io"),
            )
            self.every(start, end, 7200 * s, lambda t, a=dns: self.watch(t, a, "namespaces"))
        for res, grp in (
            ("pods", None),
            ("services", None),
            ("endpointslices", "discovery.k8s.io"),
        ):
            self.every(
                start, end, 7200 * s, lambda t, r=res, g=grp: self.watch(t, PROMETHEUS, r, g)
            )
        self.every(start, end, 7200 * s, lambda t: self.watch(t, KSM, "secrets"))
        self.every(start, end, 7200 * s, lambda t: self.watch(t, KSM, "deployments", "apps"))
        self.every(start, end, 7200 * s, lambda t: self.watch(t, INGRESS, "secrets"))
        self.every(
            start, end, 7200 * s, lambda t: self.watch(t, INGRESS, "ingresses", "networking.k8s.io")
        )
        self.every(start, end, 10800 * s, lambda t: self.watch(t, KCM, "secrets"))
        self.every(
            start,
            end,
            10800 * s,
            lambda t: self.watch(
                t,
                SCHED,
                "pods",
                selector="&fieldSelector=status.phase%21%3DSucceeded%2Cstatus.phase%21%3DFailed",
            ),
        )

    # ------------------------------------------------------------ workload lifecycle
    def pod_started(
        self,
        t: dt.datetime,
        ns: str,
        pod: str,
        node: str,
        service_account: str,
        scheduled: bool = True,
    ) -> dt.datetime:
        """Scheduler binding, token, kubelet status updates and events of a new pod."""
        g = self.gen
        if scheduled:
            t += g.ms(4, 30)
            self.req(
                t,
                SCHED,
                "create",
                f"/api/v1/namespaces/{ns}/pods/{pod}/binding",
                objref("pods", ns, pod, subresource="binding"),
                latency=(2, 9),
            )
        t += g.ms(300, 900)
        self.req(
            t,
            kubelet(node),
            "create",
            f"/api/v1/namespaces/{ns}/serviceaccounts/{service_account}/token",
            objref("serviceaccounts", ns, service_account, subresource="token"),
            latency=(2, 8),
        )
        for _reason in ("Pulled", "Created", "Started"):
            t += g.ms(200, 1500)
            self.req(
                t,
                kubelet(node),
                "create",
                f"/api/v1/namespaces/{ns}/events",
                objref("events", ns, f"{pod}.{g.hexstr(16)}"),
                latency=(1, 4),
            )
        t += g.ms(500, 2500)
        self.req(
            t,
            kubelet(node),
            "patch",
            f"/api/v1/namespaces/{ns}/pods/{pod}/status",
            objref("pods", ns, pod, subresource="status"),
            latency=(2, 9),
        )
        return t

    def pod_stopped(
        self, t: dt.datetime, ns: str, pod: str, node: str, deleter: Actor
    ) -> dt.datetime:
        g = self.gen
        self.req(
            t,
            deleter,
            "delete",
            f"/api/v1/namespaces/{ns}/pods/{pod}",
            objref("pods", ns, pod),
            latency=(3, 12),
        )
        t += g.ms(400, 1200)
        self.req(
            t,
            kubelet(node),
            "create",
            f"/api/v1/namespaces/{ns}/events",
            objref("events", ns, f"{pod}.{g.hexstr(16)}"),
            latency=(1, 4),
        )
        t += dt.timedelta(seconds=g.rng.uniform(2, 9))
        self.req(
            t,
            kubelet(node),
            "patch",
            f"/api/v1/namespaces/{ns}/pods/{pod}/status",
            objref("pods", ns, pod, subresource="status"),
            latency=(2, 9),
        )
        t += g.ms(100, 600)
        self.req(
            t,
            kubelet(node),
            "delete",
            f"/api/v1/namespaces/{ns}/pods/{pod}",
            objref("pods", ns, pod),
            latency=(2, 9),
        )
        return t

    def app_pod(
        self, t: dt.datetime, app: App, rs: str, rs_uid: str, version: str, node: str
    ) -> tuple[str, dt.datetime]:
        req, resp, name = self.gen.pod(
            t,
            namespace="shop",
            generate_name=f"{rs}-",
            service_account=app.name,
            labels={"app": app.name, "pod-template-hash": rs.rsplit("-", 1)[1]},
            owner=owner_ref("ReplicaSet", rs, rs_uid),
            pod_security_context={
                "runAsUser": 10001,
                "runAsGroup": 10001,
                "fsGroup": 10001,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            containers=[
                container(
                    app.name,
                    f"{app.image}:{version}",
                    ports=[app.port],
                    resources=SMALL,
                    security_context=HARDENED,
                    env=[{"name": "CONFIG_MAP", "value": f"{app.name}-config"}],
                )
            ],
        )
        self.req(
            t,
            controller("replicaset-controller"),
            "create",
            "/api/v1/namespaces/shop/pods",
            objref("pods", "shop"),
            level="RequestResponse",
            req=req,
            resp=resp,
            latency=(6, 25),
            annotations={"pod-security.kubernetes.io/enforce-policy": "restricted:latest"},
        )
        return name, self.pod_started(t, "shop", name, node, app.name)

    def deploy(self, t: dt.datetime, app: App, version: str) -> None:
        """kubectl apply from CI, then the rollout it sets off."""
        g = self.gen
        dep = f"/apis/apps/v1/namespaces/shop/deployments/{app.name}"
        self.req(t, CI, "get", "/api?timeout=32s", None, reason=DISCOVERY)
        t += g.ms(20, 60)
        self.req(t, CI, "get", "/apis?timeout=32s", None, reason=DISCOVERY)
        t += g.ms(200, 500)
        cm = f"/api/v1/namespaces/shop/configmaps/{app.name}-config"
        self.req(t, CI, "get", cm, objref("configmaps", "shop", f"{app.name}-config"))
        t += g.ms(30, 90)
        data = {
            "LOG_LEVEL": "info",
            "RELEASE": version,
            "FEATURE_FLAGS": "new-checkout=true,async-stock=false",
        }
        cm_obj = {
            "kind": "ConfigMap",
            "apiVersion": "v1",
            "metadata": {
                "name": f"{app.name}-config",
                "namespace": "shop",
                "uid": g.uid(),
                "resourceVersion": g.rv(),
                "creationTimestamp": "2025-11-02T14:20:31Z",
                "labels": {"app": app.name},
            },
            "data": data,
        }
        self.req(
            t,
            CI,
            "patch",
            cm + "?fieldManager=kubectl-client-side-apply&fieldValidation=Strict",
            objref("configmaps", "shop", f"{app.name}-config"),
            level="RequestResponse",
            req={"data": {"RELEASE": version}},
            resp=cm_obj,
        )
        t += g.ms(40, 120)
        self.req(t, CI, "get", dep, objref("deployments", "shop", app.name, group="apps"))
        t += g.ms(30, 90)
        patch = {
            "spec": {
                "template": {
                    "spec": {"containers": [{"name": app.name, "image": f"{app.image}:{version}"}]}
                }
            }
        }
        self.req(
            t,
            CI,
            "patch",
            dep + "?fieldManager=kubectl-client-side-apply&fieldValidation=Strict",
            objref("deployments", "shop", app.name, group="apps"),
            level="Request",
            req=patch,
        )
        dc = controller("deployment-controller")
        new_hash = g.suffix(10)
        rs, rs_uid = f"{app.name}-{new_hash}", g.uid()
        t += g.ms(5, 30)
        self.req(
            t,
            dc,
            "create",
            "/apis/apps/v1/namespaces/shop/replicasets",
            objref("replicasets", "shop", rs, group="apps"),
            level="Request",
            req={
                "kind": "ReplicaSet",
                "apiVersion": "apps/v1",
                "metadata": {"name": rs, "namespace": "shop"},
                "spec": {"replicas": len(app.pods), "selector": {"matchLabels": {"app": app.name}}},
            },
        )
        t += g.ms(5, 30)
        self.req(
            t,
            dc,
            "update",
            dep + "/status",
            objref("deployments", "shop", app.name, group="apps", subresource="status"),
        )
        self.req(
            t + g.ms(1, 4),
            CI,
            "watch",
            dep.rsplit("/", 1)[0] + f"?fieldSelector=metadata.name%3D{app.name}"
            f"&resourceVersion={g.rv()}&watch=true",
            objref("deployments", "shop", group="apps"),
            stream_seconds=float(g.rng.randint(35, 70)),
        )
        new_pods = []
        for old_pod, node in list(app.pods):
            t += g.ms(50, 400)
            new_node = g.rng.choice(WORKERS)
            name, t_ready = self.app_pod(t, app, rs, rs_uid, version, new_node)
            new_pods.append((name, new_node))
            self.req(
                t_ready + g.ms(20, 200),
                controller("endpointslice-controller"),
                "update",
                f"/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices/{app.name}-{g.suffix()}",
                objref(
                    "endpointslices", "shop", f"{app.name}-{g.suffix()}", group="discovery.k8s.io"
                ),
            )
            t = t_ready + g.ms(300, 900)
            self.req(
                t,
                dc,
                "update",
                f"/apis/apps/v1/namespaces/shop/replicasets/{app.name}-{app.rs_hash}",
                objref("replicasets", "shop", f"{app.name}-{app.rs_hash}", group="apps"),
                level="Request",
                req={"spec": {"replicas": len(app.pods) - len(new_pods)}},
            )
            t += g.ms(5, 30)
            self.pod_stopped(t, "shop", old_pod, node, controller("replicaset-controller"))
        app.pods, app.rs_hash, app.rs_uid, app.version = new_pods, new_hash, rs_uid, version

    def nightly_job(self, t: dt.datetime) -> None:
        g = self.gen
        minutes = int(t.replace(second=0, microsecond=0).timestamp() // 60)
        job = f"nightly-report-{minutes}"
        cj = controller("cronjob-controller")
        jc = controller("job-controller")
        self.req(
            t,
            cj,
            "create",
            "/apis/batch/v1/namespaces/shop/jobs",
            objref("jobs", "shop", job, group="batch"),
            level="Request",
            req={
                "kind": "Job",
                "apiVersion": "batch/v1",
                "metadata": {
                    "name": job,
                    "namespace": "shop",
                    "ownerReferences": [
                        owner_ref(
                            "CronJob",
                            "nightly-report",
                            "8c7b6a5d-4e3f-4a2b-9c1d-0e8f7a6b5c4d",
                            "batch/v1",
                        )
                    ],
                },
                "spec": {"backoffLimit": 2, "ttlSecondsAfterFinished": 259200},
            },
        )
        t += g.ms(10, 40)
        self.req(
            t,
            cj,
            "update",
            "/apis/batch/v1/namespaces/shop/cronjobs/nightly-report/status",
            objref("cronjobs", "shop", "nightly-report", group="batch", subresource="status"),
        )
        node = g.rng.choice(WORKERS)
        req, resp, pod = g.pod(
            t,
            namespace="shop",
            generate_name=f"{job}-",
            service_account="reporting",
            restart_policy="Never",
            labels={"batch.kubernetes.io/job-name": job, "job-name": job},
            owner=owner_ref("Job", job, g.uid(), "batch/v1"),
            pod_security_context={"runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
            containers=[
                container(
                    "report",
                    "registry.example.com/shop/reporting:1.9.0",
                    args=["--date=yesterday", "--out=s3://shop-reports/daily"],
                    resources=SMALL,
                    security_context=HARDENED,
                )
            ],
        )
        t += g.ms(20, 80)
        self.req(
            t,
            jc,
            "create",
            "/api/v1/namespaces/shop/pods",
            objref("pods", "shop"),
            level="RequestResponse",
            req=req,
            resp=resp,
            annotations={"pod-security.kubernetes.io/enforce-policy": "restricted:latest"},
        )
        t = self.pod_started(t, "shop", pod, node, "reporting")
        t += dt.timedelta(seconds=g.rng.uniform(70, 160))
        self.req(
            t,
            kubelet(node),
            "patch",
            f"/api/v1/namespaces/shop/pods/{pod}/status",
            objref("pods", "shop", pod, subresource="status"),
        )
        t += g.ms(50, 300)
        self.req(
            t,
            jc,
            "update",
            f"/apis/batch/v1/namespaces/shop/jobs/{job}/status",
            objref("jobs", "shop", job, group="batch", subresource="status"),
        )
        t += g.ms(20, 100)
        self.req(
            t,
            cj,
            "update",
            "/apis/batch/v1/namespaces/shop/cronjobs/nightly-report/status",
            objref("cronjobs", "shop", "nightly-report", group="batch", subresource="status"),
        )
        old = f"nightly-report-{minutes - 4 * 1440}"
        t += g.ms(20, 100)
        self.req(
            t,
            cj,
            "delete",
            f"/apis/batch/v1/namespaces/shop/jobs/{old}",
            objref("jobs", "shop", old, group="batch"),
        )
        t += g.ms(40, 300)
        self.req(
            t,
            controller("generic-garbage-collector"),
            "delete",
            f"/api/v1/namespaces/shop/pods/{old}-{g.suffix()}",
            objref("pods", "shop", f"{old}-{g.suffix()}"),
        )

    def control_plane_restart(self, t: dt.datetime) -> None:
        """cp-1 back from an OS patch reboot: the kubelet re-creates the static pods' mirrors."""
        g = self.gen
        kl = kubelet("cp-1")
        self.node_status(t, "cp-1")
        self.req(
            t + g.ms(200, 600),
            APISERVER,
            "update",
            "/api/v1/namespaces/default/endpoints/kubernetes",
            objref("endpoints", "default", "kubernetes"),
        )
        statics = {
            "etcd": (
                "registry.k8s.io/etcd:3.5.15-0",
                [
                    host_path("etcd-certs", "/etc/kubernetes/pki/etcd", "DirectoryOrCreate"),
                    host_path("etcd-data", "/var/lib/etcd", "DirectoryOrCreate"),
                ],
                [
                    "etcd",
                    "--advertise-client-urls=https://10.0.0.10:2379",
                    "--data-dir=/var/lib/etcd",
                ],
            ),
            "kube-apiserver": (
                "registry.k8s.io/kube-apiserver:v1.30.4",
                [
                    host_path("ca-certs", "/etc/ssl/certs", "DirectoryOrCreate"),
                    host_path("k8s-certs", "/etc/kubernetes/pki", "DirectoryOrCreate"),
                    host_path("audit", "/etc/kubernetes/audit", "DirectoryOrCreate"),
                    host_path("audit-log", "/var/log/kubernetes/audit", "DirectoryOrCreate"),
                ],
                [
                    "kube-apiserver",
                    "--advertise-address=10.0.0.10",
                    "--authorization-mode=Node,RBAC",
                    "--audit-policy-file=/etc/kubernetes/audit/policy.yaml",
                    "--audit-log-path=/var/log/kubernetes/audit/audit.log",
                    "--audit-log-maxbackup=10",
                    "--audit-log-compress",
                ],
            ),
            "kube-controller-manager": (
                "registry.k8s.io/kube-controller-manager:v1.30.4",
                [
                    host_path("k8s-certs", "/etc/kubernetes/pki", "DirectoryOrCreate"),
                    host_path(
                        "kubeconfig", "/etc/kubernetes/controller-manager.conf", "FileOrCreate"
                    ),
                ],
                [
                    "kube-controller-manager",
                    "--use-service-account-credentials=true",
                    "--leader-elect=true",
                ],
            ),
            "kube-scheduler": (
                "registry.k8s.io/kube-scheduler:v1.30.4",
                [host_path("kubeconfig", "/etc/kubernetes/scheduler.conf", "FileOrCreate")],
                ["kube-scheduler", "--leader-elect=true"],
            ),
        }
        for comp, (image, vols, cmd) in statics.items():
            t += g.ms(300, 1200)
            h = g.hexstr(32)
            req, resp, name = g.pod(
                t,
                namespace="kube-system",
                name=f"{comp}-cp-1",
                node="cp-1",
                host_network=True,
                priority_class="system-node-critical",
                volumes=vols,
                labels={"component": comp, "tier": "control-plane"},
                annotations={
                    "kubernetes.io/config.hash": h,
                    "kubernetes.io/config.mirror": h,
                    "kubernetes.io/config.seen": ts_nano(t - dt.timedelta(seconds=95)),
                    "kubernetes.io/config.source": "file",
                },
                owner=owner_ref("Node", "cp-1", "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d", "v1"),
                pod_security_context={"seccompProfile": {"type": "RuntimeDefault"}},
                containers=[
                    container(
                        comp,
                        image,
                        command=cmd,
                        resources={"requests": {"cpu": "100m"}},
                        mounts=[mount(v["name"], v["hostPath"]["path"], True) for v in vols],
                    )
                ],
            )
            self.req(
                t,
                kl,
                "create",
                "/api/v1/namespaces/kube-system/pods",
                objref("pods", "kube-system", name),
                level="RequestResponse",
                req=req,
                resp=resp,
                annotations={"pod-security.kubernetes.io/enforce-policy": "privileged:latest"},
            )
            t += g.ms(100, 500)
            self.req(
                t,
                kl,
                "patch",
                f"/api/v1/namespaces/kube-system/pods/{name}/status",
                objref("pods", "kube-system", name, subresource="status"),
            )
        t += dt.timedelta(seconds=g.rng.uniform(4, 12))
        dns_pod = "coredns-7db6d8ff4d-b8x2n"
        self.req(
            t,
            kl,
            "patch",
            f"/api/v1/namespaces/kube-system/pods/{dns_pod}/status",
            objref("pods", "kube-system", dns_pod, subresource="status"),
        )
        t += g.ms(30, 200)
        self.req(
            t,
            controller("endpoint-controller"),
            "update",
            "/api/v1/namespaces/kube-system/endpoints/kube-dns",
            objref("endpoints", "kube-system", "kube-dns"),
        )
        self.req(
            t + g.ms(2, 20),
            controller("endpointslice-controller"),
            "update",
            "/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices/kube-dns-x7m2c",
            objref("endpointslices", "kube-system", "kube-dns-x7m2c", group="discovery.k8s.io"),
        )

    def csr_rotation(self, t: dt.datetime, node: str) -> None:
        g = self.gen
        name = f"csr-{g.suffix()}"
        group = "certificates.k8s.io"
        body = {
            "kind": "CertificateSigningRequest",
            "apiVersion": f"{group}/v1",
            "metadata": {"generateName": "csr-", "creationTimestamp": None},
            "spec": {
                "request": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0KTUlIM01JR2VBZ0VBTUR3eEZUQVRCZ05WQkFvVERITjVjM1JsYlRwdWIyUmxjekVqTUNFR0ExVUUK",
                "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
                "usages": ["digital signature", "client auth"],
            },
            "status": {},
        }
        resp = dict(
            body,
            metadata={
                "name": name,
                "generateName": "csr-",
                "uid": g.uid(),
                "resourceVersion": g.rv(),
            },
        )
        self.req(
            t,
            kubelet(node),
            "create",
            f"/apis/{group}/v1/certificatesigningrequests",
            objref("certificatesigningrequests", None, name, group=group),
            level="RequestResponse",
            req=body,
            resp=resp,
        )
        t += g.ms(30, 150)
        approver = controller("certificate-controller")
        self.req(
            t,
            approver,
            "update",
            f"/apis/{group}/v1/certificatesigningrequests/{name}/approval",
            objref("certificatesigningrequests", None, name, group=group, subresource="approval"),
            level="Request",
            req=dict(
                resp,
                status={
                    "conditions": [
                        {
                            "type": "Approved",
                            "status": "True",
                            "reason": "AutoApproved",
                            "message": "Auto approving self kubelet client certificate after SubjectAccessReview.",
                        }
                    ]
                },
            ),
        )
        t += g.ms(20, 90)
        self.req(
            t,
            approver,
            "update",
            f"/apis/{group}/v1/certificatesigningrequests/{name}/status",
            objref("certificatesigningrequests", None, name, group=group, subresource="status"),
        )
        t += g.ms(10, 60)
        self.req(
            t,
            kubelet(node),
            "get",
            f"/apis/{group}/v1/certificatesigningrequests/{name}",
            objref("certificatesigningrequests", None, name, group=group),
        )

    # ------------------------------------------------------------ people
    def kubectl(
        self,
        t: dt.datetime,
        who: Actor,
        steps: list[tuple[str, str, dict[str, Any] | None, dict[str, Any]]],
        discovery: bool = True,
    ) -> dt.datetime:
        g = self.gen
        if discovery:
            for path in ("/api?timeout=32s", "/apis?timeout=32s"):
                self.req(t, who, "get", path, None, reason=DISCOVERY, latency=(1, 6))
                t += g.ms(20, 80)
        for verb, uri, ref, kw in steps:
            t += g.ms(40, 300)
            self.req(t, who, verb, uri, ref, **kw)
        return t


def ts_nano(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


def shop_apps(g: Gen) -> dict[str, App]:
    def pods(app: str, rs: str) -> list[tuple[str, str]]:
        return [(f"{app}-{rs}-{g.suffix()}", node) for node in ("worker-1", "worker-3")]

    return {
        "cart": App(
            "cart",
            "registry.example.com/shop/cart",
            "2.14.1",
            "7d9f8b6c5d",
            g.uid(),
            pods("cart", "7d9f8b6c5d"),
            8080,
        ),
        "checkout": App(
            "checkout",
            "registry.example.com/shop/checkout",
            "3.8.0",
            "59c6d7f8bx",
            g.uid(),
            pods("checkout", "59c6d7f8bx"),
            8080,
        ),
        "web": App(
            "web",
            "registry.example.com/shop/web",
            "1.27.1",
            "5f6d7c8b9q",
            g.uid(),
            pods("web", "5f6d7c8b9q"),
            8080,
        ),
    }


def human_day(sim: Sim, apps: dict[str, App]) -> None:
    """alice (platform team) and bob (developer) at work."""
    g = sim.gen
    cart = apps["cart"].pods[0][0]
    checkout = apps["checkout"].pods[0][0]
    shop = "/api/v1/namespaces/shop"
    sim.kubectl(
        at(DAY, "09:05:12"),
        ALICE,
        [
            ("list", f"{shop}/pods?limit=500", objref("pods", "shop"), {}),
            (
                "list",
                "/apis/apps/v1/namespaces/shop/deployments?limit=500",
                objref("deployments", "shop", group="apps"),
                {},
            ),
            ("get", f"{shop}/pods/{cart}", objref("pods", "shop", cart), {}),
            (
                "list",
                f"{shop}/events?fieldSelector=involvedObject.name%3D{cart}%2CinvolvedObject.namespace%3Dshop"
                f"%2CinvolvedObject.uid%3D{g.uid()}&limit=500",
                objref("events", "shop"),
                {},
            ),
            (
                "get",
                f"{shop}/pods/{cart}/log?container=cart&tailLines=200",
                objref("pods", "shop", cart, subresource="log"),
                {"stream_seconds": 0.4},
            ),
        ],
    )
    sim.kubectl(
        at(DAY, "09:41:03"),
        BOB,
        [
            (
                "list",
                "/api/v1/nodes?limit=500",
                objref("nodes"),
                {
                    "reason": rbac_reason(
                        "ClusterRoleBinding",
                        "developers-node-reader",
                        "ClusterRole",
                        "node-reader",
                        "Group",
                        "developers",
                    )
                },
            ),
            ("list", "/api/v1/pods?limit=500", objref("pods"), {}),
            (
                "get",
                f"{shop}/pods/{checkout}/log?container=checkout&follow=true",
                objref("pods", "shop", checkout, subresource="log"),
                {"stream_seconds": 212.0},
            ),
        ],
    )
    sim.kubectl(
        at(DAY, "11:20:44"),
        BOB,
        [
            ("get", f"{shop}/pods/{cart}", objref("pods", "shop", cart), {}),
            (
                "create",
                f"{shop}/pods/{cart}/exec?command=sh&command=-c&command=curl%20-s%20localhost%3A8080%2Fhealth"
                f"&container=cart&stdin=true&stdout=true&tty=true",
                objref("pods", "shop", cart, subresource="exec"),
                {"code": 101, "stream_seconds": 48.0},
            ),
        ],
    )
    sim.kubectl(
        at(DAY, "11:58:09"),
        BOB,
        [
            (
                "list",
                "/api/v1/namespaces/payments/secrets?limit=500",
                objref("secrets", "payments"),
                {"code": 403},
            ),
        ],
        discovery=False,
    )
    sim.kubectl(
        at(DAY, "13:05:30"),
        ALICE,
        [
            (
                "list",
                "/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods",
                objref("pods", "shop", group="metrics.k8s.io", version="v1beta1"),
                {},
            ),
            (
                "list",
                "/apis/metrics.k8s.io/v1beta1/nodes",
                objref("nodes", group="metrics.k8s.io", version="v1beta1"),
                {},
            ),
        ],
    )
    sim.kubectl(
        at(DAY, "15:10:02"),
        ALICE,
        [
            (
                "list",
                f"{shop}/pods?labelSelector=app%3Dcheckout&limit=500",
                objref("pods", "shop"),
                {},
            ),
            (
                "create",
                f"{shop}/pods/{checkout}/portforward?ports=5432",
                objref("pods", "shop", checkout, subresource="portforward"),
                {"code": 101, "stream_seconds": 1260.0},
            ),
        ],
    )
    sim.kubectl(
        at(DAY, "16:30:27"),
        BOB,
        [
            (
                "get",
                f"{shop}/secrets/cart-db-credentials",
                objref("secrets", "shop", "cart-db-credentials"),
                {},
            ),
        ],
    )
    ssrr = {
        "kind": "SelfSubjectRulesReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": {"namespace": "shop"},
        "status": {"resourceRules": None, "nonResourceRules": None, "incomplete": False},
    }
    sim.kubectl(
        at(DAY, "16:45:50"),
        ALICE,
        [
            (
                "create",
                "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
                objref("selfsubjectrulesreviews", None, None, group="authorization.k8s.io"),
                {"level": "Request", "req": ssrr, "reason": DISCOVERY},
            ),
        ],
    )
    sim.kubectl(
        at(DAY, "17:22:41"),
        BOB,
        [
            ("list", f"{shop}/events?limit=500", objref("events", "shop"), {}),
            (
                "get",
                "/apis/apps/v1/namespaces/shop/deployments/web",
                objref("deployments", "shop", "web", group="apps"),
                {},
            ),
        ],
    )


# =========================================================================== files
def benign_day() -> list[Event]:
    g = Gen(20260314)
    sim = Sim(g)
    start, end = at(DAY, "00:00:00"), at(DAY, "23:59:59")
    sim.background(start, end)
    apps = shop_apps(g)
    sim.nightly_job(at(DAY, "02:00:00") + g.ms(5, 40))
    sim.control_plane_restart(at(DAY, "03:11:58"))
    sim.csr_rotation(at(DAY, "04:12:37"), "worker-2")
    human_day(sim, apps)
    sim.deploy(at(DAY, "10:15:04"), apps["cart"], "2.14.2")
    sim.deploy(at(DAY, "14:40:31"), apps["checkout"], "3.8.1")
    sim.deploy(at(DAY, "17:05:19"), apps["web"], "1.27.2")
    return [
        e
        for e in sort_events(sim.events)
        if e["requestReceivedTimestamp"] <= "2026-03-14T23:59:59.999999Z"
        and e["stageTimestamp"] <= "2026-03-14T23:59:59.999999Z"
    ]


@dataclass
class Step:
    time: str
    what: str
    rules: list[str]


def attack_story() -> tuple[list[Event], list[Step]]:
    g = Gen(20260316)
    sim = Sim(g)
    start, end = at(ATTACK_DAY, "01:00:00"), at(ATTACK_DAY, "02:00:00")
    sim.background(start, end, scale=0.3)
    steps: list[Step] = []

    # 1. anonymous probing from the Internet
    scanner = Actor("system:anonymous", ("system:unauthenticated",), "203.0.113.45", "curl/8.5.0")
    t = at(ATTACK_DAY, "01:07:12")
    sim.req(t, scanner, "get", "/healthz", None, reason=PUBLIC_INFO)
    t += g.ms(800, 2000)
    sim.req(t, scanner, "get", "/version", None, reason=PUBLIC_INFO)
    for path in ("/api", "/apis", "/api/v1/namespaces/kube-system/secrets"):
        t += g.ms(600, 2500)
        ref = objref("secrets", "kube-system") if "secrets" in path else None
        sim.req(t, scanner, "list" if ref else "get", path, ref, code=403)
    steps.append(
        Step(
            "01:07:12",
            "203.0.113.45 probes /healthz, /version, /api, /apis and kube-system secrets "
            "without credentials (only /healthz and /version are allowed)",
            ["Anonymous API Probing (NOTICE) x4 - not for /healthz"],
        )
    )

    # 2. a stolen CI token, first used with curl
    thief = CI.with_ip("198.51.100.23", "curl/8.5.0")
    t = at(ATTACK_DAY, "01:19:40")
    ssrr = {
        "kind": "SelfSubjectRulesReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": {"namespace": "kube-system"},
        "status": {"resourceRules": None, "nonResourceRules": None, "incomplete": False},
    }
    sim.req(
        t,
        thief,
        "create",
        "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
        objref("selfsubjectrulesreviews", None, None, group="authorization.k8s.io"),
        level="Request",
        req=ssrr,
    )
    t += dt.timedelta(seconds=31) + g.ms(0, 900)
    sim.req(t, thief, "list", "/api/v1/secrets?limit=500", objref("secrets"), latency=(40, 120))
    steps.append(
        Step(
            "01:19:40",
            "the CI deployer token, replayed with curl from 198.51.100.23, enumerates its "
            "permissions, then lists the secrets of every namespace",
            [
                "Permission Discovery By Service Account (NOTICE)",
                "Secrets Listed Cluster-Wide (WARNING)",
                "K8s API Request With Scripted Client (NOTICE) x2",
            ],
        )
    )

    # 3. privileged pod on the control-plane node, host root and host PID
    thief = CI.with_ip("198.51.100.23", ATTACKER_KUBECTL)
    t = at(ATTACK_DAY, "01:24:05")
    for path in ("/api?timeout=32s", "/apis?timeout=32s"):
        sim.req(t, thief, "get", path, None, reason=DISCOVERY)
        t += g.ms(30, 90)
    pod = "kube-proxy-m4q7n"
    req, resp, _ = g.pod(
        t,
        namespace="kube-system",
        name=pod,
        node="cp-1",
        host_pid=True,
        volumes=[host_path("host", "/")],
        containers=[
            container(
                "shell",
                "docker.io/library/alpine:3.20",
                command=["sleep", "infinity"],
                security_context={"privileged": True},
                stdin=True,
                mounts=[mount("host", "/host")],
            )
        ],
    )
    req["spec"]["tolerations"] = [{"operator": "Exists"}]
    sim.req(
        t,
        thief,
        "create",
        "/api/v1/namespaces/kube-system/pods?fieldManager=kubectl-run",
        objref("pods", "kube-system", pod),
        level="RequestResponse",
        req=req,
        resp=resp,
        annotations={"pod-security.kubernetes.io/enforce-policy": "privileged:latest"},
    )
    sim.pod_started(t, "kube-system", pod, "cp-1", "default", scheduled=False)
    steps.append(
        Step(
            "01:24:05",
            f"with kubectl and the same token: pod kube-system/{pod} on cp-1, privileged, "
            "hostPID, the node's / mounted at /host",
            [
                "Create Privileged Pod (WARNING)",
                "Create Sensitive Mount Pod (WARNING)",
                "Create HostPid Pod (WARNING)",
                "Pod Created in Kube Namespace (WARNING)",
            ],
        )
    )

    # 4. exec into it and chroot onto the host
    t = at(ATTACK_DAY, "01:25:31")
    sim.req(
        t,
        thief,
        "create",
        f"/api/v1/namespaces/kube-system/pods/{pod}/exec?command=chroot&command=%2Fhost"
        f"&command=%2Fbin%2Fbash&container=shell&stdin=true&stdout=true&tty=true",
        objref("pods", "kube-system", pod, subresource="exec"),
        code=101,
        stream_seconds=331.0,
    )
    steps.append(
        Step(
            "01:25:31",
            "interactive exec into the pod: chroot /host /bin/bash (session ends 01:31)",
            ["Attach/Exec Pod (NOTICE)", "Interactive Access To Kube System Pod (WARNING)"],
        )
    )

    # 5. persistence: a new service account with cluster-admin
    t = at(ATTACK_DAY, "01:32:10")
    sa_body = {
        "kind": "ServiceAccount",
        "apiVersion": "v1",
        "metadata": {
            "name": "cluster-monitor",
            "namespace": "kube-system",
            "creationTimestamp": None,
        },
    }
    sim.req(
        t,
        thief,
        "create",
        "/api/v1/namespaces/kube-system/serviceaccounts?fieldManager=kubectl-create",
        objref("serviceaccounts", "kube-system", "cluster-monitor"),
        level="Request",
        req=sa_body,
    )
    t += dt.timedelta(seconds=14) + g.ms(0, 900)
    crb = {
        "kind": "ClusterRoleBinding",
        "apiVersion": f"{RBAC}/v1",
        "metadata": {"name": "cluster-monitor-binding", "creationTimestamp": None},
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [
            {"kind": "ServiceAccount", "name": "cluster-monitor", "namespace": "kube-system"}
        ],
    }
    crb_resp = dict(
        crb,
        metadata={
            "name": "cluster-monitor-binding",
            "uid": g.uid(),
            "resourceVersion": g.rv(),
            "creationTimestamp": "2026-03-16T01:32:24Z",
        },
    )
    sim.req(
        t,
        thief,
        "create",
        f"/apis/{RBAC}/v1/clusterrolebindings?fieldManager=kubectl-create",
        objref("clusterrolebindings", None, "cluster-monitor-binding", group=RBAC),
        level="RequestResponse",
        req=crb,
        resp=crb_resp,
    )
    steps.append(
        Step(
            "01:32:10",
            "service account kube-system/cluster-monitor created and bound to cluster-admin",
            [
                "Service Account Created in Kube Namespace (WARNING)",
                "Attach to cluster-admin Role (WARNING)",
                "K8s Serviceaccount Created (INFO)",
                "K8s ClusterRoleBinding Created (INFO)",
            ],
        )
    )

    # 6. a long-lived token for it, then a test call with it
    t = at(ATTACK_DAY, "01:33:02")
    tr = {
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {
            "name": "cluster-monitor",
            "namespace": "kube-system",
            "creationTimestamp": None,
        },
        "spec": {"audiences": None, "expirationSeconds": 31536000, "boundObjectRef": None},
        "status": {"token": "", "expirationTimestamp": None},
    }
    sim.req(
        t,
        thief,
        "create",
        "/api/v1/namespaces/kube-system/serviceaccounts/cluster-monitor/token",
        objref("serviceaccounts", "kube-system", "cluster-monitor", subresource="token"),
        level="Request",
        req=tr,
    )
    backdoor = Actor(
        "system:serviceaccount:kube-system:cluster-monitor",
        sa_groups("kube-system"),
        "198.51.100.23",
        "curl/8.5.0",
        extra={
            "authentication.kubernetes.io/credential-id": [
                "JTI=e1d2c3b4-a596-4877-8899-aabbccddeeff"
            ]
        },
    )
    t += dt.timedelta(seconds=40) + g.ms(0, 900)
    sim.req(
        t,
        backdoor,
        "list",
        "/api/v1/namespaces/kube-system/pods?limit=500",
        objref("pods", "kube-system"),
        reason=rbac_reason(
            "ClusterRoleBinding",
            "cluster-monitor-binding",
            "ClusterRole",
            "cluster-admin",
            "ServiceAccount",
            "cluster-monitor/kube-system",
        ),
    )
    steps.append(
        Step(
            "01:33:02",
            "a one-year token is minted for cluster-monitor and tried out with curl",
            [
                "Service Account Token Requested By User (WARNING)",
                "K8s API Request With Scripted Client (NOTICE)",
            ],
        )
    )

    # 7. clean-up
    t = at(ATTACK_DAY, "01:35:40")
    sim.req(
        t,
        thief,
        "delete",
        f"/api/v1/namespaces/kube-system/pods/{pod}",
        objref("pods", "kube-system", pod),
    )
    t += dt.timedelta(seconds=6) + g.ms(0, 900)
    sim.req(
        t,
        kubelet("cp-1"),
        "delete",
        f"/api/v1/namespaces/kube-system/pods/{pod}",
        objref("pods", "kube-system", pod),
    )
    t += dt.timedelta(seconds=21) + g.ms(0, 900)
    sim.req(
        t,
        thief,
        "deletecollection",
        "/api/v1/namespaces/kube-system/events",
        objref("events", "kube-system"),
        latency=(20, 60),
    )
    t += g.ms(900, 2500)
    sim.req(
        t,
        thief,
        "deletecollection",
        "/api/v1/namespaces/default/events",
        objref("events", "default"),
        latency=(10, 40),
    )
    steps.append(
        Step(
            "01:35:40",
            "the pod is deleted, then every Event in kube-system and default",
            ["K8s Events Deleted (WARNING) x2"],
        )
    )
    return sort_events(sim.events), steps


def webhook_batches(day: list[Event]) -> list[dict[str, Any]]:
    """10:00-11:00 of the benign day as the webhook backend posts it (no RequestReceived, 30 s batches)."""
    lo, hi = "2026-03-14T10:00:00", "2026-03-14T11:00:00"
    window = [e for e in day if lo <= e["stageTimestamp"] < hi and e["stage"] != "RequestReceived"]
    batches: list[dict[str, Any]] = []
    current: list[Event] = []
    edge = None
    for e in window:
        stamp = dt.datetime.fromisoformat(e["stageTimestamp"].replace("Z", "+00:00"))
        if edge is None:
            edge = stamp + dt.timedelta(seconds=30)
        if stamp >= edge or len(current) == 400:
            batches.append(
                {
                    "kind": "EventList",
                    "apiVersion": "audit.k8s.io/v1",
                    "metadata": {},
                    "items": current,
                }
            )
            current, edge = [], stamp + dt.timedelta(seconds=30)
        current.append(e)
    if current:
        batches.append(
            {"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "metadata": {}, "items": current}
        )
    return batches


def rotated(day: list[Event]) -> tuple[list[Event], list[Event]]:
    """06:00-08:00 as the rotated backup, 08:00-09:30 as the live audit.log."""
    older = [e for e in day if "2026-03-14T06:00:00" <= e["stageTimestamp"] < "2026-03-14T08:00:00"]
    live = [e for e in day if "2026-03-14T08:00:00" <= e["stageTimestamp"] < "2026-03-14T09:30:00"]
    return older, live


def jsonl(events: list[Any]) -> bytes:
    return b"".join(orjson.dumps(e) + b"\n" for e in events)


def gz(data: bytes, name: str) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as f:
        f.write(data)
    return buf.getvalue()


def exports(story: list[Event]) -> dict[str, bytes]:
    """The attack story in every export shape of docs/input-formats.md (samples/exports/)."""
    messages = [orjson.dumps(e).decode() for e in story]
    records = list(cloudgen.subscription_records(zip(story, messages, strict=True)))
    entries = cloudgen.gke_entries(story)
    entries.insert(
        len(entries) // 2, cloudgen.gke_other_entry(entries[len(entries) // 2]["timestamp"])
    )
    big = next(
        i
        for i, e in enumerate(story)
        if e["verb"] == "create"
        and e.get("objectRef", {}).get("resource") == "pods"
        and e["stage"] == "ResponseComplete"
    )
    bloated = orjson.dumps(cloudgen.bloated(story[big], 300_000)).decode()
    eks_cut = [*messages[:big], cloudgen.cut_cloudwatch(bloated), *messages[big + 1 :]]
    aks_cut = [*messages[:big], bloated[: cloudgen.AKS_CUT], *messages[big + 1 :]]
    return {
        "exports/k8s-array.json": cloudgen.pretty(story, 2),
        "exports/eks-filter-log-events.json": cloudgen.filter_log_events(story, messages),
        "exports/eks-s3-export-000000.gz": cloudgen.s3_export(story, messages),
        "exports/eks-firehose.gz": cloudgen.firehose_object(records),
        "exports/eks-lambda-events.jsonl": cloudgen.lambda_events(records),
        "exports/eks-insights.json": cloudgen.insights_json(story, messages),
        "exports/eks-insights.csv": cloudgen.insights_csv(story, messages),
        "exports/gke-logging-read.json": cloudgen.gcloud_read(entries),
        "exports/gke-sink.jsonl": cloudgen.sink_jsonl(entries),
        "exports/aks-PT1H.json": cloudgen.aks_storage(story, messages),
        "exports/aks-eventhub.jsonl": cloudgen.aks_eventhub(story, messages),
        "exports/eks-truncated.json": cloudgen.filter_log_events(story, eks_cut),
        "exports/aks-truncated-PT1H.json": cloudgen.aks_storage(story, aks_cut),
    }


def build() -> dict[str, bytes]:
    day = benign_day()
    story, _ = attack_story()
    older, live = rotated(day)
    return {
        **exports(story),
        "benign-day.jsonl": jsonl(day),
        "attack-story.jsonl": jsonl(story),
        "webhook-batch.jsonl": jsonl(webhook_batches(day)),
        "rotated/audit-2026-03-14T08-00-00.000.log.gz": gz(
            jsonl(older), "audit-2026-03-14T08-00-00.000.log"
        ),
        "rotated/audit.log": jsonl(live),
    }


def main(argv: list[str]) -> int:
    files = build()
    if "--check" in argv:
        stale = [
            name
            for name, data in files.items()
            if not (HERE / name).exists() or (HERE / name).read_bytes() != data
        ]
        for name in stale:
            print(f"stale: samples/{name}", file=sys.stderr)
        return 1 if stale else 0
    for name, data in files.items():
        path = HERE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"samples/{name}: {len(data):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
