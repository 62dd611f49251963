"""Free-standing conditions (``--where``, ``query``) compiled against a ruleset's macros and lists.

A condition typed on the command line goes through exactly the passes of a
rule's condition (:mod:`k8saudit_cli.ruleset.compile`): parse, expand lists,
expand macros with Falco's visibility rules, bind, generate code. Only the
way problems are reported differs: the text is not in a rules file, so a
problem in it is a :class:`~k8saudit_cli.errors.Diagnostic` whose position is
``LABEL:line:col`` (``LABEL`` being ``--where`` or ``CONDITION``) with the
condition line and a caret under the offending token.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from k8saudit_cli.engine.bind import Binder, Bound
from k8saudit_cli.engine.codegen import generate
from k8saudit_cli.engine.evaluate import closure
from k8saudit_cli.engine.parsecache import parse_condition
from k8saudit_cli.engine.positions import line_col
from k8saudit_cli.errors import (
    ConditionError,
    ConditionSyntaxError,
    Diagnostic,
    K8sAuditError,
    Position,
    Severity,
    Snippet,
)
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fields import FIELDS
from k8saudit_cli.ruleset.compile import Compiler
from k8saudit_cli.ruleset.compile_macros import AlreadyReported
from k8saudit_cli.ruleset.states import Collection

_UNKNOWN_FIELD = re.compile(r"nonexistent field (\S+)")
_UNDEFINED_MACRO = re.compile(r"Undefined macro '([^']+)'")
FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)


class ConditionProblem(K8sAuditError):
    """A condition (or a field list) that cannot be compiled; ``diagnostics`` say why."""

    code = "CONDITION_INVALID"

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__(diagnostics[0].message if diagnostics else "invalid condition")
        self.diagnostics = diagnostics


@dataclass(frozen=True)
class EventCondition:
    """A compiled condition: ``test(event)`` is truthy when the event matches."""

    text: str
    bound: Bound
    test: Callable[[AuditEvent], Any]
    warnings: list[Diagnostic] = field(default_factory=list)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or nothing when none is close."""
    import difflib  # only when there is a mistake to explain

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def field_hint(message: str) -> str:
    """A did-you-mean for an unknown-field message of the field table, else ``""``."""
    m = _UNKNOWN_FIELD.search(message)
    return did_you_mean(m.group(1).split("[")[0], FIELD_NAMES) if m else ""


def text_diagnostic(
    message: str, text: str, offset: int, label: str, severity: Severity = Severity.ERROR
) -> Diagnostic:
    """A problem at ``offset`` of a condition typed on the command line."""
    line, col = line_col(text, offset)
    line_text = text.split("\n")[line - 1]
    return Diagnostic(
        "LOAD_ERR_COMPILE_CONDITION" if severity is Severity.ERROR else "LOAD_COMPILE_CONDITION",
        severity,
        message,
        Position(label, line, col),
        snippet=Snippet(line_text, col),
    )


class ConditionCompiler:
    """Compiles conditions with the lists and macros of ``collection`` (a loaded ruleset's)."""

    def __init__(self, collection: Collection) -> None:
        # The rule compiler's own list expander, macro resolver and report, unrun:
        # a condition here is expanded exactly as a rule's would be.
        self._compiler = Compiler(collection)
        self._macro_names = tuple(collection.macros)

    def compile(self, text: str, label: str) -> EventCondition:
        """``text`` as a callable test; raises :class:`ConditionProblem` with a caret."""
        binder = Binder()
        try:
            bound = binder.bind(self._expanded(text))
        except ConditionSyntaxError as exc:
            raise ConditionProblem(
                [text_diagnostic(exc.message, text, exc.offset, label)]
            ) from None
        except ConditionError as exc:
            raise ConditionProblem([self._located(exc, text, label)]) from None
        except AlreadyReported:
            raise ConditionProblem(self._compiler.diagnostics) from None
        warnings = [self._located_warning(w.message, w.span, text, label) for w in binder.warnings]
        return EventCondition(text, bound, evaluator(bound), warnings)

    def _expanded(self, text: str) -> Any:
        c = self._compiler
        return c.macros.expand(c.lists.expand(parse_condition(text)))

    def _located(self, exc: ConditionError, text: str, label: str) -> Diagnostic:
        message = exc.message + field_hint(exc.message) + self._macro_hint(exc.message)
        origin = getattr(exc.span, "origin", None)
        if origin is not None:  # inside a macro of the rules files: point there
            pos, snippet, itype, iname = self._compiler.report.locate(exc.span)
            return Diagnostic(exc.code, Severity.ERROR, message, pos, itype, iname, snippet)
        return text_diagnostic(message, text, getattr(exc.span, "start", 0), label)

    def _located_warning(self, message: str, span: object, text: str, label: str) -> Diagnostic:
        if getattr(span, "origin", None) is not None:
            pos, snippet, itype, iname = self._compiler.report.locate(span)
            return Diagnostic(
                "LOAD_COMPILE_CONDITION", Severity.WARNING, message, pos, itype, iname, snippet
            )
        start = getattr(span, "start", 0)
        return text_diagnostic(message, text, start, label, Severity.WARNING)

    def _macro_hint(self, message: str) -> str:
        m = _UNDEFINED_MACRO.search(message)
        return did_you_mean(m.group(1), self._macro_names) if m else ""


def evaluator(bound: Bound) -> Callable[[AuditEvent], Any]:
    """The generated evaluator of ``bound``, or the closure one when Python cannot compile it."""
    try:
        return generate(bound, "where")[0]
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return closure(bound)
