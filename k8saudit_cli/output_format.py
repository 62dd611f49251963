"""Rule output format strings, and alerts rendered as Falco prints them.

A format is compiled once per rule: literal text and ``%field`` tokens
(longest known field name wins, ``%field[arg]``, ``%tolower(field)``,
``%20field`` widths). Rendering gives the text message and the JSON
``output_fields`` map Falco's ``json_output`` carries. The text is one line
whatever the event holds: control characters and line separators (in field
values and in the format itself) are escaped visibly (:mod:`k8saudit_cli.escape`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from k8saudit_cli.engine.bind import TRANSFORMS, BField, Binder
from k8saudit_cli.engine.nodes import FieldRef, Span, Transform
from k8saudit_cli.errors import ConditionError
from k8saudit_cli.escape import visible
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fields import FIELDS, get_field, to_json, to_text

_NAME_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9_.]*")
_TRANSFORM_RE = re.compile(r"(" + "|".join(sorted(TRANSFORMS)) + r")\(")
_FIELD_NAMES = frozenset(f.name for f in FIELDS)


class OutputError(ConditionError):
    """An output format that cannot be compiled; ``span.start`` is the offset in the format."""


@dataclass(frozen=True)
class Token:
    literal: str = ""
    field: BField | None = None
    width: int | None = None
    key: str | None = None  # output_fields key; None for transformer tokens


class OutputFormat:
    """A compiled output format."""

    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.fields = [t for t in tokens if t.field is not None]

    def render(self, event: AuditEvent) -> str:
        parts = []
        for tok in self.tokens:
            if tok.field is None:
                parts.append(tok.literal)
                continue
            value = to_text(tok.field.get(event), tok.field.fdef)
            if tok.width is not None:
                value = value[: tok.width].ljust(tok.width)
            parts.append(value)
        # One pass over the whole line: cheaper than one per value, and the format's
        # literal text (from a rules file) gets the same treatment.
        return visible("".join(parts))

    def output_fields(self, event: AuditEvent) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for tok in self.fields:
            if tok.key is None or tok.field is None:
                continue
            out[tok.key] = to_json(tok.field.get(event), tok.field.fdef, event)
        return out


def compile_output(text: str, binder: Binder | None = None) -> OutputFormat:
    """Compile a format string; raises :class:`OutputError` with the offset of the bad token."""
    binder = binder or Binder()
    tokens: list[Token] = []
    literal: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c != "%":
            literal.append(c)
            i += 1
            continue
        if i + 1 >= n:
            raise OutputError(
                "invalid formatting syntax: formatting cannot end with a %", Span(i, i + 1)
            )
        if literal:
            tokens.append(Token("".join(literal)))
            literal = []
        j = i + 1
        while j < n and text[j].isdigit():
            j += 1
        width = int(text[i + 1 : j]) if j > i + 1 else None
        node, end = _parse_token(text, j)
        field = binder.field_expr(node)
        key = _json_key(node) if isinstance(node, FieldRef) else None
        tokens.append(Token(field=field, width=width, key=key))
        i = end
    if literal:
        tokens.append(Token("".join(literal)))
    return OutputFormat(text, tokens)


def _parse_token(text: str, i: int) -> tuple[FieldRef | Transform, int]:
    m = _TRANSFORM_RE.match(text, i)
    if m:
        inner, end = _parse_token(text, m.end())
        if end >= len(text) or text[end] != ")":
            raise OutputError(
                f"expected ')' after transformer argument at '{text[i : end + 1]}'",
                Span(end, end + 1),
            )
        return Transform(m.group(1), inner, Span(i, end + 1)), end + 1
    m = _NAME_RE.match(text, i)
    cand = m.group(0) if m else ""
    name = next((cand[:k] for k in range(len(cand), 0, -1) if cand[:k] in _FIELD_NAMES), None)
    if name is None:
        shown = text[i : i + 40].split()[0] if text[i:].strip() else ""
        raise OutputError(
            f"invalid formatting token %{shown}: unknown filter: not a known field", Span(i, i + 1)
        )
    end = i + len(name)
    arg = None
    if end < len(text) and text[end] == "[" and _takes_arg(name):
        arg, end = _parse_arg(text, end)
    return FieldRef(name, arg, Span(i, end)), end


def _takes_arg(name: str) -> bool:
    fdef = get_field(name)
    return fdef is not None and fdef.arg is not None


def _parse_arg(text: str, i: int) -> tuple[str, int]:
    """``[bare]`` or ``["quoted"]``; ``i`` is at ``[``; returns (arg, offset after ``]``)."""
    j = i + 1
    if j < len(text) and text[j] in "\"'":
        q = text[j]
        k = text.find(q, j + 1)
        if k < 0 or k + 1 >= len(text) or text[k + 1] != "]":
            raise OutputError("unterminated quoted field argument", Span(i, i + 1))
        return text[j + 1 : k], k + 2
    k = text.find("]", j)
    if k < 0:
        raise OutputError("expected ']' after field argument", Span(i, i + 1))
    return text[j:k], k + 1


def _json_key(node: FieldRef) -> str:
    if node.arg is None:
        return node.name
    if re.search(r"[\s\[\]\"']", node.arg) or node.arg == "":
        return f'{node.name}["{node.arg}"]'
    return f"{node.name}[{node.arg}]"


__all__ = ["OutputError", "OutputFormat", "compile_output"]
