"""The json plugin's fields (``json.*`` and their ``jevt.*`` aliases).

Unlike ``ka.*`` these read the whole decoded object, ``auditID`` or not.
The pointer argument is split and unescaped once, when the rule is loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fields.args import fixed
from k8saudit_cli.fields.base import (
    MISSING,
    ArgKind,
    ArgSpec,
    Extractor,
    FieldDef,
    FieldType,
    Value,
)
from k8saudit_cli.fields.jsonval import compact, indented, text

_POINTER_ARG = ArgSpec(ArgKind.KEY, required=True)


def split_pointer(pointer: str) -> tuple[str, ...] | None:
    """RFC 6901 tokens of ``pointer`` (``~1`` -> ``/`` then ``~0`` -> ``~``).

    ``None`` means the empty pointer (the whole document). As in the plugin,
    the leading ``/`` is optional.
    """
    if pointer == "":
        return None
    if pointer[0] == "/":
        pointer = pointer[1:]
    return tuple(p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/"))


def array_index(token: str, size: int) -> int | None:
    """The index ``token`` names in an array of ``size``, as Go's ``strconv.Atoi`` reads it."""
    digits = token[1:] if token[:1] in ("+", "-") else token
    if not digits or not digits.isascii() or not digits.isdigit():
        return None
    n = int(token)
    return n if 0 <= n < size else None


def walk(doc: Any, tokens: tuple[str, ...]) -> Any:
    """Follow pointer tokens through objects (by key) and arrays (by index)."""
    for token in tokens:
        if isinstance(doc, dict):
            doc = doc.get(token, MISSING)
            if doc is MISSING:
                return MISSING
        elif isinstance(doc, list):
            i = array_index(token, len(doc))
            if i is None:
                return MISSING
            doc = doc[i]
        else:
            return MISSING
    return doc


def bind_value(arg: str | None) -> Extractor:
    tokens = split_pointer(arg or "")
    if tokens is None:
        return whole_compact

    def extract(ev: AuditEvent) -> Value:
        v = walk(ev.raw, tokens)
        return v if v is MISSING else text(v)

    return extract


def whole_compact(ev: AuditEvent) -> Value:
    return compact(ev.raw)


def whole_indented(ev: AuditEvent) -> Value:
    return indented(ev.raw)


def rawtime(ev: AuditEvent) -> Value:
    return str(ev.time_ns)


_VALUE_DESC = (
    "Value at the argument's JSON pointer (RFC 6901) in the event: json.value[/user/username]. "
    "Strings come unquoted, anything else as compact JSON; an empty pointer gives the whole event."
)


Binder = Callable[[str | None], Extractor]

#: (name suffix, argument, description, bind), in the plugin's order.
_JSON_FIELDS: tuple[tuple[str, ArgSpec | None, str, Binder], ...] = (
    ("value", _POINTER_ARG, _VALUE_DESC, bind_value),
    ("obj", None, "The whole event as JSON text, indented by two spaces.", fixed(whole_indented)),
    (
        "rawtime",
        None,
        "Event time in nanoseconds since the epoch, as a decimal string.",
        fixed(rawtime),
    ),
)


def json_fields() -> list[FieldDef]:
    """The ``json.*`` fields, then their ``jevt.*`` aliases, as the plugin lists them."""
    s = FieldType.STRING
    return [
        FieldDef(f"json.{n}", s, False, arg, desc, bind, source="json")
        for n, arg, desc, bind in _JSON_FIELDS
    ] + [
        FieldDef(f"jevt.{n}", s, False, arg, f"Alias of json.{n}.", bind, source="json")
        for n, arg, _, bind in _JSON_FIELDS
    ]
