#!/usr/bin/env python3
"""Generate a realistic Kubernetes API-server audit log for benchmarks.

One ``audit.k8s.io/v1`` Event per line (JSONL), shaped like the log of a busy
production cluster over about a day:

* most lines are get/list/watch requests by the control plane (kubelets,
  kube-controller-manager's per-controller service accounts, the scheduler)
  and add-ons, logged at ``Metadata`` level with ``objectRef``,
  ``userAgent``, ``sourceIPs`` and the authorization annotations;
* a share of requests also have their ``RequestReceived`` stage logged (same
  ``auditID``, no ``responseStatus``), and watches / exec sessions their
  ``ResponseStarted`` stage;
* lease renewals (node heartbeats, leader election) and endpoints /
  endpointslice updates carry request and response bodies
  (``RequestResponse`` level);
* a few percent are the events rules look at: pod creations with full pod
  specs (securityContext, hostPath volumes, privileged DaemonSets, the odd
  debugging pod), RBAC objects, secrets (metadata only), configmaps, pod
  exec with ``?command=`` URIs, anonymous ``/healthz`` and ``/version``
  probes, token requests, access reviews, CSRs.

The output is written as it is generated (constant memory) and depends only
on ``--seed`` and ``--events``: the same arguments give the same bytes.
Lines are in increasing ``stageTimestamp`` order (RFC 3339, microseconds, Z)
over 24 hours whatever the size, and the stages of one request are written
next to each other. About 985 bytes per event (200 000 events: 197 MB, a few
seconds to write).

    python bench/gen_corpus.py --events 200000 --out /tmp/audit.jsonl
    python bench/gen_corpus.py -n 2000000 --gzip --out /tmp/audit.jsonl.gz

Only the standard library and orjson are used.
"""

from __future__ import annotations

import argparse
import bisect
import gzip
import random
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import IO, Any
from urllib.parse import quote_plus

import orjson

# The log starts here (UTC) and spans DAY_US microseconds whatever its size.
START_US = 1_715_558_400 * 1_000_000  # 2024-05-13T00:00:00Z
DAY_US = 86_400 * 1_000_000

K8S_VERSION = "v1.29.4"
K8S_COMMIT = "55019c83b0fd51ef4ced8c29eec2c4847f896e74"[:7]
KUBELET_UA = f"kubelet/{K8S_VERSION} (linux/amd64) kubernetes/{K8S_COMMIT}"
KCM_UA = f"kube-controller-manager/{K8S_VERSION} (linux/amd64) kubernetes/{K8S_COMMIT}"
SCHED_UA = f"kube-scheduler/{K8S_VERSION} (linux/amd64) kubernetes/{K8S_COMMIT}"
KUBECTL_UA = f"kubectl/{K8S_VERSION} (linux/amd64) kubernetes/{K8S_COMMIT}"

AUTHENTICATED = "system:authenticated"
ALLOW = "allow"

# Controllers that kube-controller-manager runs under their own service
# account, with the resources they mostly read.
CONTROLLERS: dict[str, list[str]] = {
    "replicaset-controller": ["pods", "replicasets"],
    "deployment-controller": ["deployments", "replicasets", "pods"],
    "daemon-set-controller": ["daemonsets", "pods", "nodes", "controllerrevisions"],
    "statefulset-controller": ["statefulsets", "pods", "persistentvolumeclaims"],
    "endpoint-controller": ["endpoints", "services", "pods"],
    "endpointslice-controller": ["endpointslices", "services", "pods", "nodes"],
    "job-controller": ["jobs", "pods"],
    "cronjob-controller": ["cronjobs", "jobs"],
    "namespace-controller": ["namespaces"],
    "node-controller": ["nodes", "pods", "leases"],
    "generic-garbage-collector": ["pods", "replicasets", "configmaps", "secrets", "events"],
    "resourcequota-controller": ["resourcequotas", "pods", "services"],
    "horizontal-pod-autoscaler": ["horizontalpodautoscalers", "deployments"],
    "persistent-volume-binder": ["persistentvolumes", "persistentvolumeclaims", "storageclasses"],
    "attachdetach-controller": ["volumeattachments", "nodes", "pods", "csinodes"],
    "pvc-protection-controller": ["persistentvolumeclaims", "pods"],
    "service-account-controller": ["serviceaccounts", "namespaces"],
    "root-ca-cert-publisher": ["configmaps", "namespaces"],
    "disruption-controller": ["poddisruptionbudgets", "pods", "deployments"],
    "ttl-controller": ["nodes"],
    "certificate-controller": ["certificatesigningrequests"],
    "clusterrole-aggregation-controller": ["clusterroles"],
}

# resource -> (apiGroup, version, namespaced)
RESOURCES: dict[str, tuple[str, str, bool]] = {
    "pods": ("", "v1", True),
    "services": ("", "v1", True),
    "endpoints": ("", "v1", True),
    "configmaps": ("", "v1", True),
    "secrets": ("", "v1", True),
    "serviceaccounts": ("", "v1", True),
    "persistentvolumeclaims": ("", "v1", True),
    "resourcequotas": ("", "v1", True),
    "events": ("", "v1", True),
    "nodes": ("", "v1", False),
    "namespaces": ("", "v1", False),
    "persistentvolumes": ("", "v1", False),
    "replicasets": ("apps", "v1", True),
    "deployments": ("apps", "v1", True),
    "daemonsets": ("apps", "v1", True),
    "statefulsets": ("apps", "v1", True),
    "controllerrevisions": ("apps", "v1", True),
    "jobs": ("batch", "v1", True),
    "cronjobs": ("batch", "v1", True),
    "endpointslices": ("discovery.k8s.io", "v1", True),
    "leases": ("coordination.k8s.io", "v1", True),
    "horizontalpodautoscalers": ("autoscaling", "v2", True),
    "poddisruptionbudgets": ("policy", "v1", True),
    "storageclasses": ("storage.k8s.io", "v1", False),
    "csinodes": ("storage.k8s.io", "v1", False),
    "volumeattachments": ("storage.k8s.io", "v1", False),
    "clusterroles": ("rbac.authorization.k8s.io", "v1", False),
    "clusterrolebindings": ("rbac.authorization.k8s.io", "v1", False),
    "roles": ("rbac.authorization.k8s.io", "v1", True),
    "rolebindings": ("rbac.authorization.k8s.io", "v1", True),
    "certificatesigningrequests": ("certificates.k8s.io", "v1", False),
    "ingresses": ("networking.k8s.io", "v1", True),
    "networkpolicies": ("networking.k8s.io", "v1", True),
}

KIND_OF = {
    "pods": "Pod",
    "services": "Service",
    "endpoints": "Endpoints",
    "configmaps": "ConfigMap",
    "secrets": "Secret",
    "leases": "Lease",
    "endpointslices": "EndpointSlice",
    "clusterroles": "ClusterRole",
    "roles": "Role",
    "rolebindings": "RoleBinding",
    "clusterrolebindings": "ClusterRoleBinding",
    "namespaces": "Namespace",
    "deployments": "Deployment",
    "certificatesigningrequests": "CertificateSigningRequest",
}

# Workloads: namespace -> [(app, image, port)]
WORKLOADS: dict[str, list[tuple[str, str, int]]] = {
    "checkout": [
        ("checkout", "registry.example.com/shop/checkout:2.14.1", 8080),
        ("cart", "registry.example.com/shop/cart:1.9.3", 8080),
        ("redis-cart", "docker.io/library/redis:7.2.4-alpine", 6379),
    ],
    "payments": [
        ("payments-api", "registry.example.com/pay/payments-api:5.2.0", 8443),
        ("ledger", "registry.example.com/pay/ledger:3.1.7", 9000),
    ],
    "search": [
        ("search-frontend", "registry.example.com/search/frontend:0.41.2", 8080),
        ("indexer", "registry.example.com/search/indexer:0.41.2", 8081),
    ],
    "web": [
        ("storefront", "registry.example.com/web/storefront:12.3.0", 3000),
        ("nginx", "docker.io/library/nginx:1.25.4", 80),
    ],
    "data-pipeline": [
        ("kafka-consumer", "registry.example.com/data/consumer:2024.05.1", 8080),
        ("spark-driver", "docker.io/apache/spark:3.5.1", 4040),
    ],
    "monitoring": [
        ("prometheus", "quay.io/prometheus/prometheus:v2.51.2", 9090),
        ("grafana", "docker.io/grafana/grafana:10.4.2", 3000),
        (
            "kube-state-metrics",
            "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.12.0",
            8080,
        ),
    ],
    "ingress-nginx": [
        ("ingress-nginx-controller", "registry.k8s.io/ingress-nginx/controller:v1.10.1", 443)
    ],
    "cert-manager": [("cert-manager", "quay.io/jetstack/cert-manager-controller:v1.14.5", 9402)],
    "argocd": [
        ("argocd-server", "quay.io/argoproj/argocd:v2.11.0", 8080),
        ("argocd-repo-server", "quay.io/argoproj/argocd:v2.11.0", 8081),
    ],
    "kube-system": [
        ("coredns", "registry.k8s.io/coredns/coredns:v1.11.1", 53),
        ("metrics-server", "registry.k8s.io/metrics-server/metrics-server:v0.7.1", 10250),
    ],
}

# Add-on service accounts that read the API a lot: (namespace, sa, [resources]).
ADDON_READERS = [
    ("kube-system", "coredns", ["endpointslices", "services", "namespaces"]),
    ("monitoring", "prometheus", ["pods", "services", "endpoints", "nodes"]),
    ("monitoring", "kube-state-metrics", ["pods", "deployments", "nodes", "jobs", "configmaps"]),
    (
        "ingress-nginx",
        "ingress-nginx",
        ["ingresses", "services", "endpointslices", "secrets", "configmaps"],
    ),
    ("cert-manager", "cert-manager", ["secrets", "ingresses", "leases"]),
    ("argocd", "argocd-application-controller", ["deployments", "services", "configmaps", "pods"]),
    ("kube-system", "metrics-server", ["nodes", "pods"]),
]

HUMANS = [
    ("alice@example.com", ["platform-admins"]),
    ("bob@example.com", ["developers"]),
    ("carol@example.com", ["developers", "oncall"]),
    ("dave@example.com", ["sre"]),
    ("kubernetes-admin", ["system:masters"]),
]
HUMAN_IPS = ["203.0.113.24", "203.0.113.77", "198.51.100.9", "10.8.0.14"]
LB_IPS = ["10.0.0.5", "10.0.0.6", "172.16.4.20"]
# Characters of generated pod-name suffixes (Kubernetes' rand.String alphabet).
POD_SUFFIX = "bcdfghjklmnpqrstvwxz2456789"
#: The mixes ``--profile`` chooses from (see Gen.default_table and Gen.incident_table).
PROFILES = ("default", "incident")
# Where the intruder of the incident profile comes from (documentation ranges).
INTRUDER_ACCOUNTS = [("ci", "deployer"), ("argocd", "argocd-server"), ("monitoring", "grafana")]
INTRUDER_IPS = ["203.0.113.45", "198.51.100.23", "192.0.2.81"]
SCRIPTED_UAS = [
    "python-requests/2.31.0",
    "curl/8.5.0",
    "Go-http-client/1.1",
    "kubernetes-python-client/29.0.0 (python 3.11.9)",
]


class Gen:
    """Stateful generator; ``lines()`` yields the encoded events in time order."""

    def __init__(self, n_events: int, seed: int, profile: str = "default") -> None:
        self.n = n_events
        self.rng = random.Random(seed)
        r = self.rng
        self.now = START_US
        # Mean gap between lines, so the log spans about a day.
        self.gap2 = max(2, 2 * DAY_US // max(1, n_events))
        self._ts_sec = -1
        self._ts_prefix = ""
        self.rv = 48_000_000  # resourceVersion counter

        self.workers = [f"prod-worker-{'abc'[i % 3]}{i:02d}" for i in range(24)]
        self.cps = ["prod-cp-1", "prod-cp-2", "prod-cp-3"]
        self.nodes = self.workers + self.cps
        self.node_ip = {
            n: f"10.0.{1 + i // 10}.{20 + i * 7 % 200}" for i, n in enumerate(self.workers)
        }
        self.node_ip.update({n: f"10.0.0.{11 + i}" for i, n in enumerate(self.cps)})
        self.node_uid = {n: self.uid() for n in self.nodes}
        self.kcm_holder = f"{self.cps[0]}_{self.uid()}"
        self.sched_holder = f"{self.cps[1]}_{self.uid()}"

        # Running pods: (ns, app, pod name, pod uid, node, pod ip, rs hash)
        self.pods: list[tuple[str, str, str, str, str, str, str]] = []
        self.rs_hash: dict[tuple[str, str], str] = {}
        for ns, apps in WORKLOADS.items():
            for app, _image, _port in apps:
                h = self.hexname(9, POD_SUFFIX)
                self.rs_hash[(ns, app)] = h
                for _ in range(r.randint(2, 6)):
                    pod = f"{app}-{h}-{self.hexname(5, POD_SUFFIX)}"
                    ip = f"10.42.{r.randint(0, 63)}.{r.randint(2, 254)}"
                    self.pods.append((ns, app, pod, self.uid(), r.choice(self.workers), ip, h))
        self.namespaces = [*list(WORKLOADS), "default", "kube-public", "kube-node-lease"]
        self.services = [(ns, app) for ns, apps in WORKLOADS.items() for app, _i, _p in apps]
        self.svc_uid = {s: self.uid() for s in self.services}
        self.sa_uid = {f"{ns}:{sa}": self.uid() for ns, sa, _ in ADDON_READERS}
        for c in CONTROLLERS:
            self.sa_uid[f"kube-system:{c}"] = self.uid()
        self.lease_uid = {n: self.uid() for n in self.nodes}

        # (weight, producer) of one request; producers return a list of events.
        table = self.incident_table() if profile == "incident" else self.default_table()
        total = sum(w for w, _ in table)
        acc = 0.0
        self.cum: list[float] = []
        self.producers: list[Callable[[], list[dict[str, Any]]]] = []
        for w, p in table:
            acc += w / total
            self.cum.append(acc)
            self.producers.append(p)

    # -- mixes ------------------------------------------------------------

    def default_table(self) -> list[tuple[float, Callable[[], list[dict[str, Any]]]]]:
        """A day of a busy, quiet cluster: about 1.4 % of events alert."""
        return [
            (43.0, self.kubelet_read),
            (11.0, self.controller_read),
            (10.0, self.scheduler_read),
            (4.0, self.kcm_read),
            (4.0, self.addon_read),
            (3.5, self.node_lease),
            (1.0, self.leader_lease),
            (0.9, self.endpoints_update),
            (1.2, self.endpointslice_update),
            (3.0, self.event_create),
            (1.6, self.pod_status_patch),
            (1.2, self.token_request),
            (1.3, self.human_read),
            (0.55, self.anonymous_probe),
            (0.65, self.pod_create),
            (0.25, self.pod_exec),
            (0.30, self.secret_access),
            (0.30, self.configmap_write),
            (0.30, self.rbac_write),
            (0.15, self.access_review),
            (0.05, self.misc_rare),
        ]

    def incident_table(self) -> list[tuple[float, Callable[[], list[dict[str, Any]]]]]:
        """The day of an incident: the same control-plane traffic, but a stolen
        service-account token used from outside with scripted clients, people
        exec-ing into pods, reading secrets and editing RBAC. About 35 % of events
        raise at least one alert with the built-in rules, mostly Notice and
        Informational activity rules."""
        return [
            (14.0, self.kubelet_read),
            (6.0, self.controller_read),
            (4.0, self.scheduler_read),
            (1.5, self.kcm_read),
            (3.0, self.addon_read),
            (2.0, self.node_lease),
            (0.5, self.leader_lease),
            (0.5, self.endpoints_update),
            (0.6, self.endpointslice_update),
            (1.5, self.event_create),
            (0.8, self.pod_status_patch),
            (0.6, self.token_request),
            (3.0, self.human_read),
            (4.0, self.anonymous_probe),
            (2.0, self.pod_create),
            (4.0, self.pod_exec),
            (3.5, self.secret_access),
            (2.0, self.configmap_write),
            (2.5, self.rbac_write),
            (2.0, self.access_review),
            (0.6, self.misc_rare),
            (20.0, self.intruder_read),
        ]

    # -- small helpers ---------------------------------------------------

    def uid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"

    def hexname(self, n: int, alphabet: str = "0123456789abcdef") -> str:
        return "".join(self.rng.choices(alphabet, k=n))

    def ts(self, us: int) -> str:
        """RFC 3339 UTC with microseconds, e.g. 2024-05-13T10:04:59.123456Z."""
        sec, frac = divmod(us, 1_000_000)
        if sec != self._ts_sec:
            self._ts_sec = sec
            self._ts_prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
        return f"{self._ts_prefix}.{frac:06d}Z"

    def ts_s(self, us: int) -> str:
        """RFC 3339 with second precision (object metadata)."""
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(us // 1_000_000))

    def tick(self) -> int:
        self.now += 1 + int(self.rng.random() * self.gap2)
        return self.now

    def next_rv(self) -> str:
        self.rv += self.rng.randint(1, 40)
        return str(self.rv)

    def uri(
        self,
        resource: str,
        ns: str | None,
        name: str | None = None,
        sub: str | None = None,
        query: str = "",
    ) -> str:
        group, version, _namespaced = RESOURCES[resource]
        base = f"/apis/{group}/{version}" if group else "/api/v1"
        if ns is not None:
            base += f"/namespaces/{ns}"
        base += f"/{resource}"
        if name is not None:
            base += f"/{name}"
        if sub:
            base += f"/{sub}"
        return base + (f"?{query}" if query else "")

    def objref(
        self,
        resource: str,
        ns: str | None,
        name: str | None = None,
        sub: str | None = None,
        uid: str | None = None,
        rv: str | None = None,
    ) -> dict[str, Any]:
        group, version, _namespaced = RESOURCES[resource]
        ref: dict[str, Any] = {"resource": resource}
        if ns is not None:
            ref["namespace"] = ns
        if name is not None:
            ref["name"] = name
        if uid is not None:
            ref["uid"] = uid
        if group:
            ref["apiGroup"] = group
        ref["apiVersion"] = version
        if rv is not None:
            ref["resourceVersion"] = rv
        if sub:
            ref["subresource"] = sub
        return ref

    def event(
        self,
        *,
        level: str,
        verb: str,
        uri: str,
        user: dict[str, Any],
        ips: list[str],
        ua: str | None,
        ref: dict[str, Any] | None,
        code: int,
        reason: str = "",
        latency_us: int | None = None,
        request: dict[str, Any] | None = None,
        response: dict[str, Any] | None = None,
        extra_annotations: dict[str, str] | None = None,
        twin: float = 0.27,
        started: bool = False,
        decision: str = ALLOW,
    ) -> list[dict[str, Any]]:
        """One request: its ResponseComplete event, maybe preceded by the
        RequestReceived and/or ResponseStarted stages of the same auditID."""
        r = self.rng
        audit_id = self.uid()
        if latency_us is None:
            latency_us = int(r.lognormvariate(8.3, 0.9))  # median ~4 ms
        out: list[dict[str, Any]] = []
        # One tick of the clock per line written keeps the log at about a day.
        stage_t = self.tick()
        received_t = stage_t - latency_us
        head: dict[str, Any] = {
            "kind": "Event",
            "apiVersion": "audit.k8s.io/v1",
            "level": level,
            "auditID": audit_id,
            "stage": "ResponseComplete",
            "requestURI": uri,
            "verb": verb,
            "user": user,
            "sourceIPs": ips,
        }
        if ua is not None:
            head["userAgent"] = ua
        if ref is not None:
            head["objectRef"] = ref
        annotations = {
            "authorization.k8s.io/decision": decision,
            "authorization.k8s.io/reason": reason,
        }
        if extra_annotations:
            annotations.update(extra_annotations)
        if r.random() < twin:
            # The RequestReceived stage is logged when the request arrives:
            # no response, no bodies, no authorization yet.
            rr = dict(head)
            rr["stage"] = "RequestReceived"
            received_t = stage_t  # this line takes the first tick
            rr["requestReceivedTimestamp"] = self.ts(received_t)
            rr["stageTimestamp"] = rr["requestReceivedTimestamp"]
            out.append(rr)
            stage_t = self.tick()
        if started:
            rs = dict(head)
            rs["stage"] = "ResponseStarted"
            rs["responseStatus"] = {"metadata": {}, "code": code}
            rs["requestReceivedTimestamp"] = self.ts(received_t)
            rs["stageTimestamp"] = self.ts(stage_t)
            rs["annotations"] = annotations
            out.append(rs)
            stage_t = self.tick()
        ev = head
        status: dict[str, Any] = {"metadata": {}, "code": code}
        if code >= 400:
            status.update(_failure(code))
        ev["responseStatus"] = status
        if request is not None:
            ev["requestObject"] = request
        if response is not None:
            ev["responseObject"] = response
        ev["requestReceivedTimestamp"] = self.ts(received_t)
        ev["stageTimestamp"] = self.ts(stage_t)
        ev["annotations"] = annotations
        out.append(ev)
        return out

    # -- identities ------------------------------------------------------

    def kubelet_user(self, node: str) -> dict[str, Any]:
        return {"username": f"system:node:{node}", "groups": ["system:nodes", AUTHENTICATED]}

    def controller_user(self, c: str) -> dict[str, Any]:
        return {
            "username": f"system:serviceaccount:kube-system:{c}",
            "uid": self.sa_uid[f"kube-system:{c}"],
            "groups": [
                "system:serviceaccounts",
                "system:serviceaccounts:kube-system",
                AUTHENTICATED,
            ],
        }

    def pod_sa_user(self, ns: str, sa: str) -> dict[str, Any]:
        """A service account token projected into a running pod (bound token)."""
        r = self.rng
        node = r.choice(self.workers)
        return {
            "username": f"system:serviceaccount:{ns}:{sa}",
            "uid": self.sa_uid.get(f"{ns}:{sa}") or self.uid(),
            "groups": ["system:serviceaccounts", f"system:serviceaccounts:{ns}", AUTHENTICATED],
            "extra": {
                "authentication.kubernetes.io/credential-id": [f"JTI={self.uid()}"],
                "authentication.kubernetes.io/node-name": [node],
                "authentication.kubernetes.io/node-uid": [self.node_uid[node]],
                "authentication.kubernetes.io/pod-name": [
                    f"{sa}-{self.hexname(10, POD_SUFFIX)}-{self.hexname(5, POD_SUFFIX)}"
                ],
                "authentication.kubernetes.io/pod-uid": [self.uid()],
            },
        }

    def rbac_reason(
        self, binding: str, role: str, subject_kind: str, subject: str, cluster: bool = True
    ) -> str:
        kind = "ClusterRoleBinding" if cluster else "RoleBinding"
        return (
            f'RBAC: allowed by {kind} "{binding}" of ClusterRole "{role}" '
            f'to {subject_kind} "{subject}"'
        )

    # -- control-plane reads (Metadata) ---------------------------------

    def read_shape(
        self, resource: str, ns: str | None, name: str | None
    ) -> tuple[str, str, str | None, bool, int | None]:
        """Pick get/list/watch with a realistic URI; returns (verb, uri, name, started, latency)."""
        r = self.rng
        x = r.random()
        if x < 0.45 and name is not None:
            return "get", self.uri(resource, ns, name), name, False, None
        if x < 0.72:
            q = r.choice(
                [
                    "limit=500&resourceVersion=0",
                    "resourceVersion=0",
                    f"fieldSelector=spec.nodeName%3D{r.choice(self.workers)}&limit=500&resourceVersion=0",
                    "labelSelector=app.kubernetes.io%2Fmanaged-by%3DHelm&limit=500",
                ]
            )
            return "list", self.uri(resource, ns, None, query=q), None, False, None
        rv = str(self.rv - r.randint(0, 5000))
        t = r.randint(300, 599)
        q = (
            f"allowWatchBookmarks=true&resourceVersion={rv}&timeout={t // 60}m{t % 60}s"
            f"&timeoutSeconds={t}&watch=true"
        )
        # A watch completes when its timeout runs out, minutes after it started.
        return (
            "watch",
            self.uri(resource, ns, None, query=q),
            None,
            True,
            t * 1_000_000 + r.randint(0, 999_999),
        )

    def kubelet_read(self) -> list[dict[str, Any]]:
        r = self.rng
        node = r.choice(self.workers + self.cps[:1])
        pod = r.choice(self.pods)
        x = r.random()
        if x < 0.35:
            res, ns, name = "pods", pod[0], pod[2]
        elif x < 0.55:
            res, ns, name = "configmaps", pod[0], r.choice(["kube-root-ca.crt", f"{pod[1]}-config"])
        elif x < 0.65:
            res, ns, name = "secrets", pod[0], f"{pod[1]}-{r.choice(['tls', 'credentials', 'env'])}"
        elif x < 0.80:
            res, ns, name = "nodes", None, node
        elif x < 0.90:
            res, ns, name = "services", None, None
        else:
            res, ns, name = "csinodes", None, node
        verb, uri, name, started, lat = self.read_shape(res, ns, name)
        code = 200 if r.random() > 0.01 else 404
        ref = self.objref(res, ns, name)
        return self.event(
            level="Metadata",
            verb=verb,
            uri=uri,
            user=self.kubelet_user(node),
            ips=[self.node_ip[node]],
            ua=KUBELET_UA,
            ref=ref,
            code=code,
            latency_us=lat,
            started=started and r.random() < 0.35,
        )

    def controller_read(self) -> list[dict[str, Any]]:
        r = self.rng
        c = r.choice(list(CONTROLLERS))
        res = r.choice(CONTROLLERS[c])
        namespaced = RESOURCES[res][2]
        pod = r.choice(self.pods)
        ns = pod[0] if namespaced and r.random() < 0.6 else None
        name = None
        if ns is not None:
            name = (
                pod[2]
                if res == "pods"
                else f"{pod[1]}-{pod[6]}"
                if res == "replicasets"
                else pod[1]
            )
        elif not namespaced:
            name = r.choice(self.nodes) if res in ("nodes", "csinodes") else None
        verb, uri, name, started, lat = self.read_shape(res, ns, name)
        cp = r.choice(self.cps)
        reason = self.rbac_reason(
            f"system:controller:{c}", f"system:controller:{c}", "ServiceAccount", f"{c}/kube-system"
        )
        return self.event(
            level="Metadata",
            verb=verb,
            uri=uri,
            user=self.controller_user(c),
            ips=[self.node_ip[cp]],
            ua=f"{KCM_UA}/system:serviceaccount:kube-system:{c}",
            ref=self.objref(res, ns, name),
            code=200,
            reason=reason,
            latency_us=lat,
            started=started and r.random() < 0.35,
        )

    def scheduler_read(self) -> list[dict[str, Any]]:
        r = self.rng
        res = r.choice(
            [
                "pods",
                "pods",
                "nodes",
                "persistentvolumeclaims",
                "persistentvolumes",
                "csinodes",
                "storageclasses",
                "services",
                "replicasets",
                "statefulsets",
                "poddisruptionbudgets",
                "namespaces",
            ]
        )
        name = None
        ns = None
        if res == "pods" and r.random() < 0.5:
            pod = r.choice(self.pods)
            ns, name = pod[0], pod[2]
        elif res == "nodes" and r.random() < 0.5:
            name = r.choice(self.workers)
        return self.system_user_read(
            "system:kube-scheduler", self.cps[1], f"{SCHED_UA}/scheduler", res, ns, name, 0.35
        )

    def kcm_read(self) -> list[dict[str, Any]]:
        r = self.rng
        res = r.choice(
            [
                "namespaces",
                "nodes",
                "configmaps",
                "secrets",
                "serviceaccounts",
                "persistentvolumes",
                "clusterroles",
            ]
        )
        ns = "kube-system" if res in ("configmaps", "secrets", "serviceaccounts") else None
        name = None
        if res == "configmaps":
            name = r.choice(
                ["extension-apiserver-authentication", "kube-root-ca.crt", "kubeadm-config"]
            )
        elif res == "serviceaccounts":
            name = r.choice(list(CONTROLLERS))
        return self.system_user_read(
            "system:kube-controller-manager",
            self.cps[0],
            f"{KCM_UA}/shared-informers",
            res,
            ns,
            name,
            0.3,
        )

    def system_user_read(
        self,
        user: str,
        node: str,
        ua: str,
        res: str,
        ns: str | None,
        name: str | None,
        started_share: float,
    ) -> list[dict[str, Any]]:
        """A read by a control-plane component that authenticates as a plain user."""
        verb, uri, name, started, lat = self.read_shape(res, ns, name)
        reason = self.rbac_reason(user, user, "User", user)
        return self.event(
            level="Metadata",
            verb=verb,
            uri=uri,
            user={"username": user, "groups": [AUTHENTICATED]},
            ips=[self.node_ip[node]],
            ua=ua,
            ref=self.objref(res, ns, name),
            code=200,
            reason=reason,
            latency_us=lat,
            started=started and self.rng.random() < started_share,
        )

    def addon_read(self) -> list[dict[str, Any]]:
        r = self.rng
        ns, sa, resources = r.choice(ADDON_READERS)
        res = r.choice(resources)
        namespaced = RESOURCES[res][2]
        target_ns = ns if namespaced and r.random() < 0.5 else None
        name = None
        if target_ns is not None and res in ("configmaps", "secrets", "leases"):
            name = f"{sa}-{r.choice(['config', 'leader', 'tls', 'webhook-ca'])}"
        verb, uri, name, started, lat = self.read_shape(res, target_ns, name)
        ua = {
            "coredns": "coredns/v1.11.1 (linux/amd64) kubernetes/ae2bbc2",
            "prometheus": "Prometheus/2.51.2",
            "ingress-nginx": "nginx-ingress-controller/v1.10.1 (linux/amd64) ingress-nginx/4fb5aac",
        }.get(sa, f"{sa}/v0.0.0 (linux/amd64) kubernetes/$Format")
        reason = self.rbac_reason(sa, sa, "ServiceAccount", f"{sa}/{ns}")
        return self.event(
            level="Metadata",
            verb=verb,
            uri=uri,
            user=self.pod_sa_user(ns, sa),
            ips=[f"10.42.{r.randint(0, 63)}.{r.randint(2, 254)}"],
            ua=ua,
            ref=self.objref(res, target_ns, name),
            code=200,
            reason=reason,
            latency_us=lat,
            started=started and r.random() < 0.3,
        )

    # -- frequent writes with bodies (RequestResponse) -------------------

    def lease_obj(
        self,
        ns: str,
        name: str,
        uid: str,
        rv: str,
        holder: str,
        duration: int,
        renew_us: int,
        manager: str,
        owner: tuple[str, str] | None,
        acquire_us: int | None = None,
        transitions: int | None = None,
    ) -> dict[str, Any]:
        spec_fields: dict[str, Any] = {
            "f:holderIdentity": {},
            "f:leaseDurationSeconds": {},
            "f:renewTime": {},
        }
        spec: dict[str, Any] = {"holderIdentity": holder, "leaseDurationSeconds": duration}
        if acquire_us is not None:
            spec["acquireTime"] = self.ts(acquire_us)
            spec_fields["f:acquireTime"] = {}
        spec["renewTime"] = self.ts(renew_us)
        if transitions is not None:
            spec["leaseTransitions"] = transitions
            spec_fields["f:leaseTransitions"] = {}
        meta: dict[str, Any] = {
            "name": name,
            "namespace": ns,
            "uid": uid,
            "resourceVersion": rv,
            "creationTimestamp": self.ts_s(START_US - 3_456_000_000_000),
        }
        fields: dict[str, Any] = {"f:spec": spec_fields}
        if owner is not None:
            meta["ownerReferences"] = [
                {"apiVersion": "v1", "kind": "Node", "name": owner[0], "uid": owner[1]}
            ]
            fields = {
                "f:metadata": {"f:ownerReferences": {".": {}, f'k:{{"uid":"{owner[1]}"}}': {}}},
                "f:spec": spec_fields,
            }
        meta["managedFields"] = [
            {
                "manager": manager,
                "operation": "Update",
                "apiVersion": "coordination.k8s.io/v1",
                "time": self.ts_s(renew_us),
                "fieldsType": "FieldsV1",
                "fieldsV1": fields,
            }
        ]
        return {
            "kind": "Lease",
            "apiVersion": "coordination.k8s.io/v1",
            "metadata": meta,
            "spec": spec,
        }

    def node_lease(self) -> list[dict[str, Any]]:
        """The kubelet heartbeat: an update of kube-node-lease/<node> every 10 s."""
        r = self.rng
        node = r.choice(self.nodes)
        uid = self.lease_uid[node]
        old_rv = str(self.rv)
        new_rv = self.next_rv()
        renew = self.now
        owner = (node, self.node_uid[node])
        req = self.lease_obj(
            "kube-node-lease", node, uid, old_rv, node, 40, renew, "kubelet", owner
        )
        resp = self.lease_obj(
            "kube-node-lease", node, uid, new_rv, node, 40, renew, "kubelet", owner
        )
        return self.event(
            level="RequestResponse",
            verb="update",
            uri=self.uri("leases", "kube-node-lease", node, query="timeout=10s"),
            user=self.kubelet_user(node),
            ips=[self.node_ip[node]],
            ua=KUBELET_UA,
            ref=self.objref("leases", "kube-node-lease", node, uid=uid, rv=old_rv),
            code=200,
            request=req,
            response=resp,
            twin=0.1,
        )

    def leader_lease(self) -> list[dict[str, Any]]:
        """Leader election renewals: control plane and add-on operators."""
        r = self.rng
        x = r.random()
        if x < 0.4:
            name, user, ua, holder, ip = (
                "kube-controller-manager",
                {"username": "system:kube-controller-manager", "groups": [AUTHENTICATED]},
                f"{KCM_UA}/leader-election",
                self.kcm_holder,
                self.node_ip[self.cps[0]],
            )
            ns, dur, reason = (
                "kube-system",
                15,
                self.rbac_reason(
                    "system:kube-controller-manager",
                    "system:kube-controller-manager",
                    "User",
                    "system:kube-controller-manager",
                ),
            )
        elif x < 0.8:
            name, user, ua, holder, ip = (
                "kube-scheduler",
                {"username": "system:kube-scheduler", "groups": [AUTHENTICATED]},
                f"{SCHED_UA}/leader-election",
                self.sched_holder,
                self.node_ip[self.cps[1]],
            )
            ns, dur, reason = (
                "kube-system",
                15,
                self.rbac_reason(
                    "system:kube-scheduler",
                    "system:kube-scheduler",
                    "User",
                    "system:kube-scheduler",
                ),
            )
        else:
            ns, sa = r.choice(
                [
                    ("cert-manager", "cert-manager"),
                    ("ingress-nginx", "ingress-nginx"),
                    ("argocd", "argocd-application-controller"),
                ]
            )
            name = f"{sa}-leader-election"
            user = self.pod_sa_user(ns, sa)
            ua = f"{sa}/v1 (linux/amd64) leader-election"
            holder = f"{sa}-7f9c8d6b54-x2k9p_{self.uid()[:8]}"
            ip = f"10.42.{r.randint(0, 63)}.{r.randint(2, 254)}"
            dur = 60
            reason = self.rbac_reason(
                f"{sa}:leaderelection",
                f"{sa}:leaderelection",
                "ServiceAccount",
                f"{sa}/{ns}",
                cluster=False,
            )
        uid = self.lease_uid.setdefault(f"{ns}/{name}", self.uid())
        old_rv, new_rv = str(self.rv), self.next_rv()
        acquire = START_US - 7_200_000_000
        req = self.lease_obj(
            ns,
            name,
            uid,
            old_rv,
            holder,
            dur,
            self.now,
            ua.split("/")[0],
            None,
            acquire_us=acquire,
            transitions=3,
        )
        resp = self.lease_obj(
            ns,
            name,
            uid,
            new_rv,
            holder,
            dur,
            self.now,
            ua.split("/")[0],
            None,
            acquire_us=acquire,
            transitions=3,
        )
        return self.event(
            level="RequestResponse",
            verb="update",
            uri=self.uri("leases", ns, name, query="timeout=5s"),
            user=user,
            ips=[ip],
            ua=ua,
            ref=self.objref("leases", ns, name, uid=uid, rv=old_rv),
            code=200,
            reason=reason,
            request=req,
            response=resp,
            twin=0.1,
        )

    def endpoints_update(self) -> list[dict[str, Any]]:
        r = self.rng
        ns, app = r.choice(self.services)
        pods = [p for p in self.pods if p[0] == ns and p[1] == app][:3]
        port = next(p for a, _i, p in WORKLOADS[ns] if a == app)
        rv = str(self.rv)
        obj: dict[str, Any] = {
            "kind": "Endpoints",
            "apiVersion": "v1",
            "metadata": {
                "name": app,
                "namespace": ns,
                "uid": self.svc_uid[(ns, app)],
                "resourceVersion": rv,
                "creationTimestamp": self.ts_s(START_US - 864_000_000_000),
                "labels": {"app.kubernetes.io/name": app},
                "annotations": {
                    "endpoints.kubernetes.io/last-change-trigger-time": self.ts_s(self.now)
                },
            },
            "subsets": [
                {
                    "addresses": [
                        {
                            "ip": p[5],
                            "nodeName": p[4],
                            "targetRef": {
                                "kind": "Pod",
                                "namespace": ns,
                                "name": p[2],
                                "uid": p[3],
                            },
                        }
                        for p in pods
                    ],
                    "ports": [{"name": "http", "port": port, "protocol": "TCP"}],
                }
            ],
        }
        c = "endpoint-controller"
        reason = self.rbac_reason(
            f"system:controller:{c}", f"system:controller:{c}", "ServiceAccount", f"{c}/kube-system"
        )
        resp = dict(obj)
        resp["metadata"] = dict(obj["metadata"], resourceVersion=self.next_rv())
        return self.event(
            level="RequestResponse",
            verb="update",
            uri=self.uri("endpoints", ns, app),
            user=self.controller_user(c),
            ips=[self.node_ip[self.cps[0]]],
            ua=f"{KCM_UA}/system:serviceaccount:kube-system:{c}",
            ref=self.objref("endpoints", ns, app, uid=self.svc_uid[(ns, app)], rv=rv),
            code=200,
            reason=reason,
            request=obj,
            response=resp,
        )

    def endpointslice_update(self) -> list[dict[str, Any]]:
        r = self.rng
        ns, app = r.choice(self.services)
        pods = [p for p in self.pods if p[0] == ns and p[1] == app][:3]
        port = next(p for a, _i, p in WORKLOADS[ns] if a == app)
        name = f"{app}-{self.rs_hash[(ns, app)][:5]}"
        rv = str(self.rv)
        obj = {
            "kind": "EndpointSlice",
            "apiVersion": "discovery.k8s.io/v1",
            "metadata": {
                "name": name,
                "generateName": f"{app}-",
                "namespace": ns,
                "uid": self.svc_uid[(ns, app)],
                "resourceVersion": rv,
                "generation": r.randint(2, 900),
                "labels": {
                    "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                    "kubernetes.io/service-name": app,
                },
                "ownerReferences": [
                    {
                        "apiVersion": "v1",
                        "kind": "Service",
                        "name": app,
                        "uid": self.svc_uid[(ns, app)],
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "addressType": "IPv4",
            "endpoints": [
                {
                    "addresses": [p[5]],
                    "conditions": {"ready": True, "serving": True, "terminating": False},
                    "targetRef": {"kind": "Pod", "namespace": ns, "name": p[2], "uid": p[3]},
                    "nodeName": p[4],
                    "zone": "eu-west-1" + "abc"[len(p[4]) % 3],
                }
                for p in pods
            ],
            "ports": [{"name": "http", "protocol": "TCP", "port": port}],
        }
        c = "endpointslice-controller"
        reason = self.rbac_reason(
            f"system:controller:{c}", f"system:controller:{c}", "ServiceAccount", f"{c}/kube-system"
        )
        return self.event(
            level="RequestResponse",
            verb="update",
            uri=self.uri("endpointslices", ns, name),
            user=self.controller_user(c),
            ips=[self.node_ip[self.cps[0]]],
            ua=f"{KCM_UA}/system:serviceaccount:kube-system:{c}",
            ref=self.objref("endpointslices", ns, name, uid=self.svc_uid[(ns, app)], rv=rv),
            code=200,
            reason=reason,
            request=obj,
        )

    # -- other control-plane writes --------------------------------------

    def event_create(self) -> list[dict[str, Any]]:
        r = self.rng
        pod = r.choice(self.pods)
        name = f"{pod[2]}.{r.getrandbits(60):x}"
        if r.random() < 0.6:
            user, ua, ip = self.kubelet_user(pod[4]), KUBELET_UA, self.node_ip[pod[4]]
            reason = ""
        else:
            c = r.choice(["replicaset-controller", "deployment-controller", "job-controller"])
            user, ua, ip = (
                self.controller_user(c),
                f"{KCM_UA}/system:serviceaccount:kube-system:{c}",
                self.node_ip[self.cps[0]],
            )
            reason = self.rbac_reason(
                f"system:controller:{c}",
                f"system:controller:{c}",
                "ServiceAccount",
                f"{c}/kube-system",
            )
        verb = "create" if r.random() < 0.7 else "patch"
        return self.event(
            level="Metadata",
            verb=verb,
            uri=self.uri("events", pod[0], None if verb == "create" else name),
            user=user,
            ips=[ip],
            ua=ua,
            ref=self.objref("events", pod[0], name),
            code=201 if verb == "create" else 200,
            reason=reason,
        )

    def pod_status_patch(self) -> list[dict[str, Any]]:
        r = self.rng
        pod = r.choice(self.pods)
        t = self.ts_s(self.now)
        body = {
            "metadata": {"uid": pod[3]},
            "status": {
                "$setElementOrder/conditions": [
                    {"type": "PodReadyToStartContainers"},
                    {"type": "Initialized"},
                    {"type": "Ready"},
                    {"type": "ContainersReady"},
                    {"type": "PodScheduled"},
                ],
                "conditions": [
                    {"lastTransitionTime": t, "status": "True", "type": "Ready"},
                    {"lastTransitionTime": t, "status": "True", "type": "ContainersReady"},
                ],
                "containerStatuses": [
                    {
                        "containerID": f"containerd://{r.getrandbits(256):064x}",
                        "image": next(i for a, i, _p in WORKLOADS[pod[0]] if a == pod[1]),
                        "name": pod[1],
                        "ready": True,
                        "restartCount": r.randint(0, 3),
                        "started": True,
                        "state": {"running": {"startedAt": t}},
                    }
                ],
            },
        }
        return self.event(
            level="Request",
            verb="patch",
            uri=self.uri("pods", pod[0], pod[2], sub="status"),
            user=self.kubelet_user(pod[4]),
            ips=[self.node_ip[pod[4]]],
            ua=KUBELET_UA,
            ref=self.objref("pods", pod[0], pod[2], sub="status"),
            code=200,
            request=body,
        )

    def token_request(self) -> list[dict[str, Any]]:
        """Kubelets refresh projected service-account tokens (TokenRequest)."""
        r = self.rng
        pod = r.choice(self.pods)
        sa = pod[1]
        body = {
            "kind": "TokenRequest",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"name": sa, "namespace": pod[0], "creationTimestamp": None},
            "spec": {
                "audiences": ["https://kubernetes.default.svc.cluster.local"],
                "expirationSeconds": 3607,
                "boundObjectRef": {
                    "kind": "Pod",
                    "apiVersion": "v1",
                    "name": pod[2],
                    "uid": pod[3],
                },
            },
            "status": {"token": "", "expirationTimestamp": None},
        }
        return self.event(
            level="Request",
            verb="create",
            uri=self.uri("serviceaccounts", pod[0], sa, sub="token"),
            user=self.kubelet_user(pod[4]),
            ips=[self.node_ip[pod[4]]],
            ua=KUBELET_UA,
            ref=self.objref("serviceaccounts", pod[0], sa, sub="token"),
            code=201,
            request=body,
        )

    # -- people, probes and the rare interesting events ------------------

    def human(self) -> tuple[dict[str, Any], str]:
        r = self.rng
        name, groups = r.choice(HUMANS)
        return {"username": name, "groups": [*groups, AUTHENTICATED]}, r.choice(HUMAN_IPS)

    def human_read(self) -> list[dict[str, Any]]:
        r = self.rng
        user, ip = self.human()
        pod = r.choice(self.pods)
        res = r.choice(
            [
                "pods",
                "pods",
                "deployments",
                "services",
                "events",
                "configmaps",
                "nodes",
                "namespaces",
                "ingresses",
            ]
        )
        ns = None if res in ("nodes", "namespaces") else pod[0]
        name = pod[2] if res == "pods" and r.random() < 0.4 else None
        verb, uri, name, started, lat = self.read_shape(res, ns, name)
        ua = KUBECTL_UA if r.random() < 0.8 else r.choice(SCRIPTED_UAS)
        code = 200 if r.random() < 0.95 else 403
        return self.event(
            level="Metadata",
            verb=verb,
            uri=uri,
            user=user,
            ips=[ip],
            ua=ua,
            ref=self.objref(res, ns, name),
            code=code,
            latency_us=lat,
            started=started,
            decision=ALLOW if code == 200 else "forbid",
            reason=self.rbac_reason("devs-view", "view", "Group", user["groups"][0])
            if code == 200
            else "",
        )

    def anonymous_probe(self) -> list[dict[str, Any]]:
        r = self.rng
        x = r.random()
        if x < 0.8:
            uri = r.choice(
                ["/healthz", "/livez", "/readyz", "/readyz?verbose", "/healthz/etcd", "/version"]
            )
            code, decision = 200, ALLOW
            reason = (
                'RBAC: allowed by ClusterRoleBinding "system:public-info-viewer" of ClusterRole '
                '"system:public-info-viewer" to Group "system:unauthenticated"'
            )
            ua, ip = (
                r.choice(["kube-probe/1.29", "ELB-HealthChecker/2.0", "Go-http-client/1.1"]),
                r.choice(LB_IPS),
            )
        else:
            uri = r.choice(
                [
                    "/api",
                    "/apis",
                    "/api/v1/namespaces/kube-system/secrets",
                    "/.env",
                    "/api/v1/pods",
                    "/apis/apps/v1/deployments",
                    "/metrics",
                ]
            )
            code, decision, reason = 403, "forbid", ""
            ua, ip = (
                r.choice([*SCRIPTED_UAS, "Mozilla/5.0 zgrab/0.x"]),
                f"185.220.{r.randint(0, 255)}.{r.randint(1, 254)}",
            )
        return self.event(
            level="Metadata",
            verb="get",
            uri=uri,
            user={"username": "system:anonymous", "groups": ["system:unauthenticated"]},
            ips=[ip],
            ua=ua,
            ref=None,
            code=code,
            decision=decision,
            reason=reason,
            twin=0.0,
        )

    def container(
        self,
        name: str,
        image: str,
        port: int | None,
        sc: dict[str, Any],
        mounts: list[dict[str, Any]],
        env: bool = True,
    ) -> dict[str, Any]:
        r = self.rng
        c: dict[str, Any] = {"name": name, "image": image}
        if port:
            c["ports"] = [
                {"name": "http" if port != 53 else "dns", "containerPort": port, "protocol": "TCP"}
            ]
        if env:
            c["env"] = [
                {
                    "name": "POD_NAME",
                    "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}},
                },
                {
                    "name": "POD_NAMESPACE",
                    "valueFrom": {
                        "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}
                    },
                },
                {"name": "LOG_LEVEL", "value": r.choice(["info", "warn", "debug"])},
            ]
        c["resources"] = {
            "limits": {
                "cpu": r.choice(["500m", "1", "2"]),
                "memory": r.choice(["256Mi", "512Mi", "1Gi"]),
            },
            "requests": {
                "cpu": r.choice(["50m", "100m", "250m"]),
                "memory": r.choice(["64Mi", "128Mi", "256Mi"]),
            },
        }
        c["volumeMounts"] = mounts
        if port:
            c["livenessProbe"] = {
                "httpGet": {"path": "/healthz", "port": port, "scheme": "HTTP"},
                "initialDelaySeconds": 10,
                "timeoutSeconds": 1,
                "periodSeconds": 10,
                "successThreshold": 1,
                "failureThreshold": 3,
            }
        c["terminationMessagePath"] = "/dev/termination-log"
        c["terminationMessagePolicy"] = "File"
        c["imagePullPolicy"] = "IfNotPresent"
        c["securityContext"] = sc
        return c

    def pod_spec(
        self,
        containers: list[dict[str, Any]],
        volumes: list[dict[str, Any]],
        sa: str,
        node: str | None = None,
        init: list[dict[str, Any]] | None = None,
        host: tuple[bool, bool, bool] = (False, False, False),
        pod_sc: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        spec: dict[str, Any] = {"volumes": [*volumes, self.api_access_volume()]}
        if init:
            spec["initContainers"] = init
        spec["containers"] = containers
        spec.update(
            {
                "restartPolicy": "Always",
                "terminationGracePeriodSeconds": 30,
                "dnsPolicy": "ClusterFirst",
                "serviceAccountName": sa,
                "serviceAccount": sa,
            }
        )
        if node:
            spec["nodeName"] = node
        if host[0]:
            spec["hostNetwork"] = True
        if host[1]:
            spec["hostPID"] = True
        if host[2]:
            spec["hostIPC"] = True
        spec["securityContext"] = pod_sc or {}
        spec.update(
            {
                "schedulerName": "default-scheduler",
                "tolerations": [
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
                ],
                "priority": 0,
                "enableServiceLinks": True,
                "preemptionPolicy": "PreemptLowerPriority",
            }
        )
        return spec

    def api_access_volume(self) -> dict[str, Any]:
        return {
            "name": f"kube-api-access-{self.hexname(5, POD_SUFFIX)}",
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

    def pod_create(self) -> list[dict[str, Any]]:
        """A pod creation: ReplicaSet pods (most), privileged DaemonSet pods with
        hostPath volumes, static mirror pods, and people's debugging pods."""
        r = self.rng
        x = r.random()
        if x < 0.70:
            pod, user, ua, ip, reason = self.replicaset_pod()
        elif x < 0.90:
            pod, user, ua, ip, reason = self.daemonset_pod()
        elif x < 0.96:
            pod, user, ua, ip, reason = self.mirror_pod()
        else:
            pod, user, ua, ip, reason = self.debug_pod()
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        extra = {"pod-security.kubernetes.io/enforce-policy": "privileged:latest"}
        return self.event(
            level="Request",
            verb="create",
            uri=self.uri("pods", ns),
            user=user,
            ips=[ip],
            ua=ua,
            ref=self.objref("pods", ns, name),
            code=201,
            reason=reason,
            request=pod,
            extra_annotations=extra,
            latency_us=int(r.lognormvariate(9.5, 0.5)),
        )

    def pod_object(
        self,
        ns: str,
        name: str,
        labels: dict[str, str],
        spec: dict[str, Any],
        annotations: dict[str, str] | None = None,
        owner: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "name": name,
            "namespace": ns,
            "creationTimestamp": None,
            "labels": labels,
        }
        if annotations:
            meta["annotations"] = annotations
        if owner:
            meta["ownerReferences"] = [owner]
        return {"kind": "Pod", "apiVersion": "v1", "metadata": meta, "spec": spec, "status": {}}

    def controller_identity(self, c: str) -> tuple[dict[str, Any], str, str, str]:
        """(user, userAgent, source IP, RBAC reason) of a kube-controller-manager controller."""
        reason = self.rbac_reason(
            f"system:controller:{c}", f"system:controller:{c}", "ServiceAccount", f"{c}/kube-system"
        )
        return (
            self.controller_user(c),
            f"{KCM_UA}/system:serviceaccount:kube-system:{c}",
            self.node_ip[self.cps[0]],
            reason,
        )

    def replicaset_pod(self) -> tuple[dict[str, Any], dict[str, Any], str, str, str]:
        """An application pod: restricted securityContext, configMap and emptyDir volumes."""
        r = self.rng
        ns = r.choice(list(WORKLOADS))
        app, image, port = r.choice(WORKLOADS[ns])
        h = self.rs_hash[(ns, app)]
        name = f"{app}-{h}-{self.hexname(5, POD_SUFFIX)}"
        restricted = {
            "runAsNonRoot": True,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        }
        vols = [
            {"name": "config", "configMap": {"name": f"{app}-config", "defaultMode": 420}},
            {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
        ]
        mounts: list[dict[str, Any]] = [
            {"name": "config", "readOnly": True, "mountPath": "/etc/app"},
            {"name": "tmp", "mountPath": "/tmp"},
        ]
        spec = self.pod_spec(
            [self.container(app, image, port, restricted, mounts)],
            vols,
            app,
            pod_sc={
                "runAsUser": 10001,
                "fsGroup": 10001,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
        )
        owner = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "name": f"{app}-{h}",
            "uid": self.uid(),
            "controller": True,
            "blockOwnerDeletion": True,
        }
        pod = self.pod_object(
            ns,
            name,
            {
                "app.kubernetes.io/name": app,
                "app.kubernetes.io/part-of": ns,
                "pod-template-hash": h,
            },
            spec,
            {"kubectl.kubernetes.io/restartedAt": self.ts_s(START_US - 86_400_000_000)},
            owner,
        )
        return (pod, *self.controller_identity("replicaset-controller"))

    def daemonset_pod(self) -> tuple[dict[str, Any], dict[str, Any], str, str, str]:
        """Node agents: privileged CNI and kube-proxy, host namespaces, hostPath mounts."""
        r = self.rng
        kind = r.choice(["cilium", "node-exporter", "fluent-bit", "kube-proxy"])
        ns = {"node-exporter": "monitoring", "fluent-bit": "logging"}.get(kind, "kube-system")
        vols: list[dict[str, Any]]
        mounts: list[dict[str, Any]]
        init: list[dict[str, Any]] | None = None
        host = (True, False, False)  # hostNetwork, hostPID, hostIPC
        if kind == "cilium":
            paths = [
                ("/sys/fs/bpf", "DirectoryOrCreate"),
                ("/proc", "Directory"),
                ("/run/cilium/cgroupv2", "DirectoryOrCreate"),
                ("/etc/cni/net.d", "DirectoryOrCreate"),
                ("/lib/modules", ""),
                ("/run/xtables.lock", "FileOrCreate"),
            ]
            vols = [
                {"name": p.strip("/").replace("/", "-"), "hostPath": {"path": p, "type": t}}
                for p, t in paths
            ]
            mounts = [{"name": v["name"], "mountPath": v["hostPath"]["path"]} for v in vols]
            image = (
                "quay.io/cilium/cilium:v1.15.4"
                "@sha256:b760a4831f5aab71c711f7537a107b751d0d0ce90dd32d8b358df3c5da385426"
            )
            sc = {
                "privileged": True,
                "capabilities": {"add": ["NET_ADMIN", "SYS_MODULE", "SYS_ADMIN"]},
                "seLinuxOptions": {"type": "spc_t", "level": "s0"},
            }
            containers = [self.container("cilium-agent", image, 9879, sc, mounts)]
            init = [
                self.container(
                    "mount-cgroup", image, None, {"privileged": True}, mounts[2:3], env=False
                ),
                self.container(
                    "clean-cilium-state",
                    image,
                    None,
                    {"privileged": True, "capabilities": {"add": ["NET_ADMIN"]}},
                    mounts[:1],
                    env=False,
                ),
            ]
        elif kind == "node-exporter":
            vols = [
                {"name": n, "hostPath": {"path": p, "type": ""}}
                for n, p in (("proc", "/proc"), ("sys", "/sys"), ("root", "/"))
            ]
            mounts = [
                {"name": "proc", "readOnly": True, "mountPath": "/host/proc"},
                {"name": "sys", "readOnly": True, "mountPath": "/host/sys"},
                {
                    "name": "root",
                    "readOnly": True,
                    "mountPath": "/host/root",
                    "mountPropagation": "HostToContainer",
                },
            ]
            containers = [
                self.container(
                    "node-exporter",
                    "quay.io/prometheus/node-exporter:v1.8.0",
                    9100,
                    {"readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False},
                    mounts,
                )
            ]
            host = (True, True, False)
        elif kind == "fluent-bit":
            vols = [
                {"name": "varlog", "hostPath": {"path": "/var/log", "type": ""}},
                {
                    "name": "containers",
                    "hostPath": {"path": "/var/lib/docker/containers", "type": ""},
                },
            ]
            mounts = [
                {"name": "varlog", "mountPath": "/var/log"},
                {"name": "containers", "readOnly": True, "mountPath": "/var/lib/docker/containers"},
            ]
            containers = [
                self.container(
                    "fluent-bit", "cr.fluentbit.io/fluent/fluent-bit:3.0.3", 2020, {}, mounts
                )
            ]
            host = (False, False, False)
        else:
            vols = [
                {"name": "lib-modules", "hostPath": {"path": "/lib/modules", "type": ""}},
                {
                    "name": "xtables-lock",
                    "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"},
                },
            ]
            mounts = [
                {"name": "lib-modules", "readOnly": True, "mountPath": "/lib/modules"},
                {"name": "xtables-lock", "mountPath": "/run/xtables.lock"},
            ]
            containers = [
                self.container(
                    "kube-proxy",
                    f"registry.k8s.io/kube-proxy:{K8S_VERSION}",
                    None,
                    {"privileged": True},
                    mounts,
                )
            ]
        spec = self.pod_spec(
            containers, vols, kind, node=r.choice(self.workers), init=init, host=host
        )
        spec["priorityClassName"] = "system-node-critical"
        owner = {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "name": kind,
            "uid": self.uid(),
            "controller": True,
            "blockOwnerDeletion": True,
        }
        pod = self.pod_object(
            ns,
            f"{kind}-{self.hexname(5, POD_SUFFIX)}",
            {"k8s-app": kind, "controller-revision-hash": self.hexname(10)},
            spec,
            None,
            owner,
        )
        return (pod, *self.controller_identity("daemon-set-controller"))

    def mirror_pod(self) -> tuple[dict[str, Any], dict[str, Any], str, str, str]:
        """A control-plane static pod registered by its node's kubelet (config.mirror)."""
        r = self.rng
        node = r.choice(self.cps)
        comp = r.choice(["kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"])
        vols = [
            {
                "name": "k8s-certs",
                "hostPath": {"path": "/etc/kubernetes/pki", "type": "DirectoryOrCreate"},
            },
            {
                "name": "ca-certs",
                "hostPath": {"path": "/etc/ssl/certs", "type": "DirectoryOrCreate"},
            },
        ]
        mounts = [
            {"name": "k8s-certs", "readOnly": True, "mountPath": "/etc/kubernetes/pki"},
            {"name": "ca-certs", "readOnly": True, "mountPath": "/etc/ssl/certs"},
        ]
        image = (
            f"registry.k8s.io/{comp}:{K8S_VERSION}"
            if comp != "etcd"
            else "registry.k8s.io/etcd:3.5.12-0"
        )
        spec = self.pod_spec(
            [self.container(comp, image, None, {}, mounts, env=False)],
            vols,
            "default",
            node=node,
            host=(True, False, False),
            pod_sc={"seccompProfile": {"type": "RuntimeDefault"}},
        )
        spec["priorityClassName"] = "system-node-critical"
        annotations = {
            "kubernetes.io/config.mirror": self.hexname(32),
            "kubernetes.io/config.seen": self.ts(self.now),
            "kubernetes.io/config.source": "file",
        }
        owner = {
            "apiVersion": "v1",
            "kind": "Node",
            "name": node,
            "uid": self.node_uid[node],
            "controller": True,
        }
        pod = self.pod_object(
            "kube-system",
            f"{comp}-{node}",
            {"component": comp, "tier": "control-plane"},
            spec,
            annotations,
            owner,
        )
        return pod, self.kubelet_user(node), KUBELET_UA, self.node_ip[node], ""

    def debug_pod(self) -> tuple[dict[str, Any], dict[str, Any], str, str, str]:
        """Somebody's debugging pod; half of them privileged with the host's root mounted."""
        r = self.rng
        user, ip = self.human()
        name = f"debug-{self.hexname(5, POD_SUFFIX)}"
        image = r.choice(["docker.io/nicolaka/netshoot:latest", "busybox:1.36", "ubuntu:22.04"])
        bad = r.random() < 0.5
        vols = [{"name": "host", "hostPath": {"path": "/", "type": ""}}] if bad else []
        mounts = [{"name": "host", "mountPath": "/host"}] if bad else []
        sc = {"privileged": True} if bad else {"allowPrivilegeEscalation": True}
        c0 = self.container("debug", image, None, sc, mounts, env=False)
        c0.update({"command": ["sleep", "infinity"], "stdin": True, "tty": True})
        spec = self.pod_spec([c0], vols, "default", host=(bad, bad, False))
        pod = self.pod_object(
            r.choice(["default", "kube-system", "payments"]), name, {"run": name}, spec
        )
        return pod, user, KUBECTL_UA, ip, ""

    def pod_exec(self) -> list[dict[str, Any]]:
        """kubectl exec/attach/port-forward: a ResponseStarted (101) and a ResponseComplete."""
        r = self.rng
        pod = r.choice(self.pods)
        user, ip = self.human()
        sub = "exec" if r.random() < 0.85 else r.choice(["attach", "portforward"])
        if sub == "exec":
            cmd = r.choice(
                [
                    ["sh"],
                    ["/bin/bash"],
                    ["sh", "-c", "cat /etc/resolv.conf"],
                    ["env"],
                    ["ps", "aux"],
                    ["cat", "/var/run/secrets/kubernetes.io/serviceaccount/token"],
                ]
            )
            q = "&".join(f"command={quote_plus(c)}" for c in cmd)
            q += f"&container={pod[1]}&stdin=true&stdout=true&tty=true"
        elif sub == "attach":
            q = f"container={pod[1]}&stdin=true&stdout=true&tty=true"
        else:
            q = "ports=8080"
        verb = "create" if r.random() < 0.8 else "get"
        return self.event(
            level="Metadata",
            verb=verb,
            uri=self.uri("pods", pod[0], pod[2], sub=sub, query=q),
            user=user,
            ips=[ip],
            ua=KUBECTL_UA,
            ref=self.objref("pods", pod[0], pod[2], sub=sub),
            code=101,
            started=True,
            latency_us=r.randint(2_000_000, 900_000_000),
            reason=self.rbac_reason("oncall-exec", "edit", "Group", user["groups"][0]),
        )

    def secret_access(self) -> list[dict[str, Any]]:
        """Secrets are logged at Metadata level (bodies never): reads, cluster-wide
        lists, cert-manager writes, and denied attempts."""
        r = self.rng
        x = r.random()
        pod = r.choice(self.pods)
        name = f"{pod[1]}-{r.choice(['tls', 'credentials', 'db-password', 'api-key'])}"
        if x < 0.5:
            ns, sa = r.choice(
                [
                    ("argocd", "argocd-application-controller"),
                    ("cert-manager", "cert-manager"),
                    ("ingress-nginx", "ingress-nginx"),
                ]
            )
            user, ip, ua = (
                self.pod_sa_user(ns, sa),
                f"10.42.{r.randint(0, 63)}.{r.randint(2, 254)}",
                f"{sa}/v1",
            )
            verb, code, uri = "get", 200, self.uri("secrets", pod[0], name)
            ref = self.objref("secrets", pod[0], name)
        elif x < 0.65:
            user, ip = self.human()
            ua, verb, code = KUBECTL_UA, "list", 200
            uri, ref = self.uri("secrets", None, query="limit=500"), self.objref("secrets", None)
        elif x < 0.85:
            user, ip, ua = (
                self.pod_sa_user("cert-manager", "cert-manager"),
                "10.42.7.19",
                "cert-manager/v1",
            )
            verb, code = r.choice([("create", 201), ("update", 200), ("delete", 200)])
            uri = self.uri("secrets", pod[0], None if verb == "create" else name)
            ref = self.objref("secrets", pod[0], name)
        else:
            ns = r.choice(["web", "search", "data-pipeline"])
            user, ip, ua = (
                self.pod_sa_user(ns, "default"),
                f"10.42.{r.randint(0, 63)}.{r.randint(2, 254)}",
                r.choice(SCRIPTED_UAS),
            )
            verb, code, uri = "get", 403, self.uri("secrets", "kube-system", "cluster-admin-token")
            ref = self.objref("secrets", "kube-system", "cluster-admin-token")
        return self.event(
            level="Metadata",
            verb=verb,
            uri=uri,
            user=user,
            ips=[ip],
            ua=ua,
            ref=ref,
            code=code,
            decision=ALLOW if code < 400 else "forbid",
            reason=self.rbac_reason("secret-access", "secret-reader", "ServiceAccount", "x")
            if code < 400
            else "",
        )

    def configmap_write(self) -> list[dict[str, Any]]:
        r = self.rng
        ns, apps = r.choice([(n, a) for n, a in WORKLOADS.items()])
        app = r.choice(apps)[0]
        name = f"{app}-config"
        data = {
            "app.yaml": f"server:\n  port: 8080\n  workers: {r.randint(2, 16)}\nlog:\n  level: "
            "info\n"
            f"features:\n  new_checkout: {r.choice(['true', 'false'])}\n",
            "LOG_FORMAT": "json",
            "UPSTREAM_URL": f"http://{app}.{ns}.svc.cluster.local:8080",
        }
        if r.random() < 0.05:
            data["aws_access_key_id"] = "AKIA" + self.hexname(
                16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
            )
            data["aws_secret_access_key"] = self.hexname(
                40, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789+/"
            )
        verb, code = r.choice([("create", 201), ("update", 200), ("patch", 200)])
        body = {
            "kind": "ConfigMap",
            "apiVersion": "v1",
            "metadata": {
                "name": name,
                "namespace": ns,
                "creationTimestamp": None,
                "labels": {
                    "app.kubernetes.io/name": app,
                    "app.kubernetes.io/instance": app,
                    "argocd.argoproj.io/instance": f"{ns}-{app}",
                },
            },
            "data": data,
        }
        user = self.pod_sa_user("argocd", "argocd-application-controller")
        return self.event(
            level="Request",
            verb=verb,
            uri=self.uri("configmaps", ns, None if verb == "create" else name),
            user=user,
            ips=["10.42.3.41"],
            ua="argocd-application-controller/v2.11.0",
            ref=self.objref("configmaps", ns, name),
            code=code,
            request=body,
            reason=self.rbac_reason(
                "argocd-application-controller",
                "argocd-application-controller",
                "ServiceAccount",
                "argocd-application-controller/argocd",
            ),
        )

    def rbac_write(self) -> list[dict[str, Any]]:
        r = self.rng
        x = r.random()
        rule_sets = [
            [
                {
                    "verbs": ["get", "list", "watch"],
                    "apiGroups": [""],
                    "resources": ["pods", "services", "endpoints"],
                }
            ],
            [
                {
                    "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
                    "apiGroups": ["apps"],
                    "resources": ["deployments", "replicasets"],
                },
                {"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"]},
            ],
            [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            [
                {"verbs": ["create"], "apiGroups": [""], "resources": ["pods/exec"]},
                {"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]},
            ],
            [
                {
                    "verbs": ["bind", "escalate"],
                    "apiGroups": ["rbac.authorization.k8s.io"],
                    "resources": ["clusterroles"],
                }
            ],
        ]
        if r.random() < 0.6:
            user, ip, ua = (
                self.pod_sa_user("argocd", "argocd-application-controller"),
                "10.42.3.41",
                "argocd-application-controller/v2.11.0",
            )
        else:
            user, ip = self.human()
            ua = KUBECTL_UA
        app = r.choice(self.services)[1]
        verb, code = r.choice(
            [("create", 201), ("create", 201), ("update", 200), ("delete", 200), ("patch", 200)]
        )
        if x < 0.4:
            res, ns, name = (
                "clusterroles",
                None,
                f"{app}-{r.choice(['reader', 'operator', 'admin'])}",
            )
            body: dict[str, Any] = {
                "kind": "ClusterRole",
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "metadata": {
                    "name": name,
                    "creationTimestamp": None,
                    "labels": {"app.kubernetes.io/managed-by": "Helm"},
                },
                "rules": r.choice(rule_sets),
            }
        elif x < 0.6:
            res, ns, name = "roles", r.choice(list(WORKLOADS)), f"{app}-role"
            body = {
                "kind": "Role",
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "metadata": {"name": name, "namespace": ns, "creationTimestamp": None},
                "rules": r.choice(rule_sets[:2]),
            }
        else:
            cluster = x > 0.85
            res = "clusterrolebindings" if cluster else "rolebindings"
            ns = None if cluster else r.choice(list(WORKLOADS))
            name = f"{app}-binding"
            subj = r.choice(
                [
                    {"kind": "ServiceAccount", "name": app, "namespace": ns or "default"},
                    {
                        "kind": "Group",
                        "apiGroup": "rbac.authorization.k8s.io",
                        "name": "developers",
                    },
                    {
                        "kind": "User",
                        "apiGroup": "rbac.authorization.k8s.io",
                        "name": "bob@example.com",
                    },
                ]
                + (
                    [
                        {
                            "kind": "User",
                            "apiGroup": "rbac.authorization.k8s.io",
                            "name": "system:anonymous",
                        }
                    ]
                    if r.random() < 0.05
                    else []
                )
            )
            role = r.choice(
                ["view", "edit", f"{app}-reader"] + (["cluster-admin"] if r.random() < 0.1 else [])
            )
            meta: dict[str, Any] = {"name": name, "creationTimestamp": None}
            if ns:
                meta["namespace"] = ns
            body = {
                "kind": "ClusterRoleBinding" if cluster else "RoleBinding",
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "metadata": meta,
                "subjects": [subj],
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": role,
                },
            }
        return self.event(
            level="RequestResponse" if verb != "delete" else "Metadata",
            verb=verb,
            uri=self.uri(res, ns, None if verb == "create" else name),
            user=user,
            ips=[ip],
            ua=ua,
            ref=self.objref(res, ns, name),
            code=code,
            request=body if verb != "delete" else None,
            response=body if verb != "delete" else None,
            reason=self.rbac_reason("cluster-admins", "cluster-admin", "Group", "x"),
        )

    def access_review(self) -> list[dict[str, Any]]:
        r = self.rng
        ns, sa, _ = r.choice(ADDON_READERS)
        kind = r.choice(["selfsubjectaccessreviews", "selfsubjectrulesreviews"])
        body = {
            "kind": "SelfSubjectAccessReview"
            if kind == "selfsubjectaccessreviews"
            else "SelfSubjectRulesReview",
            "apiVersion": "authorization.k8s.io/v1",
            "metadata": {"creationTimestamp": None},
            "spec": {"resourceAttributes": {"namespace": ns, "verb": "list", "resource": "secrets"}}
            if kind == "selfsubjectaccessreviews"
            else {"namespace": ns},
            "status": {"allowed": False},
        }
        return self.event(
            level="Request",
            verb="create",
            uri=f"/apis/authorization.k8s.io/v1/{kind}",
            user=self.pod_sa_user(ns, sa),
            ips=[f"10.42.{r.randint(0, 63)}.{r.randint(2, 254)}"],
            ua=r.choice(SCRIPTED_UAS),
            ref={"resource": kind, "apiGroup": "authorization.k8s.io", "apiVersion": "v1"},
            code=201,
            request=body,
            reason=self.rbac_reason(
                "system:basic-user", "system:basic-user", "Group", AUTHENTICATED
            ),
        )

    def intruder_read(self) -> list[dict[str, Any]]:
        """A stolen service-account token used from outside the cluster: a scripted
        client (or kubectl) enumerating and reading objects across namespaces."""
        r = self.rng
        ns, sa = r.choice(
            [("ci", "deployer"), ("argocd", "argocd-server"), ("monitoring", "grafana")]
        )
        user = {
            "username": f"system:serviceaccount:{ns}:{sa}",
            "uid": self.sa_uid.get(f"{ns}:{sa}") or self.uid(),
            "groups": ["system:serviceaccounts", f"system:serviceaccounts:{ns}", AUTHENTICATED],
        }
        ip = r.choice(INTRUDER_IPS)
        res = r.choice(
            [
                "pods",
                "secrets",
                "configmaps",
                "services",
                "deployments",
                "nodes",
                "namespaces",
                "serviceaccounts",
                "clusterroles",
                "daemonsets",
            ]
        )
        namespaced = RESOURCES[res][2]
        pod = r.choice(self.pods)
        target_ns = pod[0] if namespaced else None
        name = None
        if res == "pods" and r.random() < 0.5:
            name = pod[2]
        elif res == "secrets" and r.random() < 0.5:
            name = f"{pod[1]}-{r.choice(['tls', 'credentials', 'db-password'])}"
        verb, uri, name, started, lat = self.read_shape(res, target_ns, name)
        ua = r.choice(SCRIPTED_UAS) if r.random() < 0.7 else KUBECTL_UA
        code = 200 if r.random() < 0.9 else 403
        return self.event(
            level="Metadata",
            verb=verb,
            uri=uri,
            user=user,
            ips=[ip],
            ua=ua,
            ref=self.objref(res, target_ns, name),
            code=code,
            latency_us=lat,
            started=started,
            twin=0.1,
            decision=ALLOW if code == 200 else "forbid",
            reason=self.rbac_reason(f"{sa}-binding", "edit", "ServiceAccount", f"{ns}/{sa}")
            if code == 200
            else "",
        )

    def misc_rare(self) -> list[dict[str, Any]]:
        """Namespaces, NodePort services, CSRs: a handful per run."""
        r = self.rng
        user, ip = self.human()
        x = r.random()
        if x < 0.3:
            name = r.choice(["team-sandbox", "load-test", "tmp-" + self.hexname(4)])
            body = {
                "kind": "Namespace",
                "apiVersion": "v1",
                "metadata": {"name": name, "creationTimestamp": None},
                "spec": {},
                "status": {},
            }
            return self.event(
                level="Request",
                verb="create",
                uri="/api/v1/namespaces",
                user=user,
                ips=[ip],
                ua=KUBECTL_UA,
                ref=self.objref("namespaces", None, name),
                code=201,
                request=body,
            )
        if x < 0.6:
            ns, app = r.choice(self.services)
            body = {
                "kind": "Service",
                "apiVersion": "v1",
                "metadata": {"name": f"{app}-np", "namespace": ns, "creationTimestamp": None},
                "spec": {
                    "type": "NodePort",
                    "selector": {"app.kubernetes.io/name": app},
                    "ports": [
                        {
                            "port": 80,
                            "targetPort": 8080,
                            "nodePort": r.randint(30000, 32767),
                            "protocol": "TCP",
                        }
                    ],
                },
            }
            return self.event(
                level="Request",
                verb="create",
                uri=self.uri("services", ns),
                user=user,
                ips=[ip],
                ua=KUBECTL_UA,
                ref=self.objref("services", ns, f"{app}-np"),
                code=201,
                request=body,
            )
        name = f"csr-{self.hexname(5)}"
        node = r.choice(self.workers)
        body = {
            "kind": "CertificateSigningRequest",
            "apiVersion": "certificates.k8s.io/v1",
            "metadata": {"generateName": "csr-", "creationTimestamp": None},
            "spec": {
                "request": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K" + self.hexname(200),
                "signerName": "kubernetes.io/kubelet-serving",
                "usages": ["digital signature", "server auth"],
            },
            "status": {},
        }
        return self.event(
            level="Request",
            verb="create",
            uri="/apis/certificates.k8s.io/v1/certificatesigningrequests",
            user=self.kubelet_user(node),
            ips=[self.node_ip[node]],
            ua=KUBELET_UA,
            ref=self.objref("certificatesigningrequests", None, name),
            code=201,
            request=body,
        )

    # -- driver -----------------------------------------------------------

    def events(self) -> Iterator[dict[str, Any]]:
        """Exactly ``n`` events, in increasing stageTimestamp order."""
        r = self.rng
        cum, producers, n = self.cum, self.producers, self.n
        pick = bisect.bisect_right
        emitted = 0
        while emitted < n:
            i = pick(cum, r.random())
            for ev in producers[min(i, len(producers) - 1)]():
                yield ev
                emitted += 1
                if emitted >= n:
                    return


def _failure(code: int) -> dict[str, Any]:
    reason = {403: "Forbidden", 404: "NotFound", 409: "Conflict"}.get(code, "InternalError")
    return {
        "status": "Failure",
        "message": f"the request failed: {reason.lower()}",
        "reason": reason,
    }


def generate(
    n_events: int,
    seed: int,
    out: str,
    use_gzip: bool = False,
    progress: Callable[[int], None] | None = None,
    profile: str = "default",
) -> tuple[int, int]:
    """Write ``n_events`` events to ``out`` ('-' = stdout); return (events, bytes)."""
    gen = Gen(n_events, seed, profile)
    dumps = orjson.dumps
    written = count = 0
    batch: list[bytes] = []
    with ExitStack() as stack:
        fh: IO[bytes]
        if out == "-":
            fh = sys.stdout.buffer
        else:
            fh = stack.enter_context(open(out, "wb"))
        if use_gzip:
            gz = stack.enter_context(gzip.GzipFile(fileobj=fh, mode="wb", compresslevel=6, mtime=0))
            fh = gz  # type: ignore[assignment]  # GzipFile is a binary file object
        for ev in gen.events():
            batch.append(dumps(ev))
            count += 1
            if len(batch) >= 2000:
                data = b"\n".join(batch) + b"\n"
                fh.write(data)
                written += len(data)
                batch.clear()
                if progress is not None:
                    progress(count)
        if batch:
            data = b"\n".join(batch) + b"\n"
            fh.write(data)
            written += len(data)
        fh.flush()
    return count, written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "-n", "--events", type=int, default=200_000, help="number of events (default 200000)"
    )
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("-o", "--out", default="-", help="output file, '-' for stdout (default)")
    ap.add_argument("--gzip", action="store_true", help="gzip the output")
    ap.add_argument("-q", "--quiet", action="store_true", help="no summary on stderr")
    ap.add_argument(
        "--profile",
        choices=PROFILES,
        default="default",
        help="the mix: 'default' (a quiet day, about 1.4 %% of events alert) or 'incident' "
        "(about a third of events alert)",
    )
    args = ap.parse_args(argv)
    if args.events < 0:
        ap.error("--events must be >= 0")
    if args.out == "-" and sys.stdout.isatty() and args.events > 1000:
        ap.error("refusing to write the corpus to a terminal; use --out PATH")
    t0 = time.perf_counter()
    count, size = generate(args.events, args.seed, args.out, args.gzip, profile=args.profile)
    dt = time.perf_counter() - t0
    if not args.quiet:
        kind = " (gzip)" if args.gzip else ""
        print(
            f"{count} events, {size} bytes before compression ({size / max(count, 1):.0f}/event)"
            f" -> {args.out}{kind} in {dt:.1f}s",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
