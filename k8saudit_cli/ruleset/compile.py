"""Compile the collected lists, macros and rules into callable rules.

Order of work for each ``k8s_audit`` rule: parse its condition, add its
exceptions as AST (:mod:`compile_exceptions`), expand lists, expand macros
with Falco's visibility rules (:mod:`compile_macros`), bind fields and
operators, build the evaluators, compile the output. Every problem becomes a
:class:`Diagnostic` pointing at the text the author wrote
(:mod:`compile_report`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from k8saudit_cli.engine.bind import Binder, Bound
from k8saudit_cli.engine.codegen import generate
from k8saudit_cli.engine.evaluate import closure
from k8saudit_cli.engine.expand import ListExpander, macro_refs
from k8saudit_cli.engine.nodes import And, Expr, Not
from k8saudit_cli.engine.parsecache import parse_condition, parse_value_items
from k8saudit_cli.errors import ConditionError, ConditionSyntaxError, Diagnostic, Position
from k8saudit_cli.output_format import OutputFormat, compile_output
from k8saudit_cli.ruleset.compile_exceptions import exception_condition
from k8saudit_cli.ruleset.compile_macros import AlreadyReported, Macros, tagged
from k8saudit_cli.ruleset.compile_report import CompileReport, skipped_warnings, unused_warnings
from k8saudit_cli.ruleset.states import Collection, RuleState

K8S_SOURCE = "k8s_audit"
#: Messages that ``skip-if-unknown-filter: true`` turns from an error into a warning.
UNKNOWN_FILTER_MARKERS = (
    "nonexistent field",
    "invalid formatting token",
    "unknown event type",
    "unknown filter:",
)


@dataclass
class CompiledRule:
    """A rule ready to run. ``match`` is the fast evaluator, ``match_reference`` the plain one."""

    name: str
    index: int
    priority: int
    source: str
    enabled: bool
    tags: tuple[str, ...]
    desc: str
    condition: str
    expanded: Expr
    bound: Bound
    match_reference: Callable[[Any], bool]
    output: OutputFormat
    fields: tuple[str, ...]
    pos: Position
    _fast: tuple[Callable[[Any], Any], str | None] | None = None

    def _generated(self) -> tuple[Callable[[Any], Any], str | None]:
        """Generate the rule's own function on first use (the detector mostly runs
        groups of rules instead, so most rules never need one)."""
        if self._fast is None:
            try:
                self._fast = generate(self.bound, "rule")
            except (SyntaxError, RecursionError, MemoryError, ValueError):
                self._fast = (self.match_reference, None)
        return self._fast

    @property
    def match(self) -> Callable[[Any], Any]:
        """``event -> truthy``: the generated evaluator of this rule alone."""
        return self._generated()[0]


#: Compiles items of another kind after the rules (and before the unused-macro
#: check, so their macro and list uses count): aggregations.
Extension = Callable[["Compiler"], list[CompiledRule]]


@dataclass
class Compiler:
    """Compiles every ``k8s_audit`` rule of ``coll``; other sources are counted in ``skipped``.

    ``extensions`` compile further kinds of item, whose results follow the rules.
    """

    coll: Collection
    extensions: tuple[Extension, ...] = ()
    rules: list[CompiledRule] = field(default_factory=list)
    skipped: dict[tuple[str, str], int] = field(default_factory=dict)
    #: Per file, the skipped rules that had no ``source:`` (the likely mistakes).
    unsourced: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        lists = {name: [s.text for s in st.items] for name, st in self.coll.lists.items()}
        self.lists = ListExpander(lists, parse_value_items)
        self.report = CompileReport(self.coll)
        self.macros = Macros(self.lists, self.report)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.report.diagnostics

    def run(self) -> Compiler:
        self.macros.prepare()
        for rule in sorted(self.coll.rules.values(), key=lambda r: r.index):
            if rule.source == K8S_SOURCE:
                compiled = self._compile(rule)
                if compiled is not None:
                    self.rules.append(compiled)
            else:
                self._note_foreign(rule)
        for extension in self.extensions:
            self.rules.extend(extension(self))
        for diag in unused_warnings(self.coll, self.macros.used, self.lists.used):
            self.report.add(diag)
        for diag in skipped_warnings(self.skipped, self.unsourced):
            self.report.add(diag)
        return self

    def _note_foreign(self, rule: RuleState) -> None:
        """Rules of other sources are never compiled, but their macro and list use counts."""
        key = (rule.pos.file, rule.source)
        self.skipped[key] = self.skipped.get(key, 0) + 1
        if not rule.source_given:
            self.unsourced.setdefault(rule.pos.file, []).append(rule.name)
        try:
            ast = parse_condition(rule.condition.value)
            self.lists.expand(ast)
        except (ConditionSyntaxError, ConditionError):
            return
        self.macros.mark_used(macro_refs(ast))

    def _compile(self, rule: RuleState) -> CompiledRule | None:
        binder = Binder()
        condition = self._condition(rule, binder)
        if condition is None:
            return None
        ast, bound = condition
        fields_read = tuple(dict.fromkeys(binder.fields_used))
        output = self._output(rule, binder)
        if output is None:
            return None
        for w in binder.warnings:
            self.report.warning(w.code, w.message, w.span, rule.name)
        return CompiledRule(
            rule.name,
            rule.index,
            rule.priority,
            rule.source,
            rule.enabled,
            tuple(rule.tags),
            rule.desc,
            rule.condition.value,
            ast,
            bound,
            closure(bound),
            output,
            fields_read,
            rule.pos,
        )

    def _condition(self, rule: RuleState, binder: Binder) -> tuple[Expr, Bound] | None:
        """The rule's expanded and bound condition, or ``None`` once reported."""
        try:
            ast = self.macros.expand(self.lists.expand(self._rule_ast(rule)))
            return ast, binder.bind(ast)
        except ConditionSyntaxError as exc:
            self.report.syntax_error(exc, rule.condition, "rule condition", rule.name)
        except ConditionError as exc:
            if not self._skippable(rule, str(exc)):
                self.report.condition_error(exc, "rule", rule.name)
        except AlreadyReported:
            pass
        return None

    def _output(self, rule: RuleState, binder: Binder) -> OutputFormat | None:
        try:
            return compile_output(rule.output.value, binder)
        except ConditionError as exc:
            if not self._skippable(rule, str(exc)):
                self.report.output_error(exc, rule)
        return None

    def _rule_ast(self, rule: RuleState) -> Expr:
        """The condition ``and not`` each exception, as Falco pastes them."""
        ast = tagged(parse_condition(rule.condition.value), ("rule", rule.name))
        parts = [
            p
            for p in (exception_condition(rule.name, ex) for ex in rule.exceptions)
            if p is not None
        ]
        if not parts:
            return ast
        return And((ast, *(Not(p) for p in parts)))

    def _skippable(self, rule: RuleState, message: str) -> bool:
        if rule.skip_if_unknown_filter and any(m in message for m in UNKNOWN_FILTER_MARKERS):
            self.report.unknown_filter(rule, message)
            return True
        return False
