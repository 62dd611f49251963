"""What a bound condition provably requires of an event's stage, verb and resource.

Most rules start with ``kevt and pod and kcreate``: they can only match
``ResponseComplete`` events with verb ``create`` on ``pods``. Reading that
off the condition lets the detector skip, per event, every rule that cannot
match, without evaluating it, and drop those checks from the rules it does
evaluate. Only sure facts are derived: a rule is skipped only when its
condition is false for every event with that key.

The ``ka.*`` fields and ``json.value`` differ on events without an
``auditID`` (``ka.*`` are then not available), so each has its own three
dimensions of the key.
"""

from __future__ import annotations

from typing import Any

from k8saudit_cli.engine.bound import BAnd, BCheck, BConst, BOr, Bound
from k8saudit_cli.engine.operators import allowed_values
from k8saudit_cli.fields import MISSING
from k8saudit_cli.fields.jsonval import text

_FIELD_DIM = {"ka.stage": 0, "ka.verb": 1, "ka.target.resource": 2}
_POINTER_DIM = {"stage": 3, "verb": 4, "objectRef/resource": 5}
WIDTH = 6

#: Per dimension: the set of values the condition allows, or None (anything).
Requirement = tuple[frozenset[str] | None, ...]
ANY: Requirement = (None,) * WIDTH


def _dimension_names() -> tuple[str, ...]:
    names = [""] * WIDTH
    for name, i in _FIELD_DIM.items():
        names[i] = name
    for pointer, i in _POINTER_DIM.items():
        names[i] = f"json.value[/{pointer}]"  # or jevt.value[...]: the same field
    return tuple(names)


#: What each dimension of the key reads, as a field.
DIMENSIONS = _dimension_names()


def _dimension(check: BCheck) -> int | None:
    """The key dimension a check constrains, if it is a plain equality/membership on one."""
    lhs = check.lhs
    if lhs.transforms or check.rhs is not None or check.node.modifier is not None:
        return None
    if check.operator.membership is None:
        return None
    name = lhs.fdef.name
    if name in _FIELD_DIM and lhs.arg is None:
        return _FIELD_DIM[name]
    if name in ("jevt.value", "json.value") and lhs.arg is not None:
        return _POINTER_DIM.get(lhs.arg.removeprefix("/"))
    return None


def conjuncts(node: Bound) -> list[Bound]:
    """The top-level ``and`` terms of a condition, nested ``and``s (macros) flattened."""
    if isinstance(node, BAnd):
        return [c for item in node.items for c in conjuncts(item)]
    return [node]


def requirement(node: Bound) -> Requirement:
    """The values each dimension must take for ``node`` to be true (None = unconstrained)."""
    if isinstance(node, BCheck):
        dim = _dimension(node)
        if dim is None:
            return ANY
        allowed = allowed_values(node.operator, node.const)
        return tuple(allowed if i == dim else None for i in range(WIDTH))
    if isinstance(node, (BAnd, BOr)):
        reqs = [requirement(item) for item in node.items] or [ANY]
        if isinstance(node, BAnd):
            return tuple(map(_all_of, *reqs))
        # An `or` of nothing is false: no value of any dimension lets it through.
        return tuple(map(_any_of, *reqs)) if node.items else (frozenset(),) * WIDTH
    return ANY  # a negation or a constant proves nothing


def _all_of(*sets: frozenset[str] | None) -> frozenset[str] | None:
    """One dimension of an ``and``: every operand's constraint holds."""
    known = [s for s in sets if s is not None]
    return frozenset.intersection(*known) if known else None


def _any_of(*sets: frozenset[str] | None) -> frozenset[str] | None:
    """One dimension of an ``or``: constrained only if every operand constrains it."""
    known = [s for s in sets if s is not None]
    return frozenset().union(*known) if len(known) == len(sets) else None


def describe(req: Requirement) -> list[str]:
    """The requirement as conditions, one per constrained dimension:
    ``ka.verb in (create, update)``; none when any event may match."""
    return [
        f"{name} in ({', '.join(sorted(values))})"
        for name, values in zip(DIMENSIONS, req, strict=True)
        if values is not None
    ]


def residual(node: Bound) -> Bound:
    """``node`` without its top-level key checks: what is left to test once the
    index admitted the event (admission means every such check is true)."""
    rest = [c for c in conjuncts(node) if not (isinstance(c, BCheck) and _dimension(c) is not None)]
    if not rest:
        return BConst(True)
    return rest[0] if len(rest) == 1 else BAnd(tuple(rest))


_ABSENT = object()


def _text(value: Any) -> Any:
    """An event value as the ``ka.*``/``json.value`` fields render it (MISSING if absent)."""
    return MISSING if value is _ABSENT else text(value)


def event_key(ka: dict[str, Any], raw: dict[str, Any]) -> tuple[Any, ...]:
    """``(stage, verb, resource, has_auditID)`` of an event, values rendered as the fields do.

    Called once per event, so it is written for the common case: three string
    values looked up directly.
    """
    stage = raw.get("stage", _ABSENT)
    verb = raw.get("verb", _ABSENT)
    ref = raw.get("objectRef", _ABSENT)
    resource = ref.get("resource", _ABSENT) if ref.__class__ is dict else _ABSENT
    if stage.__class__ is not str:
        stage = _text(stage)
    if verb.__class__ is not str:
        verb = _text(verb)
    if resource.__class__ is not str:
        resource = _text(resource)
    return (stage, verb, resource, ka is raw)


def admits(req: Requirement, key: tuple[Any, ...]) -> bool:
    """Whether an event with ``key`` can satisfy ``req``: the ``ka.*`` dimensions see
    nothing when the event has no auditID, the ``json.value`` ones always see the values."""
    values = (key[:3] if key[3] else (MISSING, MISSING, MISSING)) + key[:3]
    return all(s is None or v in s for s, v in zip(req, values, strict=False))
