"""Field values as Falco prints them: alert text (``to_text``) and JSON ``output_fields``."""

from __future__ import annotations

from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fields.base import MISSING, FieldDef, Value
from k8saudit_cli.fields.evt import PADDED_FIELDS, TIME_STRING_FIELDS

NA = "<NA>"
#: libs copies list renderings into a 1024-byte buffer (1023 bytes + NUL).
LIST_TEXT_MAX = 1023

JsonValue = str | list[str] | int | bool | None


def to_text(value: Value, fdef: FieldDef) -> str:
    """Text for an alert line: ``<NA>`` when not available, lists as ``(a,b)``."""
    if value is MISSING:
        return NA
    if isinstance(value, list):
        return list_text(value) if value else NA
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return f"{value:09d}" if fdef.name in PADDED_FIELDS else str(value)
    return value  # type: ignore[return-value]


def list_text(values: list[str]) -> str:
    """``(a,b,c)`` cut to 1023 bytes, reproducing libs' separator rule.

    libs adds a comma only once the text holds more than ``(``, so empty
    leading elements vanish: ``["", "a"]`` prints ``(a)``.
    """
    out = "("
    for v in values:
        if len(out) > 1:
            out += ","
        out += v
    out += ")"
    if len(out) * 4 <= LIST_TEXT_MAX:  # cannot exceed the limit in UTF-8
        return out
    raw = out.encode("utf-8", "surrogatepass")
    if len(raw) <= LIST_TEXT_MAX:
        return out
    return raw[:LIST_TEXT_MAX].decode("utf-8", "ignore")


def to_json(value: Value, fdef: FieldDef, event: AuditEvent | None = None) -> JsonValue:
    """Value for JSON ``output_fields``: lists as arrays, not available as ``None``.

    Pass ``event`` to get what Falco prints for the time-of-day fields
    (``evt.time`` and friends): the event time as integer nanoseconds.
    """
    if value is MISSING or (isinstance(value, list) and not value):
        return None
    if event is not None and fdef.name in TIME_STRING_FIELDS:
        return event.time_ns
    if isinstance(value, list):
        return list(value)
    return value  # type: ignore[return-value]
