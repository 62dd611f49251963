"""Fixtures: dangerous pod specs in workload templates and in patches of every type.

Covers the ``ka.req.podspec.*`` rules (privileged, hostPath, host namespaces,
capabilities, added containers, registries), backdoor DaemonSets, static
pods, masquerading pod names, miners, SSH servers, and the CSI node plugin
that must stay quiet.
"""

from __future__ import annotations

import breadth_kit as k
import cases_images
import cases_nodes
import make_fixtures as mf
from auditgen import container, host_path, mount


def _privileged_templates(t: mf.Theme) -> None:
    mal = mf.MALLORY
    shell = container("shell", "docker.io/library/alpine:3.20", security_context=k.PRIV)
    for kind, name in (
        ("Deployment", "metrics-helper"),
        ("StatefulSet", "cache-warmer"),
        ("ReplicaSet", "report-agent"),
        ("Job", "db-maintenance"),
    ):
        t.case(
            f"{kind} created with a privileged container fires",
            k.create(t, mal, kind, k.NS, name, k.pod_spec([shell])),
            {k.R_TPL_PRIV: 1, k.R_REGISTRY: 1},
            [mf.R_PRIV],
        )
    t.case(
        "CronJob created with a privileged container fires",
        k.create(t, mal, "CronJob", k.NS, "log-rotate", k.pod_spec([shell], restart="OnFailure")),
        {k.R_TPL_PRIV: 1, mf.R_CRON: 1},
    )
    init = container("setup", "registry.example.com/shop/setup:1.0", security_context=k.PRIV)
    t.case(
        "DaemonSet created with a privileged init container fires",
        k.create(
            t, mal, "DaemonSet", k.NS, "node-tuner", k.pod_spec([k.app()], init_containers=[init])
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
            k.NS,
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
            "containers": [{"name": "agent", "securityContext": k.PRIV}],
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
                container("db", "registry.example.com/shop/db:15.4", security_context=k.PRIV)
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
            k.NS,
            "db",
            merge,
            query="fieldManager=kubectl-patch",
        ),
        {k.R_TPL_PRIV: 1},
    )
    applied = k.workload(
        "Deployment",
        "cart",
        k.NS,
        k.pod_spec(
            [
                k.app(),
                container("debug", "registry.example.com/tools/debug:1.2", security_context=k.PRIV),
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
            k.NS,
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
            k.NS,
            "cart-7d9f8b6c5d-q4z8m",
            k.template_patch("Pod", {"containers": [{"name": "cart", "securityContext": k.PRIV}]}),
            query="fieldManager=kubectl-patch",
            code=422,
        ),
        {k.R_TPL_PRIV: 1},
    )
    t.case(
        "JSON patch setting privileged to false is quiet",
        k.write(t, mf.CI, "patch", "Deployment", k.NS, "cart", [k.json_op("replace", path, False)]),
        {},
        [k.R_TPL_PRIV],
    )
    cilium = container("cilium-agent", "quay.io/cilium/cilium:v1.15.6", security_context=k.PRIV)
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
        k.NS,
        k.pod_spec(
            [container("cart", "registry.example.com/shop/cart:2.14.1", security_context=k.PRIV)]
        ),
    )
    t.case(
        "ReplicaSet copied from a template by the deployment controller is quiet",
        k.write(
            t,
            mf.controller("deployment-controller"),
            "create",
            "ReplicaSet",
            k.NS,
            "cart-5c9f7d8b6",
            rs,
        ),
        {},
        [k.R_TPL_PRIV, k.R_REGISTRY],
    )


def _host_access(t: mf.Theme) -> None:
    vols = [host_path("crontabs", "//etc/./cron.d/", "DirectoryOrCreate")]
    agent = k.app(mounts=[mount("crontabs", "/host/cron")])
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
        k.write(t, mf.MALLORY, "patch", "Deployment", k.NS, "cart", [op]),
        {k.R_TPL_MOUNT: 1},
    )
    smp = k.template_patch(
        "Deployment", {"volumes": [host_path("spool", "/var/spool/cron/crontabs")]}
    )
    t.case(
        "strategic merge patch adding a crontab spool hostPath fires",
        k.write(t, mf.MALLORY, "patch", "Deployment", k.NS, "web", smp),
        {k.R_TPL_MOUNT: 1},
    )
    t.case(
        "CronJob mounting the node's root filesystem fires",
        k.create(
            t,
            mf.MALLORY,
            "CronJob",
            k.NS,
            "backup",
            k.pod_spec([k.app()], restart="OnFailure", volumes=[host_path("host", "/")]),
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
                        "falco", "docker.io/falcosecurity/falco:0.38.1", security_context=k.PRIV
                    ),
                    container("falcoctl-artifact-follow", "docker.io/falcosecurity/falcoctl:0.8.0"),
                ],
                init_containers=[
                    container(
                        "falco-driver-loader",
                        "docker.io/falcosecurity/falco-driver-loader:0.38.1",
                        security_context=k.PRIV,
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
        k.create(
            t, mf.MALLORY, "Deployment", k.NS, "pid-peek", k.pod_spec([k.app()], hostPID=True)
        ),
        {k.R_TPL_HOSTNS: 1},
    )
    t.case(
        "JSON patch turning on hostNetwork fires",
        k.write(
            t,
            mf.MALLORY,
            "patch",
            "Deployment",
            k.NS,
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
            k.NS,
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
            k.NS,
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
            k.NS,
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
        k.write(t, mf.MALLORY, "patch", "Deployment", k.NS, "cart", [op]),
        {k.R_TPL_CAPS: 1},
    )
    bind = {"capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}}
    t.case(
        "Deployment adding only NET_BIND_SERVICE is quiet",
        k.create(
            t,
            mf.BOB,
            "Deployment",
            k.NS,
            "edge",
            k.pod_spec(
                [container("edge", "registry.example.com/shop/edge:3.1", security_context=bind)]
            ),
        ),
        {},
        [k.R_TPL_CAPS],
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
    cases_images.patched_images(t)
    cases_images.kube_namespace(t)
    cases_nodes.node_pods(t)
    cases_nodes.names_and_payloads(t)
    return t
