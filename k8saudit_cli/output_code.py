"""A rule's output as generated code: its text alert, and its JSON alert from pre-encoded pieces.

The generic renderer (:mod:`k8saudit_cli.alerts`) walks the output's tokens
for the text, walks them again for ``output_fields``, builds a dict and has
orjson sort and encode it. Here each rule's output becomes two small
functions, written once per rule and renderer: each field is read once, a
string value (nearly every value) is used as it is, and the JSON alert is a
join of byte strings encoded when the function was written (the keys in
Falco's order, the rule, priority, source, tags and host name) and the few
values encoded per alert. The results are byte for byte those of the
generic renderer, which stays the reference (and renders aggregation
alerts, whose outputs read counts rather than the event).

Like the condition groups, the functions are registered with
:mod:`linecache` (``<k8saudit-rules:alert_json-7>``), and ``k8saudit explain
RULE --generated`` prints them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from k8saudit_cli import priority as prio
from k8saudit_cli.engine.codegen import compile_function
from k8saudit_cli.engine.codetext import Names, identifier
from k8saudit_cli.engine.layout import comment
from k8saudit_cli.engine.operators import LIST
from k8saudit_cli.escape import json_line_safe, visible
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fields import FieldDef, Value, to_json, to_text
from k8saudit_cli.fields.evt import TIME_STRING_FIELDS
from k8saudit_cli.fields.valuetext import list_text
from k8saudit_cli.output_format import OutputFormat, Token
from k8saudit_cli.ruleset.compile import CompiledRule

#: Locals of the generated functions (field slots get other names).
_LOCALS = ("e", "t", "message", "line")


@dataclass(frozen=True)
class AlertStyle:
    """What a renderer fixes for every rule: the time field's JSON key, the two time
    texts (the line's, the JSON ``time``) and the host name."""

    time_key: str
    time_text: Callable[[int], str]
    utc_text: Callable[[int], str]
    hostname: str


@dataclass(frozen=True)
class AlertCode:
    """The generated renderers of one rule: ``event -> line`` with its newline."""

    text_line: Callable[[AuditEvent], str]
    json_line: Callable[[AuditEvent], str]
    source: str


def compilable(rule: CompiledRule) -> bool:
    """Rule outputs compile; aggregation outputs (counts, groups) stay generic."""
    return type(rule.output) is OutputFormat


def compile_alert(rule: CompiledRule, style: AlertStyle) -> AlertCode | None:
    """The two renderers of ``rule`` in ``style``; ``None`` where the generic one must
    serve (an aggregation, or text Python cannot compile or orjson cannot encode)."""
    if not compilable(rule):
        return None
    try:
        writer = _Writer(rule, style)
        source = writer.source()
        text_fn = compile_function(source, "alert_text", writer.names.globals)
    except (SyntaxError, RecursionError, MemoryError, ValueError, TypeError):
        return None
    json_fn = text_fn.__globals__["alert_json"]
    return AlertCode(text_fn, json_fn, source)


class _Field:
    """One distinct field of an output: its slot, how it reads and converts."""

    def __init__(self, names: Names, token: Token) -> None:
        assert token.field is not None
        self.field = field = token.field
        self.fdef: FieldDef = field.fdef
        self.slot = names.fresh(identifier(field.text))
        # A plain field's raw value will do: an empty list prints as a missing value.
        reader = field.extract if field.plain else field.get
        self.read = names.of(f"read_{self.slot}", reader)
        self.as_text = names.of(f"text_{self.slot}", _text_of(self.fdef))
        self.as_json = names.of(f"json_{self.slot}", _json_of(self.fdef))
        self.json = f"{self.slot}_json"
        #: The common value's class: it is printed as it is (str) or as ``(a,b)`` (list).
        self.common = "list" if field.kind == LIST else "str"
        self.timed = self.fdef.name in TIME_STRING_FIELDS  # JSON: the event time in ns

    def lines(self, with_json: bool) -> list[str]:
        """Read the value; convert it to its text (and encode its JSON first)."""
        slot, text = self.slot, self.as_text
        head = [f"    {slot} = {self.read}(e)  # %{comment(self.field.text)}"]
        if self.common == "list":
            test, common_text = f"{slot}.__class__ is list and {slot}", f"list_text({slot})"
        else:
            test, common_text = f"{slot}.__class__ is str", slot
        if not with_json:
            return [*head, f"    {slot} = {common_text} if {test} else {text}({slot})"]
        if self.timed:
            return [
                *head,
                f"    {self.json} = {self.as_json}({slot}, e)",
                f"    {slot} = {common_text} if {test} else {text}({slot})",
            ]
        common = [f"        {slot} = {common_text}"] if common_text != slot else []
        return [
            *head,
            f"    if {test}:",
            f"        {self.json} = dumps({slot})",
            *common,
            "    else:",
            f"        {self.json} = {self.as_json}({slot}, e)",
            f"        {slot} = {text}({slot})",
        ]


def _text_of(fdef: FieldDef) -> Callable[[Value], str]:
    def text(value: Value) -> str:
        return to_text(value, fdef)

    return text


def _json_of(fdef: FieldDef) -> Callable[[Value, AuditEvent], bytes]:
    def encode(value: Value, event: AuditEvent) -> bytes:
        return orjson.dumps(to_json(value, fdef, event))

    return encode


class _Writer:
    """Writes the source of one rule's two renderers."""

    def __init__(self, rule: CompiledRule, style: AlertStyle) -> None:
        self.rule, self.style = rule, style
        self.names = Names(
            {
                "dumps": orjson.dumps,
                "list_text": list_text,
                "visible": visible,
                "json_line_safe": json_line_safe,
                "time_text": style.time_text,
                "utc_text": style.utc_text,
                "HOSTNAME": orjson.dumps(style.hostname),
            }
        )
        for name in _LOCALS:
            self.names.fresh(name)
        self.fields: dict[str, _Field] = {}
        for tok in rule.output.tokens:
            if tok.field is not None and tok.field.text not in self.fields:
                self.fields[tok.field.text] = _Field(self.names, tok)

    def source(self) -> str:
        title = comment(self.rule.name)
        message = self._message()
        text = [
            "def alert_text(e):",
            f"    # {title}: the text alert",
            *(line for f in self.fields.values() for line in f.lines(with_json=False)),
            *message,
            f'    return f"{{time_text(e.time_ns)}}: {self._priority()} {{message}}\\n"',
        ]
        json = [
            "def alert_json(e):",
            f"    # {title}: the JSON alert",
            *(line for f in self.fields.values() for line in f.lines(with_json=True)),
            *message,
            "    t = e.time_ns",
            "    line = b''.join((",
            *(f"        {piece}," for piece in self._json_pieces()),
            "    ))",
            "    return (line if line.isascii() else json_line_safe(line)).decode()",
        ]
        return "\n".join([*text, "", "", *json]) + "\n"

    def _priority(self) -> str:
        return _fstring_text(prio.name(self.rule.priority))

    def _message(self) -> list[str]:
        """The output text, made visible as the generic renderer does (one pass)."""
        parts = []
        for tok in self.rule.output.tokens:
            if tok.field is None:
                parts.append(_fstring_text(tok.literal))
                continue
            slot = self.fields[tok.field.text].slot
            width = tok.width
            parts.append(f"{{{slot}}}" if width is None else f"{{{slot}[:{width}].ljust({width})}}")
        return [
            f'    message = f"{"".join(parts)}"',
            "    if not message.isprintable():",
            "        message = visible(message)",
        ]

    def _json_pieces(self) -> list[str]:
        """The JSON alert, keys sorted as Falco's (and orjson's OPT_SORT_KEYS)."""
        rule, style = self.rule, self.style
        fields = {
            tok.key: self.fields[tok.field.text].json
            for tok in rule.output.tokens
            if tok.key is not None and tok.field is not None and tok.key != style.time_key
        }
        fields[style.time_key] = "dumps(t)"
        pieces = [b'{"hostname":', "HOSTNAME", b',"output":']
        pieces.append(f'dumps(f"{{time_text(t)}}: {self._priority()} {{message}}")')
        opening = b',"output_fields":{'
        for key in sorted(fields):
            pieces += [opening + orjson.dumps(key) + b":", fields[key]]
            opening = b","
        pieces.append(
            b'},"priority":'
            + orjson.dumps(prio.name(rule.priority))
            + b',"rule":'
            + orjson.dumps(rule.name)
            + b',"source":'
            + orjson.dumps(rule.source)
            + b',"tags":'
            + orjson.dumps(sorted(rule.tags))
            + b',"time":'
        )
        pieces += ["dumps(utc_text(t))", b"}\n"]
        return [repr(p) if isinstance(p, bytes) else p for p in _merged(pieces)]


def _merged(pieces: list[Any]) -> list[Any]:
    """Adjacent byte strings joined into one."""
    out: list[Any] = []
    for piece in pieces:
        if isinstance(piece, bytes) and out and isinstance(out[-1], bytes):
            out[-1] += piece
        else:
            out.append(piece)
    return out


_FSTRING_ESCAPES = {"\\": "\\\\", '"': '\\"', "{": "{{", "}": "}}"}


def _fstring_text(text: str) -> str:
    """``text`` as the literal part of a double-quoted f-string: braces doubled,
    quotes and backslashes escaped, anything unprintable as a Python escape."""
    out = []
    for c in text:
        if c in _FSTRING_ESCAPES:
            out.append(_FSTRING_ESCAPES[c])
        elif c.isprintable():
            out.append(c)
        else:
            out.append(c.encode("unicode_escape", "backslashreplace").decode("ascii"))
    return "".join(out)
