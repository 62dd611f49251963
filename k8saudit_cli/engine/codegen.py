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


#: Value of a field slot not yet extracted for the current event.
UNSET = object()


class CodeGen:
    """Generates expressions; with ``shared`` fields, each field is extracted at most once
    per event into a local slot (``x3``) that every rule of a group reads."""

    def __init__(self, shared: bool = False) -> None:
        self.names: dict[str, Any] = {"MISSING": MISSING, "UNSET": UNSET}
        self._ids: dict[int, str] = {}
        self._n = 0
        self.shared = shared
        self.slots: dict[tuple[str, str], str] = {}

    def _field(self, field: Any, mode: str) -> str:
        """Code for a field's value: ``mode`` "x" = raw extractor, "g" = normalised getter."""
        fn = field.extract if mode == "x" else field.get
        if not self.shared:
            return f"{self._name('f', fn)}(e)"
        key = (field.text, mode)
        slot = self.slots.get(key)
        if slot is None:
            self._n += 1
            slot = self.slots[key] = f"x{self._n}"
            self.names[f"g{slot}"] = fn
        return f"({slot} if {slot} is not UNSET else ({slot} := g{slot}(e)))"

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
        val = self._field(c.lhs, "x" if plain else "g")
        kind, op, v = c.lhs.kind, c.op, self._var()
        if op == "exists":
            if kind == ops.LIST:
                return f"bool({val})"
            return f"({val} is not MISSING)"
        if c.rhs is not None:
            rval, pair = self._field(c.rhs, "g"), self._name("p", c.pair)
            w = self._var()
            lhs = f"({v} := {val})" if kind != ops.LIST else f"({v} := {val} or MISSING)"
            return f"({lhs} is not MISSING and ({w} := {rval}) is not MISSING and {pair}({v}, {w}))"
        if kind == ops.LIST and op in ("in", "intersects"):
            s = self._name("s", c.const)
            if op == "in":
                return f"(bool({v} := {val}) and {s}.issuperset({v}))"
            return f"(bool({v} := {val}) and not {s}.isdisjoint({v}))"
        if kind == ops.STR and plain and c.node.modifier is None:
            if op in ("=", "=="):
                return f"({val} == {self._name('c', c.const)})"
            if op in ("in", "intersects"):
                return f"({val} in {self._name('s', c.const)})"
            if op in ("startswith", "endswith"):
                return f"(({v} := {val}) is not MISSING and {v}.{op}({self._name('c', c.const)}))"
            if op == "contains":
                return f"(({v} := {val}) is not MISSING and {self._name('c', c.const)} in {v})"
        pred = self._name("p", c.pred)
        if kind == ops.LIST:
            return f"(bool({v} := {val}) and {pred}({v}))"
        return f"(({v} := {val}) is not MISSING and {pred}({v}))"


def generate_group(
    rules: list[tuple[Any, Bound]], first_only: bool, name: str = "group"
) -> tuple[Callable[[Any], list[Any]], str]:
    """One function for several rules: ``event -> [rules that match]``, in order.

    Fields are extracted at most once per event and shared by every rule of
    the group; ``first_only`` returns at the first match (Falco's default).
    """
    gen = CodeGen(shared=True)
    lines = []
    for rule, node in rules:
        test = gen.expr(node)
        r = gen._name("r", rule)
        lines.append(f"    if {test}:\n        " + (f"return [{r}]" if first_only else f"h.append({r})"))
    slots = list(gen.slots.values())
    head = ["    h = []"] + ([f"    {' = '.join(slots)} = UNSET"] if slots else [])
    tail = ["    return h"]
    source = f"def {name}(e):\n" + "\n".join(head + lines + tail) + "\n"
    namespace = dict(gen.names)
    exec(compile(source, f"<rules {name}>", "exec"), namespace)  # noqa: S102 - our own generated text
    return namespace[name], source


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
