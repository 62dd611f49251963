"""Fixtures: stolen and replayed credentials, failed authentication, token theft, RBAC
enumeration and binding patches, and the administrator and monitoring look-alikes
(kubeadm's cluster-info binding, `kubectl auth can-i --as`, cAdvisor scrapes) that
must stay quiet."""

from __future__ import annotations

from urllib.parse import quote

import breadth_kit as k
import cases_lookalikes
import make_fixtures as mf
from auditgen import objref

RBAC = "rbac.authorization.k8s.io"
ANONYMIZER_IP = "192.0.2.66"


def _stolen_tokens(t: mf.Theme) -> None:
    outside = mf.FRONTEND.with_ip(k.ATTACKER_IP, mf.KUBECTL_LINUX)
    t.case(
        "pod token used from an Internet address fires",
        t.req(
            outside, "list", "/api/v1/namespaces/shop/secrets?limit=500", objref("secrets", "shop")
        ),
        {k.R_SA_OUTSIDE: 1},
    )
    t.case(
        "token used from an IPv6 address outside the cluster fires",
        t.req(
            mf.CI.with_ip("2001:db8:4::17"),
            "get",
            "/apis/apps/v1/namespaces/shop/deployments/cart",
            objref("deployments", "shop", "cart", group="apps"),
        ),
        {k.R_SA_OUTSIDE: 1},
    )
    t.case(
        "pod token used from its pod network is quiet",
        t.req(
            mf.FRONTEND,
            "get",
            "/api/v1/namespaces/shop/configmaps/frontend-config",
            objref("configmaps", "shop", "frontend-config"),
        ),
        {},
        [k.R_SA_OUTSIDE],
    )
    t.case(
        "token used from an IPv4-mapped cluster address is quiet",
        t.req(
            mf.FRONTEND.with_ip("::ffff:10.244.1.23"),
            "get",
            "/api/v1/namespaces/shop/configmaps/frontend-config",
            objref("configmaps", "shop", "frontend-config"),
        ),
        {},
        [k.R_SA_OUTSIDE],
    )
    t.case(
        "person using the API from the Internet is not a service-account token",
        t.req(
            mf.ALICE.with_ip("203.0.113.200"),
            "get",
            "/api/v1/namespaces/shop/pods",
            objref("pods", "shop"),
        ),
        {},
        [k.R_SA_OUTSIDE],
    )
    t.case(
        "request from an address missing from the empty default network list is quiet",
        t.req(mf.ANON.with_ip(ANONYMIZER_IP), "get", "/version", None),
        {mf.R_ANON_PROBE: 1},
        [k.R_LISTED_NET],
    )


def _exec_token(t: mf.Theme) -> None:
    def query(cmd: list[str]) -> str:
        return "&".join(f"command={quote(c, safe='')}" for c in cmd) + "&container=app&stdout=true"

    token = "/var/run/secrets/kubernetes.io/serviceaccount/token"
    t.case(
        "exec reading the pod's service-account token fires",
        t.stream(mf.MALLORY, "shop", "frontend-6b8f9c7d4-x2v9q", "exec", query(["cat", token])),
        {k.R_TOKEN_EXEC: 1, mf.R_EXEC: 1},
    )
    t.case(
        "exec reading the EKS web-identity token through a shell fires",
        t.stream(
            mf.MALLORY,
            "shop",
            "frontend-6b8f9c7d4-x2v9q",
            "exec",
            query(["sh", "-c", "cat /var/run/secrets/eks.amazonaws.com/serviceaccount/token"]),
        ),
        {k.R_TOKEN_EXEC: 1, mf.R_EXEC: 1},
    )
    t.case(
        "kubectl cp out of a pod (exec of tar) fires",
        t.stream(
            mf.MALLORY,
            "payments",
            "ledger-0",
            "exec",
            query(["tar", "cf", "-", "/var/lib/ledger/export"]).replace(
                "container=app", "container=ledger"
            ),
        ),
        {mf.R_EXEC: 1},
        [k.R_TOKEN_EXEC],
    )
    t.case(
        "exec reading the pod's namespace file is quiet",
        t.stream(
            mf.BOB,
            "shop",
            "frontend-6b8f9c7d4-x2v9q",
            "exec",
            query(["cat", "/var/run/secrets/kubernetes.io/serviceaccount/namespace"]),
        ),
        {mf.R_EXEC: 1},
        [k.R_TOKEN_EXEC],
    )


def _authentication(t: mf.Theme) -> None:
    t.case(
        "bad bearer token rejected with 401 fires",
        k.auth_failure(
            t,
            "203.0.113.45",
            "python-requests/2.31.0",
            "list",
            "/api/v1/namespaces/kube-system/secrets",
            objref("secrets", "kube-system"),
            "bearer",
        ),
        {k.R_AUTH_FAIL: 1},
        [mf.R_ANON_PROBE, mf.R_SECRET_DENIED],
    )
    t.case(
        "request without credentials where anonymous access is off fires",
        k.auth_failure(t, "203.0.113.45", "curl/8.5.0", "get", "/api", None, ""),
        {k.R_AUTH_FAIL: 1},
    )
    t.case(
        "authorization denial (403) is not an authentication failure",
        t.req(
            mf.BOB,
            "get",
            "/api/v1/namespaces/kube-system/secrets/bootstrap-token-abcdef",
            objref("secrets", "kube-system", "bootstrap-token-abcdef"),
            code=403,
        ),
        {mf.R_SECRET_DENIED: 1},
        [k.R_AUTH_FAIL],
    )


def _rbac(t: mf.Theme) -> None:
    t.case(
        "service account listing cluster role bindings fires",
        t.req(
            mf.FRONTEND,
            "list",
            f"/apis/{RBAC}/v1/clusterrolebindings?limit=500",
            objref("clusterrolebindings", group=RBAC),
        ),
        {k.R_RBAC_ENUM: 1},
    )
    t.case(
        "service account watching role bindings fires once",
        t.req(
            mf.FRONTEND,
            "watch",
            f"/apis/{RBAC}/v1/rolebindings?watch=true",
            objref("rolebindings", group=RBAC),
            received=True,
            stream_seconds=300.0,
        ),
        {k.R_RBAC_ENUM: 1},
    )
    t.case(
        "administrator listing cluster roles is quiet",
        t.req(
            mf.ALICE,
            "list",
            f"/apis/{RBAC}/v1/clusterroles?limit=500",
            objref("clusterroles", group=RBAC),
        ),
        {},
        [k.R_RBAC_ENUM],
    )
    argo = k.service_account(
        "argocd",
        "argocd-application-controller",
        "10.244.2.40",
        "argocd-application-controller/v2.11.3 (linux/amd64)",
    )
    t.case(
        "GitOps controller listing roles is quiet",
        t.req(argo, "list", f"/apis/{RBAC}/v1/roles?limit=500", objref("roles", group=RBAC)),
        {},
        [k.R_RBAC_ENUM],
    )
    crb = f"/apis/{RBAC}/v1/clusterrolebindings"
    subject = {"kind": "ServiceAccount", "name": "frontend", "namespace": "shop"}
    t.case(
        "JSON patch adding a subject to the cluster-admin binding fires",
        k.simple(
            t,
            mf.MALLORY,
            "patch",
            f"{crb}/cluster-admin",
            objref("clusterrolebindings", None, "cluster-admin", group=RBAC),
            [k.json_op("add", "/subjects/-", subject)],
        ),
        {k.R_ADMIN_PATCH: 1},
        [k.R_BIND_PATCH, mf.R_CADMIN],
    )
    t.case(
        "merge patch replacing the subjects of kubeadm's admin binding fires",
        k.simple(
            t,
            mf.MALLORY,
            "patch",
            f"{crb}/kubeadm:cluster-admins",
            objref("clusterrolebindings", None, "kubeadm:cluster-admins", group=RBAC),
            {
                "subjects": [
                    {"kind": "Group", "apiGroup": RBAC, "name": "kubeadm:cluster-admins"},
                    {"kind": "User", "apiGroup": RBAC, "name": "mallory@example.com"},
                ]
            },
        ),
        {k.R_ADMIN_PATCH: 1},
        [k.R_BIND_PATCH],
    )
    t.case(
        "JSON patch adding a subject to an application binding fires",
        k.simple(
            t,
            mf.MALLORY,
            "patch",
            f"/apis/{RBAC}/v1/namespaces/shop/rolebindings/shop-editors",
            objref("rolebindings", "shop", "shop-editors", group=RBAC),
            [
                k.json_op(
                    "add",
                    "/subjects/1",
                    {"kind": "User", "apiGroup": RBAC, "name": "mallory@example.com"},
                )
            ],
        ),
        {k.R_BIND_PATCH: 1},
        [k.R_ADMIN_PATCH],
    )
    cr = f"/apis/{RBAC}/v1/clusterroles"
    wildcard = {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}
    t.case(
        "JSON patch adding a wildcard rule to a ClusterRole fires",
        k.simple(
            t,
            mf.MALLORY,
            "patch",
            f"{cr}/monitoring-reader",
            objref("clusterroles", None, "monitoring-reader", group=RBAC),
            [k.json_op("add", "/rules/-", wildcard)],
        ),
        {k.R_ROLE_JSON: 1},
        [mf.R_WILD],
    )
    t.case(
        "JSON patch on a ClusterRole's labels is quiet",
        k.simple(
            t,
            mf.ALICE,
            "patch",
            f"{cr}/monitoring-reader",
            objref("clusterroles", None, "monitoring-reader", group=RBAC),
            [k.json_op("add", "/metadata/labels/team", "platform")],
        ),
        {},
        [k.R_ROLE_JSON],
    )
    t.case(
        "labels patched on the cluster-admin binding are quiet",
        k.simple(
            t,
            mf.ALICE,
            "patch",
            f"{crb}/cluster-admin",
            objref("clusterrolebindings", None, "cluster-admin", group=RBAC),
            {"metadata": {"labels": {"owner": "platform-team"}}},
        ),
        {},
        [k.R_ADMIN_PATCH, k.R_BIND_PATCH],
    )


def customized_cases(t: mf.Theme) -> None:
    """Cases of the customized fixture: lists of local_rules.yaml filled in."""
    t.case(
        "failed authentication from a listed anonymizer network fires",
        k.auth_failure(
            t,
            ANONYMIZER_IP,
            "kubectl/v1.30.2 (linux/amd64) kubernetes/3968350",
            "get",
            "/api/v1/namespaces/kube-system/secrets",
            objref("secrets", "kube-system"),
            "bearer",
        ),
        {k.R_LISTED_NET: 1, k.R_AUTH_FAIL: 1},
    )
    forwarded = t.req(
        mf.ALICE.with_ip("10.0.0.5"), "get", "/api/v1/namespaces/shop/pods", objref("pods", "shop")
    )
    for ev in forwarded:  # behind a proxy: X-Forwarded-For first, the proxy last
        ev["sourceIPs"] = [ANONYMIZER_IP, "10.0.0.5"]
    t.case(
        "request forwarded for a listed address fires",
        forwarded,
        {k.R_LISTED_NET: 1},
    )
    t.case(
        "request from an unlisted address is quiet",
        t.req(
            mf.ALICE.with_ip("203.0.113.200"),
            "get",
            "/api/v1/namespaces/shop/pods",
            objref("pods", "shop"),
        ),
        {},
        [k.R_LISTED_NET],
    )
    t.case(
        "image from an appended approved registry is quiet",
        k.write(
            t,
            mf.CI,
            "patch",
            "Deployment",
            "shop",
            "cart",
            k.template_patch(
                "Deployment",
                {
                    "containers": [
                        {"name": "cart", "image": "registry.example.com/shop/cart:2.14.3"}
                    ]
                },
            ),
        ),
        {},
        [k.R_REGISTRY],
    )


def theme_access() -> mf.Theme:
    t = mf.Theme(
        "access",
        1303,
        "Credentials and identity: tokens used from outside, failed authentication, token "
        "theft through exec, RBAC enumeration and binding patches; administrator look-alikes",
    )
    _stolen_tokens(t)
    _exec_token(t)
    _authentication(t)
    _rbac(t)
    cases_lookalikes.admin_lookalikes(t)
    return t
