"""What a bound condition provably requires of an event's stage, verb and resource.

Most rules start with ``kevt and pod and kcreate``: they can only match
``ResponseComplete`` events with verb ``create`` on ``pods``. Reading that
off the condition lets the detector skip, per event, every rule that cannot
match, without evaluating it. Only sure facts are derived: a rule is skipped
only when its condition is false for every event with that key.
"""

from __future__ import annotations

from typing import Any, Optional

import orjson

from k8saudit_cli.engine.bind import BAnd, BCheck, BConst, BNot, BOr, Bound
from k8saudit_cli.fields import MISSING

#: The event keys the index uses, as paths into the raw event.
DIMENSIONS: tuple[tuple[str, ...], ...] = (("stage",), ("verb",), ("objectRef", "resource"))

_FIELD_DIM = {
    "ka.stage": 0,
    "ka.verb": 1,
    "ka.target.resource": 2,
}
_POINTER_DIM = {"stage": 0, "verb": 1, "objectRef/resource": 2}

#: Per dimension: the set of values the condition allows, or None (anything).
Requirement = tuple[Optional[frozenset[str]], ...]
ANY: Requirement = (None,) * len(DIMENSIONS)


def _dimension(check: BCheck) -> int | None:
    lhs = check.lhs
    if lhs.transforms:
        return None
    name = lhs.fdef.name
    if name in _FIELD_DIM and lhs.arg is None:
        return _FIELD_DIM[name]
    if name in ("jevt.value", "json.value") and lhs.arg is not None:
        return _POINTER_DIM.get(lhs.arg[1:] if lhs.arg.startswith("/") else lhs.arg)
    return None


def requirement(node: Bound) -> Requirement:
    """The values each dimension must take for ``node`` to be true (None = unconstrained)."""
    if isinstance(node, BCheck):
        dim = _dimension(node)
        if dim is None or node.rhs is not None or node.node.modifier is not None:
            return ANY
        if node.op in ("=", "=="):
            allowed: frozenset[str] = frozenset([node.const])
        elif node.op in ("in", "intersects"):
            allowed = frozenset(node.const)
        else:
            return ANY
        return tuple(allowed if i == dim else None for i in range(len(DIMENSIONS)))
    if isinstance(node, BAnd):
        out: list[Optional[frozenset[str]]] = list(ANY)
        for item in node.items:
            req = requirement(item)
            for i, s in enumerate(req):
                if s is not None:
                    out[i] = s if out[i] is None else out[i] & s  # type: ignore[operator]
        return tuple(out)
    if isinstance(node, BOr):
        reqs = [requirement(item) for item in node.items]
        merged: list[Optional[frozenset[str]]] = []
        for i in range(len(DIMENSIONS)):
            sets = [r[i] for r in reqs]
            merged.append(None if any(s is None for s in sets) else frozenset().union(*sets))  # type: ignore[arg-type]
        return tuple(merged)
    if isinstance(node, (BNot, BConst)):
        return ANY
    return ANY


_ABSENT = object()


def _text(value: Any) -> Any:
    """An event value as the ``ka.*``/``json.value`` fields render it (MISSING if absent)."""
    if value is _ABSENT:
        return MISSING
    if type(value) is str:
        return value
    return orjson.dumps(value).decode()


def event_key(raw: dict[str, Any]) -> tuple[Any, Any, Any]:
    """``(stage, verb, resource)`` of a raw event, rendered like the fields would be."""
    stage = raw.get("stage", _ABSENT)
    verb = raw.get("verb", _ABSENT)
    ref = raw.get("objectRef", _ABSENT)
    resource = ref.get("resource", _ABSENT) if type(ref) is dict else _ABSENT
    if type(stage) is not str:
        stage = _text(stage)
    if type(verb) is not str:
        verb = _text(verb)
    if type(resource) is not str:
        resource = _text(resource)
    return stage, verb, resource


def admits(req: Requirement, key: tuple[Any, ...]) -> bool:
    return all(s is None or k in s for s, k in zip(req, key))
