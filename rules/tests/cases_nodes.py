"""Fixture cases of the workloads theme: node agents and static pods, masquerading names, interactive pods, miners, SSH.

Called by ``themes_workloads.theme_workloads``, in a fixed order (the theme's
random generator makes the output byte-identical across runs).
"""

from __future__ import annotations

import breadth_kit as k
import make_fixtures as mf
from auditgen import container, host_path, owner_ref


def node_pods(t: mf.Theme) -> None:
    csi = container(
        "ebs-plugin",
        "public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:v1.31.0",
        security_context=k.PRIV,
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
                container("agent", "registry.example.com/ops/agent:4.2", security_context=k.PRIV)
            ],
            owner=owner_ref("DaemonSet", "log-agent", "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"),
        ),
        {mf.R_PRIV: 1},
        [k.R_NODE_AGENT],
    )
    static = container(
        "cache",
        "docker.io/library/alpine:3.20",
        security_context=k.PRIV,
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


def names_and_payloads(t: mf.Theme) -> None:
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
        t.pod_create(mf.BOB, k.NS, name="cart-debug", containers=[k.app()]),
        {},
        [k.R_MASQ, k.R_INTERACTIVE],
    )
    shell = container("tmp-shell", "docker.io/library/alpine:3.20", stdin=True)
    t.case(
        "kubectl run -it fires",
        t.pod_create(
            mf.MALLORY, k.NS, name="tmp-shell", containers=[shell], restart_policy="Never"
        ),
        {k.R_INTERACTIVE: 1, k.R_REGISTRY: 1},
    )
    t.case(
        "kubectl run without a terminal is quiet",
        t.pod_create(
            mf.BOB,
            k.NS,
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
            k.NS,
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
            k.NS,
            "miner-stats",
            k.pod_spec([container("stats", "registry.example.com/shop/mining-stats:1.0")]),
        ),
        {},
        [k.R_MINER],
    )
    ssh = container("sshd", "lscr.io/linuxserver/openssh-server:9.7", ports=[2222])
    t.case(
        "Deployment running an SSH server fires",
        k.create(t, mf.MALLORY, "Deployment", k.NS, "jump", k.pod_spec([ssh])),
        {k.R_SSH: 1, k.R_REGISTRY: 1},
    )
    t.case(
        "JSON patch exposing port 22 fires",
        k.write(
            t,
            mf.MALLORY,
            "patch",
            "Deployment",
            k.NS,
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
            k.NS,
            "git",
            k.pod_spec([container("git", "registry.example.com/shop/git:2.45", ports=[8022])]),
        ),
        {},
        [k.R_SSH],
    )
