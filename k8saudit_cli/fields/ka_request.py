"""``ka.*`` fields about the request itself: who asked, what for, on what, with what result.

Each tuple below is one area of the plugin's field list; :mod:`ka` joins
them in the plugin's order. Pod, binding, role and other request-object
fields live in :mod:`ka_pod` and :mod:`ka_objects`.
"""

from __future__ import annotations

from urllib.parse import unquote_plus

from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fields.args import KEY_ARG
from k8saudit_cli.fields.base import MISSING, Extractor, FieldDef, FieldType, Value
from k8saudit_cli.fields.jsonval import text
from k8saudit_cli.fields.ka_shapes import array, at_path, computed, elements, indexed, scalar

_ANN = "annotations"


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


#: The event's identity.
EVENT_FIELDS: tuple[FieldDef, ...] = (
    scalar("ka.auditid", "Unique id of the audit event (auditID).", "auditID"),
    scalar(
        "ka.stage",
        "Stage of the request: RequestReceived, ResponseStarted, ResponseComplete or Panic.",
        "stage",
    ),
)

#: What authorizers and admission wrote into the event's annotations.
ANNOTATION_FIELDS: tuple[FieldDef, ...] = (
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
)

#: Who made the request.
USER_FIELDS: tuple[FieldDef, ...] = (
    scalar("ka.user.name", "Name of the user who made the request.", "user", "username"),
    array("ka.user.groups", "Groups of the user who made the request.", "user", "groups"),
    scalar(
        "ka.impuser.name",
        "Name of the impersonated user, when the request impersonates one.",
        "impersonatedUser",
        "username",
    ),
)

#: What was asked for.
REQUEST_FIELDS: tuple[FieldDef, ...] = (
    scalar("ka.verb", "The request's verb (get, list, create, patch, delete, ...).", "verb"),
    scalar("ka.uri", "Request URI as the client sent it, query included.", "requestURI"),
    FieldDef(
        "ka.uri.param",
        FieldType.STRING,
        False,
        KEY_ARG,
        "First value of the argument's "
        "query parameter in the request URI: ka.uri.param[watch] is true for "
        "/api/v1/pods?watch=true.",
        bind_uri_param,
    ),
)

#: The object the request acts on (objectRef).
TARGET_FIELDS: tuple[FieldDef, ...] = (
    scalar("ka.target.name", "Name of the target object (objectRef.name).", "objectRef", "name"),
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
    computed(
        "ka.target.pod.name",
        "For pods requests without a subresource, the pod name from the response object.",
        target_pod_name,
    ),
)

#: What the API server answered.
RESPONSE_FIELDS: tuple[FieldDef, ...] = (
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
)

#: Where the request came from: the client, and the cluster it reached.
ORIGIN_FIELDS: tuple[FieldDef, ...] = (
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
)
