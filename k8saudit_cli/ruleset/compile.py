"""Compile the collected lists, macros and rules into callable rules.

Order of work for each ``k8s_audit`` rule: parse its condition, add its
exceptions as AST, expand lists, expand macros (with Falco's visibility
rules), bind fields and operators, generate the evaluator, compile the
output. Every problem becomes a :class:`Diagnostic` pointing at the text
the author wrote, be it the rule, a macro it uses, or an exception.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from k8saudit_cli.engine.bind import Binder, Bound
from k8saudit_cli.engine.codegen import generate
from k8saudit_cli.engine.evaluate import closure
from k8saudit_cli.engine.expand import ListExpander, expand_macros, macro_refs, with_origin
from k8saudit_cli.engine.nodes import (
    And,
    Check,
    Expr,
    FieldExpr,
    ListItem,
    Not,
    Or,
    Span,
    Str,
    ValueList,
)
from k8saudit_cli.engine.parsecache import parse_condition, parse_value_items
from k8saudit_cli.errors import (
    ConditionError,
    ConditionSyntaxError,
    Diagnostic,
    Position,
    Severity,
    Snippet,
)
from k8saudit_cli.output_format import OutputFormat, compile_output
from k8saudit_cli.ruleset.collector import LIST_COMPS, Collection, RuleState, is_modifier_comp
from k8saudit_cli.ruleset.items import ExceptionDef, SourceText

K8S_SOURCE = "k8s_audit"
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


class _AlreadyReported(Exception):
    """A macro used by this rule failed to parse; its error is already listed."""


@dataclass
class Compiler:
    coll: Collection
    diagnostics: list[Diagnostic] = field(default_factory=list)
    rules: list[CompiledRule] = field(default_factory=list)
    skipped: dict[tuple[str, str], int] = field(default_factory=dict)
    _parsed_macros: dict[str, Expr | None] = field(default_factory=dict)
    _macro_cache: dict[str, Expr] = field(default_factory=dict)
    _expanding: set[str] = field(default_factory=set)
    _seen: set[tuple[str, str, str]] = field(default_factory=set)
    used_macros: set[str] = field(default_factory=set)
    _failed_macros: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        lists = {name: [s.text for s in st.items] for name, st in self.coll.lists.items()}
        self.lists = ListExpander(lists, parse_value_items)

    # ---------------------------------------------------------------- driving

    def run(self) -> Compiler:
        for name in self.coll.macros:
            self._parse_macro(name)
        for name in self.coll.macros:
            self._check_macro(name)
        for rule in sorted(self.coll.rules.values(), key=lambda r: r.index):
            if rule.source == K8S_SOURCE:
                compiled = self._compile(rule)
                if compiled is not None:
                    self.rules.append(compiled)
            else:
                self._note_foreign(rule)
        self._unused_warnings()
        self._skipped_warnings()
        return self

    def _note_foreign(self, rule: RuleState) -> None:
        """Rules of other sources are never compiled, but their macro and list use counts."""
        key = (rule.pos.file, rule.source)
        self.skipped[key] = self.skipped.get(key, 0) + 1
        try:
            ast = parse_condition(rule.condition.value)
            self.lists.expand(ast)
        except (ConditionSyntaxError, ConditionError):
            return
        self._mark_macros(macro_refs(ast), None)

    def _mark_macros(self, refs: list[Any], user: str | None) -> None:
        for ref in refs:
            if ref.name in self.used_macros or ref.name not in self.coll.macros:
                continue
            self.used_macros.add(ref.name)
            body = self._parsed_macros.get(ref.name)
            if body is not None:
                self._mark_macros(macro_refs(body), ref.name)

    # ---------------------------------------------------------------- macros

    def _parse_macro(self, name: str) -> Expr | None:
        if name in self._parsed_macros:
            return self._parsed_macros[name]
        state = self.coll.macros[name]
        try:
            ast = with_origin(parse_condition(state.condition.value), ("macro", name))
            ast = self.lists.expand(ast)  # type: ignore[arg-type]
        except ConditionSyntaxError as exc:
            self._syntax_error(exc, state.condition, "macro condition", name)
            ast = None
        except ConditionError as exc:
            self._error(exc, "macro", name)
            ast = None
        self._parsed_macros[name] = ast  # type: ignore[assignment]
        return ast  # type: ignore[return-value]

    def _check_macro(self, name: str) -> None:
        """Resolve every macro once, used or not: Falco fails the load on an
        undefined macro or a reference loop even in a macro no rule uses."""
        try:
            self._macro_body(name, Span(0, 0), None)
        except ConditionError as exc:
            self._failed_macros.add(name)
            self._error(exc, "macro", name)
        except _AlreadyReported:
            self._failed_macros.add(name)

    def _use_macro(self, name: str, span: Span, user: str | None) -> Expr:
        """A reference to macro ``name`` from macro ``user`` (None: from a rule)."""
        self.used_macros.add(name)
        return self._macro_body(name, span, user)

    def _macro_body(self, name: str, span: Span, user: str | None) -> Expr:
        if name in self._failed_macros:
            raise _AlreadyReported(name)
        state = self.coll.macros.get(name)
        if state is None or (user is not None and not state.index < self.coll.macros[user].seq):
            raise ConditionError(
                f"Undefined macro '{name}' used in filter.", span, "LOAD_ERR_VALIDATE"
            )
        if name in self._expanding:
            raise ConditionError(f"reference loop in macro '{name}'", span, "LOAD_ERR_VALIDATE")
        if name in self._macro_cache:
            return self._macro_cache[name]
        ast = self._parse_macro(name)
        if ast is None:
            raise _AlreadyReported(name)
        self._expanding.add(name)
        try:
            body = expand_macros(ast, lambda n, sp: self._use_macro(n, sp, name))
        finally:
            self._expanding.discard(name)
        self._macro_cache[name] = body
        return body

    # ---------------------------------------------------------------- rules

    def _compile(self, rule: RuleState) -> CompiledRule | None:
        binder = Binder()
        try:
            ast = self._rule_ast(rule)
            ast = self.lists.expand(ast)
            ast = expand_macros(ast, lambda n, sp: self._use_macro(n, sp, None))
            bound = binder.bind(ast)
        except ConditionSyntaxError as exc:
            self._syntax_error(exc, rule.condition, "rule condition", rule.name)
            return None
        except ConditionError as exc:
            if not self._skippable(rule, str(exc)):
                self._error(exc, "rule", rule.name)
            return None
        except _AlreadyReported:
            return None
        fields_read = tuple(dict.fromkeys(binder.fields_used))
        try:
            output = compile_output(rule.output.value, binder)
        except ConditionError as exc:
            if not self._skippable(rule, str(exc)):
                self._output_error(exc, rule)
            return None
        for w in binder.warnings:
            self._warning(w.code, w.message, w.span, rule.name)
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

    def _rule_ast(self, rule: RuleState) -> Expr:
        ast: Expr = with_origin(parse_condition(rule.condition.value), ("rule", rule.name))  # type: ignore[assignment]
        parts = [
            p for p in (self._exception_ast(rule, ex) for ex in rule.exceptions) if p is not None
        ]
        if not parts:
            return ast
        return And((ast, *(Not(p) for p in parts)))

    def _skippable(self, rule: RuleState, message: str) -> bool:
        if rule.skip_if_unknown_filter and any(m in message for m in UNKNOWN_FILTER_MARKERS):
            self._add(
                Diagnostic(
                    "LOAD_UNKNOWN_FILTER", Severity.WARNING, message, rule.pos, "rule", rule.name
                )
            )
            return True
        return False

    # ---------------------------------------------------------------- exceptions

    def _exception_ast(self, rule: RuleState, ex: ExceptionDef) -> Expr | None:
        origin = ("exception", rule.name, ex.name)
        span = Span(0, 0, origin=origin)
        if isinstance(ex.fields, str):
            if not ex.values:
                return None
            items: list[ListItem] = []
            for v in ex.values:
                if not isinstance(v, str):
                    raise ConditionError(
                        "Expected values array to contain a list of strings",
                        span,
                        "LOAD_ERR_VALIDATE",
                    )
                items.extend(_value_items(v, span))
            return _exc_check(
                self._exc_field(ex.fields, span),
                str(ex.comps),
                ValueList(tuple(items), False, span),
                span,
            )
        fields = list(ex.fields or [])
        comps = list(ex.comps or [])
        groups: list[Expr] = []
        for tup in ex.values or []:
            if not isinstance(tup, list) or len(tup) != len(fields):
                raise ConditionError(
                    "Fields and values lists must have equal length", span, "LOAD_ERR_VALIDATE"
                )
            terms = [
                self._exc_term(f, c, v, span) for f, c, v in zip(fields, comps, tup, strict=False)
            ]
            groups.append(_joined(And, terms, span))
        return _joined(Or, groups, span) if groups else None

    def _exc_term(self, fname: str, comp: str, value: Any, span: Span) -> Expr:
        lhs = self._exc_field(fname, span)
        listy = comp in LIST_COMPS or is_modifier_comp(comp)
        if isinstance(value, list):
            items = tuple(i for v in value for i in _value_items(str(v), span))
            return _exc_check(lhs, comp, ValueList(items, False, span), span)
        if listy:
            if value.startswith("(") and value.endswith(")"):
                items = _parenthesised_items(value, span)
            else:
                items = _value_items(value, span)
            return _exc_check(lhs, comp, ValueList(items, False, span), span)
        return _exc_check(lhs, comp, Str(_unquote(value), True, span), span)

    def _exc_field(self, text: str, span: Span) -> FieldExpr:
        try:
            check = parse_condition(f"{text} exists")
        except ConditionSyntaxError:
            check = None
        if isinstance(check, Check):
            try:  # Falco checks exception fields on their own, before the condition
                Binder().field_expr(check.lhs)
            except ConditionError:
                check = None
        if not isinstance(check, Check):
            raise ConditionError(
                f"'{text}' is not a supported filter field", span, "LOAD_ERR_VALIDATE"
            )
        return with_origin(check.lhs, span.origin)  # type: ignore[return-value]

    # ---------------------------------------------------------------- diagnostics

    def _locate(self, span: Any) -> tuple[Position | None, Snippet | None, str, str]:
        origin = getattr(span, "origin", None)
        start = getattr(span, "start", 0)
        if isinstance(origin, tuple) and origin[0] in ("rule", "macro"):
            kind, name = origin[0], origin[1]
            text = (
                self.coll.rules[name].condition
                if kind == "rule"
                else self.coll.macros[name].condition
            )
            pos = text.position(start)
            snippet = Snippet(text.line_at(start), pos.col) if pos else None
            return pos, snippet, f"{kind} condition", name
        if isinstance(origin, tuple) and origin[0] == "exception":
            rule = self.coll.rules[origin[1]]
            ex = next((e for e in rule.exceptions if e.name == origin[2]), None)
            return (ex.pos if ex else rule.pos), None, "exception", f"{origin[1]}/{origin[2]}"
        return None, None, "rule", ""

    def _error(self, exc: ConditionError, kind: str, name: str) -> None:
        pos, snippet, itype, iname = self._locate(exc.span)
        if pos is None:
            pos = self.coll.rules[name].pos if kind == "rule" else self.coll.macros[name].pos
            itype, iname = kind, name
        message = exc.message if iname == name else f"{exc.message} (used by {kind} '{name}')"
        self._add(Diagnostic(exc.code, Severity.ERROR, message, pos, itype, iname, snippet))

    def _syntax_error(
        self, exc: ConditionSyntaxError, text: SourceText, itype: str, name: str
    ) -> None:
        pos = text.position(exc.offset)
        snippet = Snippet(text.line_at(exc.offset), pos.col) if pos else None
        self._add(
            Diagnostic(
                "LOAD_ERR_COMPILE_CONDITION", Severity.ERROR, exc.message, pos, itype, name, snippet
            )
        )

    def _output_error(self, exc: ConditionError, rule: RuleState) -> None:
        start = getattr(exc.span, "start", 0)
        pos = rule.output.position(start) or rule.pos
        snippet = Snippet(rule.output.line_at(start), pos.col)
        self._add(
            Diagnostic(
                "LOAD_ERR_COMPILE_OUTPUT",
                Severity.ERROR,
                exc.message,
                pos,
                "rule output",
                rule.name,
                snippet,
            )
        )

    def _warning(self, code: str, message: str, span: Span | None, rule: str) -> None:
        pos, snippet, itype, iname = self._locate(span)
        if pos is None:
            pos, itype, iname = self.coll.rules[rule].pos, "rule", rule
        self._add(Diagnostic(code, Severity.WARNING, message, pos, itype, iname, snippet))

    def _add(self, diag: Diagnostic) -> None:
        key = (diag.code, diag.message, str(diag.position))
        if key not in self._seen:
            self._seen.add(key)
            self.diagnostics.append(diag)

    def _unused_warnings(self) -> None:
        for name, state in self.coll.macros.items():
            if name not in self.used_macros:
                self._add(
                    Diagnostic(
                        "LOAD_UNUSED_MACRO",
                        Severity.WARNING,
                        "Macro not referred to by any other rule/macro",
                        state.pos,
                        "macro",
                        name,
                    )
                )
        for name, lst in self.coll.lists.items():
            if name not in self.lists.used:
                self._add(
                    Diagnostic(
                        "LOAD_UNUSED_LIST",
                        Severity.WARNING,
                        "List not referred to by any other rule/macro",
                        lst.pos,
                        "list",
                        name,
                    )
                )

    def _skipped_warnings(self) -> None:
        for (file, source), n in sorted(self.skipped.items()):
            noun = "rule" if n == 1 else "rules"
            self._add(
                Diagnostic(
                    "LOAD_UNKNOWN_SOURCE",
                    Severity.WARNING,
                    f"{n} {source} {noun} skipped (k8saudit only evaluates source k8s_audit)",
                    Position(file, 1, 1),
                    "rules content",
                )
            )


def _exc_check(lhs: FieldExpr, comp: str, value: Any, span: Span) -> Check:
    parts = comp.split()
    if len(parts) == 2:
        return Check(lhs, parts[0], value, parts[1], span)
    return Check(lhs, comp, value, None, span)


def _joined(kind: type[And | Or], items: list[Expr], span: Span) -> Expr:
    """``And``/``Or`` of ``items``, or the item itself when there is one
    (a one-item group would not survive rendering and parsing back)."""
    return items[0] if len(items) == 1 else kind(tuple(items), span)


def _parenthesised_items(text: str, span: Span) -> tuple[ListItem, ...]:
    """A value written as ``(a, "b c")``: Falco pastes it as a list, so read it
    with the condition grammar's own list syntax."""
    try:
        check = parse_condition(f"x.x in {text}")
    except ConditionSyntaxError:
        return (ListItem(text, True, span),)
    if not isinstance(check, Check) or not isinstance(check.value, ValueList):
        return (ListItem(text, True, span),)
    return tuple(ListItem(i.text, i.quoted, span) for i in check.value.items)


def _value_items(text: str, span: Span) -> tuple[ListItem, ...]:
    """One exception value as list items: a list name stays a bare item (expanded later).

    Falco quotes a value holding a space (and pastes the rest as written).
    """
    if " " in text and not text.startswith(("'", '"')):
        return (ListItem(text, True, span),)
    try:
        return tuple(ListItem(i.text, i.quoted, span) for i in parse_value_items(text))
    except ConditionSyntaxError:
        return (ListItem(text, True, span),)


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        try:
            items = parse_value_items(text)
        except ConditionSyntaxError:
            return text
        if len(items) == 1 and items[0].quoted:
            return items[0].text
    return text
