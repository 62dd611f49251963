"""What a write request's body changes: patch type, written paths, added containers, replicas.

The API server logs a ``patch`` request's body as it arrived: a JSON patch
is an array of operations; merge, strategic-merge and apply patches are
objects shaped like the resource. These extractors read both shapes so a
rule does not have to know which one a client chose.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fields.base import MISSING, Value
from k8saudit_cli.fields.jsonval import text
from k8saudit_cli.fields.podspec import pointer_tokens, resource_of, spec_paths

#: Keys only a strategic-merge patch carries.
_SMP_MARKERS = ("$patch", "$retainKeys", "$setElementOrder/", "$deleteFromPrimitiveList/")
_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
#: Keys that make a container entry of a merge-style patch a new container
#: rather than an image change (``kubectl set image`` sends name and image only).
_DEFINING_KEYS = ("command", "args")


def _body(ev: AuditEvent) -> Any:
    return ev.ka.get("requestObject", MISSING)


def _has_smp_marker(body: Any) -> bool:
    """Whether any key of ``body`` (at any depth) is a strategic-merge directive.

    Iterative: a hostile body may nest deeper than Python's recursion limit.
    """
    stack = [body]
    while stack:
        obj = stack.pop()
        if isinstance(obj, dict):
            if any(isinstance(k, str) and k.startswith(_SMP_MARKERS) for k in obj):
                return True
            stack.extend(obj.values())
        elif isinstance(obj, list):
            stack.extend(obj)
    return False


def patch_type(ev: AuditEvent) -> Value:
    """``json``, ``strategic``, ``apply`` or ``merge`` for a patch request, inferred from its body.

    Server-side apply bodies are whole objects with ``apiVersion`` and
    ``kind``; strategic-merge bodies may carry ``$``-directives; anything
    else is a merge patch (or a strategic one that needed no directive).
    """
    if ev.ka.get("verb") != "patch":
        return MISSING
    body = _body(ev)
    if isinstance(body, list):
        return "json"
    if not isinstance(body, dict):
        return MISSING
    if "apiVersion" in body and "kind" in body:
        return "apply"
    return "strategic" if _has_smp_marker(body) else "merge"


def _keys(prefix: str, obj: dict[str, Any]) -> list[tuple[str, Any]]:
    """(pointer, value) of each key of ``obj`` below ``prefix``; directives left out."""
    return [
        (f"{prefix}/{k.replace('~', '~0').replace('/', '~1')}", v)
        for k, v in obj.items()
        if isinstance(k, str) and not k.startswith("$")
    ]


def _object_paths(body: dict[str, Any]) -> list[str]:
    """The pointer of every key of ``body``, depth first, parents before children.

    Iterative: a hostile body may nest deeper than Python's recursion limit.
    """
    out: list[str] = []
    stack = _keys("", body)[::-1]
    while stack:
        path, value = stack.pop()
        out.append(path)
        if isinstance(value, dict):
            stack.extend(_keys(path, value)[::-1])
    return out


def _ancestors(tokens: list[str]) -> Iterator[str]:
    path = ""
    for token in tokens:
        path += "/" + token.replace("~", "~0").replace("/", "~1")
        yield path


def written_paths(ev: AuditEvent) -> Value:
    """JSON pointers the body writes, each with its ancestors.

    A JSON patch gives the path of every operation; an object body gives the
    path of every key, descending into objects but not into arrays.
    """
    body = _body(ev)
    out: list[str] = []
    if isinstance(body, list):
        for op in body:
            tokens = pointer_tokens(op.get("path")) if isinstance(op, dict) else None
            if tokens is not None:
                out.extend(p for p in _ancestors(tokens) if p not in out)
        return out
    if isinstance(body, dict):
        return _object_paths(body)
    return MISSING


def _defined_names(items: Any) -> Iterator[str]:
    if not isinstance(items, list):
        return
    for c in items:
        if (
            isinstance(c, dict)
            and isinstance(c.get("name"), str)
            and isinstance(c.get("image"), str)
            and any(k in c for k in _DEFINING_KEYS)
        ):
            yield c["name"]


def _json_patch_added(ops: list[Any], resource: str) -> Iterator[str]:
    prefixes = spec_paths(resource)
    for op in ops:
        if not isinstance(op, dict) or op.get("op") != "add":
            continue
        tokens = pointer_tokens(op.get("path"))
        value = op.get("value")
        if tokens is None or len(tokens) < 2 or not isinstance(value, dict):
            continue
        parent, index = tuple(tokens[:-2]), tokens[-1]
        if (
            tokens[-2] in _CONTAINER_LISTS
            and parent in prefixes
            and (index == "-" or index.isdigit())
        ):
            name = value.get("name")
            yield name if isinstance(name, str) else ""


def added_containers(ev: AuditEvent) -> Value:
    """Names of containers a patch adds in full (see docs/fields.md); patches only."""
    if ev.ka.get("verb") != "patch":
        return MISSING
    body = _body(ev)
    resource = resource_of(ev.ka)
    if isinstance(body, list):
        return list(_json_patch_added(body, resource))
    if not isinstance(body, dict):
        return MISSING
    out: list[str] = []
    for prefix in spec_paths(resource):
        spec: Any = body
        for key in prefix:
            spec = spec.get(key) if isinstance(spec, dict) else None
        if isinstance(spec, dict):
            for key in _CONTAINER_LISTS:
                out.extend(_defined_names(spec.get(key)))
            break
    return out


def replicas(ev: AuditEvent) -> Value:
    """The replica count the body sets: ``spec.replicas``, or a JSON-patch op on it."""
    body = _body(ev)
    if isinstance(body, dict):
        spec = body.get("spec")
        if isinstance(spec, dict) and "replicas" in spec:
            return text(spec["replicas"])
        return MISSING
    if isinstance(body, list):
        for op in body:
            if (
                isinstance(op, dict)
                and op.get("op") in ("add", "replace")
                and op.get("path") == "/spec/replicas"
                and "value" in op
            ):
                return text(op["value"])
    return MISSING
