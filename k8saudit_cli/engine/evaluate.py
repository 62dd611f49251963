"""The reference evaluator: a bound condition as nested closures.

Plain and obviously right; the code generator must agree with it on every
input (tests run both). It is also the fallback when generated code cannot
be compiled (e.g. conditions nested deeper than Python's parser allows).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from k8saudit_cli.engine.bound import BAnd, BCheck, BConst, BNot, BOr, Bound
from k8saudit_cli.fields import MISSING

Evaluator = Callable[[Any], bool]


def closure(node: Bound) -> Evaluator:
    """Compile ``node`` to a function ``event -> bool``."""
    if isinstance(node, BCheck):
        return _check(node)
    if isinstance(node, BAnd):
        parts = [closure(n) for n in node.items]
        return lambda e: all(p(e) for p in parts)
    if isinstance(node, BOr):
        parts = [closure(n) for n in node.items]
        return lambda e: any(p(e) for p in parts)
    if isinstance(node, BNot):
        inner = closure(node.operand)
        return lambda e: not inner(e)
    if isinstance(node, BConst):
        value = node.value
        return lambda e: value
    raise TypeError(node)


def _check(c: BCheck) -> Evaluator:
    get = c.lhs.get
    if c.operator.kind == "unary":
        return lambda e: get(e) is not MISSING
    if c.operator.when_missing:  # no operator of the table today; kept apart for speed
        return _check_missing_true(c)
    if c.rhs is not None:
        rget, pair = c.rhs.get, c.pair
        assert pair is not None

        def with_field(e: Any) -> bool:
            v = get(e)
            if v is MISSING:
                return False
            w = rget(e)
            return w is not MISSING and pair(v, w)

        return with_field
    pred = c.pred
    assert pred is not None

    def with_const(e: Any) -> bool:
        v = get(e)
        return v is not MISSING and pred(v)

    return with_const


def _check_missing_true(c: BCheck) -> Evaluator:
    """A check that holds when either side's value is not available."""
    get, pred = c.lhs.get, c.pred
    rget, pair = (c.rhs.get, c.pair) if c.rhs is not None else (None, None)

    def run(e: Any) -> bool:
        v = get(e)
        if v is MISSING:
            return True
        if rget is None or pair is None:
            return pred is not None and pred(v)
        w = rget(e)
        return w is MISSING or pair(v, w)

    return run
