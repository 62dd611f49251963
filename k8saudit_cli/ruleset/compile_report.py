"""Diagnostics of compiling rules: where a problem is, said once, in Falco's words.

A condition error carries the span of the node at fault, and the span's
origin says whose text it is (a rule, a macro it uses, an exception), so the
position and the caret point at what the author wrote.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass, field

from k8saudit_cli.errors import (
    ConditionError,
    ConditionSyntaxError,
    Diagnostic,
    Position,
    Severity,
    Snippet,
)
from k8saudit_cli.ruleset.aggregation_items import AggregationState
from k8saudit_cli.ruleset.items import SourceText
from k8saudit_cli.ruleset.states import Collection, MacroState, RuleState

#: Where a span points: position, caret line, item type and item name.
Location = tuple[Position | None, Snippet | None, str, str]


@dataclass
class CompileReport:
    """The diagnostics of one compilation, each reported once."""

    coll: Collection
    diagnostics: list[Diagnostic] = field(default_factory=list)
    _seen: set[tuple[str, str, str]] = field(default_factory=set)

    def add(self, diag: Diagnostic) -> None:
        key = (diag.code, diag.message, str(diag.position))
        if key not in self._seen:
            self._seen.add(key)
            self.diagnostics.append(diag)

    def locate(self, span: object) -> Location:
        origin = getattr(span, "origin", None)
        start = getattr(span, "start", 0)
        if isinstance(origin, tuple) and origin[0] in ("rule", "macro", "aggregation"):
            kind, name = origin[0], origin[1]
            text = self._item(kind, name).condition
            pos = text.position(start)
            snippet = Snippet(text.line_at(start), pos.col) if pos else None
            return pos, snippet, f"{kind} condition", name
        if isinstance(origin, tuple) and origin[0] == "exception":
            rule = self.coll.rules[origin[1]]
            ex = next((e for e in rule.exceptions if e.name == origin[2]), None)
            return (ex.pos if ex else rule.pos), None, "exception", f"{origin[1]}/{origin[2]}"
        return None, None, "rule", ""

    def _item(self, kind: str, name: str) -> RuleState | MacroState | AggregationState:
        """The rule, macro or aggregation ``name``: its condition and position."""
        if kind == "rule":
            return self.coll.rules[name]
        if kind == "aggregation":
            return self.coll.aggregations[name]
        return self.coll.macros[name]

    def condition_error(self, exc: ConditionError, kind: str, name: str) -> None:
        """An error met while compiling rule, macro or aggregation ``name`` (``kind``)."""
        pos, snippet, itype, iname = self.locate(exc.span)
        if pos is None:
            pos, itype, iname = self._item(kind, name).pos, kind, name
        message = exc.message if iname == name else f"{exc.message} (used by {kind} '{name}')"
        self.add(Diagnostic(exc.code, Severity.ERROR, message, pos, itype, iname, snippet))

    def syntax_error(
        self, exc: ConditionSyntaxError, text: SourceText, itype: str, name: str
    ) -> None:
        pos = text.position(exc.offset)
        snippet = Snippet(text.line_at(exc.offset), pos.col) if pos else None
        self.add(
            Diagnostic(
                "LOAD_ERR_COMPILE_CONDITION", Severity.ERROR, exc.message, pos, itype, name, snippet
            )
        )

    def output_error(self, exc: ConditionError, rule: RuleState) -> None:
        start = getattr(exc.span, "start", 0)
        pos = rule.output.position(start) or rule.pos
        snippet = Snippet(rule.output.line_at(start), pos.col)
        self.add(
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

    def warning(self, code: str, message: str, span: object, rule: str, kind: str = "rule") -> None:
        pos, snippet, itype, iname = self.locate(span)
        if pos is None:
            pos, itype, iname = self._item(kind, rule).pos, kind, rule
        self.add(Diagnostic(code, Severity.WARNING, message, pos, itype, iname, snippet))

    def unknown_filter(self, rule: RuleState, message: str) -> None:
        """A rule with ``skip-if-unknown-filter`` uses a field we do not have."""
        self.add(
            Diagnostic(
                "LOAD_UNKNOWN_FILTER", Severity.WARNING, message, rule.pos, "rule", rule.name
            )
        )


def unused_warnings(
    coll: Collection, used_macros: Set[str], used_lists: Set[str]
) -> list[Diagnostic]:
    """Falco's warnings for macros and lists nothing refers to."""
    out = [
        Diagnostic(
            "LOAD_UNUSED_MACRO",
            Severity.WARNING,
            "Macro not referred to by any other rule/macro",
            state.pos,
            "macro",
            name,
        )
        for name, state in coll.macros.items()
        if name not in used_macros
    ]
    out += [
        Diagnostic(
            "LOAD_UNUSED_LIST",
            Severity.WARNING,
            "List not referred to by any other rule/macro",
            lst.pos,
            "list",
            name,
        )
        for name, lst in coll.lists.items()
        if name not in used_lists
    ]
    return out


def skipped_warnings(
    skipped: dict[tuple[str, str], int], unsourced: dict[str, list[str]] | None = None
) -> list[Diagnostic]:
    """One warning per file and source whose rules we do not evaluate.

    Rules that are syscall rules only because they have no ``source:`` are
    named: a forgotten ``source: k8s_audit`` is the usual reason.
    """
    out = []
    for (file, source), n in sorted(skipped.items()):
        noun = "rule" if n == 1 else "rules"
        names = (unsourced or {}).get(file, []) if source == "syscall" else []
        out.append(
            Diagnostic(
                "LOAD_UNKNOWN_SOURCE",
                Severity.WARNING,
                f"{n} {source} {noun} skipped (k8saudit only evaluates source k8s_audit)"
                + _unsourced_note(names),
                Position(file, 1, 1),
                "rules content",
            )
        )
    return out


def _unsourced_note(names: list[str]) -> str:
    """``; no 'source:' (so syscall, Falco's default): 'A', 'B' and 3 more``."""
    if not names:
        return ""
    shown = ", ".join(f"'{n}'" for n in names[:3])
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return (
        f"; no 'source:' (so syscall, Falco's default): {shown}{more}"
        " (add 'source: k8s_audit' to evaluate them)"
    )
