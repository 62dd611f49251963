"""Find every pod spec a request carries, wherever it sits, and rebuild one from a JSON patch.

A pod spec reaches the API server in many shapes: a Pod's ``spec``; the
``spec.template.spec`` of a Deployment, DaemonSet, StatefulSet, ReplicaSet,
ReplicationController or Job; a CronJob's ``spec.jobTemplate.spec.template.spec``;
a PodTemplate's ``template.spec``; and the body of a ``patch`` in any patch
type the API server logs. Merge, strategic-merge and server-side-apply
patches are objects shaped like the resource, so the same paths find their
pod spec. A JSON patch is a list of operations; :func:`spec_from_json_patch`
writes the values of its ``add``/``replace`` operations into an empty pod
spec, so the ``ka.req.podspec.*`` fields read every shape the same way.

The upstream ``ka.req.pod.*`` fields are untouched: they keep reading only
``requestObject.spec``.
"""

from __future__ import annotations

from typing import Any

from k8saudit_cli.event import AuditEvent

#: Where the pod spec sits in an object of each resource (default: a template).
_POD_PATH = ("spec",)
_TEMPLATE_PATH = ("spec", "template", "spec")
_CRONJOB_PATH = ("spec", "jobTemplate", "spec", "template", "spec")
_PODTEMPLATE_PATH = ("template", "spec")
_PATHS_BY_RESOURCE: dict[str, tuple[tuple[str, ...], ...]] = {
    "pods": (_POD_PATH,),
    "cronjobs": (_CRONJOB_PATH,),
    "podtemplates": (_PODTEMPLATE_PATH,),
}
#: Resources we do not know: a template is where their pod spec would be.
_OTHER_PATHS = (_CRONJOB_PATH, _TEMPLATE_PATH, _PODTEMPLATE_PATH)

#: JSON-patch operations that write a value into the object.
_WRITING_OPS = frozenset({"add", "replace"})

PodSpec = dict[str, Any]


def resource_of(ka: dict[str, Any]) -> str:
    ref = ka.get("objectRef")
    res = ref.get("resource") if isinstance(ref, dict) else None
    return res if isinstance(res, str) else ""


def spec_paths(resource: str) -> tuple[tuple[str, ...], ...]:
    """The pod-spec paths to try for ``resource``, most specific first."""
    return _PATHS_BY_RESOURCE.get(resource, _OTHER_PATHS)


def _dig(obj: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def specs_in_object(body: dict[str, Any], resource: str) -> list[PodSpec]:
    """The pod spec of an object body (a full object or a merge-style patch)."""
    for path in spec_paths(resource):
        found = _dig(body, path)
        if isinstance(found, dict):
            return [found]
    return []


def pointer_tokens(pointer: Any) -> list[str] | None:
    """The reference tokens of a JSON pointer (RFC 6901), or ``None`` if it is not one."""
    if not isinstance(pointer, str) or not pointer.startswith("/"):
        return None
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _is_index(token: str) -> bool:
    return token == "-" or token.isdigit()


class _Builder:
    """Writes JSON-patch values into a sparse pod spec.

    Array elements are created on demand: ``/containers/0/image`` and
    ``/containers/0/securityContext`` fill the same element, ``-`` always
    appends a new one.
    """

    def __init__(self) -> None:
        self.spec: PodSpec = {}
        self._slots: dict[tuple[int, str], Any] = {}

    def place(self, tokens: list[str], value: Any) -> None:
        if not tokens:
            if isinstance(value, dict):
                self.spec.update(value)
            return
        node: Any = self.spec
        for i, token in enumerate(tokens):
            last = i == len(tokens) - 1
            nxt = None if last else tokens[i + 1]
            node = self._step(node, token, value if last else None, nxt)
            if node is None:
                return

    def _step(self, node: Any, token: str, value: Any, nxt: str | None) -> Any:
        """Enter (or create) ``token`` of ``node``; at the last token, store ``value``."""
        if isinstance(node, list):
            return self._step_list(node, token, value, nxt)
        if not isinstance(node, dict):
            return None
        if nxt is None:
            node[token] = value
            return node
        child = node.get(token)
        if not isinstance(child, dict | list):
            child = [] if _is_index(nxt) else {}
            node[token] = child
        return child

    def _step_list(self, node: list[Any], token: str, value: Any, nxt: str | None) -> Any:
        if not _is_index(token):
            return None
        if nxt is None:
            node.append(value)
            return node
        key = (id(node), token)
        child = None if token == "-" else self._slots.get(key)
        if child is None:
            child = [] if _is_index(nxt) else {}
            node.append(child)
            if token != "-":
                self._slots[key] = child
        return child


def _relative(tokens: list[str], prefix: tuple[str, ...]) -> list[str] | None:
    """``tokens`` below ``prefix``; ``[]`` when they name the spec itself."""
    if len(tokens) >= len(prefix) and tuple(tokens[: len(prefix)]) == prefix:
        return tokens[len(prefix) :]
    return None


def _above(tokens: list[str], prefix: tuple[str, ...]) -> tuple[str, ...] | None:
    """When ``tokens`` is a strict ancestor of ``prefix``: the rest of ``prefix``."""
    if len(tokens) < len(prefix) and tuple(tokens) == prefix[: len(tokens)]:
        return prefix[len(tokens) :]
    return None


def spec_from_json_patch(ops: list[Any], resource: str) -> list[PodSpec]:
    """One pod spec holding what the ``add``/``replace`` operations write into it."""
    builder = _Builder()
    wrote = False
    for op in ops:
        if not isinstance(op, dict) or op.get("op") not in _WRITING_OPS or "value" not in op:
            continue
        tokens = pointer_tokens(op.get("path"))
        if tokens is None:
            continue
        for prefix in spec_paths(resource):
            rel = _relative(tokens, prefix)
            if rel is not None:
                builder.place(rel, op["value"])
                wrote = True
                break
            rest = _above(tokens, prefix)
            if rest is not None:
                inner = _dig(op["value"], rest)
                if isinstance(inner, dict):
                    builder.place([], inner)
                    wrote = True
                break
    return [builder.spec] if wrote else []


def find_specs(ka: dict[str, Any]) -> list[PodSpec]:
    """Every pod spec in the event's ``requestObject``, whatever its shape."""
    body = ka.get("requestObject")
    if isinstance(body, dict):
        return specs_in_object(body, resource_of(ka))
    if isinstance(body, list):
        return spec_from_json_patch(body, resource_of(ka))
    return []


class _Memo:
    """The specs of the last event asked about.

    Every ``ka.req.podspec.*`` field of one event needs the same specs; the
    last event is held by reference, so its identity cannot be reused.
    """

    def __init__(self) -> None:
        self.ka: dict[str, Any] | None = None
        self.specs: list[PodSpec] = []

    def specs_of(self, ev: AuditEvent) -> list[PodSpec]:
        ka = ev.ka
        if ka is not self.ka:
            self.specs = find_specs(ka) if ka else []
            self.ka = ka
        return self.specs


_memo = _Memo()


def pod_specs(ev: AuditEvent) -> list[PodSpec]:
    """The pod specs of ``ev`` (see :func:`find_specs`), computed once per event."""
    return _memo.specs_of(ev)
