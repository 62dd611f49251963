"""Fixtures: the default aggregations (rules/k8s_audit_aggregations.yaml), each with a
burst that crosses its threshold and near-misses: too few events, too slow, or an
identity that does this by design.

Events come in bursts at a fixed pace (with jitter) instead of the theme's usual
seven seconds, so each case controls how many events fall in one window.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import breadth_kit as k
import make_fixtures as mf
from auditgen import Actor, objref

Event = dict[str, Any]
R_SWEEP_SA = "Discovery Sweep By Service Account"
R_SWEEP_USER = "Discovery Sweep By User"
R_BRUTE = "Brute Force From One Source"
R_SPRAY = "Failed Authentications From Many Sources"
R_MASS_DELETE = "Mass Deletion By One Identity"
R_FLOOD = "API Request Flood From One Client"
R_THROTTLED = "API Requests Throttled For One Client"
R_NAMESPACES = "Credentials Used Across Many Namespaces"

#: (list URI, objectRef) of cluster-wide lists, in the order a sweep runs them.
SWEEP = [
    ("/api/v1/namespaces", objref("namespaces")),
    ("/api/v1/nodes", objref("nodes")),
    ("/api/v1/pods?limit=500", objref("pods")),
    ("/api/v1/services?limit=500", objref("services")),
    ("/api/v1/serviceaccounts?limit=500", objref("serviceaccounts")),
    ("/api/v1/configmaps?limit=500", objref("configmaps")),
    ("/apis/apps/v1/deployments?limit=500", objref("deployments", group="apps")),
    ("/apis/apps/v1/daemonsets?limit=500", objref("daemonsets", group="apps")),
    (
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings?limit=500",
        objref("clusterrolebindings", group=mf.RBAC_GROUP),
    ),
    ("/apis/batch/v1/cronjobs?limit=500", objref("cronjobs", group="batch")),
]
NAMESPACES = ["shop", "payments", "monitoring", "ingress-nginx", "kube-system", "default", "ci"]
THROTTLED = {
    "metadata": {},
    "status": "Failure",
    "message": "Too many requests, please try again later.",
    "reason": "TooManyRequests",
    "details": {"retryAfterSeconds": 1},
    "code": 429,
}


def burst(
    t: mf.Theme,
    actor: Actor,
    requests: list[tuple[str, str, dict[str, Any] | None]],
    every: float,
    *,
    code: int = 200,
) -> list[Event]:
    """One request every ``every`` seconds from now; the theme's clock moves past them.

    ``code`` 429 is a request shed by API Priority and Fairness, which runs
    before authorization: no body, no authorization annotations.
    """
    out: list[Event] = []
    start = t.t
    for i, (verb, uri, ref) in enumerate(requests):
        stamp = start + dt.timedelta(seconds=i * every) + t.gen.ms(0, every * 300)
        if code == 429:
            events = t.gen.request(stamp, actor, verb, uri, ref, status=THROTTLED, received=False)
            for e in events:
                e.pop("annotations", None)
        else:
            reason = mf.reason_for(actor)
            events = t.gen.request(
                stamp, actor, verb, uri, ref, code=code, reason=reason, received=False
            )
        out += events
    t.t = start + dt.timedelta(seconds=len(requests) * every)
    return out


def _lists(items: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [("list", uri, ref) for uri, ref in items]


def _sweeps(t: mf.Theme) -> None:
    stolen = mf.CI.with_ip(k.ATTACKER_IP, "curl/8.5.0")
    t.case(
        "stolen token listing ten kinds cluster-wide in a minute and a half fires",
        burst(t, stolen, _lists(SWEEP), 9),
        {R_SWEEP_SA: 1},
        [R_SWEEP_USER],
    )
    t.case(
        "person listing ten kinds cluster-wide (kubectl get all -A) fires at NOTICE",
        burst(t, mf.MALLORY, _lists(SWEEP), 2),
        {R_SWEEP_USER: 1},
        [R_SWEEP_SA],
    )
    t.case(
        "person listing seven kinds cluster-wide is below the threshold",
        burst(t, mf.BOB, _lists(SWEEP[:7]), 5),
        {},
        [R_SWEEP_USER, R_SWEEP_SA],
    )
    t.case(
        "ten kinds listed over an hour is not a sweep",
        burst(t, mf.ALICE, _lists(SWEEP), 400),
        {},
        [R_SWEEP_USER],
    )
    ksm = k.service_account(
        "monitoring", "kube-state-metrics", "10.244.2.17", "kube-state-metrics/v2.12.0"
    )
    t.case(
        "kube-state-metrics listing every kind at start-up is allow-listed",
        burst(t, ksm, _lists(SWEEP), 0.2),
        {},
        [R_SWEEP_SA],
    )
    t.case(
        "ten kinds listed in namespaces (not cluster-wide) is not a sweep",
        burst(t, mf.BOB, [("list", uri, {**ref, "namespace": "shop"}) for uri, ref in SWEEP], 2),
        {},
        [R_SWEEP_USER],
    )


def _failures(t: mf.Theme, ip: str, n: int, gap: float = 0.0) -> list[Event]:
    out: list[Event] = []
    for i in range(n):
        path = ["/api", "/api/v1/namespaces/kube-system/secrets", "/apis"][i % 3]
        out += k.auth_failure(t, ip, "python-requests/2.31.0", "get", path, None, "bearer")
        t.tick(gap)
    return out


def _brute_force(t: mf.Theme) -> None:
    t.case(
        "25 rejected tokens from one address in three minutes fire",
        _failures(t, "203.0.113.45", 25),
        {R_BRUTE: 1, k.R_AUTH_FAIL: 25},
        [R_SPRAY],
    )
    t.case(
        "15 rejected tokens from one address are below the threshold",
        _failures(t, "203.0.113.45", 15),
        {k.R_AUTH_FAIL: 15},
        [R_BRUTE],
    )
    t.case(
        "25 rejected tokens over half an hour are not a burst",
        _failures(t, "203.0.113.45", 25, gap=70),
        {k.R_AUTH_FAIL: 25},
        [R_BRUTE],
    )
    spray: list[Event] = []
    for i in range(12):
        spray += _failures(t, f"198.51.100.{40 + i}", 1)
    t.case(
        "failures from twelve addresses within two minutes fire",
        spray,
        {R_SPRAY: 1, k.R_AUTH_FAIL: 12},
        [R_BRUTE],
    )
    few: list[Event] = []
    for i in range(8):
        few += _failures(t, f"198.51.100.{60 + i}", 1)
    t.case(
        "failures from eight addresses are below the threshold",
        few,
        {k.R_AUTH_FAIL: 8},
        [R_SPRAY],
    )


def _deletes(ns: str, resources: list[str], n: int) -> list[tuple[str, str, dict[str, Any] | None]]:
    out: list[tuple[str, str, dict[str, Any] | None]] = []
    for i in range(n):
        res = resources[i % len(resources)]
        name = f"{res[:-1]}-{i:02d}"
        out.append(("delete", f"/api/v1/namespaces/{ns}/{res}/{name}", objref(res, ns, name)))
    return out


def _mass_deletion(t: mf.Theme) -> None:
    t.case(
        "22 ConfigMaps and Secrets deleted by one person in two minutes fire",
        burst(t, mf.MALLORY, _deletes("payments", ["configmaps", "secrets"], 22), 5),
        {R_MASS_DELETE: 1},
    )
    t.case(
        "15 deletions are below the threshold",
        burst(t, mf.BOB, _deletes("shop", ["configmaps"], 15), 5),
        {},
        [R_MASS_DELETE],
    )
    t.case(
        "the namespace controller emptying a namespace is the control plane",
        burst(
            t,
            k.service_account(
                "kube-system",
                "namespace-controller",
                "10.0.0.10",
                mf.component_ua("kube-controller-manager"),
            ),
            _deletes("preview-42", ["configmaps", "secrets", "services"], 40),
            0.3,
        ),
        {},
        [R_MASS_DELETE],
    )
    t.case(
        "deleting Events is its own rule, not a mass deletion",
        burst(t, mf.BOB, _deletes("shop", ["events"], 25), 2),
        {},
        [R_MASS_DELETE],
    )


def _gets(n: int) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        (
            "get",
            f"/api/v1/namespaces/shop/configmaps/cfg-{i % 40:02d}",
            objref("configmaps", "shop", f"cfg-{i % 40:02d}"),
        )
        for i in range(n)
    ]


def _floods(t: mf.Theme) -> None:
    script = k.service_account("shop", "report-exporter", "10.244.1.40", "python-requests/2.32.3")
    t.case(
        "650 requests from one client in 50 seconds fire",
        burst(t, script, _gets(650), 50 / 650),
        {R_FLOOD: 1},
        [R_THROTTLED],
    )
    t.case(
        "200 requests in 30 seconds are below the rate",
        burst(t, script, _gets(200), 0.15),
        {},
        [R_FLOOD],
    )
    t.case(
        "60 requests shed with 429 within a minute fire",
        burst(t, script, _gets(60), 0.5, code=429),
        {R_THROTTLED: 1},
        [R_FLOOD],
    )
    t.case(
        "a few 429s during a burst are below the threshold",
        burst(t, script, _gets(10), 0.5, code=429),
        {},
        [R_THROTTLED],
    )


def _ns_requests(namespaces: list[str]) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [("list", f"/api/v1/namespaces/{ns}/pods", objref("pods", ns)) for ns in namespaces]


def _namespaces(t: mf.Theme) -> None:
    stolen = mf.FRONTEND.with_ip(k.ATTACKER_IP, mf.KUBECTL_LINUX)
    t.case(
        "pod token replayed against seven namespaces in five minutes fires",
        burst(t, stolen, _ns_requests(NAMESPACES), 40),
        {R_NAMESPACES: 1},
    )
    t.case(
        "person working in three namespaces is quiet",
        burst(t, mf.BOB, _ns_requests(["shop", "payments", "shop", "default", "shop"] * 3), 30),
        {},
        [R_NAMESPACES],
    )
    t.case(
        "seven namespaces over an hour are not a sweep",
        burst(t, mf.ALICE, _ns_requests(NAMESPACES), 600),
        {},
        [R_NAMESPACES],
    )
    prometheus = k.service_account(
        "monitoring", "prometheus-k8s", "10.244.3.9", "Prometheus/2.53.0"
    )
    t.case(
        "Prometheus discovering targets in every namespace is allow-listed",
        burst(t, prometheus, _ns_requests(NAMESPACES), 1),
        {},
        [R_NAMESPACES],
    )


def theme_aggregations() -> mf.Theme:
    t = mf.Theme(
        "aggregations",
        1404,
        "Aggregations (k8s_audit_aggregations.yaml): discovery sweeps, brute force, mass "
        "deletion, request floods and credentials reaching many namespaces",
    )
    _sweeps(t)
    _brute_force(t)
    _mass_deletion(t)
    _floods(t)
    _namespaces(t)
    return t
