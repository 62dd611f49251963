"""The fast evaluator: a bound condition as one generated Python function.

Each check becomes an inline expression (``f3(e) in s3``) instead of a
chain of closure calls; the hottest operators are specialised, the rest call
the same predicate the reference evaluator uses, so semantics cannot drift.
``source`` keeps the generated text readable for debugging.
"""

from __future__ import annotations

from typing import Any, Callable

from k8saudit_cli.engine import operators as ops
from k8saudit_cli.engine.bind import BAnd, BCheck, BConst, BNot, BOr, Bound
from k8saudit_cli.fields import MISSING


class CodeGen:
    def __init__(self) -> None:
        self.names: dict[str, Any] = {"MISSING": MISSING}
        self._ids: dict[int, str] = {}
        self._n = 0

    def _name(self, prefix: str, obj: Any) -> str:
        key = id(obj)
        if key not in self._ids:
            self._n += 1
            name = f"{prefix}{self._n}"
            self._ids[key] = name
            self.names[name] = obj
        return self._ids[key]

    def _var(self) -> str:
        self._n += 1
        return f"v{self._n}"

    def expr(self, node: Bound) -> str:
        if isinstance(node, BCheck):
            return self._check(node)
        if isinstance(node, BAnd):
            return "(" + " and ".join(self.expr(n) for n in node.items) + ")"
        if isinstance(node, BOr):
            return "(" + " or ".join(self.expr(n) for n in node.items) + ")"
        if isinstance(node, BNot):
            return f"(not {self.expr(node.operand)})"
        if isinstance(node, BConst):
            return "True" if node.value else "False"
        raise TypeError(node)

    def _check(self, c: BCheck) -> str:
        plain = c.lhs.plain
        get = self._name("f", c.lhs.extract if plain else c.lhs.get)
        kind, op, v = c.lhs.kind, c.op, self._var()
        if op == "exists":
            if kind == ops.LIST:
                return f"bool({get}(e))"
            return f"({get}(e) is not MISSING)"
        if c.rhs is not None:
            rget, pair = self._name("f", c.rhs.get), self._name("p", c.pair)
            w = self._var()
            lhs = f"({v} := {get}(e))" if kind != ops.LIST else f"({v} := {get}(e) or MISSING)"
            return f"({lhs} is not MISSING and ({w} := {rget}(e)) is not MISSING and {pair}({v}, {w}))"
        if kind == ops.LIST and op in ("in", "intersects"):
            s = self._name("s", c.const)
            if op == "in":
                return f"(bool({v} := {get}(e)) and {s}.issuperset({v}))"
            return f"(bool({v} := {get}(e)) and not {s}.isdisjoint({v}))"
        if kind == ops.STR and plain and c.node.modifier is None:
            if op in ("=", "=="):
                return f"({get}(e) == {self._name('c', c.const)})"
            if op in ("in", "intersects"):
                return f"({get}(e) in {self._name('s', c.const)})"
            if op in ("startswith", "endswith"):
                return f"(({v} := {get}(e)) is not MISSING and {v}.{op}({self._name('c', c.const)}))"
            if op == "contains":
                return f"(({v} := {get}(e)) is not MISSING and {self._name('c', c.const)} in {v})"
        pred = self._name("p", c.pred)
        if kind == ops.LIST:
            return f"(bool({v} := {get}(e)) and {pred}({v}))"
        return f"(({v} := {get}(e)) is not MISSING and {pred}({v}))"


def generate(node: Bound, name: str = "condition") -> tuple[Callable[[Any], bool], str]:
    """Compile ``node`` to ``event -> truthy`` via generated source; returns (function, source).

    Raises SyntaxError/RecursionError/MemoryError when Python cannot compile
    the text (very deep nesting); callers fall back to the closure evaluator.
    """
    gen = CodeGen()
    body = gen.expr(node)
    source = f"def {name}(e):\n    return {body}\n"
    namespace = dict(gen.names)
    exec(compile(source, f"<condition {name}>", "exec"), namespace)  # noqa: S102 - our own generated text
    return namespace[name], source
