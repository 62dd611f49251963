"""Compile the collected aggregations into :class:`CompiledAggregation`\\ s.

An aggregation's condition is compiled exactly as a rule's (the same macros
and lists, the same binder and diagnostics with carets); its ``group_by``
and ``distinct`` entries are single fields, written as in an output
(``ka.user.name``, ``ka.req.pod.containers.image[0]``,
``tolower(ka.useragent)``); its output may also use ``%agg.*``
(:mod:`aggregate_output`). A compiled aggregation is a
:class:`~k8saudit_cli.ruleset.compile.CompiledRule` with a few more fields,
so rule selection, fixtures, counts and renderers treat both alike; the
detection run tells them apart and counts instead of alerting per event.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from k8saudit_cli.engine.bind import BField, Binder, Bound
from k8saudit_cli.engine.evaluate import closure
from k8saudit_cli.engine.nodes import Expr, Span
from k8saudit_cli.engine.parsecache import parse_condition
from k8saudit_cli.errors import (
    ConditionError,
    ConditionSyntaxError,
    Diagnostic,
    Position,
    Severity,
    Snippet,
)
from k8saudit_cli.fields import MISSING, Value
from k8saudit_cli.output_format import OutputError, compile_output
from k8saudit_cli.ruleset.aggregate_output import (
    AggregateOutput,
    Key,
    compile_aggregate_output,
    freeze,
)
from k8saudit_cli.ruleset.aggregation_items import AggregationState
from k8saudit_cli.ruleset.compile import K8S_SOURCE, CompiledRule, Compiler
from k8saudit_cli.ruleset.compile_macros import AlreadyReported, tagged
from k8saudit_cli.ruleset.items import Scalar

KIND = "aggregation"


@dataclass
class CompiledAggregation(CompiledRule):
    """An aggregation ready to run: a rule's condition and output, plus what to count.

    ``distinct`` None counts events; otherwise distinct values of that field.
    """

    group_by: tuple[BField, ...] = ()
    distinct: BField | None = None
    window_ns: int = 0
    window_text: str = ""
    threshold: int = 1

    def group_key(self, event: object) -> Key:
        return tuple(freeze(f.get(event)) for f in self.group_by)

    def distinct_value(self, event: object) -> Hashable | None:
        """The value to count distinct, ``None`` when the event has none (not counted)."""
        assert self.distinct is not None
        value: Value = self.distinct.get(event)
        if value is MISSING or value == []:
            return None
        return freeze(value)

    def summary(self) -> dict[str, object]:
        """What is counted, as ``explain`` shows it."""
        counted = {"distinct": self.distinct.text} if self.distinct else {"count": "events"}
        return {
            "group_by": [f.text for f in self.group_by],
            **counted,
            "window": self.window_text,
            "window_seconds": self.window_ns / 1e9,
            "threshold": self.threshold,
        }

    def summary_text(self) -> str:
        """``distinct ka.target.resource per ka.user.name within 5m, alert at 8``."""
        what = f"distinct {self.distinct.text}" if self.distinct else "events"
        per = ", ".join(f.text for f in self.group_by) or "all events (one group)"
        return f"{what} per {per} within {self.window_text}, alert at {self.threshold}"

    def snapshot(self, event: object) -> tuple[Value, ...]:
        assert isinstance(self.output, AggregateOutput)
        return self.output.snapshot(event)  # type: ignore[arg-type]


def is_aggregation(rule: CompiledRule) -> bool:
    return isinstance(rule, CompiledAggregation)


def compile_aggregations(compiler: Compiler) -> list[CompiledRule]:
    """Every aggregation of the collection, in definition order, after every rule."""
    coll = compiler.coll
    first_index = len(coll.rules)  # unique, so report orders stay by definition
    out: list[CompiledRule] = []
    for state in sorted(coll.aggregations.values(), key=lambda a: a.index):
        if state.name in coll.rules:
            _error(compiler, "LOAD_ERR_VALIDATE", _CLASH, state.pos, KIND, state.name)
            continue
        compiled = _compile(compiler, state, first_index + state.index)
        if compiled is not None:
            out.append(compiled)
    return out


_CLASH = "An aggregation cannot have the name of a rule: alerts are counted and selected by name"


def _compile(compiler: Compiler, state: AggregationState, index: int) -> CompiledRule | None:
    binder = Binder()
    condition = _condition(compiler, state, binder)
    if condition is None:
        return None
    fields_read = tuple(dict.fromkeys(binder.fields_used))
    group_by = [_field(compiler, state, s, "group_by", binder) for s in state.group_by]
    distinct = (
        _field(compiler, state, state.distinct, "distinct", binder) if state.distinct else None
    )
    if None in group_by or (state.distinct is not None and distinct is None):
        return None
    groups = tuple(f for f in group_by if f is not None)
    output = _output(compiler, state, binder, groups, distinct)
    if output is None:
        return None
    for w in binder.warnings:
        compiler.report.warning(w.code, w.message, w.span, state.name, KIND)
    ast, bound = condition
    return CompiledAggregation(
        state.name,
        index,
        state.priority,
        K8S_SOURCE,
        state.enabled,
        tuple(state.tags),
        state.desc,
        state.condition.value,
        ast,
        bound,
        closure(bound),
        output,
        fields_read,
        state.pos,
        group_by=groups,
        distinct=distinct,
        window_ns=state.window.ns,
        window_text=state.window.text,
        threshold=state.threshold.value,
    )


def _condition(
    compiler: Compiler, state: AggregationState, binder: Binder
) -> tuple[Expr, Bound] | None:
    """The expanded and bound condition, or ``None`` once reported (as for rules)."""
    try:
        parsed = tagged(parse_condition(state.condition.value), (KIND, state.name))
        ast = compiler.macros.expand(compiler.lists.expand(parsed))
        return ast, binder.bind(ast)
    except ConditionSyntaxError as exc:
        compiler.report.syntax_error(exc, state.condition, f"{KIND} condition", state.name)
    except ConditionError as exc:
        compiler.report.condition_error(exc, KIND, state.name)
    except AlreadyReported:
        pass
    return None


def _field(
    compiler: Compiler, state: AggregationState, entry: Scalar, key: str, binder: Binder
) -> BField | None:
    """One ``group_by``/``distinct`` entry as a bound field, or ``None`` once reported."""
    try:
        tokens = compile_output("%" + entry.text, binder).tokens
    except OutputError as exc:
        start = exc.span.start - 1 if isinstance(exc.span, Span) else 0
        message = f"'{entry.text}' is not a field: {exc.message}"
        _error(
            compiler,
            "LOAD_ERR_COMPILE_CONDITION",
            message,
            _shift(entry.pos, start),
            key,
            state.name,
        )
        return None
    if len(tokens) != 1 or tokens[0].field is None:
        message = f"'{entry.text}' is not one field (write a field name, e.g. ka.user.name)"
        _error(compiler, "LOAD_ERR_COMPILE_CONDITION", message, entry.pos, key, state.name)
        return None
    return tokens[0].field


def _output(
    compiler: Compiler,
    state: AggregationState,
    binder: Binder,
    group_by: tuple[BField, ...],
    distinct: BField | None,
) -> AggregateOutput | None:
    text = state.output
    try:
        return compile_aggregate_output(
            text.value, binder, group_by, state.window.text, state.threshold.value, distinct
        )
    except ConditionError as exc:
        start = exc.span.start if isinstance(exc.span, Span) else 0
        pos = text.position(start) or state.pos
        snippet = Snippet(text.line_at(start), pos.col)
        compiler.report.add(
            Diagnostic(
                "LOAD_ERR_COMPILE_OUTPUT",
                Severity.ERROR,
                exc.message,
                pos,
                f"{KIND} output",
                state.name,
                snippet,
            )
        )
    return None


def _shift(pos: Position, columns: int) -> Position:
    return Position(pos.file, pos.line, pos.col + max(columns, 0))


def _error(compiler: Compiler, code: str, message: str, pos: Position, key: str, name: str) -> None:
    item_type = KIND if key == KIND else f"{KIND} {key}"
    compiler.report.add(Diagnostic(code, Severity.ERROR, message, pos, item_type, name))
