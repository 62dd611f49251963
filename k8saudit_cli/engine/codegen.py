"""The fast evaluator: bound conditions as generated Python functions.

Each check becomes an inline expression (``x3 in s5``) instead of a chain of
closure calls; the hottest operators are specialised, the rest call the same
predicate the reference evaluator uses, so semantics cannot drift.

With shared fields (a *group* of rules evaluated together), each field is
extracted at most once per event into a local slot. The generator tracks
which slots are certainly filled at each point (after the first operand of an
``and`` ran, say), and reads those directly; elsewhere it reads them lazily.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from k8saudit_cli.engine import operators as ops
from k8saudit_cli.engine.bind import BAnd, BCheck, BConst, BNot, BOr, Bound
from k8saudit_cli.fields import MISSING

#: Value of a field slot not yet extracted for the current event.
UNSET = object()

Slots = frozenset[str]
_EQ_OPS = ("=", "==", "in", "intersects")


class CodeGen:
    """Generates expressions; ``shared`` puts each field in a per-event slot (``x3``)."""

    def __init__(self, shared: bool = False) -> None:
        self.names: dict[str, Any] = {"MISSING": MISSING, "UNSET": UNSET}
        self._ids: dict[int, str] = {}
        self._n = 0
        self.shared = shared
        self.slots: dict[tuple[str, str], str] = {}

    # ---------------------------------------------------------------- names and slots

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

    def _slot(self, field: Any, mode: str) -> str:
        key = (field.text, mode)
        slot = self.slots.get(key)
        if slot is None:
            self._n += 1
            slot = self.slots[key] = f"x{self._n}"
            self.names[f"g{slot}"] = field.extract if mode == "x" else field.get
        return slot

    def _value(self, field: Any, mode: str, ctx: Slots) -> str:
        """Code for a field's value: ``mode`` "x" = raw extractor, "g" = normalised getter."""
        if not self.shared:
            fn = field.extract if mode == "x" else field.get
            return f"{self._name('f', fn)}(e)"
        slot = self._slot(field, mode)
        if slot in ctx:
            return slot
        return f"({slot} if {slot} is not UNSET else ({slot} := g{slot}(e)))"

    @staticmethod
    def _mode(c: BCheck) -> str:
        return "x" if c.lhs.plain else "g"

    # ---------------------------------------------------------------- definite assignment

    def always(self, node: Bound) -> Slots:
        """Slots certainly filled once ``node`` has been evaluated, whatever its result."""
        if not self.shared:
            return frozenset()
        if isinstance(node, BCheck):
            return frozenset([self._slot(node.lhs, self._mode(node))])
        if isinstance(node, (BAnd, BOr)):
            return self.always(node.items[0])
        if isinstance(node, BNot):
            return self.always(node.operand)
        return frozenset()

    def when(self, node: Bound, result: bool) -> Slots:
        """Slots certainly filled when ``node`` evaluated to ``result``."""
        if not self.shared:
            return frozenset()
        if isinstance(node, BNot):
            return self.when(node.operand, not result)
        if isinstance(node, BAnd if result else BOr):
            return frozenset().union(*(self.when(i, result) for i in node.items))
        return self.always(node)

    # ---------------------------------------------------------------- expressions

    def expr(self, node: Bound, ctx: Slots = frozenset()) -> str:
        if isinstance(node, BCheck):
            return self._check(node, ctx)
        if isinstance(node, (BAnd, BOr)):
            return self._chain(node, ctx)
        if isinstance(node, BNot):
            return f"(not {self.expr(node.operand, ctx)})"
        if isinstance(node, BConst):
            return "True" if node.value else "False"
        raise TypeError(node)

    def _chain(self, node: BAnd | BOr, ctx: Slots) -> str:
        """``and``/``or``: each operand sees the slots its predecessors certainly filled."""
        is_and = isinstance(node, BAnd)
        items = list(node.items) if is_and else _merge_or(list(node.items))
        out = []
        for item in items:
            if isinstance(item, tuple):  # merged run of checks on one field (``or`` only)
                out.append(self._merged(item, ctx))
                ctx = ctx | self.always(item[1][0])
                continue
            out.append(self.expr(item, ctx))
            ctx = ctx | self.when(item, is_and)
        return "(" + (" and " if is_and else " or ").join(out) + ")"

    def _merged(self, run: tuple[str, list[BCheck]], ctx: Slots) -> str:
        kind, checks = run
        first = checks[0]
        val = self._value(first.lhs, "x", ctx)
        if kind in ("startswith", "endswith"):
            consts = self._name("t", tuple(c.const for c in checks))
            v = self._var()
            return f"(({v} := {val}) is not MISSING and {v}.{kind}({consts}))"
        members: set[str] = set()
        for c in checks:
            members |= {c.const} if c.op in ("=", "==") else set(c.const)
        return f"({val} in {self._name('s', frozenset(members))})"

    def _check(self, c: BCheck, ctx: Slots) -> str:
        plain = c.lhs.plain
        val = self._value(c.lhs, self._mode(c), ctx)
        kind, op, v = c.lhs.kind, c.op, self._var()
        if op == "exists":
            if kind == ops.LIST:
                return f"bool({val})"
            return f"({val} is not MISSING)"
        if c.rhs is not None:
            rval, pair = self._value(c.rhs, "g", ctx), self._name("p", c.pair)
            w = self._var()
            lhs = f"({v} := {val})" if kind != ops.LIST else f"({v} := {val} or MISSING)"
            return f"({lhs} is not MISSING and ({w} := {rval}) is not MISSING and {pair}({v}, {w}))"
        if kind == ops.LIST and op in ("in", "intersects"):
            s = self._name("s", c.const)
            if op == "in":
                return f"(({v} := {val}) and {s}.issuperset({v}))"
            return f"(({v} := {val}) and not {s}.isdisjoint({v}))"
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
            return f"(({v} := {val}) and {pred}({v}))"
        return f"(({v} := {val}) is not MISSING and {pred}({v}))"


def _merge_key(c: Bound) -> tuple[str, str] | None:
    """Checks an ``or`` may fuse: plain string field, ``startswith``/``endswith``
    (one call with a tuple) or equality/membership (one set)."""
    if not isinstance(c, BCheck) or c.rhs is not None or c.node.modifier is not None:
        return None
    if c.lhs.kind != ops.STR or not c.lhs.plain:
        return None
    if c.op in ("startswith", "endswith"):
        return c.lhs.text, c.op
    if c.op in _EQ_OPS:
        return c.lhs.text, "in"
    return None


def _merge_or(items: list[Bound]) -> list[Any]:
    """Fuse runs of adjacent mergeable checks on the same field; order is kept."""
    out: list[Any] = []
    run: list[BCheck] = []
    key: tuple[str, str] | None = None

    def flush() -> None:
        if len(run) > 1:
            out.append((key[1], list(run)))  # type: ignore[index]
        else:
            out.extend(run)
        run.clear()

    for item in items:
        k = _merge_key(item)
        if k is not None and k == key:
            run.append(item)  # type: ignore[arg-type]
            continue
        flush()
        key = k
        if k is not None:
            run.append(item)  # type: ignore[arg-type]
        else:
            out.append(item)
    flush()
    return out


def generate_group(
    rules: list[tuple[Any, Bound]], first_only: bool, name: str = "group"
) -> tuple[Callable[[Any], list[Any]], str]:
    """One function for several rules: ``event -> [rules that match]``, in order.

    Fields are extracted at most once per event and shared by every rule of
    the group; ``first_only`` returns at the first match (Falco's default).
    """
    gen = CodeGen(shared=True)
    lines = []
    ctx: Slots = frozenset()
    for rule, node in rules:
        test = gen.expr(node, ctx)
        r = gen._name("r", rule)
        lines.append(
            f"    if {test}:\n        " + (f"return [{r}]" if first_only else f"h.append({r})")
        )
        ctx = ctx | (gen.when(node, False) if first_only else gen.always(node))
    slots = list(gen.slots.values())
    head = ["    h = []"] + ([f"    {' = '.join(slots)} = UNSET"] if slots else [])
    source = f"def {name}(e):\n" + "\n".join(head + lines + ["    return h"]) + "\n"
    namespace = dict(gen.names)
    exec(compile(source, f"<rules {name}>", "exec"), namespace)
    return namespace[name], source


def generate(node: Bound, name: str = "condition") -> tuple[Callable[[Any], bool], str]:
    """Compile one condition to ``event -> truthy``; returns (function, source).

    Raises SyntaxError/RecursionError/MemoryError when Python cannot compile
    the text (very deep nesting); callers fall back to the closure evaluator.
    """
    gen = CodeGen()
    body = gen.expr(node)
    source = f"def {name}(e):\n    return {body}\n"
    namespace = dict(gen.names)
    exec(compile(source, f"<condition {name}>", "exec"), namespace)
    return namespace[name], source
