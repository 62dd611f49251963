"""Macros as a rule sees them: parsed once, expanded with Falco's visibility rules.

A macro may use only macros defined before it (by definition counter), a
macro that refers to itself is a loop, and an undefined macro fails the
load even when no rule uses it. A macro that fails is reported once, and
rules using it are skipped without repeating the error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from k8saudit_cli.engine.expand import ListExpander, expand_macros, macro_refs, with_origin
from k8saudit_cli.engine.nodes import And, Check, Const, Expr, MacroRef, Not, Or, Span
from k8saudit_cli.engine.parsecache import parse_condition
from k8saudit_cli.errors import ConditionError, ConditionSyntaxError
from k8saudit_cli.ruleset.compile_report import CompileReport


def tagged(expr: Expr, origin: object) -> Expr:
    """``expr`` with every span saying whose text it is (a rule's or a macro's)."""
    out = with_origin(expr, origin)
    assert isinstance(out, (Check, MacroRef, Not, And, Or, Const))
    return out


class AlreadyReported(Exception):
    """A macro used by this rule failed to parse; its error is already listed."""


@dataclass
class Macros:
    """Every macro of a collection, resolved on demand; ``used`` names those referred to."""

    lists: ListExpander
    report: CompileReport
    used: set[str] = field(default_factory=set)
    _parsed: dict[str, Expr | None] = field(default_factory=dict)
    _bodies: dict[str, Expr] = field(default_factory=dict)
    _expanding: set[str] = field(default_factory=set)
    _failed: set[str] = field(default_factory=set)

    def prepare(self) -> None:
        """Parse, then resolve, every macro once, used or not: Falco fails the load on
        an undefined macro or a reference loop even in a macro no rule uses."""
        for name in self.report.coll.macros:
            self._parse(name)
        for name in self.report.coll.macros:
            self._check(name)

    def expand(self, ast: Expr) -> Expr:
        """A rule's condition with every macro replaced by its body."""
        return expand_macros(ast, lambda n, sp: self._use(n, sp, None))

    def mark_used(self, refs: Iterable[MacroRef]) -> None:
        """Count ``refs`` and the macros their bodies use as used (rules we skip)."""
        for ref in refs:
            if ref.name in self.used or ref.name not in self.report.coll.macros:
                continue
            self.used.add(ref.name)
            body = self._parsed.get(ref.name)
            if body is not None:
                self.mark_used(macro_refs(body))

    def _parse(self, name: str) -> Expr | None:
        if name in self._parsed:
            return self._parsed[name]
        state = self.report.coll.macros[name]
        ast: Expr | None = None
        try:
            ast = self.lists.expand(tagged(parse_condition(state.condition.value), ("macro", name)))
        except ConditionSyntaxError as exc:
            self.report.syntax_error(exc, state.condition, "macro condition", name)
        except ConditionError as exc:
            self.report.condition_error(exc, "macro", name)
        self._parsed[name] = ast
        return ast

    def _check(self, name: str) -> None:
        try:
            self._body(name, Span(0, 0), None)
        except ConditionError as exc:
            self._failed.add(name)
            self.report.condition_error(exc, "macro", name)
        except AlreadyReported:
            self._failed.add(name)

    def _use(self, name: str, span: Span, user: str | None) -> Expr:
        """A reference to macro ``name`` from macro ``user`` (None: from a rule)."""
        self.used.add(name)
        return self._body(name, span, user)

    def _body(self, name: str, span: Span, user: str | None) -> Expr:
        if name in self._failed:
            raise AlreadyReported(name)
        macros = self.report.coll.macros
        state = macros.get(name)
        if state is None or (user is not None and not state.index < macros[user].seq):
            raise ConditionError(
                f"Undefined macro '{name}' used in filter.", span, "LOAD_ERR_VALIDATE"
            )
        if name in self._expanding:
            raise ConditionError(f"reference loop in macro '{name}'", span, "LOAD_ERR_VALIDATE")
        if name in self._bodies:
            return self._bodies[name]
        ast = self._parse(name)
        if ast is None:
            raise AlreadyReported(name)
        self._expanding.add(name)
        try:
            body = expand_macros(ast, lambda n, sp: self._use(n, sp, name))
        finally:
            self._expanding.discard(name)
        self._bodies[name] = body
        return body
