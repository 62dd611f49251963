"""Write the rule fixtures under rules/tests/ (events + expectations).

Run ``python rules/tests/make_fixtures.py`` from the repository root. The
output is deterministic: every theme uses its own seed, so re-running gives
byte-identical files. Each theme becomes ``rules/tests/<theme>.yaml`` with
its events in ``rules/tests/events/<theme>/<case>.jsonl``.

Fixtures under ``customized/`` need the override file next to them:
``k8saudit test rules/tests/customized/customized.yaml
-r rules/k8s_audit_rules.yaml -r rules/tests/customized/local_rules.yaml``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "samples"))

from auditgen import (  # noqa: E402
    HARDENED,
    SMALL,
    Actor,
    Gen,
    at,
    component_ua,
    container,
    failure_status,
    forbidden,
    host_path,
    mount,
    objref,
    owner_ref,
    rbac_reason,
    sa_groups,
)

DAY = "2026-03-14"
RBAC_GROUP = "rbac.authorization.k8s.io"
KUBECTL_MAC = "kubectl/v1.30.2 (darwin/arm64) kubernetes/3968350"
KUBECTL_LINUX = "kubectl/v1.29.7 (linux/amd64) kubernetes/4e4a188"
KUBECTL_CI = component_ua("kubectl")

ALICE = Actor(
    "alice@example.com", ("platform-team", "system:authenticated"), "10.8.0.14", KUBECTL_MAC
)
BOB = Actor("bob@example.com", ("developers", "system:authenticated"), "10.8.0.22", KUBECTL_LINUX)
MALLORY = Actor(
    "mallory@example.com",
    ("contractors", "system:authenticated"),
    "10.8.0.57",
    "kubectl/v1.31.0 (windows/amd64) kubernetes/9edcffc",
)
ADMIN = Actor(
    "kubernetes-admin", ("kubeadm:cluster-admins", "system:authenticated"), "10.0.0.10", KUBECTL_CI
)
CI = Actor(
    "system:serviceaccount:ci:deployer",
    sa_groups("ci"),
    "10.0.5.20",
    KUBECTL_CI,
    uid="3f1c2b9e-6d0a-4c55-9a51-0c7f3e2d8b14",
    extra={
        "authentication.kubernetes.io/credential-id": ["JTI=8d2f6a41-3c1e-4b7a-9f0d-5e6c7b8a9d10"]
    },
)
FRONTEND = Actor(
    "system:serviceaccount:shop:frontend",
    sa_groups("shop"),
    "10.244.1.23",
    "curl/8.5.0",
    uid="b7e4a0d2-91c3-4f6e-8a2b-1d5c9e0f7a36",
    extra={
        "authentication.kubernetes.io/credential-id": ["JTI=0c9b8a7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d"],
        "authentication.kubernetes.io/node-name": ["worker-1"],
        "authentication.kubernetes.io/pod-name": ["frontend-6b8f9c7d4-x2v9q"],
        "authentication.kubernetes.io/pod-uid": ["4a1b2c3d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"],
    },
)
ANON = Actor("system:anonymous", ("system:unauthenticated",), "203.0.113.45", "curl/8.5.0")
PROBE = Actor("system:anonymous", ("system:unauthenticated",), "10.0.0.10", "kube-probe/1.30")
APISERVER = Actor(
    "system:apiserver",
    ("system:authenticated", "system:masters"),
    "::1",
    component_ua("kube-apiserver"),
    uid="6e2f3a1b-0c4d-4e5f-8a9b-7c6d5e4f3a2b",
)
KCM = Actor(
    "system:kube-controller-manager",
    ("system:authenticated",),
    "10.0.0.10",
    component_ua("kube-controller-manager", "shared-informers"),
)
SCHED = Actor(
    "system:kube-scheduler",
    ("system:authenticated",),
    "10.0.0.10",
    component_ua("kube-scheduler", "scheduler"),
)


def kubelet(node: str, ip: str) -> Actor:
    return Actor(
        f"system:node:{node}", ("system:nodes", "system:authenticated"), ip, component_ua("kubelet")
    )


def controller(name: str) -> Actor:
    return Actor(
        f"system:serviceaccount:kube-system:{name}",
        sa_groups("kube-system"),
        "10.0.0.10",
        component_ua("kube-controller-manager", f"system:serviceaccount:kube-system:{name}"),
    )


KUBELET1 = kubelet("worker-1", "10.0.0.21")
KUBELET2 = kubelet("worker-2", "10.0.0.22")
KUBELET_CP = kubelet("cp-1", "10.0.0.10")
RS_CTRL = controller("replicaset-controller")
DS_CTRL = controller("daemon-set-controller")

ALLOW_ADMINS = rbac_reason(
    "ClusterRoleBinding",
    "platform-admins",
    "ClusterRole",
    "cluster-admin",
    "Group",
    "platform-team",
)
ALLOW_CI = rbac_reason(
    "ClusterRoleBinding",
    "ci-deployer",
    "ClusterRole",
    "cluster-admin",
    "ServiceAccount",
    "deployer/ci",
)
ALLOW_DEV = rbac_reason(
    "RoleBinding", "developers-edit", "ClusterRole", "edit", "Group", "developers", "shop"
)
ALLOW_KUBEADM = rbac_reason(
    "ClusterRoleBinding",
    "kubeadm:cluster-admins",
    "ClusterRole",
    "cluster-admin",
    "Group",
    "kubeadm:cluster-admins",
)
PSA_BASELINE = {"pod-security.kubernetes.io/enforce-policy": "baseline:latest"}
PSA_PRIVILEGED = {"pod-security.kubernetes.io/enforce-policy": "privileged:latest"}


def reason_for(actor: Actor) -> str:
    if actor.username.startswith("system:node:") or actor.username == "system:apiserver":
        return ""
    return {
        ALICE.username: ALLOW_ADMINS,
        CI.username: ALLOW_CI,
        BOB.username: ALLOW_DEV,
        ADMIN.username: ALLOW_KUBEADM,
    }.get(actor.username, "")


class Theme:
    """Collects the cases of one fixture file."""

    def __init__(
        self, name: str, seed: int, title: str, out_dir: Path = HERE, start: str = "09:00:00"
    ):
        self.name = name
        self.title = title
        self.gen = Gen(seed)
        self.cases: list[dict[str, Any]] = []
        self.t = at(DAY, start)
        self.out_dir = out_dir

    def tick(self, seconds: float = 7.0) -> dt.datetime:
        self.t += dt.timedelta(seconds=seconds) + self.gen.ms(0, 900)
        return self.t

    def case(
        self,
        name: str,
        events: list[dict[str, Any]],
        expect: dict[str, int] | None = None,
        none: list[str] | None = None,
    ) -> None:
        self.cases.append(
            {"name": name, "events": events, "expect": expect or {}, "none": none or []}
        )
        self.tick(60)

    # -------------------------------------------------------- request helpers
    def req(
        self,
        actor: Actor,
        verb: str,
        uri: str,
        ref: dict[str, Any] | None,
        *,
        code: int | None = None,
        level: str = "Metadata",
        received: bool = False,
        reason: str | None = None,
        decision: str | None = None,
        **kw: Any,
    ) -> list[dict[str, Any]]:
        if code is None:
            code = 201 if verb == "create" else 200
        if decision is None:
            decision = "forbid" if code == 403 else "allow"
        if reason is None:
            reason = "" if decision == "forbid" else reason_for(actor)
        if code == 403 and "status" not in kw:
            # Denied by the authorizer: the handler never decoded the body, so the
            # event has no request/response object and a create has no name yet.
            # (An admission denial passes its own status and keeps the body.)
            res = (
                ref["resource"]
                + (f"/{ref['subresource']}" if ref and ref.get("subresource") else "")
                if ref
                else ""
            )
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
            if ref and verb == "create":
                ref = {k: v for k, v in ref.items() if k != "name"}
        return self.gen.request(
            self.tick(),
            actor,
            verb,
            uri,
            ref,
            code=code,
            level=level,
            received=received,
            reason=reason,
            decision=decision,
            **kw,
        )

    def pod_create(
        self,
        actor: Actor,
        ns: str,
        *,
        code: int = 201,
        psa: dict[str, str] | None = None,
        received: bool = False,
        **pod: Any,
    ) -> list[dict[str, Any]]:
        req, resp, name = self.gen.pod(self.t, namespace=ns, **pod)
        ref = objref("pods", ns, pod.get("name"))
        status = None
        if code == 403:
            status = {
                "metadata": {},
                "status": "Failure",
                "message": (
                    f'pods "{name}" is forbidden: violates PodSecurity "baseline:latest": privileged '
                    f'(container "{pod["containers"][0]["name"]}" must not set securityContext.privileged=true)'
                ),
                "reason": "Forbidden",
                "details": {"name": name, "kind": "pods"},
                "code": 403,
            }
            resp = status
        return self.req(
            actor,
            "create",
            f"/api/v1/namespaces/{ns}/pods",
            ref,
            code=code,
            level="RequestResponse",
            req=req,
            resp=resp,
            status=status,
            received=received,
            annotations=psa if psa is not None else PSA_PRIVILEGED,
        )

    def ephemeral(
        self,
        actor: Actor,
        ns: str,
        pod: str,
        eph: list[dict[str, Any]],
        *,
        verb: str = "patch",
        base: list[dict[str, Any]] | None = None,
    ) -> list[dict[str, Any]]:
        uri = f"/api/v1/namespaces/{ns}/pods/{pod}/ephemeralcontainers"
        ref = objref("pods", ns, pod, subresource="ephemeralcontainers")
        base = base or [
            container("app", "registry.example.com/shop/cart:2.14.1", security_context=HARDENED)
        ]
        if verb == "patch":
            req: dict[str, Any] = {"spec": {"ephemeralContainers": eph}}
        else:
            req = {
                "kind": "Pod",
                "apiVersion": "v1",
                "metadata": {"name": pod, "namespace": ns},
                "spec": {"containers": base, "ephemeralContainers": eph},
            }
        resp = {
            "kind": "Pod",
            "apiVersion": "v1",
            "metadata": {
                "name": pod,
                "namespace": ns,
                "uid": self.gen.uid(),
                "resourceVersion": self.gen.rv(),
            },
            "spec": {"containers": base, "ephemeralContainers": eph},
            "status": {"phase": "Running"},
        }
        return self.req(
            actor, verb, uri, ref, code=200, level="RequestResponse", req=req, resp=resp
        )

    def stream(
        self,
        actor: Actor,
        ns: str,
        pod: str,
        sub: str,
        query: str,
        *,
        verb: str = "create",
        code: int = 101,
        seconds: float = 42.0,
        stages: str = "all",
    ) -> list[dict[str, Any]]:
        uri = f"/api/v1/namespaces/{ns}/pods/{pod}/{sub}?{query}"
        ref = objref("pods", ns, pod, subresource=sub)
        evs = self.req(actor, verb, uri, ref, code=code, received=True, stream_seconds=seconds)
        if stages == "complete-only":
            evs = [e for e in evs if e["stage"] == "ResponseComplete"]
        return evs

    def role(
        self,
        actor: Actor,
        kind: str,
        name: str,
        rules: list[dict[str, Any]],
        *,
        ns: str | None = None,
        verb: str = "create",
        code: int | None = None,
        labels: dict[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        res = "roles" if kind == "Role" else "clusterroles"
        base = f"/apis/{RBAC_GROUP}/v1" + (f"/namespaces/{ns}" if ns else "") + f"/{res}"
        uri = base if verb == "create" else f"{base}/{name}"
        meta: dict[str, Any] = {"name": name}
        if ns:
            meta["namespace"] = ns
        if labels:
            meta["labels"] = labels
        if verb == "patch":
            req: dict[str, Any] = {"rules": rules}
        else:
            req = {"kind": kind, "apiVersion": f"{RBAC_GROUP}/v1", "metadata": meta, "rules": rules}
        resp = {
            "kind": kind,
            "apiVersion": f"{RBAC_GROUP}/v1",
            "metadata": dict(meta, uid=self.gen.uid(), resourceVersion=self.gen.rv()),
            "rules": rules,
        }
        return self.req(
            actor,
            verb,
            uri,
            objref(res, ns, name, group=RBAC_GROUP),
            code=code,
            level="RequestResponse",
            req=req,
            resp=resp,
        )

    def binding(
        self,
        actor: Actor,
        kind: str,
        name: str,
        role: str,
        subjects: list[dict[str, Any]],
        *,
        ns: str | None = None,
        role_kind: str = "ClusterRole",
        verb: str = "create",
        code: int | None = None,
    ) -> list[dict[str, Any]]:
        res = "rolebindings" if kind == "RoleBinding" else "clusterrolebindings"
        base = f"/apis/{RBAC_GROUP}/v1" + (f"/namespaces/{ns}" if ns else "") + f"/{res}"
        uri = base if verb == "create" else f"{base}/{name}"
        meta: dict[str, Any] = {"name": name}
        if ns:
            meta["namespace"] = ns
        body = {
            "kind": kind,
            "apiVersion": f"{RBAC_GROUP}/v1",
            "metadata": meta,
            "subjects": subjects,
            "roleRef": {"apiGroup": RBAC_GROUP, "kind": role_kind, "name": role},
        }
        resp = dict(body, metadata=dict(meta, uid=self.gen.uid(), resourceVersion=self.gen.rv()))
        return self.req(
            actor,
            verb,
            uri,
            objref(res, ns, name, group=RBAC_GROUP),
            code=code,
            level="RequestResponse",
            req=body,
            resp=resp if (code or 201) < 300 else None,
        )

    # -------------------------------------------------------- output
    def write(self) -> int:
        ev_dir = self.out_dir / "events" / self.name
        ev_dir.mkdir(parents=True, exist_ok=True)
        for old in ev_dir.glob("*.jsonl"):
            old.unlink()
        lines = [
            f"# {self.title}",
            "# Generated by rules/tests/make_fixtures.py: edit that script, then re-run it.",
            "cases:",
        ]
        seen: set[str] = set()
        for c in self.cases:
            slug = re.sub(r"[^a-z0-9]+", "_", c["name"].lower()).strip("_")[:72]
            assert slug not in seen, slug
            seen.add(slug)
            path = ev_dir / f"{slug}.jsonl"
            path.write_text(
                "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in c["events"])
            )
            lines.append(f"  - name: {json.dumps(c['name'])}")
            lines.append(f"    events: events/{self.name}/{slug}.jsonl")
            if c["expect"]:
                lines.append("    expect:")
                for rule, n in c["expect"].items():
                    lines.append(f"      {json.dumps(rule)}: {n}")
            if c["none"]:
                lines.append("    expect_none:")
                for rule in c["none"]:
                    lines.append(f"      - {json.dumps(rule)}")
        (self.out_dir / f"{self.name}.yaml").write_text("\n".join(lines) + "\n")
        return len(self.cases)


# Rule names, to keep typos out of expectations.
R_ANON_BIND = "Anonymous Or All-Users Bound To Role"
R_CADMIN = "Attach to cluster-admin Role"
R_ESC = "ClusterRole With Escalation Verbs Created"
R_WILD = "ClusterRole With Wildcard Created"
R_EXEC_ROLE = "ClusterRole With Pod Exec Created"
R_SYSROLE = "System ClusterRole Modified/Deleted"
R_WRITE = "ClusterRole With Write Privileges Created"
R_IMP = "User Impersonation Used"
R_TOKEN = "Service Account Token Requested By User"
R_CSR_OK = "CertificateSigningRequest Approved By User"
R_CSR_NEW = "CertificateSigningRequest Created By User"
R_AWSAUTH = "aws-auth ConfigMap Changed"
R_ANON_OK = "Anonymous Request Allowed"
R_ANON_PROBE = "Anonymous API Probing"
R_PRIV = "Create Privileged Pod"
R_MOUNT = "Create Sensitive Mount Pod"
R_PID = "Create HostPid Pod"
R_IPC = "Create HostIPC Pod"
R_NET = "Create HostNetwork Pod"
R_CAPS = "Create Pod With Dangerous Capabilities"
R_PROC = "Create Pod With Unmasked Proc Mount"
R_ESCAL = "Create Pod With Privilege Escalation Allowed"
R_PV = "Create Sensitive HostPath PersistentVolume"
R_KUBENS = "Pod Created in Kube Namespace"
R_REGISTRY = "Pod From Untrusted Registry"
R_DISPOD = "Create Disallowed Pod"
R_SYSEXEC = "Interactive Access To Kube System Pod"
R_EXEC = "Attach/Exec Pod"
R_EPH = "EphemeralContainers Created"
R_PF = "port-forward"
R_NODEPROXY = "Node Proxy Access"
R_SECRETS_ALL = "Secrets Listed Cluster-Wide"
R_SECRET_DENIED = "K8s Secret Get Unsuccessfully Tried"
R_SECRET_GET = "K8s Secret Get Successfully"
R_CM_CREDS = "Create/Modify Configmap With Private Credentials"
R_DISCOVERY = "Permission Discovery By Service Account"
R_SCRIPTED = "K8s API Request With Scripted Client"
R_ADMISSION = "Admission Controller Configuration Changed"
R_APISVC = "APIService Changed"
R_CRD = "CustomResourceDefinition Changed"
R_EVENTS = "K8s Events Deleted"
R_SECTOOL = "Security Tool Workload Deleted"
R_CRON = "CronJob Created By User"
R_SA_KUBE = "Service Account Created in Kube Namespace"
R_NODEPORT = "Create NodePort Service"
R_INGRESS = "Ingress Object without TLS Certificate Created"
R_NS = "Create Disallowed Namespace"
R_NODE_OK = "Untrusted Node Successfully Joined the Cluster"
R_NODE_FAIL = "Untrusted Node Unsuccessfully Tried to Join the Cluster"
R_USER = "Disallowed K8s User"
R_FULLADMIN = "Full K8s Administrative Access"
R_ALL = "All K8s Audit Events"


def ev(events: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [e for group in events for e in group]


# =========================================================================== themes
def theme_rbac() -> Theme:
    t = Theme("rbac", 101, "RBAC abuse: bindings, roles with dangerous grants, system roles")
    anon_user = [{"kind": "User", "apiGroup": RBAC_GROUP, "name": "system:anonymous"}]
    t.case(
        "ClusterRoleBinding giving view to system:anonymous fires",
        t.binding(ALICE, "ClusterRoleBinding", "anonymous-view", "view", anon_user),
        {R_ANON_BIND: 1, "K8s ClusterRoleBinding Created": 1},
    )
    t.case(
        "RoleBinding for the system:unauthenticated group fires",
        t.binding(
            BOB,
            "RoleBinding",
            "public-read",
            "view",
            [{"kind": "Group", "apiGroup": RBAC_GROUP, "name": "system:unauthenticated"}],
            ns="shop",
        ),
        {R_ANON_BIND: 1, "K8s RoleBinding Created": 1},
    )
    t.case(
        "cluster-admin for every authenticated identity fires",
        t.binding(
            CI,
            "ClusterRoleBinding",
            "everyone-admin",
            "cluster-admin",
            [{"kind": "Group", "apiGroup": RBAC_GROUP, "name": "system:authenticated"}],
        ),
        {R_ANON_BIND: 1, R_CADMIN: 1, "K8s ClusterRoleBinding Created": 1},
    )
    t.case(
        "binding for a named group is quiet",
        t.binding(
            ALICE,
            "RoleBinding",
            "developers-edit",
            "edit",
            [{"kind": "Group", "apiGroup": RBAC_GROUP, "name": "developers"}],
            ns="shop",
        ),
        {"K8s RoleBinding Created": 1},
        [R_ANON_BIND, R_CADMIN],
    )
    t.case(
        "API server bootstrap of public-info-viewer is quiet",
        t.binding(
            APISERVER,
            "ClusterRoleBinding",
            "system:public-info-viewer",
            "system:public-info-viewer",
            [
                {"kind": "Group", "apiGroup": RBAC_GROUP, "name": "system:authenticated"},
                {"kind": "Group", "apiGroup": RBAC_GROUP, "name": "system:unauthenticated"},
            ],
        ),
        {"K8s ClusterRoleBinding Created": 1},
        [R_ANON_BIND],
    )
    sa_subject = [{"kind": "ServiceAccount", "name": "cluster-monitor", "namespace": "kube-system"}]
    t.case(
        "cluster-admin ClusterRoleBinding for a service account fires",
        t.binding(CI, "ClusterRoleBinding", "cluster-monitor-binding", "cluster-admin", sa_subject),
        {R_CADMIN: 1, "K8s ClusterRoleBinding Created": 1},
        [R_ANON_BIND],
    )
    t.case(
        "RoleBinding to cluster-admin fires",
        t.binding(
            ALICE,
            "RoleBinding",
            "bob-admin",
            "cluster-admin",
            [{"kind": "User", "apiGroup": RBAC_GROUP, "name": "bob@example.com"}],
            ns="payments",
        ),
        {R_CADMIN: 1, "K8s RoleBinding Created": 1},
    )
    t.case(
        "subjects of a cluster-admin binding replaced by update fires",
        t.binding(
            ALICE,
            "ClusterRoleBinding",
            "platform-admins",
            "cluster-admin",
            [
                {"kind": "Group", "apiGroup": RBAC_GROUP, "name": "platform-team"},
                {"kind": "User", "apiGroup": RBAC_GROUP, "name": "mallory@example.com"},
            ],
            verb="update",
        ),
        {R_CADMIN: 1},
        ["K8s ClusterRoleBinding Created"],
    )
    t.case(
        "binding attempt denied by RBAC has no body and is quiet",
        t.binding(
            BOB,
            "ClusterRoleBinding",
            "bob-is-admin",
            "cluster-admin",
            [{"kind": "User", "apiGroup": RBAC_GROUP, "name": "bob@example.com"}],
            code=403,
        ),
        {},
        [R_CADMIN, "K8s ClusterRoleBinding Created"],
    )
    t.case(
        "binding to the view role is quiet",
        t.binding(
            ALICE,
            "ClusterRoleBinding",
            "auditors-view",
            "view",
            [{"kind": "Group", "apiGroup": RBAC_GROUP, "name": "auditors"}],
        ),
        {"K8s ClusterRoleBinding Created": 1},
        [R_CADMIN],
    )
    t.case(
        "API server bootstrap of the cluster-admin binding is quiet",
        t.binding(
            APISERVER,
            "ClusterRoleBinding",
            "cluster-admin",
            "cluster-admin",
            [{"kind": "Group", "apiGroup": RBAC_GROUP, "name": "system:masters"}],
        ),
        {"K8s ClusterRoleBinding Created": 1},
        [R_CADMIN],
    )

    imp_rules = [
        {
            "verbs": ["impersonate"],
            "apiGroups": [""],
            "resources": ["users", "groups", "serviceaccounts"],
        }
    ]
    t.case(
        "ClusterRole granting impersonate fires",
        t.role(MALLORY, "ClusterRole", "helpdesk-impersonator", imp_rules),
        {R_ESC: 1, "K8s ClusterRole Created": 1},
        [R_WRITE, R_WILD],
    )
    t.case(
        "Role patched to grant bind and escalate fires",
        t.role(
            CI,
            "Role",
            "rbac-manager",
            [
                {
                    "verbs": ["get", "list", "bind", "escalate"],
                    "apiGroups": [RBAC_GROUP],
                    "resources": ["roles", "rolebindings"],
                }
            ],
            ns="shop",
            verb="patch",
        ),
        {R_ESC: 1},
        ["K8s Role Created"],
    )
    admin_rules = [
        {"verbs": ["impersonate"], "apiGroups": [""], "resources": ["serviceaccounts"]},
        {
            "verbs": ["create", "delete", "deletecollection", "patch", "update"],
            "apiGroups": [""],
            "resources": ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"],
        },
    ]
    t.case(
        "aggregation controller updating the admin role is quiet",
        t.role(
            controller("clusterrole-aggregation-controller"),
            "ClusterRole",
            "admin",
            admin_rules,
            verb="update",
        ),
        {},
        [R_ESC, R_WRITE, R_EXEC_ROLE, R_WILD],
    )
    t.case(
        "ClusterRole with wildcard resources fires",
        t.role(
            ALICE,
            "ClusterRole",
            "ops-reader",
            [{"verbs": ["get", "list", "watch"], "apiGroups": ["*"], "resources": ["*"]}],
        ),
        {R_WILD: 1, "K8s ClusterRole Created": 1},
        [R_WRITE],
    )
    t.case(
        "Role patched to wildcard verbs fires",
        t.role(
            BOB,
            "Role",
            "app-operator",
            [{"verbs": ["*"], "apiGroups": ["apps"], "resources": ["deployments"]}],
            ns="shop",
            verb="patch",
        ),
        {R_WILD: 1},
    )
    t.case(
        "read-only Role is quiet",
        t.role(
            BOB,
            "Role",
            "pod-reader",
            [
                {
                    "verbs": ["get", "list", "watch"],
                    "apiGroups": [""],
                    "resources": ["pods", "pods/log"],
                }
            ],
            ns="shop",
        ),
        {"K8s Role Created": 1},
        [R_WILD, R_WRITE, R_EXEC_ROLE, R_ESC],
    )
    t.case(
        "Role granting pods/exec fires",
        t.role(
            BOB,
            "Role",
            "debugger",
            [
                {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]},
                {"verbs": ["create"], "apiGroups": [""], "resources": ["pods/exec"]},
            ],
            ns="shop",
        ),
        {R_EXEC_ROLE: 1, R_WRITE: 1, "K8s Role Created": 1},
    )
    t.case(
        "ClusterRole granting pods/attach fires",
        t.role(
            MALLORY,
            "ClusterRole",
            "attach-anywhere",
            [{"verbs": ["get", "create"], "apiGroups": [""], "resources": ["pods/attach"]}],
        ),
        {R_EXEC_ROLE: 1, R_WRITE: 1, "K8s ClusterRole Created": 1},
    )
    t.case(
        "ClusterRole granting write to deployments fires",
        t.role(
            CI,
            "ClusterRole",
            "deployer",
            [
                {
                    "verbs": ["get", "list", "create", "update", "patch"],
                    "apiGroups": ["apps"],
                    "resources": ["deployments", "replicasets"],
                }
            ],
        ),
        {R_WRITE: 1, "K8s ClusterRole Created": 1},
        [R_EXEC_ROLE, R_WILD],
    )
    node_rules = [
        {
            "verbs": ["get", "list", "watch", "create", "patch", "update"],
            "apiGroups": [""],
            "resources": ["nodes", "nodes/status", "pods", "secrets"],
        }
    ]
    t.case(
        "user patching the system:node ClusterRole fires",
        t.role(ALICE, "ClusterRole", "system:node", node_rules, verb="patch"),
        {R_SYSROLE: 1, R_WRITE: 1},
    )
    t.case(
        "user deleting a system controller role fires",
        t.req(
            MALLORY,
            "delete",
            f"/apis/{RBAC_GROUP}/v1/clusterroles/system:controller:token-cleaner",
            objref("clusterroles", None, "system:controller:token-cleaner", group=RBAC_GROUP),
        ),
        {R_SYSROLE: 1, "K8s ClusterRole Deleted": 1},
    )
    t.case(
        "API server reconciling system:node is quiet",
        t.role(
            APISERVER,
            "ClusterRole",
            "system:node",
            node_rules,
            verb="update",
            labels={"kubernetes.io/bootstrapping": "rbac-defaults"},
        ),
        {},
        [R_SYSROLE, R_WRITE],
    )
    t.case(
        "system:coredns updated by kubeadm is quiet",
        t.role(
            ADMIN,
            "ClusterRole",
            "system:coredns",
            [
                {
                    "verbs": ["list", "watch"],
                    "apiGroups": [""],
                    "resources": ["endpoints", "services", "pods", "namespaces"],
                },
                {
                    "verbs": ["list", "watch"],
                    "apiGroups": ["discovery.k8s.io"],
                    "resources": ["endpointslices"],
                },
            ],
            verb="update",
        ),
        {},
        [R_SYSROLE, R_WRITE],
    )
    return t


def theme_identity() -> Theme:
    t = Theme(
        "identity",
        202,
        "Identity abuse: impersonation, tokens, certificates, aws-auth, system accounts",
    )
    imp = {
        "username": "system:serviceaccount:payments:ledger",
        "groups": list(sa_groups("payments")),
    }
    t.case(
        "alice impersonating a service account fires",
        t.req(
            ALICE,
            "list",
            "/api/v1/namespaces/payments/secrets?limit=500",
            objref("secrets", "payments"),
            impersonated=imp,
        ),
        {R_IMP: 1},
    )
    t.case(
        "impersonated create of a deployment fires",
        t.req(
            MALLORY,
            "get",
            "/apis/apps/v1/namespaces/shop/deployments/cart",
            objref("deployments", "shop", "cart", group="apps"),
            impersonated={"username": "bob@example.com", "groups": ["developers"]},
        ),
        {R_IMP: 1},
    )
    t.case(
        "the same request without impersonation is quiet",
        t.req(
            ALICE,
            "list",
            "/api/v1/namespaces/payments/secrets?limit=500",
            objref("secrets", "payments"),
        ),
        {},
        [R_IMP],
    )
    token_req = {
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
    t.case(
        "user minting a one-year service account token fires",
        t.req(
            CI.with_ip("198.51.100.23", "kubectl/v1.29.3 (darwin/arm64) kubernetes/6813625"),
            "create",
            "/api/v1/namespaces/kube-system/serviceaccounts/cluster-monitor/token",
            objref("serviceaccounts", "kube-system", "cluster-monitor", subresource="token"),
            level="Request",
            req=token_req,
        ),
        {R_TOKEN: 1},
        ["K8s Serviceaccount Created"],
    )
    pod_token = {
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": "cart", "namespace": "shop", "creationTimestamp": None},
        "spec": {
            "audiences": ["https://kubernetes.default.svc.cluster.local"],
            "expirationSeconds": 3607,
            "boundObjectRef": {
                "kind": "Pod",
                "apiVersion": "v1",
                "name": "cart-7d9f8b6c5d-q4z8m",
                "uid": "0b4d7c1e-2f3a-4b5c-9d8e-7f6a5b4c3d2e",
            },
        },
        "status": {"token": "", "expirationTimestamp": None},
    }
    t.case(
        "kubelet requesting a pod-bound token is quiet",
        t.req(
            KUBELET1,
            "create",
            "/api/v1/namespaces/shop/serviceaccounts/cart/token",
            objref("serviceaccounts", "shop", "cart", subresource="token"),
            level="Request",
            req=pod_token,
        ),
        {},
        [R_TOKEN, "K8s Serviceaccount Created"],
    )
    csr_body = {
        "kind": "CertificateSigningRequest",
        "apiVersion": "certificates.k8s.io/v1",
        "metadata": {"name": "mallory-admin", "creationTimestamp": None},
        "spec": {
            "request": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0KTUlJQ1dEQ0NBVUFDQVFBd0V6RVJNQThHQTFVRUF3d0liV0ZzYkc5eWVUQ0NBU0l3RFFZSktvWklodmNOQVFFQgo=",
            "signerName": "kubernetes.io/kube-apiserver-client",
            "expirationSeconds": 31536000,
            "usages": ["client auth"],
        },
        "status": {},
    }
    csr_ref = objref(
        "certificatesigningrequests", None, "mallory-admin", group="certificates.k8s.io"
    )
    t.case(
        "user creating a client-certificate CSR fires",
        t.req(
            MALLORY,
            "create",
            "/apis/certificates.k8s.io/v1/certificatesigningrequests",
            csr_ref,
            level="RequestResponse",
            req=csr_body,
            resp=csr_body,
        ),
        {R_CSR_NEW: 1},
    )
    node_csr = {
        "kind": "CertificateSigningRequest",
        "apiVersion": "certificates.k8s.io/v1",
        "metadata": {"generateName": "csr-", "creationTimestamp": None},
        "spec": {
            "request": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0KTUlIM01JR2VBZ0VBTUR3eEZUQVRCZ05WQkFvVERITjVjM1JsYlRwdWIyUmxjekVqTUNFR0ExVUUK",
            "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
            "usages": ["digital signature", "client auth"],
        },
        "status": {},
    }
    t.case(
        "kubelet client certificate rotation is quiet",
        t.req(
            KUBELET2,
            "create",
            "/apis/certificates.k8s.io/v1/certificatesigningrequests",
            objref("certificatesigningrequests", None, None, group="certificates.k8s.io"),
            level="RequestResponse",
            req=node_csr,
        ),
        {},
        [R_CSR_NEW],
    )
    bootstrap = Actor(
        "system:bootstrap:7xk2pq",
        (
            "system:bootstrappers",
            "system:bootstrappers:kubeadm:default-node-token",
            "system:authenticated",
        ),
        "10.0.0.24",
        component_ua("kubelet"),
    )
    t.case(
        "bootstrap token CSR of a joining node is quiet",
        t.req(
            bootstrap,
            "create",
            "/apis/certificates.k8s.io/v1/certificatesigningrequests",
            objref("certificatesigningrequests", None, None, group="certificates.k8s.io"),
            level="RequestResponse",
            req=node_csr,
        ),
        {},
        [R_CSR_NEW],
    )

    def approval(actor: Actor, name: str, kind: str) -> list[dict[str, Any]]:
        body = dict(
            csr_body,
            metadata={"name": name},
            status={
                "conditions": [
                    {
                        "type": kind,
                        "status": "True",
                        "reason": "KubectlApprove" if kind == "Approved" else "KubectlDeny",
                        "message": f"This CSR was {kind.lower()} by kubectl certificate {kind.lower()[:-1] if kind == 'Approved' else 'deny'}.",
                        "lastUpdateTime": "2026-03-14T09:41:12Z",
                    }
                ]
            },
        )
        ref = objref(
            "certificatesigningrequests",
            None,
            name,
            group="certificates.k8s.io",
            subresource="approval",
        )
        return t.req(
            actor,
            "update",
            f"/apis/certificates.k8s.io/v1/certificatesigningrequests/{name}/approval",
            ref,
            level="Request",
            req=body,
        )

    t.case("user approving a CSR fires", approval(BOB, "mallory-admin", "Approved"), {R_CSR_OK: 1})
    t.case(
        "certificate controller auto-approval is quiet",
        approval(controller("certificate-controller"), "csr-8jz4w", "Approved"),
        {},
        [R_CSR_OK],
    )
    t.case(
        "user denying a CSR is quiet", approval(ALICE, "mallory-admin", "Denied"), {}, [R_CSR_OK]
    )
    aws_patch = {
        "data": {
            "mapRoles": "- rolearn: arn:aws:iam::111122223333:role/eks-nodes\n  username: system:node:{{EC2PrivateDNSName}}\n  groups:\n  - system:bootstrappers\n  - system:nodes\n- rolearn: arn:aws:iam::444455556666:role/ops-breakglass\n  username: breakglass\n  groups:\n  - system:masters\n"
        }
    }
    t.case(
        "patch of aws-auth fires",
        t.req(
            ALICE,
            "patch",
            "/api/v1/namespaces/kube-system/configmaps/aws-auth?fieldManager=kubectl-edit",
            objref("configmaps", "kube-system", "aws-auth"),
            level="Request",
            req=aws_patch,
        ),
        {R_AWSAUTH: 1},
    )
    t.case(
        "patch of the coredns ConfigMap is quiet",
        t.req(
            ALICE,
            "patch",
            "/api/v1/namespaces/kube-system/configmaps/coredns?fieldManager=kubectl-edit",
            objref("configmaps", "kube-system", "coredns"),
            level="Request",
            req={
                "data": {
                    "Corefile": ".:53 {\n    errors\n    health\n    forward . /etc/resolv.conf\n    cache 30\n}\n"
                }
            },
        ),
        {},
        [R_AWSAUTH, R_CM_CREDS],
    )
    sa_body = {
        "kind": "ServiceAccount",
        "apiVersion": "v1",
        "metadata": {
            "name": "cluster-monitor",
            "namespace": "kube-system",
            "creationTimestamp": None,
        },
    }
    t.case(
        "user creating a service account in kube-system fires",
        t.req(
            CI,
            "create",
            "/api/v1/namespaces/kube-system/serviceaccounts",
            objref("serviceaccounts", "kube-system", "cluster-monitor"),
            level="Request",
            req=sa_body,
        ),
        {R_SA_KUBE: 1, "K8s Serviceaccount Created": 1},
    )
    t.case(
        "kubeadm creating the coredns service account is quiet",
        t.req(
            ADMIN,
            "create",
            "/api/v1/namespaces/kube-system/serviceaccounts",
            objref("serviceaccounts", "kube-system", "coredns"),
            level="Request",
            req=dict(sa_body, metadata={"name": "coredns", "namespace": "kube-system"}),
        ),
        {"K8s Serviceaccount Created": 1},
        [R_SA_KUBE],
    )
    t.case(
        "controller manager creating a controller service account is quiet",
        t.req(
            KCM,
            "create",
            "/api/v1/namespaces/kube-system/serviceaccounts",
            objref("serviceaccounts", "kube-system", "ttl-controller"),
            level="Request",
            req=dict(sa_body, metadata={"name": "ttl-controller", "namespace": "kube-system"}),
        ),
        {"K8s Serviceaccount Created": 1},
        [R_SA_KUBE],
    )
    t.case(
        "service account in an application namespace is quiet",
        t.req(
            CI,
            "create",
            "/api/v1/namespaces/shop/serviceaccounts",
            objref("serviceaccounts", "shop", "checkout"),
            level="Request",
            req=dict(sa_body, metadata={"name": "checkout", "namespace": "shop"}),
        ),
        {"K8s Serviceaccount Created": 1},
        [R_SA_KUBE],
    )
    return t


def theme_anonymous() -> Theme:
    t = Theme("anonymous", 303, "Anonymous access: allowed requests, probing, health probes")
    unauth_reason = rbac_reason(
        "ClusterRoleBinding",
        "legacy-discovery",
        "ClusterRole",
        "system:discovery",
        "Group",
        "system:unauthenticated",
    )
    t.case(
        "anonymous discovery allowed by a misconfigured binding fires",
        t.req(ANON, "get", "/api", None, reason=unauth_reason),
        {R_ANON_OK: 1, R_ANON_PROBE: 1},
    )
    t.case(
        "anonymous cluster-wide secret list allowed fires",
        t.req(
            ANON,
            "list",
            "/api/v1/secrets?limit=500",
            objref("secrets"),
            reason=rbac_reason(
                "ClusterRoleBinding",
                "debug-open",
                "ClusterRole",
                "cluster-admin",
                "User",
                "system:anonymous",
            ),
        ),
        {R_ANON_OK: 1, R_ANON_PROBE: 1, R_SECRETS_ALL: 1},
        [R_SCRIPTED],
    )
    public = rbac_reason(
        "ClusterRoleBinding",
        "system:public-info-viewer",
        "ClusterRole",
        "system:public-info-viewer",
        "Group",
        "system:unauthenticated",
    )
    t.case(
        "anonymous version request is probing only",
        t.req(ANON, "get", "/version", None, reason=public),
        {R_ANON_PROBE: 1},
        [R_ANON_OK],
    )
    t.case(
        "anonymous /apis denied is probing only",
        t.req(ANON, "get", "/apis", None, code=403),
        {R_ANON_PROBE: 1},
        [R_ANON_OK],
    )
    t.case(
        "anonymous namespace create denied is probing only",
        t.req(
            ANON,
            "create",
            "/api/v1/namespaces",
            objref("namespaces", None, "pwn"),
            code=403,
            level="Request",
            req={"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "pwn"}},
        ),
        {R_ANON_PROBE: 1, R_NS: 1},
        [R_ANON_OK, "K8s Namespace Created"],
    )
    probes = []
    for path in (
        "/livez",
        "/readyz",
        "/healthz",
        "/readyz?verbose",
        "/livez/ping",
        "/healthz/etcd",
        "/readyz/shutdown",
        "/livez?exclude=etcd",
    ):
        probes += t.req(PROBE, "get", path, None, reason=public, received=True)
    t.case(
        "kubelet and load balancer health probes are quiet", probes, {}, [R_ANON_OK, R_ANON_PROBE]
    )
    t.case(
        "authenticated discovery is quiet",
        ev(
            [
                t.req(
                    BOB,
                    "get",
                    "/api?timeout=32s",
                    None,
                    reason=rbac_reason(
                        "ClusterRoleBinding",
                        "system:discovery",
                        "ClusterRole",
                        "system:discovery",
                        "Group",
                        "system:authenticated",
                    ),
                ),
                t.req(BOB, "get", "/apis?timeout=32s", None),
            ]
        ),
        {},
        [R_ANON_OK, R_ANON_PROBE],
    )
    return t


def theme_pod_security() -> Theme:
    t = Theme(
        "pod_security", 404, "Workload security: privileged, host namespaces, mounts, capabilities"
    )
    app = container(
        "app",
        "registry.example.com/shop/cart:2.14.1",
        security_context=HARDENED,
        ports=[8080],
        resources=SMALL,
    )
    busy = "docker.io/library/busybox:1.36"
    t.case(
        "privileged container fires",
        t.pod_create(
            ALICE,
            "default",
            name="net-debug",
            containers=[
                container(
                    "shell",
                    "docker.io/nicolaka/netshoot:v0.13",
                    command=["sleep", "infinity"],
                    security_context={"privileged": True},
                )
            ],
        ),
        {R_PRIV: 1},
        [R_KUBENS],
    )
    t.case(
        "privileged init container behind a hardened app fires",
        t.pod_create(
            BOB,
            "shop",
            generate_name="cart-",
            containers=[app],
            init_containers=[
                container(
                    "sysctl",
                    busy,
                    command=["sh", "-c", "sysctl -w net.core.somaxconn=4096"],
                    security_context={"privileged": True},
                )
            ],
        ),
        {R_PRIV: 1},
    )
    t.case(
        "allow-listed main image does not cover a privileged init container",
        t.pod_create(
            MALLORY,
            "default",
            name="kube-proxy-lookalike",
            containers=[
                container(
                    "kube-proxy",
                    "registry.k8s.io/kube-proxy:v1.30.4",
                    security_context={"privileged": True},
                )
            ],
            init_containers=[
                container(
                    "prep",
                    busy,
                    command=["sh", "-c", "cp /bin/sh /host/tmp/.x"],
                    security_context={"privileged": True},
                )
            ],
        ),
        {R_PRIV: 1},
    )
    t.case(
        "privileged ephemeral container injected fires",
        t.ephemeral(
            ALICE,
            "shop",
            "cart-7d9f8b6c5d-q4z8m",
            [container("debugger-r2x7k", busy, security_context={"privileged": True}, stdin=True)],
        ),
        {R_PRIV: 1, R_EPH: 1},
    )
    t.case(
        "unprivileged pod is quiet",
        t.pod_create(
            RS_CTRL,
            "shop",
            generate_name="cart-7d9f8b6c5d-",
            containers=[app],
            labels={"app": "cart", "pod-template-hash": "7d9f8b6c5d"},
            owner=owner_ref(
                "ReplicaSet", "cart-7d9f8b6c5d", "5c2d9e1f-8a7b-4c6d-9e0f-1a2b3c4d5e6f"
            ),
            service_account="cart",
            psa=PSA_BASELINE,
        ),
        {},
        [R_PRIV, R_MOUNT, R_PID, R_IPC, R_NET, R_CAPS, R_PROC, R_ESCAL, R_KUBENS],
    )
    kp_vols = [
        host_path("kube-proxy", "/var/lib/kube-proxy", "DirectoryOrCreate"),
        host_path("xtables-lock", "/run/xtables.lock", "FileOrCreate"),
        host_path("lib-modules", "/lib/modules", "Directory"),
    ]
    t.case(
        "kube-proxy DaemonSet pod is quiet",
        t.pod_create(
            DS_CTRL,
            "kube-system",
            generate_name="kube-proxy-",
            volumes=kp_vols,
            containers=[
                container(
                    "kube-proxy",
                    "registry.k8s.io/kube-proxy:v1.30.4",
                    command=[
                        "/usr/local/bin/kube-proxy",
                        "--config=/var/lib/kube-proxy/config.conf",
                        "--hostname-override=$(NODE_NAME)",
                    ],
                    security_context={"privileged": True},
                    mounts=[
                        mount("kube-proxy", "/var/lib/kube-proxy"),
                        mount("xtables-lock", "/run/xtables.lock"),
                        mount("lib-modules", "/lib/modules", True),
                    ],
                )
            ],
            host_network=True,
            priority_class="system-node-critical",
            service_account="kube-proxy",
            labels={"k8s-app": "kube-proxy", "controller-revision-hash": "5c7f8d9b6"},
            owner=owner_ref("DaemonSet", "kube-proxy", "0d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a"),
        ),
        {},
        [R_PRIV, R_NET, R_MOUNT, R_KUBENS, R_CAPS],
    )
    api_vols = [
        host_path("ca-certs", "/etc/ssl/certs", "DirectoryOrCreate"),
        host_path("etc-ca-certificates", "/etc/ca-certificates", "DirectoryOrCreate"),
        host_path("k8s-certs", "/etc/kubernetes/pki", "DirectoryOrCreate"),
        host_path("audit", "/etc/kubernetes/audit", "DirectoryOrCreate"),
        host_path("audit-log", "/var/log/kubernetes/audit", "DirectoryOrCreate"),
    ]
    mirror_ann = {
        "kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint": "10.0.0.10:6443",
        "kubernetes.io/config.hash": "3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f",
        "kubernetes.io/config.mirror": "3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f",
        "kubernetes.io/config.seen": "2026-03-14T03:11:58.402117562Z",
        "kubernetes.io/config.source": "file",
    }
    apiserver_pod = dict(
        name="kube-apiserver-cp-1",
        volumes=api_vols,
        containers=[
            container(
                "kube-apiserver",
                "registry.k8s.io/kube-apiserver:v1.30.4",
                command=[
                    "kube-apiserver",
                    "--advertise-address=10.0.0.10",
                    "--authorization-mode=Node,RBAC",
                    "--audit-policy-file=/etc/kubernetes/audit/policy.yaml",
                    "--audit-log-path=/var/log/kubernetes/audit/audit.log",
                ],
                resources={"requests": {"cpu": "250m"}},
                mounts=[
                    mount("ca-certs", "/etc/ssl/certs", True),
                    mount("k8s-certs", "/etc/kubernetes/pki", True),
                    mount("audit", "/etc/kubernetes/audit", True),
                    mount("audit-log", "/var/log/kubernetes/audit"),
                ],
            )
        ],
        host_network=True,
        priority_class="system-node-critical",
        node="cp-1",
        labels={"component": "kube-apiserver", "tier": "control-plane"},
        owner=owner_ref("Node", "cp-1", "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d", api_version="v1"),
    )
    t.case(
        "mirror pod of the kube-apiserver static pod is quiet",
        t.pod_create(KUBELET_CP, "kube-system", annotations=mirror_ann, **apiserver_pod),
        {},
        [R_PRIV, R_NET, R_MOUNT, R_KUBENS, R_PID],
    )
    t.case(
        "mirror annotation forged by a user is not exempt",
        t.pod_create(MALLORY, "kube-system", annotations=mirror_ann, **apiserver_pod),
        {R_NET: 1, R_MOUNT: 1},
        [R_KUBENS],
    )
    root_vol = [host_path("host-root", "/")]
    t.case(
        "hostPath on the node root fires",
        t.pod_create(
            ALICE,
            "default",
            name="rootfs",
            volumes=root_vol,
            containers=[
                container(
                    "sh", busy, command=["sleep", "3600"], mounts=[mount("host-root", "/host")]
                )
            ],
        ),
        {R_MOUNT: 1},
    )
    t.case(
        "runtime socket in the second volume fires",
        t.pod_create(
            BOB,
            "shop",
            name="image-builder",
            volumes=[
                {"name": "workspace", "emptyDir": {}},
                host_path("docker-sock", "/var/run/docker.sock", "Socket"),
            ],
            containers=[
                container(
                    "builder",
                    "docker.io/library/docker:26.1-cli",
                    command=["sleep", "infinity"],
                    mounts=[
                        mount("workspace", "/workspace"),
                        mount("docker-sock", "/var/run/docker.sock"),
                    ],
                )
            ],
        ),
        {R_MOUNT: 1},
    )
    t.case(
        "path below /etc/kubernetes fires",
        t.pod_create(
            MALLORY,
            "default",
            name="pki-reader",
            volumes=[host_path("pki", "/etc/kubernetes/pki/etcd")],
            containers=[
                container(
                    "cat", busy, command=["sleep", "600"], mounts=[mount("pki", "/pki", True)]
                )
            ],
        ),
        {R_MOUNT: 1},
    )
    t.case(
        "log and timezone host mounts are quiet",
        t.pod_create(
            DS_CTRL,
            "logging",
            generate_name="fluent-bit-",
            volumes=[
                host_path("varlog", "/var/log"),
                host_path("localtime", "/etc/localtime", "File"),
            ],
            containers=[
                container(
                    "fluent-bit",
                    "cr.fluentbit.io/fluent/fluent-bit:3.1.9",
                    mounts=[
                        mount("varlog", "/var/log", True),
                        mount("localtime", "/etc/localtime", True),
                    ],
                )
            ],
            owner=owner_ref("DaemonSet", "fluent-bit", "7e6d5c4b-3a2f-4e1d-8c0b-9a8f7e6d5c4b"),
        ),
        {},
        [R_MOUNT, R_PRIV],
    )
    ne_vols = [host_path("proc", "/proc"), host_path("sys", "/sys"), host_path("root", "/")]
    t.case(
        "node-exporter with host /proc, /sys, / and host namespaces is quiet",
        t.pod_create(
            DS_CTRL,
            "monitoring",
            generate_name="node-exporter-",
            volumes=ne_vols,
            containers=[
                container(
                    "node-exporter",
                    "quay.io/prometheus/node-exporter:v1.8.2",
                    args=[
                        "--path.procfs=/host/proc",
                        "--path.sysfs=/host/sys",
                        "--path.rootfs=/host/root",
                    ],
                    ports=[9100],
                    mounts=[
                        mount("proc", "/host/proc", True),
                        mount("sys", "/host/sys", True),
                        mount("root", "/host/root", True),
                    ],
                )
            ],
            host_network=True,
            host_pid=True,
            owner=owner_ref("DaemonSet", "node-exporter", "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b"),
        ),
        {},
        [R_MOUNT, R_PID, R_NET],
    )
    t.case(
        "hostPID pod fires",
        t.pod_create(
            MALLORY,
            "default",
            name="nsenter",
            host_pid=True,
            containers=[
                container(
                    "nsenter",
                    busy,
                    command=["nsenter", "-t", "1", "-m", "-u", "-i", "-n", "sh"],
                    stdin=True,
                )
            ],
        ),
        {R_PID: 1},
    )
    t.case(
        "hostIPC pod fires",
        t.pod_create(
            BOB,
            "shop",
            name="shm-probe",
            host_ipc=True,
            containers=[container("probe", busy, command=["ipcs", "-a"])],
        ),
        {R_IPC: 1},
    )
    t.case(
        "pod with hostIPC false is quiet",
        t.pod_create(
            BOB, "shop", name="shm-probe-2", containers=[container("probe", busy, command=["ipcs"])]
        ),
        {},
        [R_IPC, R_PID, R_NET],
    )
    t.case(
        "hostNetwork pod fires",
        t.pod_create(
            ALICE,
            "default",
            name="sniffer",
            host_network=True,
            containers=[
                container(
                    "tcpdump", "docker.io/nicolaka/netshoot:v0.13", command=["tcpdump", "-i", "any"]
                )
            ],
        ),
        {R_NET: 1},
    )
    t.case(
        "SYS_ADMIN in a container fires",
        t.pod_create(
            BOB,
            "shop",
            name="fuse-mounter",
            containers=[
                container(
                    "fuse",
                    "registry.example.com/tools/s3fs:1.94",
                    security_context={"capabilities": {"add": ["SYS_ADMIN"]}},
                )
            ],
        ),
        {R_CAPS: 1},
    )
    t.case(
        "NET_ADMIN in an init container fires",
        t.pod_create(
            RS_CTRL,
            "shop",
            generate_name="checkout-59c6d7f8b-",
            containers=[app],
            init_containers=[
                container(
                    "iptables-init",
                    "registry.example.com/mesh/proxy-init:1.22",
                    security_context={
                        "capabilities": {"add": ["NET_ADMIN", "NET_RAW"], "drop": ["ALL"]},
                        "runAsUser": 0,
                    },
                )
            ],
            owner=owner_ref(
                "ReplicaSet", "checkout-59c6d7f8b", "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d"
            ),
        ),
        {R_CAPS: 1},
    )
    t.case(
        "SYS_PTRACE in an ephemeral container fires",
        t.ephemeral(
            BOB,
            "shop",
            "cart-7d9f8b6c5d-q4z8m",
            [
                container(
                    "debugger-9kq2z",
                    busy,
                    stdin=True,
                    security_context={"capabilities": {"add": ["SYS_PTRACE"]}},
                )
            ],
        ),
        {R_CAPS: 1, R_EPH: 1},
    )
    t.case(
        "NET_BIND_SERVICE is quiet",
        t.pod_create(
            RS_CTRL,
            "shop",
            generate_name="web-5f6d7c8b9-",
            containers=[
                container(
                    "nginx",
                    "registry.example.com/shop/web:1.27.1",
                    ports=[80],
                    security_context={
                        "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
                        "allowPrivilegeEscalation": False,
                    },
                )
            ],
            owner=owner_ref("ReplicaSet", "web-5f6d7c8b9", "3b4c5d6e-7f8a-4b9c-8d0e-1f2a3b4c5d6e"),
        ),
        {},
        [R_CAPS, R_ESCAL],
    )
    t.case(
        "flannel with NET_ADMIN is quiet",
        t.pod_create(
            DS_CTRL,
            "kube-flannel",
            generate_name="kube-flannel-ds-",
            host_network=True,
            containers=[
                container(
                    "kube-flannel",
                    "docker.io/flannel/flannel:v0.25.6",
                    command=["/opt/bin/flanneld", "--ip-masq", "--kube-subnet-mgr"],
                    security_context={
                        "privileged": False,
                        "capabilities": {"add": ["NET_ADMIN", "NET_RAW"]},
                    },
                )
            ],
            init_containers=[
                container(
                    "install-cni-plugin",
                    "docker.io/flannel/flannel-cni-plugin:v1.5.1-flannel2",
                    command=["cp"],
                    args=["-f", "/flannel", "/opt/cni/bin/flannel"],
                )
            ],
            owner=owner_ref("DaemonSet", "kube-flannel-ds", "4c5d6e7f-8a9b-4c0d-9e1f-2a3b4c5d6e7f"),
        ),
        {},
        [R_CAPS, R_NET, R_PRIV],
    )
    t.case(
        "unmasked /proc fires",
        t.pod_create(
            MALLORY,
            "default",
            name="procfs",
            containers=[
                container(
                    "sh",
                    busy,
                    command=["sleep", "3600"],
                    security_context={"procMount": "Unmasked"},
                )
            ],
        ),
        {R_PROC: 1},
    )
    t.case(
        "default procMount is quiet",
        t.pod_create(
            BOB,
            "shop",
            name="procfs-default",
            containers=[
                container(
                    "sh", busy, command=["sleep", "3600"], security_context={"procMount": "Default"}
                )
            ],
        ),
        {},
        [R_PROC],
    )
    t.case(
        "allowPrivilegeEscalation true fires",
        t.pod_create(
            BOB,
            "shop",
            name="sudo-tools",
            containers=[
                container(
                    "tools",
                    "registry.example.com/tools/ops:2026.03",
                    command=["sleep", "infinity"],
                    security_context={"allowPrivilegeEscalation": True, "runAsUser": 1000},
                )
            ],
        ),
        {R_ESCAL: 1},
    )
    pv = {
        "kind": "PersistentVolume",
        "apiVersion": "v1",
        "metadata": {"name": "scratch", "creationTimestamp": None},
        "spec": {
            "capacity": {"storage": "10Gi"},
            "hostPath": {"path": "/", "type": ""},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": "manual",
            "volumeMode": "Filesystem",
        },
        "status": {},
    }
    t.case(
        "PersistentVolume on the host root fires",
        t.req(
            MALLORY,
            "create",
            "/api/v1/persistentvolumes",
            objref("persistentvolumes", None, "scratch"),
            level="RequestResponse",
            req=pv,
            resp=pv,
        ),
        {R_PV: 1},
    )
    pv2 = dict(
        pv,
        metadata={"name": "etcd-backup"},
        spec=dict(pv["spec"], hostPath={"path": "/var/lib/etcd/member", "type": "Directory"}),
    )
    t.case(
        "PersistentVolume below /var/lib/etcd fires",
        t.req(
            BOB,
            "create",
            "/api/v1/persistentvolumes",
            objref("persistentvolumes", None, "etcd-backup"),
            level="RequestResponse",
            req=pv2,
            resp=pv2,
        ),
        {R_PV: 1},
    )
    pv3 = dict(
        pv,
        metadata={"name": "local-data"},
        spec=dict(pv["spec"], hostPath={"path": "/mnt/disks/ssd0", "type": "Directory"}),
    )
    t.case(
        "PersistentVolume on a data disk is quiet",
        t.req(
            ALICE,
            "create",
            "/api/v1/persistentvolumes",
            objref("persistentvolumes", None, "local-data"),
            level="RequestResponse",
            req=pv3,
            resp=pv3,
        ),
        {},
        [R_PV],
    )
    t.case(
        "unlisted image in kube-system fires",
        t.pod_create(
            CI,
            "kube-system",
            name="kube-dns-helper",
            containers=[
                container("helper", "docker.io/library/alpine:3.20", command=["sleep", "infinity"])
            ],
        ),
        {R_KUBENS: 1},
    )
    t.case(
        "unlisted image in kube-public fires",
        t.pod_create(
            MALLORY,
            "kube-public",
            name="cluster-info-cache",
            containers=[container("web", "docker.io/library/nginx:1.27")],
        ),
        {R_KUBENS: 1},
    )
    t.case(
        "coredns pod created by its ReplicaSet is quiet",
        t.pod_create(
            RS_CTRL,
            "kube-system",
            generate_name="coredns-7db6d8ff4d-",
            containers=[
                container(
                    "coredns",
                    "registry.k8s.io/coredns/coredns:v1.11.1",
                    args=["-conf", "/etc/coredns/Corefile"],
                    ports=[53, 9153],
                    security_context={
                        "allowPrivilegeEscalation": False,
                        "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
                        "readOnlyRootFilesystem": True,
                    },
                )
            ],
            priority_class="system-cluster-critical",
            service_account="coredns",
            owner=owner_ref(
                "ReplicaSet", "coredns-7db6d8ff4d", "5d6e7f8a-9b0c-4d1e-8f2a-3b4c5d6e7f8a"
            ),
        ),
        {},
        [R_KUBENS, R_CAPS],
    )
    t.case(
        "pod denied by Pod Security admission still fires",
        t.pod_create(
            BOB,
            "shop",
            name="root-shell",
            code=403,
            psa=PSA_BASELINE,
            containers=[
                container(
                    "sh", busy, command=["sleep", "3600"], security_context={"privileged": True}
                )
            ],
        ),
        {R_PRIV: 1},
    )
    return t


def theme_interactive() -> Theme:
    t = Theme(
        "interactive",
        505,
        "Interactive access: exec, attach, debug containers, port-forward, node proxy",
    )
    q = (
        "command=sh&command=-c&command="
        + quote("cat /etc/os-release", safe="")
        + "&container=cart&stdin=true&stdout=true&tty=true"
    )
    t.case(
        "exec session in an app pod fires once over three stages",
        t.stream(BOB, "shop", "cart-7d9f8b6c5d-q4z8m", "exec", q),
        {R_EXEC: 1},
        [R_SYSEXEC],
    )
    t.case(
        "attach over websocket (get) fires",
        t.stream(
            ALICE,
            "shop",
            "checkout-59c6d7f8b-z2kq7",
            "attach",
            "container=checkout&stderr=true&stdin=true&stdout=true&tty=true",
            verb="get",
        ),
        {R_EXEC: 1},
    )
    t.case(
        "denied exec fires once",
        t.stream(
            MALLORY,
            "payments",
            "ledger-0",
            "exec",
            "command=%2Fbin%2Fbash&container=ledger&stdin=true&stdout=true&tty=true",
            code=403,
            seconds=0.002,
        ),
        {R_EXEC: 1},
    )
    t.case(
        "completion event of an exec alone is quiet",
        t.stream(BOB, "shop", "cart-7d9f8b6c5d-q4z8m", "exec", q, stages="complete-only"),
        {},
        [R_EXEC, R_SYSEXEC],
    )
    t.case(
        "log streaming is quiet",
        t.stream(
            ALICE,
            "shop",
            "cart-7d9f8b6c5d-q4z8m",
            "log",
            "container=cart&follow=true&tailLines=100",
            verb="get",
            code=200,
            seconds=95.0,
        ),
        {},
        [R_EXEC, R_PF],
    )
    t.case(
        "exec into a kube-system pod fires",
        t.stream(
            MALLORY,
            "kube-system",
            "etcd-cp-1",
            "exec",
            "command=etcdctl&command=get&command=%2Fregistry%2Fsecrets&command=--prefix&container=etcd&stdout=true",
        ),
        {R_SYSEXEC: 1, R_EXEC: 1},
    )
    t.case(
        "debug container in a kube-system pod fires",
        t.ephemeral(
            ALICE,
            "kube-system",
            "coredns-7db6d8ff4d-b8x2n",
            [container("debugger-w6m4t", "docker.io/nicolaka/netshoot:v0.13", stdin=True)],
            base=[container("coredns", "registry.k8s.io/coredns/coredns:v1.11.1")],
        ),
        {R_SYSEXEC: 1, R_EPH: 1},
    )
    t.case(
        "kubectl debug in an app pod fires",
        t.ephemeral(
            BOB,
            "shop",
            "cart-7d9f8b6c5d-q4z8m",
            [container("debugger-h7c2v", "docker.io/library/busybox:1.36", stdin=True)],
        ),
        {R_EPH: 1},
        [R_SYSEXEC, R_PRIV],
    )
    t.case(
        "ephemeral containers via update fires",
        t.ephemeral(
            BOB,
            "shop",
            "cart-7d9f8b6c5d-q4z8m",
            [container("debugger-h7c2v", "docker.io/library/busybox:1.36", stdin=True)],
            verb="update",
        ),
        {R_EPH: 1},
    )
    t.case(
        "pod status patch is quiet",
        t.req(
            KUBELET1,
            "patch",
            "/api/v1/namespaces/shop/pods/cart-7d9f8b6c5d-q4z8m/status",
            objref("pods", "shop", "cart-7d9f8b6c5d-q4z8m", subresource="status"),
            level="Request",
            req={"status": {"conditions": [{"type": "Ready", "status": "True"}]}},
        ),
        {},
        [R_EPH, R_EXEC],
    )
    t.case(
        "port-forward fires once over three stages",
        t.stream(
            ALICE, "shop", "checkout-59c6d7f8b-z2kq7", "portforward", "ports=5432", seconds=610.0
        ),
        {R_PF: 1},
    )
    t.case(
        "pod proxy request is quiet",
        t.stream(
            ALICE,
            "shop",
            "checkout-59c6d7f8b-z2kq7",
            "proxy",
            "",
            verb="get",
            code=200,
            seconds=0.03,
        ),
        {},
        [R_PF, R_EXEC],
    )
    node_uri = "/api/v1/nodes/worker-1/proxy/exec/shop/cart-7d9f8b6c5d-q4z8m/cart?command=id&error=1&output=1"
    t.case(
        "kubelet exec through nodes/proxy fires",
        t.req(
            FRONTEND.with_ip("10.244.1.23", "python-requests/2.32.3"),
            "get",
            node_uri,
            objref("nodes", None, "worker-1", subresource="proxy"),
            received=True,
            stream_seconds=0.4,
            reason=rbac_reason(
                "ClusterRoleBinding",
                "frontend-metrics",
                "ClusterRole",
                "node-metrics-proxy",
                "ServiceAccount",
                "frontend/shop",
            ),
        ),
        {R_NODEPROXY: 1, R_SCRIPTED: 1},
    )
    t.case(
        "kubelet node status patch is quiet",
        t.req(
            KUBELET1,
            "patch",
            "/api/v1/nodes/worker-1/status?timeout=10s",
            objref("nodes", None, "worker-1", subresource="status"),
        ),
        {},
        [R_NODEPROXY],
    )
    return t


def theme_credentials() -> Theme:
    t = Theme("credentials", 606, "Credential access: secrets, ConfigMap credentials, token misuse")
    t.case(
        "stolen workload token listing every secret fires",
        t.req(
            FRONTEND,
            "list",
            "/api/v1/secrets?limit=500",
            objref("secrets"),
            reason=rbac_reason(
                "ClusterRoleBinding",
                "frontend-reader",
                "ClusterRole",
                "view-all",
                "ServiceAccount",
                "frontend/shop",
            ),
        ),
        {R_SECRETS_ALL: 1, R_SCRIPTED: 1},
    )
    t.case(
        "cluster-wide secret watch by a human fires once",
        t.req(
            ALICE,
            "watch",
            "/api/v1/secrets?allowWatchBookmarks=true&resourceVersion=4412087&watch=true",
            objref("secrets"),
            received=True,
            stream_seconds=300.0,
        ),
        {R_SECRETS_ALL: 1},
    )
    t.case(
        "denied cluster-wide secret list fires",
        t.req(BOB, "list", "/api/v1/secrets?limit=500", objref("secrets"), code=403),
        {R_SECRETS_ALL: 1},
    )
    ksm = Actor(
        "system:serviceaccount:monitoring:kube-state-metrics",
        sa_groups("monitoring"),
        "10.244.2.9",
        "kube-state-metrics/v2.13.0 (linux/amd64) kubernetes/$Format",
    )
    t.case(
        "kube-state-metrics secret watch is quiet",
        t.req(
            ksm,
            "watch",
            "/api/v1/secrets?allowWatchBookmarks=true&resourceVersion=4412087&timeout=9m12s&timeoutSeconds=552&watch=true",
            objref("secrets"),
            received=True,
            stream_seconds=552.0,
        ),
        {},
        [R_SECRETS_ALL],
    )
    t.case(
        "controller manager secret list is quiet",
        t.req(KCM, "list", "/api/v1/secrets?limit=500&resourceVersion=0", objref("secrets")),
        {},
        [R_SECRETS_ALL],
    )
    t.case(
        "namespaced secret list is quiet",
        t.req(BOB, "list", "/api/v1/namespaces/shop/secrets?limit=500", objref("secrets", "shop")),
        {},
        [R_SECRETS_ALL, R_SECRET_GET],
    )
    t.case(
        "denied secret read fires",
        t.req(
            BOB,
            "get",
            "/api/v1/namespaces/payments/secrets/stripe-api-key",
            objref("secrets", "payments", "stripe-api-key"),
            code=403,
        ),
        {R_SECRET_DENIED: 1},
    )
    t.case(
        "secret not found is quiet",
        t.req(
            BOB,
            "get",
            "/api/v1/namespaces/shop/secrets/cart-db-credental",
            objref("secrets", "shop", "cart-db-credental"),
            code=404,
            status=failure_status(
                404,
                'secrets "cart-db-credental" not found',
                {"name": "cart-db-credental", "kind": "secrets"},
            ),
        ),
        {},
        [R_SECRET_DENIED, R_SECRET_GET],
    )
    t.case(
        "human reading a secret fires",
        t.req(
            BOB,
            "get",
            "/api/v1/namespaces/shop/secrets/cart-db-credentials",
            objref("secrets", "shop", "cart-db-credentials"),
        ),
        {R_SECRET_GET: 1},
    )
    t.case(
        "kubelet reading a pod secret is quiet",
        t.req(
            KUBELET2,
            "get",
            "/api/v1/namespaces/shop/secrets/cart-db-credentials",
            objref("secrets", "shop", "cart-db-credentials"),
        ),
        {},
        [R_SECRET_GET],
    )
    cm = {
        "kind": "ConfigMap",
        "apiVersion": "v1",
        "metadata": {"name": "billing-export", "namespace": "shop", "creationTimestamp": None},
        "data": {
            "export.ini": "[s3]\nbucket = shop-billing-exports\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
        },
    }
    t.case(
        "ConfigMap with an AWS key fires",
        t.req(
            BOB,
            "create",
            "/api/v1/namespaces/shop/configmaps",
            objref("configmaps", "shop", "billing-export"),
            level="RequestResponse",
            req=cm,
            resp=cm,
        ),
        {R_CM_CREDS: 1, "K8s ConfigMap Created": 1},
    )
    t.case(
        "ConfigMap patch adding a password fires",
        t.req(
            CI,
            "patch",
            "/api/v1/namespaces/shop/configmaps/cart-config?fieldManager=kubectl-client-side-apply",
            objref("configmaps", "shop", "cart-config"),
            level="RequestResponse",
            req={
                "data": {
                    "DB_URL": "postgres://cart@db.shop.svc:5432/cart",
                    "DB_PASSWORD": "password=Summer2026!",
                }
            },
        ),
        {R_CM_CREDS: 1},
    )
    ok_cm = {
        "kind": "ConfigMap",
        "apiVersion": "v1",
        "metadata": {"name": "cart-flags", "namespace": "shop"},
        "data": {"LOG_LEVEL": "info", "FEATURE_NEW_CHECKOUT": "true", "CART_TTL": "72h"},
    }
    t.case(
        "ConfigMap of feature flags is quiet",
        t.req(
            CI,
            "create",
            "/api/v1/namespaces/shop/configmaps",
            objref("configmaps", "shop", "cart-flags"),
            level="RequestResponse",
            req=ok_cm,
            resp=ok_cm,
        ),
        {"K8s ConfigMap Created": 1},
        [R_CM_CREDS],
    )
    ssrr = {
        "kind": "SelfSubjectRulesReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": {"namespace": "default"},
        "status": {"resourceRules": None, "nonResourceRules": None, "incomplete": False},
    }
    ssrr_ref = objref("selfsubjectrulesreviews", None, None, group="authorization.k8s.io")
    t.case(
        "service account enumerating its permissions fires",
        t.req(
            FRONTEND,
            "create",
            "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
            ssrr_ref,
            level="Request",
            req=ssrr,
        ),
        {R_DISCOVERY: 1, R_SCRIPTED: 1},
    )
    t.case(
        "human running auth can-i --list is quiet",
        t.req(
            BOB,
            "create",
            "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
            ssrr_ref,
            level="Request",
            req=ssrr,
        ),
        {},
        [R_DISCOVERY],
    )
    ssar = {
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {},
        "spec": {"resourceAttributes": {"namespace": "shop", "verb": "list", "resource": "pods"}},
        "status": {},
    }
    argocd = Actor(
        "system:serviceaccount:argocd:argocd-server",
        sa_groups("argocd"),
        "10.244.3.31",
        "argocd-server/v2.12.3+6b9cd82 (linux/amd64) kubernetes/$Format",
    )
    t.case(
        "service account single permission check is quiet",
        t.req(
            argocd,
            "create",
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            objref("selfsubjectaccessreviews", None, None, group="authorization.k8s.io"),
            level="Request",
            req=ssar,
        ),
        {},
        [R_DISCOVERY],
    )
    t.case(
        "curl with a service account token fires",
        t.req(FRONTEND, "get", "/api/v1/namespaces/shop/pods", objref("pods", "shop")),
        {R_SCRIPTED: 1},
    )
    t.case(
        "anonymous curl is probing, not scripted-client",
        t.req(ANON, "get", "/version", None),
        {R_ANON_PROBE: 1},
        [R_SCRIPTED],
    )
    t.case(
        "kubectl client is quiet",
        t.req(BOB, "get", "/api/v1/namespaces/shop/pods", objref("pods", "shop")),
        {},
        [R_SCRIPTED],
    )
    return t


def theme_persistence() -> Theme:
    t = Theme(
        "persistence",
        707,
        "Persistence and defense evasion: admission, API extensions, events, CronJobs, exposure",
    )
    mwc = {
        "kind": "MutatingWebhookConfiguration",
        "apiVersion": "admissionregistration.k8s.io/v1",
        "metadata": {"name": "pod-env-injector"},
        "webhooks": [
            {
                "name": "inject.pod-env.io",
                "clientConfig": {"url": "https://203.0.113.77:8443/mutate"},
                "rules": [
                    {
                        "operations": ["CREATE"],
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "resources": ["pods"],
                    }
                ],
                "failurePolicy": "Ignore",
                "sideEffects": "None",
                "admissionReviewVersions": ["v1"],
            }
        ],
    }
    ar = "admissionregistration.k8s.io"
    t.case(
        "mutating webhook created fires",
        t.req(
            MALLORY,
            "create",
            f"/apis/{ar}/v1/mutatingwebhookconfigurations",
            objref("mutatingwebhookconfigurations", None, "pod-env-injector", group=ar),
            level="RequestResponse",
            req=mwc,
            resp=mwc,
        ),
        {R_ADMISSION: 1},
    )
    t.case(
        "validating webhook deleted fires",
        t.req(
            ALICE,
            "delete",
            f"/apis/{ar}/v1/validatingwebhookconfigurations/gatekeeper-validating-webhook-configuration",
            objref(
                "validatingwebhookconfigurations",
                None,
                "gatekeeper-validating-webhook-configuration",
                group=ar,
            ),
        ),
        {R_ADMISSION: 1},
    )
    t.case(
        "admission policy binding deleted fires",
        t.req(
            BOB,
            "delete",
            f"/apis/{ar}/v1/validatingadmissionpolicybindings/deny-privileged-binding",
            objref("validatingadmissionpolicybindings", None, "deny-privileged-binding", group=ar),
        ),
        {R_ADMISSION: 1},
    )
    t.case(
        "admission policy status update by its controller is quiet",
        t.req(
            controller("validatingadmissionpolicy-status-controller"),
            "update",
            f"/apis/{ar}/v1/validatingadmissionpolicies/deny-privileged/status",
            objref(
                "validatingadmissionpolicies",
                None,
                "deny-privileged",
                group=ar,
                subresource="status",
            ),
        ),
        {},
        [R_ADMISSION],
    )
    apisvc = {
        "kind": "APIService",
        "apiVersion": "apiregistration.k8s.io/v1",
        "metadata": {"name": "v1beta1.metrics.k8s.io"},
        "spec": {
            "service": {"namespace": "default", "name": "metrics-proxy", "port": 443},
            "group": "metrics.k8s.io",
            "version": "v1beta1",
            "insecureSkipTLSVerify": True,
            "groupPriorityMinimum": 100,
            "versionPriority": 100,
        },
    }
    ag = "apiregistration.k8s.io"
    t.case(
        "APIService registered by a user fires",
        t.req(
            MALLORY,
            "update",
            f"/apis/{ag}/v1/apiservices/v1beta1.metrics.k8s.io",
            objref("apiservices", None, "v1beta1.metrics.k8s.io", group=ag),
            level="Request",
            req=apisvc,
        ),
        {R_APISVC: 1},
    )
    t.case(
        "API server autoregistration is quiet",
        t.req(
            APISERVER,
            "create",
            f"/apis/{ag}/v1/apiservices",
            objref("apiservices", None, "v1.apps", group=ag),
            level="Request",
            req={
                "kind": "APIService",
                "apiVersion": f"{ag}/v1",
                "metadata": {
                    "name": "v1.apps",
                    "labels": {"kube-aggregator.kubernetes.io/automanaged": "onstart"},
                },
                "spec": {
                    "group": "apps",
                    "version": "v1",
                    "groupPriorityMinimum": 17800,
                    "versionPriority": 15,
                },
            },
        ),
        {},
        [R_APISVC],
    )
    ae = "apiextensions.k8s.io"
    t.case(
        "CRD created by CI fires",
        t.req(
            CI,
            "create",
            f"/apis/{ae}/v1/customresourcedefinitions",
            objref("customresourcedefinitions", None, "certificates.cert-manager.io", group=ae),
        ),
        {R_CRD: 1},
    )
    t.case(
        "CRD deleted by a user fires",
        t.req(
            ALICE,
            "delete",
            f"/apis/{ae}/v1/customresourcedefinitions/constrainttemplates.templates.gatekeeper.sh",
            objref(
                "customresourcedefinitions",
                None,
                "constrainttemplates.templates.gatekeeper.sh",
                group=ae,
            ),
        ),
        {R_CRD: 1},
    )
    t.case(
        "CRD status update by the API server is quiet",
        t.req(
            APISERVER,
            "update",
            f"/apis/{ae}/v1/customresourcedefinitions/certificates.cert-manager.io/status",
            objref(
                "customresourcedefinitions",
                None,
                "certificates.cert-manager.io",
                group=ae,
                subresource="status",
            ),
        ),
        {},
        [R_CRD],
    )
    t.case(
        "events of kube-system deleted in bulk fires",
        t.req(
            CI.with_ip("198.51.100.23", "kubectl/v1.29.3 (darwin/arm64) kubernetes/6813625"),
            "deletecollection",
            "/api/v1/namespaces/kube-system/events",
            objref("events", "kube-system"),
        ),
        {R_EVENTS: 1},
    )
    t.case(
        "single event deleted through events.k8s.io fires",
        t.req(
            MALLORY,
            "delete",
            "/apis/events.k8s.io/v1/namespaces/default/events/sniffer.17c9a3f0b2e4d1a8",
            objref("events", "default", "sniffer.17c9a3f0b2e4d1a8", group="events.k8s.io"),
        ),
        {R_EVENTS: 1},
    )
    t.case(
        "namespace controller purging events is quiet",
        t.req(
            controller("namespace-controller"),
            "deletecollection",
            "/api/v1/namespaces/preview-142/events",
            objref("events", "preview-142"),
        ),
        {},
        [R_EVENTS],
    )
    t.case(
        "Falco DaemonSet deleted fires",
        t.req(
            MALLORY,
            "delete",
            "/apis/apps/v1/namespaces/falco/daemonsets/falco",
            objref("daemonsets", "falco", "falco", group="apps"),
        ),
        {R_SECTOOL: 1},
    )
    t.case(
        "kyverno namespace deleted fires",
        t.req(ALICE, "delete", "/api/v1/namespaces/kyverno", objref("namespaces", None, "kyverno")),
        {R_SECTOOL: 1, "K8s Namespace Deleted": 1},
    )
    t.case(
        "application deployment deleted is quiet",
        t.req(
            CI,
            "delete",
            "/apis/apps/v1/namespaces/shop/deployments/legacy-search",
            objref("deployments", "shop", "legacy-search", group="apps"),
        ),
        {"K8s Deployment Deleted": 1},
        [R_SECTOOL],
    )
    cron = {
        "kind": "CronJob",
        "apiVersion": "batch/v1",
        "metadata": {"name": "cache-warmer", "namespace": "shop"},
        "spec": {
            "schedule": "*/5 * * * *",
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {
                            "containers": [
                                {"name": "warm", "image": "registry.example.com/shop/tools:1.4"}
                            ],
                            "restartPolicy": "OnFailure",
                        }
                    }
                }
            },
        },
    }
    t.case(
        "CronJob created by a user fires",
        t.req(
            CI,
            "create",
            "/apis/batch/v1/namespaces/shop/cronjobs",
            objref("cronjobs", "shop", "cache-warmer", group="batch"),
            level="Request",
            req=cron,
        ),
        {R_CRON: 1},
    )
    t.case(
        "Job created by the CronJob controller is quiet",
        t.req(
            controller("cronjob-controller"),
            "create",
            "/apis/batch/v1/namespaces/shop/jobs",
            objref("jobs", "shop", "nightly-report-29556000", group="batch"),
        ),
        {},
        [R_CRON],
    )
    svc = {
        "kind": "Service",
        "apiVersion": "v1",
        "metadata": {"name": "checkout-debug", "namespace": "shop"},
        "spec": {
            "type": "NodePort",
            "selector": {"app": "checkout"},
            "ports": [{"port": 8080, "targetPort": 8080, "nodePort": 30080, "protocol": "TCP"}],
        },
    }
    t.case(
        "NodePort service created fires",
        t.req(
            BOB,
            "create",
            "/api/v1/namespaces/shop/services",
            objref("services", "shop", "checkout-debug"),
            level="RequestResponse",
            req=svc,
            resp=svc,
        ),
        {R_NODEPORT: 1, "K8s Service Created": 1},
    )
    t.case(
        "service patched to NodePort fires",
        t.req(
            ALICE,
            "patch",
            "/api/v1/namespaces/shop/services/cart?fieldManager=kubectl-patch",
            objref("services", "shop", "cart"),
            level="RequestResponse",
            req={"spec": {"type": "NodePort"}},
        ),
        {R_NODEPORT: 1},
    )
    cip = {
        "kind": "Service",
        "apiVersion": "v1",
        "metadata": {"name": "cart", "namespace": "shop"},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app": "cart"},
            "ports": [{"port": 80, "targetPort": 8080}],
        },
    }
    t.case(
        "ClusterIP service is quiet",
        t.req(
            CI,
            "create",
            "/api/v1/namespaces/shop/services",
            objref("services", "shop", "cart"),
            level="RequestResponse",
            req=cip,
            resp=cip,
        ),
        {"K8s Service Created": 1},
        [R_NODEPORT],
    )
    ing = {
        "kind": "Ingress",
        "apiVersion": "networking.k8s.io/v1",
        "metadata": {"name": "shop", "namespace": "shop"},
        "spec": {
            "ingressClassName": "nginx",
            "rules": [
                {
                    "host": "shop.example.com",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "web", "port": {"number": 80}}},
                            }
                        ]
                    },
                }
            ],
        },
    }
    t.case(
        "Ingress without TLS fires",
        t.req(
            CI,
            "create",
            "/apis/networking.k8s.io/v1/namespaces/shop/ingresses",
            objref("ingresses", "shop", "shop", group="networking.k8s.io"),
            level="Request",
            req=ing,
        ),
        {R_INGRESS: 1},
    )
    ing_tls = dict(
        ing, spec=dict(ing["spec"], tls=[{"hosts": ["shop.example.com"], "secretName": "shop-tls"}])
    )
    t.case(
        "Ingress with TLS is quiet",
        t.req(
            CI,
            "create",
            "/apis/networking.k8s.io/v1/namespaces/shop/ingresses",
            objref("ingresses", "shop", "shop", group="networking.k8s.io"),
            level="Request",
            req=ing_tls,
        ),
        {},
        [R_INGRESS],
    )
    t.case(
        "namespace outside the allowed list fires",
        t.req(
            BOB,
            "create",
            "/api/v1/namespaces",
            objref("namespaces", None, "bob-sandbox"),
            level="Request",
            req={"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "bob-sandbox"}},
        ),
        {R_NS: 1, "K8s Namespace Created": 1},
    )
    t.case(
        "kube-node-lease created at bootstrap is quiet",
        t.req(
            APISERVER,
            "create",
            "/api/v1/namespaces",
            objref("namespaces", None, "kube-node-lease"),
            level="Request",
            req={"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "kube-node-lease"}},
        ),
        {"K8s Namespace Created": 1},
        [R_NS],
    )
    return t


def theme_activity() -> Theme:
    t = Theme("activity", 808, "Activity trail (INFO): creations and deletions of common objects")
    rb = RBAC_GROUP
    objs = [
        (
            "K8s Deployment",
            "deployments",
            "apps",
            "shop",
            "search",
            "/apis/apps/v1/namespaces/shop/deployments",
        ),
        ("K8s Service", "services", None, "shop", "search", "/api/v1/namespaces/shop/services"),
        (
            "K8s ConfigMap",
            "configmaps",
            None,
            "shop",
            "search-config",
            "/api/v1/namespaces/shop/configmaps",
        ),
        ("K8s Namespace", "namespaces", None, None, "default", "/api/v1/namespaces"),
        (
            "K8s Serviceaccount",
            "serviceaccounts",
            None,
            "shop",
            "search",
            "/api/v1/namespaces/shop/serviceaccounts",
        ),
        ("K8s Role", "roles", rb, "shop", "search-reader", f"/apis/{rb}/v1/namespaces/shop/roles"),
        (
            "K8s ClusterRole",
            "clusterroles",
            rb,
            None,
            "search-metrics-reader",
            f"/apis/{rb}/v1/clusterroles",
        ),
        (
            "K8s RoleBinding",
            "rolebindings",
            rb,
            "shop",
            "search-reader",
            f"/apis/{rb}/v1/namespaces/shop/rolebindings",
        ),
        (
            "K8s ClusterRoleBinding",
            "clusterrolebindings",
            rb,
            None,
            "search-metrics-reader",
            f"/apis/{rb}/v1/clusterrolebindings",
        ),
        (
            "K8s Secret",
            "secrets",
            None,
            "shop",
            "search-api-token",
            "/api/v1/namespaces/shop/secrets",
        ),
    ]
    for prefix, res, group, ns, name, coll in objs:
        created = f"{prefix} Created"
        deleted = f"{prefix} Deleted"
        level = "Metadata" if res == "secrets" else "Request"
        body: dict[str, Any] = {"metadata": {"name": name}}
        if res in ("roles", "clusterroles"):
            body["rules"] = [
                {"verbs": ["get", "list"], "apiGroups": [""], "resources": ["endpoints"]}
            ]
        if res in ("rolebindings", "clusterrolebindings"):
            body["roleRef"] = {
                "apiGroup": rb,
                "kind": "ClusterRole" if res == "clusterrolebindings" else "Role",
                "name": name,
            }
            body["subjects"] = [{"kind": "ServiceAccount", "name": "search", "namespace": "shop"}]
        if res == "services":
            body["spec"] = {"type": "ClusterIP", "ports": [{"port": 9200}]}
        actor = ALICE if res == "namespaces" else CI
        if res == "namespaces":
            name = "staging"
            expect_c: dict[str, int] = {created: 1, R_NS: 1}
        else:
            expect_c = {created: 1}
        events = t.req(
            actor,
            "create",
            coll,
            objref(res, ns, name, group=group),
            level=level,
            req=body,
            received=True,
        )
        events += t.req(
            actor, "delete", f"{coll}/{name}", objref(res, ns, name, group=group), received=True
        )
        t.case(
            f"{prefix.split(' ', 1)[1]} created then deleted fires both",
            events,
            dict(expect_c, **{deleted: 1}),
        )
    failed: list[dict[str, Any]] = []
    quiet: list[str] = []
    for prefix, res, group, ns, name, coll in objs:
        quiet += [f"{prefix} Created", f"{prefix} Deleted"]
        failed += t.req(MALLORY, "create", coll, objref(res, ns, name, group=group), code=403)
        failed += t.req(
            BOB,
            "delete",
            f"{coll}/{name}-old",
            objref(res, ns, f"{name}-old", group=group),
            code=404,
            status=failure_status(
                404, f'{res} "{name}-old" not found', {"name": f"{name}-old", "kind": res}
            ),
        )
    t.case("denied creations and deletions of missing objects are quiet", failed, {}, quiet)
    t.case(
        "create rejected as already existing is quiet",
        t.req(
            CI,
            "create",
            "/apis/apps/v1/namespaces/shop/deployments",
            objref("deployments", "shop", "cart", group="apps"),
            code=409,
            status=failure_status(
                409,
                'deployments.apps "cart" already exists',
                {"name": "cart", "group": "apps", "kind": "deployments"},
            ),
        ),
        {},
        ["K8s Deployment Created"],
    )
    t.case(
        "deployment scale subresource update is quiet",
        t.req(
            controller("horizontal-pod-autoscaler"),
            "update",
            "/apis/apps/v1/namespaces/shop/deployments/cart/scale",
            objref("deployments", "shop", "cart", group="apps", subresource="scale"),
            level="Request",
            req={"kind": "Scale", "apiVersion": "autoscaling/v1", "spec": {"replicas": 4}},
        ),
        {},
        ["K8s Deployment Created", "K8s Deployment Deleted"],
    )
    t.case(
        "token request is not a service account creation",
        t.req(
            KUBELET1,
            "create",
            "/api/v1/namespaces/shop/serviceaccounts/search/token",
            objref("serviceaccounts", "shop", "search", subresource="token"),
        ),
        {},
        ["K8s Serviceaccount Created", R_TOKEN],
    )
    t.case(
        "secret created in kube-system is quiet",
        t.req(
            ADMIN,
            "create",
            "/api/v1/namespaces/kube-system/secrets",
            objref("secrets", "kube-system", "bootstrap-token-7xk2pq"),
        ),
        {},
        ["K8s Secret Created"],
    )
    t.case(
        "secret deleted by the token cleaner is quiet",
        t.req(
            controller("token-cleaner"),
            "delete",
            "/api/v1/namespaces/shop/secrets/search-api-token",
            objref("secrets", "shop", "search-api-token"),
        ),
        {},
        ["K8s Secret Deleted"],
    )
    t.case(
        "namespace deletion by the namespace controller is quiet",
        t.req(
            controller("namespace-controller"),
            "delete",
            "/api/v1/namespaces/preview-142",
            objref("namespaces", None, "preview-142"),
        ),
        {},
        ["K8s Namespace Deleted"],
    )
    return t


def theme_customized() -> Theme:
    t = Theme(
        "customized",
        1010,
        "Customized ruleset: opt-in rules enabled, lists and exceptions extended "
        "(load rules/tests/customized/local_rules.yaml after the default rules)",
        out_dir=HERE / "customized",
    )
    t.case(
        "user outside the allowed list fires",
        t.req(MALLORY, "get", "/api/v1/namespaces/shop/pods", objref("pods", "shop")),
        {R_USER: 1},
    )
    t.case(
        "allowed user is quiet",
        t.req(ALICE, "get", "/api/v1/namespaces/shop/pods", objref("pods", "shop")),
        {},
        [R_USER],
    )
    t.case(
        "service accounts are not checked against the user list",
        t.req(
            CI,
            "get",
            "/apis/apps/v1/namespaces/shop/deployments/cart",
            objref("deployments", "shop", "cart", group="apps"),
        ),
        {},
        [R_USER],
    )
    app = container("cart", "registry.example.com/shop/cart:2.14.1", security_context=HARDENED)
    t.case(
        "pod with an image outside the inventory fires",
        t.pod_create(
            BOB,
            "shop",
            name="unvetted",
            containers=[app, container("side", "docker.io/library/alpine:3.20")],
        ),
        {R_DISPOD: 1, R_REGISTRY: 1},
    )
    t.case(
        "pod with inventoried images is quiet",
        t.pod_create(
            RS_CTRL,
            "shop",
            generate_name="cart-7d9f8b6c5d-",
            containers=[app],
            psa=PSA_BASELINE,
            init_containers=[
                container("migrate", "registry.example.com/shop/cart-migrations:2.14.1")
            ],
            owner=owner_ref(
                "ReplicaSet", "cart-7d9f8b6c5d", "5c2d9e1f-8a7b-4c6d-9e0f-1a2b3c4d5e6f"
            ),
        ),
        {},
        [R_DISPOD, R_REGISTRY],
    )
    t.case(
        "look-alike registry host fires",
        t.pod_create(
            MALLORY,
            "shop",
            name="lookalike",
            containers=[container("cart", "registry.example.com.evil.io/shop/cart:2.14.1")],
        ),
        {R_REGISTRY: 1, R_DISPOD: 1, R_USER: 1},
    )
    t.case(
        "debug container from Docker Hub fires",
        t.ephemeral(
            BOB,
            "shop",
            "cart-7d9f8b6c5d-q4z8m",
            [container("debugger-p4d8s", "docker.io/library/busybox:1.36", stdin=True)],
        ),
        {R_REGISTRY: 1, R_DISPOD: 1, R_EPH: 1},
    )
    t.case(
        "default admin name fires",
        t.req(ADMIN, "get", "/api/v1/nodes", objref("nodes")),
        {R_FULLADMIN: 1},
    )
    t.case(
        "system:masters member fires",
        t.req(
            Actor(
                "breakglass", ("system:masters", "system:authenticated"), "10.8.0.3", KUBECTL_MAC
            ),
            "delete",
            "/api/v1/namespaces/shop/pods/cart-7d9f8b6c5d-q4z8m",
            objref("pods", "shop", "cart-7d9f8b6c5d-q4z8m"),
        ),
        {R_FULLADMIN: 1, R_USER: 1},
    )
    t.case(
        "named admin outside the default names is quiet",
        t.req(ALICE, "get", "/api/v1/nodes", objref("nodes")),
        {},
        [R_FULLADMIN],
    )
    t.case(
        "every completed request is reported once",
        t.req(BOB, "get", "/api/v1/namespaces/shop/pods", objref("pods", "shop"), received=True),
        {R_ALL: 1},
    )
    t.case(
        "a request still in flight (RequestReceived only) is not reported",
        [
            e
            for e in t.stream(
                ALICE,
                "shop",
                "checkout-59c6d7f8b-z2kq7",
                "portforward",
                "ports=5432",
                seconds=900.0,
            )
            if e["stage"] == "RequestReceived"
        ],
        {},
        [R_ALL],
    )
    node = {
        "kind": "Node",
        "apiVersion": "v1",
        "metadata": {
            "name": "worker-9",
            "labels": {"kubernetes.io/hostname": "worker-9", "kubernetes.io/os": "linux"},
        },
        "spec": {},
        "status": {},
    }
    stranger = kubelet("worker-9", "10.0.0.29")
    t.case(
        "unknown node joining fires",
        t.req(
            stranger,
            "create",
            "/api/v1/nodes",
            objref("nodes", None, "worker-9"),
            level="Request",
            req=node,
        ),
        {R_NODE_OK: 1},
    )
    t.case(
        "known node re-registering is quiet",
        t.req(
            KUBELET2,
            "create",
            "/api/v1/nodes",
            objref("nodes", None, "worker-2"),
            level="Request",
            req=dict(node, metadata={"name": "worker-2"}),
        ),
        {},
        [R_NODE_OK, R_NODE_FAIL],
    )

    def node_restricted(who: str, name: str) -> dict[str, Any]:
        return failure_status(
            403,
            f'nodes "{name}" is forbidden: node "{who}" is not allowed to modify taints',
            {"name": name, "kind": "nodes"},
        )

    t.case(
        "unknown node failing to join fires",
        t.req(
            stranger,
            "create",
            "/api/v1/nodes",
            objref("nodes", None, "worker-9"),
            code=403,
            level="Request",
            req=node,
            status=node_restricted("worker-9", "worker-9"),
        ),
        {R_NODE_FAIL: 1},
        [R_NODE_OK],
    )
    t.case(
        "known node failing to join is quiet",
        t.req(
            KUBELET2,
            "create",
            "/api/v1/nodes",
            objref("nodes", None, "worker-2"),
            code=403,
            level="Request",
            req=dict(node, metadata={"name": "worker-2"}),
            status=node_restricted("worker-2", "worker-2"),
        ),
        {},
        [R_NODE_FAIL],
    )
    q = "command=sh&container=cart&stdin=true&stdout=true&tty=true"
    t.case(
        "exec covered by an appended exception is quiet",
        t.stream(ALICE, "shop", "cart-7d9f8b6c5d-q4z8m", "exec", q),
        {},
        [R_EXEC],
    )
    t.case(
        "same user in another namespace still fires",
        t.stream(ALICE, "payments", "ledger-0", "exec", q.replace("cart", "ledger")),
        {R_EXEC: 1},
    )
    t.case(
        "privileged pod with an appended allow-listed image is quiet",
        t.pod_create(
            DS_CTRL,
            "security",
            generate_name="node-agent-",
            host_pid=True,
            containers=[
                container(
                    "agent",
                    "registry.example.com/platform/node-agent:4.2.0",
                    security_context={"privileged": True},
                )
            ],
            owner=owner_ref("DaemonSet", "node-agent", "6e7f8a9b-0c1d-4e2f-8a3b-4c5d6e7f8a9b"),
        ),
        {},
        [R_PRIV, R_PID],
    )
    import themes_access  # late: it imports this module

    themes_access.customized_cases(t)
    return t


THEMES = [
    theme_rbac,
    theme_identity,
    theme_anonymous,
    theme_pod_security,
    theme_interactive,
    theme_credentials,
    theme_persistence,
    theme_activity,
    theme_customized,
]


def extra_themes() -> list[Callable[[], Theme]]:
    """The catalogue-coverage themes. They live in their own modules, which
    import this one for its actors and :class:`Theme`, hence the late import."""
    import themes_access
    import themes_aggregations
    import themes_defence
    import themes_workloads

    return [
        themes_workloads.theme_workloads,
        themes_defence.theme_defence,
        themes_access.theme_access,
        themes_aggregations.theme_aggregations,
    ]


def main() -> None:
    total = 0
    for make in [*THEMES, *extra_themes()]:
        theme = make()
        n = theme.write()
        total += n
        print(f"{theme.name}: {n} cases")
    print(f"total: {total} cases")


if __name__ == "__main__":
    main()
