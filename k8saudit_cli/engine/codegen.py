"""The fast evaluator: bound conditions as generated Python functions you can read.

Each check becomes an inline expression (``ka_verb in {'create', 'update'}``)
instead of a chain of closure calls; the operator table (:mod:`operators`)
says which operators are written inline and how, the rest call the same
predicate the reference evaluator uses, so semantics cannot drift.

With shared fields (a *group* of rules evaluated together), each field is
extracted at most once per event into a local slot named after it:
``ka_verb`` holds the extractor's raw value, ``ka_..._nonempty`` a list
field's value with an empty list read as MISSING, ``tolower_ka_verb`` a
transformed one. The generator tracks which slots are certainly filled at
each point (after the first operand of an ``and`` ran, say), and reads those
directly; elsewhere it reads them lazily.

The source is laid out one check per line, each ending in a comment with the
check as written and the macro or exception it came from. Every function is
registered with :mod:`linecache` under its own pseudo-file name
(``<k8saudit-rules:group-3>``), so tracebacks and ``inspect.getsource`` show
the generated lines.
"""

from __future__ import annotations

import itertools
import linecache
import weakref
from collections.abc import Callable
from typing import Any

from k8saudit_cli.engine import layout
from k8saudit_cli.engine.bound import BAnd, BCheck, BConst, BField, BNot, BOr, Bound
from k8saudit_cli.engine.codetext import Names, identifier, literal, note
from k8saudit_cli.engine.layout import Chain, Code, Negated, Term
from k8saudit_cli.engine.operators import LIST, OPERATORS, STR, Inline, allowed_values
from k8saudit_cli.engine.simplify import simplify
from k8saudit_cli.fields import MISSING

#: Value of a field slot not yet extracted for the current event.
UNSET = object()

Slots = frozenset[str]
#: A run of ``or``-ed checks on one field that become one term: (fuse kind, checks).
Fused = tuple[str, list[BCheck]]

_numbers = itertools.count(1)


class CodeGen:
    """Generates code for bound nodes; ``shared`` puts each field in a per-event slot."""

    def __init__(self, shared: bool = False) -> None:
        self.names = Names({"MISSING": MISSING, "UNSET": UNSET})
        self.shared = shared
        self.slots: dict[tuple[str, str], str] = {}
        self._temps: dict[tuple[str, str], str] = {}
        self._slot_of: dict[tuple[str, str], str] = {}  # by the mode asked for
        self._readers: dict[str, str] = {}

    # ---------------------------------------------------------------- slots

    @staticmethod
    def _mode(field: BField, mode: str) -> str:
        """Mode "x" reads with the raw extractor, "g" with the getter; the two share a
        slot when the getter is the extractor (a plain field that is not a list)."""
        return "x" if mode == "x" or field.get is field.extract else "g"

    def _hint(self, field: BField, mode: str) -> str:
        word = identifier(field.text)
        return f"{word}_nonempty" if mode == "g" and field.plain else word

    def _slot(self, field: BField, mode: str) -> str:
        slot = self._slot_of.get((field.text, mode))
        if slot is not None:
            return slot
        canonical = self._mode(field, mode)
        key = (field.text, canonical)
        slot = self.slots.get(key)
        if slot is None:
            slot = self.slots[key] = self.names.fresh(self._hint(field, canonical))
            reader = field.extract if canonical == "x" else field.get
            self._readers[slot] = self.names.of(f"read_{slot}", reader)
        self._slot_of[(field.text, mode)] = slot
        return slot

    def _access(self, field: BField, mode: str, ctx: Slots, reuse: bool = True) -> tuple[str, str]:
        """Code that reads a field's value first, and a name for it afterwards
        (``reuse``: the check reads the value again after its first read)."""
        if not self.shared:
            return self._read_in_place(field, mode, reuse)
        slot = self._slot(field, mode)
        if slot in ctx:
            return slot, slot
        reader = self._readers[slot]
        return f"({slot} if {slot} is not UNSET else ({slot} := {reader}(e)))", slot

    def _read_in_place(self, field: BField, mode: str, reuse: bool) -> tuple[str, str]:
        """Without slots: call the reader where the value is needed."""
        mode = self._mode(field, mode)
        key = (field.text, mode)
        temp = self._temps.get(key)
        if temp is None:
            temp = self._temps[key] = self.names.fresh(self._hint(field, mode))
        reader = self.names.of(f"read_{temp}", field.extract if mode == "x" else field.get)
        return (f"({temp} := {reader}(e))", temp) if reuse else (f"{reader}(e)", "")

    @staticmethod
    def _lhs_mode(c: BCheck) -> str:
        return "x" if c.lhs.plain else "g"

    # ---------------------------------------------------------------- definite assignment

    def always(self, node: Bound) -> Slots:
        """Slots certainly filled once ``node`` has been evaluated, whatever its result."""
        if not self.shared:
            return frozenset()
        if isinstance(node, BCheck):
            return frozenset([self._slot(node.lhs, self._lhs_mode(node))])
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

    def code(self, node: Bound, ctx: Slots = frozenset()) -> Code:
        if isinstance(node, BCheck):
            return Term(self._check(node, ctx), node.label)
        if isinstance(node, (BAnd, BOr)):
            return self._chain(node, ctx)
        if isinstance(node, BNot):
            return Negated(self.code(node.operand, ctx))
        if isinstance(node, BConst):
            return Term("True" if node.value else "False", "")
        raise TypeError(node)

    def _chain(self, node: BAnd | BOr, ctx: Slots) -> Code:
        """``and``/``or``: each operand sees the slots its predecessors certainly filled."""
        is_and = isinstance(node, BAnd)
        items = list(node.items) if is_and else fuse_or(list(node.items))
        parts: list[Code] = []
        for item in items:
            if isinstance(item, tuple):  # fused run of checks on one field (``or`` only)
                parts.append(Term(self._fused(item, ctx), note(item[1])))
                ctx = ctx | self.always(item[1][0])
                continue
            parts.append(self.code(item, ctx))
            ctx = ctx | self.when(item, is_and)
        # A run fused into one term needs no chain around it.
        return parts[0] if len(parts) == 1 else Chain("and" if is_and else "or", tuple(parts))

    def _const(self, c: BCheck, value: Any, in_test: bool) -> str:
        """A constant as a literal when short, else as a named global."""
        text = self.names.known(value) or literal(value, in_test)
        if text is not None:
            return text
        return self.names.of(f"{identifier(c.lhs.text)}_{c.operator.name}_values", value)

    def _fused(self, run: Fused, ctx: Slots) -> str:
        """One term for a fused run: ``v.startswith((a, b))`` or ``v in {a, b, c}``."""
        kind, checks = run
        first = checks[0]
        const: Any
        if kind == "tuple":
            inline, const = first.operator.inline, tuple(c.const for c in checks)
        else:
            inline = OPERATORS["in"].inline
            const = frozenset().union(*(allowed_values(c.operator, c.const) for c in checks))
        assert inline is not None
        return self._inline(first, inline, const, ctx)

    def _check(self, c: BCheck, ctx: Slots) -> str:
        op = c.operator
        if op.kind == "unary":
            value, _ = self._access(c.lhs, self._lhs_mode(c), ctx, reuse=False)
            return f"bool({value})" if c.lhs.kind == LIST else f"{value} is not MISSING"
        if c.rhs is not None:
            return self._pair(c, ctx)
        inline = _inline_form(c)
        if inline is not None:
            return self._inline(c, inline, c.const, ctx)
        value, again = self._access(c.lhs, self._lhs_mode(c), ctx)
        pred = self.names.of(_pred_hint(c), c.pred)
        return _guarded(c, value, f"{pred}({again})")

    def _inline(self, c: BCheck, inline: Inline, const: Any, ctx: Slots) -> str:
        value, again = self._access(c.lhs, self._lhs_mode(c), ctx, reuse=inline.guarded)
        # Python folds a set display into a constant only as the right operand of `in`.
        in_test = inline.template.startswith("{v} in ")
        constant = self._const(c, const, in_test)
        if not inline.guarded:
            assert not c.operator.when_missing, "an unguarded template must be false on MISSING"
            return inline.template.format(v=value, c=constant)
        return _guarded(c, value, inline.template.format(v=again, c=constant))

    def _pair(self, c: BCheck, ctx: Slots) -> str:
        assert c.rhs is not None
        value, again = self._access(c.lhs, self._lhs_mode(c), ctx)
        lhs_slot = frozenset([again]) if self.shared else frozenset()
        other, other_again = self._access(c.rhs, "g", ctx | lhs_slot)
        pair = self.names.of(f"{c.operator.name}_pair", c.pair)
        if c.operator.when_missing:
            body = f"{other} is MISSING or {pair}({again}, {other_again})"
        else:
            body = f"{other} is not MISSING and {pair}({again}, {other_again})"
        return _guarded(c, value, body)


def _inline_form(c: BCheck) -> Inline | None:
    """The table's inline template for this check, if it has one that applies."""
    if c.lhs.kind == LIST:
        return c.operator.inline_on_list
    if c.lhs.kind == STR and c.lhs.plain and c.node.modifier is None:
        return c.operator.inline
    return None


def _guarded(c: BCheck, value: str, body: str) -> str:
    """``body`` under the check's treatment of a missing value (an empty list is missing)."""
    is_list = c.lhs.kind == LIST
    if c.operator.when_missing:
        return f"(not {value} or {body})" if is_list else f"({value} is MISSING or {body})"
    return f"({value} and {body})" if is_list else f"({value} is not MISSING and {body})"


def _pred_hint(c: BCheck) -> str:
    modifier = f"_{c.node.modifier}" if c.node.modifier else ""
    return f"{identifier(c.lhs.text)}_{c.operator.name}{modifier}"


def _fuse_key(c: BCheck) -> tuple[str, str] | None:
    """Checks an ``or`` may fuse: a plain string field and an operator whose inline
    form fuses (one call with a tuple of constants, or one set)."""
    if c.rhs is not None or c.node.modifier is not None:
        return None
    inline = c.operator.inline
    if c.lhs.kind != STR or not c.lhs.plain or inline is None or inline.fuse is None:
        return None
    return c.lhs.text, (c.op if inline.fuse == "tuple" else "set")


def _flush(out: list[Bound | Fused], run: list[BCheck], key: tuple[str, str] | None) -> None:
    if len(run) > 1 and key is not None:
        out.append(("set" if key[1] == "set" else "tuple", list(run)))
    else:
        out.extend(run)


def fuse_or(items: list[Bound]) -> list[Bound | Fused]:
    """Fuse runs of adjacent fusable checks on the same field; order is kept."""
    out: list[Bound | Fused] = []
    run: list[BCheck] = []
    key: tuple[str, str] | None = None
    for item in items:
        check = item if isinstance(item, BCheck) else None
        k = _fuse_key(check) if check is not None else None
        if check is not None and k is not None and k == key:
            run.append(check)
            continue
        _flush(out, run, key)
        run, key = ([check] if check is not None and k is not None else []), k
        if not run:
            out.append(item)
    _flush(out, run, key)
    return out


# ---------------------------------------------------------------- functions


def compile_function(source: str, name: str, names: dict[str, Any]) -> Callable[..., Any]:
    """Compile ``source`` under its own pseudo-file name, kept in ``linecache``
    for as long as the function ``name`` lives, so tracebacks show the generated
    lines. Other functions the source defines share its globals (``__globals__``)."""
    filename = f"<k8saudit-rules:{name}-{next(_numbers)}>"
    namespace = dict(names)
    exec(compile(source, filename, "exec"), namespace)
    fn: Callable[..., Any] = namespace[name]
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    weakref.finalize(fn, linecache.cache.pop, filename, None)
    return fn


def _rule_label(rule: Any) -> str:
    return str(getattr(rule, "name", rule))


def generate_group(
    rules: list[tuple[Any, Bound]], first_only: bool, name: str = "group"
) -> tuple[Callable[[Any], list[Any]], str]:
    """One function for several rules: ``event -> [rules that match]``, in order.

    Fields are extracted at most once per event and shared by every rule of
    the group; ``first_only`` returns at the first match (Falco's default).
    Checks no event can pass are folded away first (:mod:`simplify`).
    Returns the function and its source.
    """
    gen = CodeGen(shared=True)
    body: list[str] = []
    ctx: Slots = frozenset()
    for rule, written in rules:
        label = _rule_label(rule)
        body.append(f"    # {layout.comment(label)}")
        node = simplify(written)
        if isinstance(node, BConst) and not node.value:
            body.append("    # (never true: a field compared with an empty list)")
            continue
        ref = gen.names.of(f"rule_{identifier(label)}", rule)
        body += layout.statement("if ", gen.code(node, ctx), ":", "    ")
        body.append(f"        return [{ref}]" if first_only else f"        h.append({ref})")
        ctx = ctx | (gen.when(node, False) if first_only else gen.always(node))
    slots = list(gen.slots.values())
    head = ["    h = []"] + ([f"    {' = '.join(slots)} = UNSET"] if slots else [])
    source = f"def {name}(e):\n" + "\n".join([*head, *body, "    return h"]) + "\n"
    return compile_function(source, name, gen.names.globals), source


def generate(node: Bound, name: str = "condition") -> tuple[Callable[[Any], bool], str]:
    """Compile one condition to ``event -> truthy``; returns (function, source).

    Raises SyntaxError/RecursionError/MemoryError when Python cannot compile
    the text (very deep nesting); callers fall back to the closure evaluator.
    """
    gen = CodeGen()
    lines = layout.statement("return ", gen.code(simplify(node)), "", "    ")
    source = f"def {name}(e):\n" + "\n".join(lines) + "\n"
    return compile_function(source, name, gen.names.globals), source
