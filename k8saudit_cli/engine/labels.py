"""Short one-line labels of checks, for comments in generated code.

``ka.verb in (create, update)  [macro kcreate]``: the check as written (long
value lists cut short) and the macro or exception it was written in. Built
from the AST nodes alone, without the parser, so that generating code never
loads Lark (see :mod:`unparse` for the exact canonical text).
"""

from __future__ import annotations

import re

from k8saudit_cli.engine.nodes import Check, FieldRef, Num, Str, Transform, Val, ValueList

_VALUE_LIMIT = 60
_LABEL_LIMIT = 110
_BARE_VALUE = re.compile(r"[^\s()\"',]+")


def printable(text: str) -> str:
    """``text`` with every character that could end or garble a source line escaped."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _field_text(node: FieldRef | Transform) -> str:
    if isinstance(node, Transform):
        return f"{node.name}({_field_text(node.operand)})"
    return node.name if node.arg is None else f"{node.name}[{node.arg}]"


def _string(text: str) -> str:
    return text if _BARE_VALUE.fullmatch(text) else '"' + text.replace('"', '\\"') + '"'


def _list_text(value: ValueList) -> str:
    """``(a, b, ...)``, rendering only as many items as fit in the label."""
    parts: list[str] = []
    size = 0
    for item in value.items:
        if size > _VALUE_LIMIT:
            parts.append("...")
            break
        parts.append(_string(item.text))
        size += len(parts[-1]) + 2
    return "(" + ", ".join(parts) + ")"


def _value_text(value: object) -> str:
    if isinstance(value, ValueList):
        return _list_text(value)
    if isinstance(value, Str):
        return _string(value.text)
    if isinstance(value, Num):
        return value.text
    if isinstance(value, Val):
        return f"val({_field_text(value.field)})"
    if isinstance(value, Transform):
        return _field_text(value)
    return ""


def check_text(node: Check) -> str:
    """The check as written, its value shortened: ``ka.verb in (create, update)``."""
    value = _short(_value_text(node.value), _VALUE_LIMIT)
    return " ".join(p for p in (_field_text(node.lhs), node.op, node.modifier, value) if p)


def origin_text(origin: object) -> str:
    """``macro kcreate`` / ``exception name`` for text written outside the rule, else ""."""
    if isinstance(origin, tuple) and origin and origin[0] == "macro":
        return f"macro {origin[1]}"
    if isinstance(origin, tuple) and origin and origin[0] == "exception":
        return f"exception {origin[2]}"
    return ""


def label(text: str, where: str) -> str:
    """One comment line: ``text``, shortened, then ``[where]``."""
    text = _short(text, _LABEL_LIMIT)
    return printable(f"{text}  [{where}]" if where else text)
