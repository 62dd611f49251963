"""``ka.req.*`` fields of request objects other than pods: bindings, configmaps, roles, services.

Each tuple below is one object kind, in the order the plugin lists its
fields; :mod:`ka` places them in the whole ``ka.*`` list.
"""

from __future__ import annotations

from typing import Any

from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fields.args import KEY_ARG, Make
from k8saudit_cli.fields.base import MISSING, Extractor, FieldDef, FieldType, Value
from k8saudit_cli.fields.jsonval import getter, list_getter, text, texts
from k8saudit_cli.fields.ka_shapes import array, computed, indexed, scalar, whole_as_one

_RO = "requestObject"
_subjects = getter((_RO, "subjects"))


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
    rules_of = list_getter((_RO, "rules"))
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


#: (Cluster) role bindings.
BINDING_FIELDS: tuple[FieldDef, ...] = (
    array(
        "ka.req.binding.subjects",
        "Subjects of the (cluster) role binding in the request, each as JSON text.",
        _RO,
        "subjects",
    ),
    computed(
        "ka.req.binding.subjects.user_names",
        "Names of the binding's User subjects.",
        subject_names("User"),
        is_list=True,
    ),
    computed(
        "ka.req.binding.subjects.serviceaccount_names",
        "Names of the binding's ServiceAccount subjects.",
        subject_names("ServiceAccount"),
        is_list=True,
    ),
    computed(
        "ka.req.binding.subjects.serviceaccount_ns_names",
        "The binding's ServiceAccount subjects as namespace:name.",
        subject_names("ServiceAccount", with_namespace=True),
        is_list=True,
    ),
    computed(
        "ka.req.binding.subjects.group_names",
        "Names of the binding's Group subjects.",
        subject_names("Group"),
        is_list=True,
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
        FieldType.STRING,
        False,
        KEY_ARG,
        "Deprecated: always true; kept so that old rules load.",
        bind_has_name,
        deprecated=True,
    ),
)

#: Configmaps.
CONFIGMAP_FIELDS: tuple[FieldDef, ...] = (
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
)

#: (Cluster) roles.
ROLE_FIELDS: tuple[FieldDef, ...] = (
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
)

#: Services.
SERVICE_FIELDS: tuple[FieldDef, ...] = (
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
)
