"""Bound conditions with the checks no event can pass folded away, for the generated code.

A rules file often compares a field with a list that is empty until the user
fills it (``ka.sourceips.networks intersects (k8s_suspicious_networks)``).
Such a check is false for every event, missing values included, so the fast
evaluator need not extract the field at all: the check becomes a constant,
and ``and``/``or``/``not`` around constants fold in turn. Only facts that
hold for every event are used; the reference evaluator keeps the condition
as written and the equivalence tests compare the two.
"""

from __future__ import annotations

from k8saudit_cli.engine.bound import BAnd, BCheck, BConst, BNot, BOr, Bound

#: Operators that are false against an empty list whatever the value (a missing one too).
_FALSE_ON_EMPTY = frozenset({"in", "intersects"})


def simplify(node: Bound) -> Bound:
    """``node`` with constant checks folded; the result is ``node`` itself when nothing folds."""
    if isinstance(node, BCheck):
        return BConst(False) if _never(node) else node
    if isinstance(node, BNot):
        inner = simplify(node.operand)
        if isinstance(inner, BConst):
            return BConst(not inner.value)
        return node if inner is node.operand else BNot(inner)
    if isinstance(node, (BAnd, BOr)):
        return _chain(node)
    return node


def _never(check: BCheck) -> bool:
    """A membership check against an empty list: false for every event."""
    if check.rhs is not None or check.node.modifier is not None:
        return False
    if check.operator.spelling not in _FALSE_ON_EMPTY or check.operator.when_missing:
        return False
    const = check.const
    return isinstance(const, (frozenset, set, list, tuple)) and not const


def _chain(node: BAnd | BOr) -> Bound:
    """An ``and`` is false as soon as one item is, an ``or`` true; the neutral items go."""
    decisive = not isinstance(node, BAnd)  # the value that decides the whole chain
    items: list[Bound] = []
    for item in node.items:
        folded = simplify(item)
        if isinstance(folded, BConst):
            if bool(folded.value) is decisive:
                return BConst(decisive)
            continue  # neutral: drop it
        items.append(folded)
    if not items:
        return BConst(not decisive)
    if len(items) == 1:
        return items[0]
    if len(items) == len(node.items) and all(
        a is b for a, b in zip(items, node.items, strict=True)
    ):
        return node
    return type(node)(tuple(items))
