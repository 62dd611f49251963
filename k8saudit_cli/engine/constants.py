"""Constants on the right of a check: conversion to the field's type, and Falco's hints.

``ka.response.code >= 400`` needs ``400`` as a number, ``ka.auth.decision
= true`` a bool; libs' conversion rules (and its error messages) live here,
with the load-time warnings it gives about values that look like mistakes
(``= <NA>``, a regex that is a plain string, a field name written as a value).
"""

from __future__ import annotations

import re
from typing import Any

from k8saudit_cli.engine.bound import BField, Warning_
from k8saudit_cli.engine.nodes import Span
from k8saudit_cli.engine.operators import BOOL, NUM, Operator
from k8saudit_cli.errors import ConditionError
from k8saudit_cli.fields import FieldError, resolve

_U64 = re.compile(r"[ \t\n\v\f\r]*([+-]?)([0-9]+)\Z")
_U64_MAX = 2**64 - 1
_REGEX_SPECIALS = frozenset(".+*?^$()[]{}|\\")
_TRANSFORMER_TEXT = re.compile(
    r"(?:val|tolower|toupper|b64|basename|len|join|concat|getopt)\(.*\)", re.DOTALL
)
_HINT = "LOAD_COMPILE_CONDITION"


def convert(lhs: BField, text: str, span: Span) -> Any:
    """``text`` as a value of ``lhs``'s kind: a uint64, a bool or a string."""
    if lhs.kind == NUM:
        number = parse_u64(text)
        if number is None:
            raise ConditionError(f"{text} is not a valid number", span)
        return number
    if lhs.kind == BOOL:
        if text not in ("true", "false"):
            raise ConditionError(f"filter error: unrecognized boolean value {text}", span)
        return text == "true"
    if "\x00" in text:
        raise ConditionError("filter error: value contains a NUL character", span)
    return text


def parse_u64(text: str) -> int | None:
    """libs' ``sscanf("%lu%c")``: leading blanks, an optional sign, digits and
    nothing after; a minus wraps around as strtoull does, overflow saturates."""
    m = _U64.match(text)
    if m is None:
        return None
    value = int(m.group(2))
    if value > _U64_MAX:
        return _U64_MAX
    return (-value) % 2**64 if m.group(1) == "-" else value


# ---------------------------------------------------------------- warnings


def value_warnings(lhs: BField, text: str, span: Span, op: Operator) -> list[Warning_]:
    """Falco's load-time hints about a constant, in Falco's order."""
    if "." not in text and "(" not in text and text != "<NA>" and op.spelling != "regex":
        return []  # most list items: no hint can apply (the checks below need these)
    found = [
        _unsafe_na(lhs, text, op),
        _plain_regex(text, op),
        _transformer_as_value(text),
        _field_as_value(text),
    ]
    return [Warning_(code, message, span) for code, message in (f for f in found if f)]


def _unsafe_na(lhs: BField, text: str, op: Operator) -> tuple[str, str] | None:
    if text == "<NA>" and op.unsafe_na and lhs.fdef.name.startswith(("ka.", "jevt.")):
        return "LOAD_UNSAFE_NA_CHECK", ""
    return None


def _plain_regex(text: str, op: Operator) -> tuple[str, str] | None:
    if op.spelling != "regex" or not regex_is_plain(text):
        return None
    return _HINT, (
        f"regex check with '{text}' may be optimized with simpler operators such as "
        "'=', 'contains', 'startswith', 'endswith'"
    )


def _transformer_as_value(text: str) -> tuple[str, str] | None:
    if "(" not in text or not _TRANSFORMER_TEXT.fullmatch("".join(text.split())):
        return None
    return _HINT, f"'{text}' may be a valid field transformer misused as a const string value"


def _field_as_value(text: str) -> tuple[str, str] | None:
    squeezed = "".join(text.split())
    if "." not in squeezed:
        return None
    try:
        resolve(squeezed.split("[", 1)[0], None)
    except FieldError as exc:
        if exc.kind != "arg":
            return None
    return _HINT, f"'{text}' may be a valid field misused as a const string value"


def regex_is_plain(pattern: str) -> bool:
    """libs' heuristic: no regex specials apart from ``^``/``$`` anchors at the ends
    and ``.*``, ``.+``, ``.?`` at the start or end, so a simpler operator would do."""
    n, i = len(pattern), 0
    while i < n:
        c = pattern[i]
        if (i == 0 and c == "^") or (i == n - 1 and c == "$"):
            i += 1
            continue
        if (
            ((i == 0 and n > 1) or i == n - 2)
            and c == "."
            and i + 1 < n
            and pattern[i + 1] in "+*?"
        ):
            i += 2
            continue
        if c in _REGEX_SPECIALS:
            return False
        i += 1
    return True
