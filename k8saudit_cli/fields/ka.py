"""The k8saudit plugin's ``ka.*`` fields, in the plugin's own order.

Every extractor reads ``ev.ka``, which is an empty dict for JSON without an
``auditID``, so such objects give "not available" for every field here
without a check per field. Pod containers and volumes live in :mod:`pod`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fields.args import fixed, index_binder
from k8saudit_cli.fields.base import (
    MISSING,
    ArgKind,
    ArgSpec,
    Extractor,
    FieldDef,
    FieldType,
    Value,
)
from k8saudit_cli.fields.jsonval import getter, list_getter, text, texts
from k8saudit_cli.fields.pod import (
    INDEX_ARG,
    Make,
    container_family,
    container_field,
    deprecated_fields,
    leaves,
    volume_types,
)

_S = FieldType.STRING
_KEY_REQUIRED = ArgSpec(ArgKind.KEY, required=True)


# ------------------------------------------------------------ generic shapes


def at_path(*path: str) -> Extractor:
    """The value at ``path`` as text (``null`` gives ``"null"``), or MISSING.

    One- and two-key paths (most ``ka.*`` fields) get a single flat function:
    these run for nearly every event, and a nested call would double their cost.
    """
    if len(path) == 1:
        (a,) = path

        def extract1(ev: AuditEvent) -> Value:
            v = ev.ka.get(a, MISSING)
            return v if v.__class__ is str or v is MISSING else text(v)

        return extract1
    if len(path) == 2:
        a, b = path

        def extract2(ev: AuditEvent) -> Value:
            v = ev.ka.get(a)
            if v.__class__ is dict or isinstance(v, dict):
                v = v.get(b, MISSING)
                return v if v.__class__ is str or v is MISSING else text(v)
            return MISSING

        return extract2
    get = getter(path)

    def extract(ev: AuditEvent) -> Value:
        v = get(ev.ka)
        if v.__class__ is str:
            return v
        return v if v is MISSING else text(v)

    return extract


def array_at(*path: str) -> Extractor:
    """The array at ``path``, each element as text; MISSING if absent or not an array."""
    get = getter(path)

    def extract(ev: AuditEvent) -> Value:
        v = get(ev.ka)
        return texts(v) if isinstance(v, list) else MISSING

    return extract


def scalar(name: str, desc: str, *path: str) -> FieldDef:
    return FieldDef(name, _S, False, None, desc, fixed(at_path(*path)))


def array(name: str, desc: str, *path: str) -> FieldDef:
    return FieldDef(name, _S, True, None, desc, fixed(array_at(*path)))


def indexed(name: str, desc: str, make: Make) -> FieldDef:
    return FieldDef(name, _S, True, INDEX_ARG, desc, index_binder(name, make))


def elements(*path: str) -> Make:
    """Each element of the array at ``path`` as text; an index picks one element."""
    items_of = list_getter(path)

    def make(idx: int | None) -> Extractor:
        def extract(ev: AuditEvent) -> Value:
            items = items_of(ev.ka, idx)
            return MISSING if items is None else texts(items)

        return extract

    return make


def whole_as_one(*path: str) -> Make:
    """The value at ``path`` as ONE element of JSON text; the index is accepted and ignored.

    This is how the plugin renders ``ka.req.service.ports`` (``([{...},{...}])``),
    and Falco users' outputs and golden files depend on that exact text.
    """
    extract_text = at_path(*path)

    def make(idx: int | None) -> Extractor:
        def extract(ev: AuditEvent) -> Value:
            v = extract_text(ev)
            return MISSING if v is MISSING else [v]  # type: ignore[list-item]

        return extract

    return make


# ------------------------------------------------------------ special fields


def query_param(uri: str, key: str) -> Value:
    """First value of ``key`` in the query of ``uri`` (``+`` and ``%XX`` decoded)."""
    query = uri.split("#", 1)[0].partition("?")[2]
    for pair in query.split("&"):
        if pair:
            name, _, value = pair.partition("=")
            if unquote_plus(name) == key:
                return unquote_plus(value)
    return MISSING


def bind_uri_param(arg: str | None) -> Extractor:
    key = arg or ""

    def extract(ev: AuditEvent) -> Value:
        uri = ev.ka.get("requestURI", MISSING)
        return uri if uri is MISSING else query_param(text(uri), key)

    return extract


_response_name = at_path("responseObject", "metadata", "name")


def target_pod_name(ev: AuditEvent) -> Value:
    """The created pod's name: only for ``pods`` requests without a subresource."""
    ref = ev.ka.get("objectRef")
    if not isinstance(ref, dict) or ref.get("resource") != "pods":
        return MISSING
    sub = ref.get("subresource")
    if isinstance(sub, str) and sub:
        return MISSING
    return _response_name(ev)


_subjects = getter(("requestObject", "subjects"))


def subject_names(kind: str, with_namespace: bool = False) -> Extractor:
    """Names of the binding's subjects of ``kind``; ``namespace:name`` when asked.

    No subjects at all gives an empty list, as upstream does.
    """

    def extract(ev: AuditEvent) -> Value:
        subjects = _subjects(ev.ka)
        if subjects is MISSING:
            return [] if ev.ka else MISSING
        if not isinstance(subjects, list):
            return MISSING
        return [n for s in subjects if (n := _subject_name(s, kind, with_namespace)) is not None]

    return extract


def _subject_name(subject: Any, kind: str, with_namespace: bool) -> str | None:
    if not isinstance(subject, dict):
        return None
    k, name = subject.get("kind", MISSING), subject.get("name", MISSING)
    if k is MISSING or name is MISSING or text(k) != kind:
        return None
    if not with_namespace:
        return text(name)
    ns = subject.get("namespace", MISSING)
    return None if ns is MISSING else f"{text(ns)}:{text(name)}"


def bind_has_name(arg: str | None) -> Extractor:
    """Deprecated field kept for old rules: always ``true`` for audit events."""

    def extract(ev: AuditEvent) -> Value:
        return "true" if ev.ka else MISSING

    return extract


def rule_items(key: str) -> Make:
    """The ``key`` arrays of every role rule (or the indexed rule), flattened."""
    rules_of = list_getter(("requestObject", "rules"))
    get = getter((key,))

    def make(idx: int | None) -> Extractor:
        def extract(ev: AuditEvent) -> Value:
            rules = rules_of(ev.ka, idx)
            if rules is None:
                return MISSING
            out: list[str] = []
            for rule in rules:
                v = get(rule)
                if isinstance(v, list):
                    out.extend(texts(v))
            return out

        return extract

    return make


# ------------------------------------------------------------------ the table

_ANN = "annotations"
_RO = "requestObject"


def ka_fields() -> list[FieldDef]:
    """Every ``ka.*`` field in the order of the plugin's field list."""
    old = deprecated_fields()
    c = "containers"
    return [
        scalar("ka.auditid", "Unique id of the audit event (auditID).", "auditID"),
        scalar(
            "ka.stage",
            "Stage of the request: RequestReceived, ResponseStarted, ResponseComplete or Panic.",
            "stage",
        ),
        scalar(
            "ka.auth.decision",
            "Authorization decision (allow or forbid), from the "
            "authorization.k8s.io/decision annotation.",
            _ANN,
            "authorization.k8s.io/decision",
        ),
        scalar(
            "ka.auth.reason",
            "Why authorization decided so, from the authorization.k8s.io/reason annotation.",
            _ANN,
            "authorization.k8s.io/reason",
        ),
        scalar(
            "ka.auth.openshift.decision",
            "Authentication decision of the OpenShift API server extension (OpenShift only).",
            _ANN,
            "authentication.openshift.io/decision",
        ),
        scalar(
            "ka.validations.admission.policy.failure",
            "Failure reported by a validating "
            "admission policy, from its validation_failure annotation.",
            _ANN,
            "validation.policy.admission.k8s.io/validation_failure",
        ),
        scalar(
            "ka.security.pod.violations",
            "Pod Security admission violations, from the "
            "pod-security.kubernetes.io/audit-violations annotation.",
            _ANN,
            "pod-security.kubernetes.io/audit-violations",
        ),
        scalar(
            "ka.auth.openshift.username",
            "User name the OpenShift authentication annotation names (OpenShift only).",
            _ANN,
            "authentication.openshift.io/username",
        ),
        scalar("ka.user.name", "Name of the user who made the request.", "user", "username"),
        array("ka.user.groups", "Groups of the user who made the request.", "user", "groups"),
        scalar(
            "ka.impuser.name",
            "Name of the impersonated user, when the request impersonates one.",
            "impersonatedUser",
            "username",
        ),
        scalar("ka.verb", "The request's verb (get, list, create, patch, delete, ...).", "verb"),
        scalar("ka.uri", "Request URI as the client sent it, query included.", "requestURI"),
        FieldDef(
            "ka.uri.param",
            _S,
            False,
            _KEY_REQUIRED,
            "First value of the argument's "
            "query parameter in the request URI: ka.uri.param[watch] is true for "
            "/api/v1/pods?watch=true.",
            bind_uri_param,
        ),
        scalar(
            "ka.target.name", "Name of the target object (objectRef.name).", "objectRef", "name"
        ),
        scalar("ka.target.namespace", "Namespace of the target object.", "objectRef", "namespace"),
        scalar(
            "ka.target.resource",
            "Resource of the target object (pods, secrets, ...).",
            "objectRef",
            "resource",
        ),
        scalar(
            "ka.target.subresource",
            "Subresource of the target object (exec, log, ...).",
            "objectRef",
            "subresource",
        ),
        FieldDef(
            "ka.target.pod.name",
            _S,
            False,
            None,
            "For pods requests without a subresource, the pod name from the response object.",
            fixed(target_pod_name),
        ),
        array(
            "ka.req.binding.subjects",
            "Subjects of the (cluster) role binding in the request, each as JSON text.",
            _RO,
            "subjects",
        ),
        FieldDef(
            "ka.req.binding.subjects.user_names",
            _S,
            True,
            None,
            "Names of the binding's User subjects.",
            fixed(subject_names("User")),
        ),
        FieldDef(
            "ka.req.binding.subjects.serviceaccount_names",
            _S,
            True,
            None,
            "Names of the binding's ServiceAccount subjects.",
            fixed(subject_names("ServiceAccount")),
        ),
        FieldDef(
            "ka.req.binding.subjects.serviceaccount_ns_names",
            _S,
            True,
            None,
            "The binding's ServiceAccount subjects as namespace:name.",
            fixed(subject_names("ServiceAccount", with_namespace=True)),
        ),
        FieldDef(
            "ka.req.binding.subjects.group_names",
            _S,
            True,
            None,
            "Names of the binding's Group subjects.",
            fixed(subject_names("Group")),
        ),
        scalar(
            "ka.req.binding.role",
            "Name of the role the binding refers to (roleRef.name).",
            _RO,
            "roleRef",
            "name",
        ),
        FieldDef(
            "ka.req.binding.subject.has_name",
            _S,
            False,
            _KEY_REQUIRED,
            "Deprecated: always true; kept so that old rules load.",
            bind_has_name,
            deprecated=True,
        ),
        scalar(
            "ka.req.configmap.name",
            "Name of the target configmap (objectRef.name).",
            "objectRef",
            "name",
        ),
        scalar(
            "ka.req.configmap.obj",
            "The configmap's data in the request, as JSON text.",
            _RO,
            "data",
        ),
        container_field(c, "args"),
        container_field(c, "command"),
        container_field(c, "name"),
        container_field(c, "image"),
        old["ka.req.container.image"],
        container_field(c, "image.repository"),
        old["ka.req.container.image.repository"],
        scalar("ka.req.pod.host_ipc", "The pod's hostIPC flag.", _RO, "spec", "hostIPC"),
        scalar(
            "ka.req.pod.host_network", "The pod's hostNetwork flag.", _RO, "spec", "hostNetwork"
        ),
        FieldDef(
            "ka.req.container.host_network",
            _S,
            False,
            None,
            "Deprecated alias of ka.req.pod.host_network.",
            fixed(at_path(_RO, "spec", "hostNetwork")),
            deprecated=True,
        ),
        scalar("ka.req.pod.host_pid", "The pod's hostPID flag.", _RO, "spec", "hostPID"),
        container_field(c, "host_port"),
        container_field(c, "privileged"),
        old["ka.req.container.privileged"],
        container_field(c, "allow_privilege_escalation"),
        container_field(c, "read_only_fs"),
        scalar(
            "ka.req.pod.run_as_user",
            "runAsUser of the pod's security context.",
            _RO,
            "spec",
            "securityContext",
            "runAsUser",
        ),
        container_field(c, "run_as_user"),
        container_field(c, "eff_run_as_user"),
        scalar(
            "ka.req.pod.run_as_group",
            "runAsGroup of the pod's security context.",
            _RO,
            "spec",
            "securityContext",
            "runAsGroup",
        ),
        container_field(c, "run_as_group"),
        container_field(c, "eff_run_as_group"),
        container_field(c, "proc_mount"),
        array(
            "ka.req.role.rules",
            "Rules of the (cluster) role in the request, each as JSON text.",
            _RO,
            "rules",
        ),
        indexed(
            "ka.req.role.rules.apiGroups",
            "API groups of the role's rules, flattened.",
            rule_items("apiGroups"),
        ),
        indexed(
            "ka.req.role.rules.nonResourceURLs",
            "Non-resource URLs of the role's rules, flattened.",
            rule_items("nonResourceURLs"),
        ),
        indexed(
            "ka.req.role.rules.verbs", "Verbs of the role's rules, flattened.", rule_items("verbs")
        ),
        indexed(
            "ka.req.role.rules.resources",
            "Resources of the role's rules, flattened.",
            rule_items("resources"),
        ),
        scalar(
            "ka.req.pod.fs_group",
            "fsGroup of the pod's security context.",
            _RO,
            "spec",
            "securityContext",
            "fsGroup",
        ),
        array(
            "ka.req.pod.supplemental_groups",
            "supplementalGroups of the pod's security context.",
            _RO,
            "spec",
            "securityContext",
            "supplementalGroups",
        ),
        container_field(c, "add_capabilities"),
        scalar(
            "ka.req.service.type",
            "Type of the service in the request (ClusterIP, NodePort, ...).",
            _RO,
            "spec",
            "type",
        ),
        indexed(
            "ka.req.service.ports",
            "Ports of the service in the request: one element, the "
            "whole ports array as JSON text (as the plugin gives it).",
            whole_as_one(_RO, "spec", "ports"),
        ),
        indexed(
            "ka.req.pod.volumes.hostpath",
            "hostPath paths of the pod's volumes.",
            leaves("volumes", ("hostPath", "path")),
        ),
        old["ka.req.volume.hostpath"],
        indexed(
            "ka.req.pod.volumes.flexvolume_driver",
            "flexVolume drivers of the pod's volumes.",
            leaves("volumes", ("flexVolume", "driver")),
        ),
        indexed(
            "ka.req.pod.volumes.volume_type",
            "Source kind of each of the pod's volumes "
            "(hostPath, secret, ...): its keys other than name.",
            volume_types,
        ),
        scalar(
            "ka.resp.name",
            "Name of the object in the response.",
            "responseObject",
            "metadata",
            "name",
        ),
        scalar("ka.response.code", "HTTP status code of the response.", "responseStatus", "code"),
        scalar(
            "ka.response.reason",
            "Reason of the response status (mostly on failures).",
            "responseStatus",
            "reason",
        ),
        scalar("ka.useragent", "User agent of the client.", "userAgent"),
        indexed(
            "ka.sourceips", "Client IP addresses of the request (sourceIPs).", elements("sourceIPs")
        ),
        scalar(
            "ka.cluster.name",
            "Cluster name, from the cluster_name annotation that some converters add.",
            _ANN,
            "cluster_name",
        ),
        *container_family("initContainers"),
        *container_family("ephemeralContainers"),
    ]
