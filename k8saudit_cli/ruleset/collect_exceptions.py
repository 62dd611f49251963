"""Falco's collector checks on rule exceptions: shapes, default comps, appends, names.

A defining rule's exceptions are validated and get their default comps; an
appending item may add values to an existing exception or add a whole new
one, never change an existing one's fields or comps.
"""

from __future__ import annotations

import copy

from k8saudit_cli.errors import Diagnostic, Severity
from k8saudit_cli.ruleset.comparisons import LIST_COMPS, SUPPORTED_COMPS, is_modifier_comp
from k8saudit_cli.ruleset.items import ExceptionDef
from k8saudit_cli.ruleset.states import CollectError, RuleState

_SINGLE_FIELD_COMPS = (
    "When fields is a single value, comps must be one of (in, pmatch, intersects) or a "
    "modifier operator (e.g. startswith oneof)"
)


def validated(ex: ExceptionDef) -> ExceptionDef:
    """Falco's validate_exception_info: check shapes and fill default comps (on a copy)."""
    ex = copy.deepcopy(ex)
    if not ex.fields:
        raise CollectError(
            "Rule exception item must have fields property with a list of fields", ex.pos
        )
    if isinstance(ex.fields, list):
        ex.comps = _list_comps(ex, len(ex.fields))
    else:
        ex.comps = _single_comp(ex)
    return ex


def _list_comps(ex: ExceptionDef, n_fields: int) -> list[str]:
    comps = ex.comps if ex.comps is not None else ["="] * n_fields
    if isinstance(comps, str) or len(comps) != n_fields:
        raise CollectError("Fields and comps lists must have equal length", ex.pos)
    comps = [c.strip() for c in comps]
    for comp in comps:
        if comp not in SUPPORTED_COMPS and not is_modifier_comp(comp):
            raise CollectError(f"'{comp}' is not a supported comparison operator", ex.pos)
    return comps


def _single_comp(ex: ExceptionDef) -> str:
    comp = ex.comps if ex.comps is not None else "in"
    if isinstance(comp, list):
        raise CollectError("Fields and comps must both be strings", ex.pos)
    comp = comp.strip()
    if comp not in LIST_COMPS and not is_modifier_comp(comp):
        raise CollectError(_SINGLE_FIELD_COMPS, ex.pos)
    return comp


def append_exceptions(
    old: RuleState, added: list[ExceptionDef], diagnostics: list[Diagnostic]
) -> None:
    """Append ``added`` to ``old``: values to exceptions it has, new ones whole."""
    by_name = {ex.name: ex for ex in old.exceptions}
    for ex in added:
        if not ex.has_values:
            diagnostics.append(
                Diagnostic(
                    "LOAD_APPEND_NO_VALUES",
                    Severity.WARNING,
                    "Overriding/appending exception with no values",
                    ex.pos,
                    "exception",
                    ex.name,
                )
            )
        if ex.name in by_name:
            _append_values(by_name[ex.name], ex)
        else:
            new = _new_exception(ex)
            old.exceptions.append(new)
            by_name[new.name] = new


def _append_values(target: ExceptionDef, ex: ExceptionDef) -> None:
    for key, present in (("fields", ex.has_fields), ("comps", ex.has_comps)):
        if present:
            raise CollectError(
                f"Can not append exception {key} to existing exception, only values", ex.pos
            )
    target.values = (target.values or []) + (ex.values or [])


def _new_exception(ex: ExceptionDef) -> ExceptionDef:
    if not ex.has_fields:
        raise CollectError("Rule exception must have fields property with a list of fields", ex.pos)
    if not ex.has_values:
        raise CollectError("Rule exception must have values property with a list of values", ex.pos)
    return validated(ex)


def duplicate_exception_warnings(exceptions: list[ExceptionDef]) -> list[Diagnostic]:
    """A warning for each exception whose name an earlier one of the rule already took."""
    seen: set[str] = set()
    out = []
    for ex in exceptions:
        if ex.name in seen:
            out.append(
                Diagnostic(
                    "LOAD_EXCEPTION_NAME_NOT_UNIQUE",
                    Severity.WARNING,
                    f"Multiple definitions of exception '{ex.name}' in the same rule",
                    ex.pos,
                    "exception",
                    ex.name,
                )
            )
        seen.add(ex.name)
    return out
