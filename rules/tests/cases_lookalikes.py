"""Fixture cases: benign actions of well-known components that look like attacks.

cert-manager's cainjector, Kyverno and helm-installed metrics-server (for the
defence theme); kubeadm's cluster-info binding, `kubectl auth can-i --as` and
Prometheus' cAdvisor scrapes (for the access theme). Each sits next to a
near miss that must still fire.
"""

from __future__ import annotations

import breadth_kit as k
import make_fixtures as mf
from auditgen import objref

AR = "admissionregistration.k8s.io"
AG = "apiregistration.k8s.io"
RBAC = "rbac.authorization.k8s.io"
CA = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJkekNDQVIyZ0F3SUJBZ0lCQURBS0JnZ3Foa2pPUFFRREFqQWpNU0V3SHdZRFZRUURE"


def component_maintenance(t: mf.Theme) -> None:
    cainjector = k.service_account(
        "cert-manager",
        "cert-manager-cainjector",
        "10.244.1.17",
        "cainjector/v1.14.5 (linux/amd64) cert-manager/3e0ab7a",
    )
    patch = {"webhooks": [{"name": "webhook.cert-manager.io", "clientConfig": {"caBundle": CA}}]}
    t.case(
        "cert-manager cainjector refreshing a webhook caBundle stays INFO",
        k.simple(
            t,
            cainjector,
            "patch",
            f"/apis/{AR}/v1/validatingwebhookconfigurations/cert-manager-webhook",
            objref("validatingwebhookconfigurations", None, "cert-manager-webhook", group=AR),
            patch,
        ),
        {k.R_WEBHOOK_INFO: 1},
        [mf.R_ADMISSION],
    )
    kyverno = k.service_account(
        "kyverno",
        "kyverno-admission-controller",
        "10.244.3.12",
        "kyverno/v1.12.3 (linux/amd64) kubernetes/$Format",
    )
    cfg = {
        "kind": "ValidatingWebhookConfiguration",
        "apiVersion": f"{AR}/v1",
        "metadata": {
            "name": "kyverno-resource-validating-webhook-cfg",
            "labels": {"webhook.kyverno.io/managed-by": "kyverno"},
        },
        "webhooks": [
            {
                "name": "validate.kyverno.svc-fail",
                "clientConfig": {
                    "service": {
                        "namespace": "kyverno",
                        "name": "kyverno-svc",
                        "path": "/validate/fail",
                        "port": 443,
                    },
                    "caBundle": CA,
                },
                "failurePolicy": "Fail",
                "sideEffects": "NoneOnDryRun",
                "admissionReviewVersions": ["v1"],
            }
        ],
    }
    ref = objref(
        "validatingwebhookconfigurations", None, "kyverno-resource-validating-webhook-cfg", group=AR
    )
    uri = f"/apis/{AR}/v1/validatingwebhookconfigurations/kyverno-resource-validating-webhook-cfg"
    t.case(
        "Kyverno updating its own webhook configuration stays INFO",
        k.simple(t, kyverno, "update", uri, ref, cfg),
        {k.R_WEBHOOK_INFO: 1},
        [mf.R_ADMISSION],
    )
    t.case(
        "Kyverno webhook configuration deleted still fires",
        k.simple(t, kyverno, "delete", uri, ref),
        {mf.R_ADMISSION: 1},
        [k.R_WEBHOOK_INFO],
    )
    t.case(
        "a user editing the Kyverno webhook still fires",
        k.simple(
            t,
            mf.MALLORY,
            "patch",
            uri,
            ref,
            {"webhooks": [{"name": "validate.kyverno.svc-fail", "failurePolicy": "Ignore"}]},
        ),
        {mf.R_ADMISSION: 1},
        [k.R_WEBHOOK_INFO],
    )
    helm = mf.ADMIN.with_ip("10.0.0.10", k.HELM_UA)
    apisvc = {
        "kind": "APIService",
        "apiVersion": f"{AG}/v1",
        "metadata": {
            "name": "v1beta1.metrics.k8s.io",
            "labels": {"app.kubernetes.io/managed-by": "Helm"},
        },
        "spec": {
            "service": {"namespace": "kube-system", "name": "metrics-server", "port": 443},
            "group": "metrics.k8s.io",
            "version": "v1beta1",
            "insecureSkipTLSVerify": True,
            "groupPriorityMinimum": 100,
            "versionPriority": 100,
        },
    }
    t.case(
        "helm installing metrics-server's APIService stays INFO",
        k.simple(
            t,
            helm,
            "create",
            f"/apis/{AG}/v1/apiservices",
            objref("apiservices", None, "v1beta1.metrics.k8s.io", group=AG),
            apisvc,
        ),
        {k.R_APISVC_INFO: 1},
        [mf.R_APISVC],
    )
    elsewhere = dict(
        apisvc,
        spec=dict(apisvc["spec"], service={"namespace": "shop", "name": "metrics", "port": 443}),
    )
    t.case(
        "metrics APIService pointed at an application namespace still fires",
        k.simple(
            t,
            mf.MALLORY,
            "update",
            f"/apis/{AG}/v1/apiservices/v1beta1.metrics.k8s.io",
            objref("apiservices", None, "v1beta1.metrics.k8s.io", group=AG),
            elsewhere,
        ),
        {mf.R_APISVC: 1},
        [k.R_APISVC_INFO],
    )
    t.case(
        "cainjector refreshing an APIService caBundle stays INFO",
        k.simple(
            t,
            cainjector,
            "patch",
            f"/apis/{AG}/v1/apiservices/v1beta1.webhook.cert-manager.io",
            objref("apiservices", None, "v1beta1.webhook.cert-manager.io", group=AG),
            {"spec": {"caBundle": CA}},
        ),
        {k.R_APISVC_INFO: 1},
        [mf.R_APISVC],
    )


def admin_lookalikes(t: mf.Theme) -> None:
    anon = [{"kind": "User", "apiGroup": RBAC, "name": "system:anonymous"}]
    rb = "kubeadm:bootstrap-signer-clusterinfo"
    t.case(
        "kubeadm letting anonymous users read cluster-info stays INFO",
        t.binding(k.SUPER_ADMIN, "RoleBinding", rb, rb, anon, ns="kube-public", role_kind="Role"),
        {"K8s RoleBinding Created": 1},
        [mf.R_ANON_BIND],
    )
    t.case(
        "the same binding name in another namespace fires",
        t.binding(mf.MALLORY, "RoleBinding", rb, "view", anon, ns="shop"),
        {mf.R_ANON_BIND: 1},
    )
    public = mf.rbac_reason(
        "RoleBinding", rb, "Role", rb, "User", "system:anonymous", "kube-public"
    )
    t.case(
        "a joining node reading cluster-info anonymously is probing only",
        t.req(
            mf.ANON.with_ip("10.0.0.24", "kubeadm/v1.30.4 (linux/amd64) kubernetes/a51b3b7"),
            "get",
            "/api/v1/namespaces/kube-public/configmaps/cluster-info",
            objref("configmaps", "kube-public", "cluster-info"),
            reason=public,
        ),
        {mf.R_ANON_PROBE: 1},
        [mf.R_ANON_OK],
    )
    sar = {
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": {"resourceAttributes": {"namespace": "shop", "verb": "create", "resource": "pods"}},
        "status": {"allowed": False},
    }
    as_sa = {
        "username": "system:serviceaccount:shop:frontend",
        "groups": ["system:serviceaccounts", "system:serviceaccounts:shop", "system:authenticated"],
    }
    t.case(
        "kubectl auth can-i --as stays INFO",
        t.req(
            mf.ALICE,
            "create",
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            objref("selfsubjectaccessreviews", group="authorization.k8s.io"),
            level="Request",
            req=sar,
            impersonated=as_sa,
        ),
        {k.R_IMP_CHECK: 1},
        [mf.R_IMP],
    )
    t.case(
        "impersonated secret read still fires",
        t.req(
            mf.ALICE,
            "get",
            "/api/v1/namespaces/shop/secrets/stripe-api-key",
            objref("secrets", "shop", "stripe-api-key"),
            impersonated=as_sa,
        ),
        {mf.R_IMP: 1},
        [k.R_IMP_CHECK],
    )
    prom = k.service_account("monitoring", "prometheus-k8s", "10.244.2.15", "Prometheus/2.53.1")
    t.case(
        "Prometheus scraping cAdvisor through the node proxy stays INFO",
        t.req(
            prom,
            "get",
            "/api/v1/nodes/worker-1/proxy/metrics/cadvisor",
            objref("nodes", None, "worker-1", subresource="proxy"),
            received=True,
            stream_seconds=0.35,
        ),
        {k.R_METRICS_INFO: 1},
        [mf.R_NODEPROXY],
    )
    t.case(
        "kubelet pod listing through the node proxy still fires",
        t.req(
            mf.MALLORY,
            "get",
            "/api/v1/nodes/worker-1/proxy/runningpods/",
            objref("nodes", None, "worker-1", subresource="proxy"),
            received=True,
            stream_seconds=0.2,
        ),
        {mf.R_NODEPROXY: 1},
        [k.R_METRICS_INFO],
    )
    t.case(
        "kubelet checkpoint of a container through the node proxy fires",
        t.req(
            mf.MALLORY,
            "create",
            "/api/v1/nodes/worker-1/proxy/checkpoint/payments/ledger-0/ledger",
            objref("nodes", None, "worker-1", subresource="proxy"),
            code=200,
            received=True,
            stream_seconds=1.8,
        ),
        {mf.R_NODEPROXY: 1},
        [k.R_METRICS_INFO],
    )
    t.case(
        "metrics path with a smuggled query still fires",
        t.req(
            mf.MALLORY,
            "get",
            "/api/v1/nodes/worker-1/proxy/exec/shop/cart-7d9f8b6c5d-q4z8m/cart?command=id&x=/proxy/metrics",
            objref("nodes", None, "worker-1", subresource="proxy"),
            received=True,
            stream_seconds=0.2,
        ),
        {mf.R_NODEPROXY: 1},
        [k.R_METRICS_INFO],
    )
