"""What a cut event still says: its whole top-level members, marked as salvaged.

An event is written ``kind, apiVersion, level, auditID, stage, requestURI,
verb, user, impersonatedUser, sourceIPs, userAgent, objectRef,
responseStatus, requestObject, responseObject, requestReceivedTimestamp,
stageTimestamp, annotations``: what makes it big (the bodies) comes late,
so a cut prefix usually still holds who did what to which object. Every
member that is whole before the cut is kept; the member the cut falls in
is dropped, never guessed. A missing ``stageTimestamp`` is taken from the
record that carried the event (the CloudWatch time, the AKS ``time``).

The event is marked with the annotation :data:`TRUNCATED_ANNOTATION`
(``<provider> <cause>; kept: <members>``), which travels with it to every
alert: rules and outputs can read it as
``json.value[/annotations/k8saudit.io~1truncated]``, and alerts show it
(:func:`truncation_mark`).
"""

from __future__ import annotations

import re
from typing import Any, Final

import orjson

from k8saudit_cli.formats.jsonscan import last_member_end
from k8saudit_cli.timestamps import parse_time_ns, utc_iso

TRUNCATED_ANNOTATION: Final = "k8saudit.io/truncated"


def salvage(text: str | bytes, time: int | str | None, cause: str) -> dict[str, Any] | None:
    """The event in the cut JSON ``text``, or ``None`` when too little of it is whole
    (no ``kind: Event`` or no ``verb``). ``cause`` says who cut it and how."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    end = last_member_end(data)
    if end is None:
        return None
    try:
        event = orjson.loads(data[:end] + b"}")
    except orjson.JSONDecodeError:
        return None
    if not isinstance(event, dict) or event.get("kind") != "Event":
        return None
    if not isinstance(event.get("verb"), str):
        return None
    kept = ", ".join(event)
    note = f"{cause}; kept: {kept}"
    if parse_time_ns(event.get("stageTimestamp")) is None:
        stamp = record_time(time)
        if stamp is not None:
            event["stageTimestamp"] = stamp
            note += "; stageTimestamp from the log record"
    annotations = event.get("annotations")
    if not isinstance(annotations, dict):
        annotations = event["annotations"] = {}
    annotations[TRUNCATED_ANNOTATION] = note
    return event


def record_time(time: int | str | None) -> str | None:
    """A record's time as RFC 3339, if it is one: ns, RFC 3339 text, or Logs Insights'
    ``2024-05-01 10:00:00.012`` (UTC)."""
    if isinstance(time, int):
        return utc_iso(time)
    if not isinstance(time, str):
        return None
    if parse_time_ns(time) is not None:
        return time
    insights = time.replace(" ", "T", 1) + "Z"
    return insights if parse_time_ns(insights) is not None else None


def truncation_note(raw: dict[str, Any]) -> str | None:
    """The salvage note of an event, ``None`` for an event read whole."""
    annotations = raw.get("annotations")
    if annotations.__class__ is not dict:
        return None
    note = annotations.get(TRUNCATED_ANNOTATION)
    return note if isinstance(note, str) else None


def truncation_mark(raw: dict[str, Any]) -> str:
    """What an alert line adds when its event was salvaged: `` (truncated event: eks
    [Truncated...] at 262144 bytes)``; empty for an event read whole."""
    note = truncation_note(raw)
    if note is None:
        return ""
    return f" (truncated event: {note.partition(';')[0]})"


#: What each provider cuts, for the cause of a truncation.
CUT_WHAT: Final = {"eks": "message", "aks": "properties.log"}
_AUDIT_ID = re.compile(rb'"auditID"\s*:\s*"([^"\\]{1,64})"')


def audit_id_of(text: str | bytes | None) -> str:
    """``, auditID …`` when the start of a cut event names it (for the warning)."""
    head = text[:512] if text else b""
    data = head.encode("utf-8", "replace") if isinstance(head, str) else head
    m = _AUDIT_ID.search(data)
    return f", auditID {m.group(1).decode('utf-8', 'replace')}" if m else ""
