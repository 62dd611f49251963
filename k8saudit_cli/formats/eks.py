"""EKS audit records as CloudWatch Logs exports carry them -> audit payloads.

Every EKS shape carries the API server's own event, unchanged, as a JSON
string: ``message`` of a CloudWatch event (``filter-log-events``,
``get-log-events``, a subscription's ``logEvents``), the text after the
time of an S3 export line, the ``@message`` column of Logs Insights.
CloudWatch cuts an event past its 256 KB entry limit and ends it with
``[Truncated...]``: such a message becomes a payload marked cut, never a
silent drop. Subscription data arrives gzip-compressed and, through Lambda
or a Firehose transformation, base64-encoded; both are unpacked here with
a bound on how far they inflate.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from typing import Any, Final

import orjson

from k8saudit_cli.formats.items import Item, Payload, Skip

TRUNCATED_MARK: Final = "[Truncated...]"
#: The most a base64/gzip subscription record may inflate to (CloudWatch sends at most
#: 1 MiB of events per record; room for the JSON around them).
MAX_INFLATED: Final = 8 << 20
_MS_NS: Final = 1_000_000


def message_payload(message: str | bytes, time: int | str | None) -> Payload:
    """One CloudWatch message: the audit JSON, or its cut prefix when CloudWatch marked it."""
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    if text.endswith(TRUNCATED_MARK):
        return Payload("eks", text[: -len(TRUNCATED_MARK)], time=time, cut=TRUNCATED_MARK)
    if text[-1:].isspace():
        stripped = text.rstrip()
        if stripped.endswith(TRUNCATED_MARK):
            return Payload("eks", stripped[: -len(TRUNCATED_MARK)], time=time, cut=TRUNCATED_MARK)
    return Payload("eks", message, time=time)


def cloudwatch_event(record: dict[str, Any]) -> list[Item]:
    """A CloudWatch event: ``{"timestamp": ms, "message": "...", ...}``."""
    message = record.get("message")
    if not isinstance(message, str) or not message:
        return [Skip("not_audit_event", "CloudWatch event without a message")]
    stamp = record.get("timestamp")
    return [message_payload(message, stamp * _MS_NS if isinstance(stamp, int) else None)]


def subscription(record: dict[str, Any]) -> list[Item]:
    """A subscription record: ``DATA_MESSAGE`` with ``logEvents``; ``CONTROL_MESSAGE``
    (CloudWatch checking the destination) holds no events."""
    kind = record.get("messageType")
    if kind == "CONTROL_MESSAGE":
        return [Skip("cwl_control_message", str(record.get("logGroup", "")))]
    events = record.get("logEvents")
    if not isinstance(events, list):
        return [Skip("not_audit_event", f"subscription record ({kind}) without logEvents")]
    items: list[Item] = []
    for event in events:
        if isinstance(event, dict):
            items.extend(cloudwatch_event(event))
        else:
            items.append(Skip("not_audit_event", "logEvents item is not an object"))
    return items


def unpack_base64(data: str) -> Any | Skip:
    """A base64 (and usually gzip) record as it travels through Lambda or Firehose:
    the JSON inside, or why it could not be read."""
    try:
        raw = base64.b64decode(data, validate=False)
    except (binascii.Error, ValueError) as exc:
        return Skip("invalid_json", f"base64 record: {exc}")
    if raw[:2] == b"\x1f\x8b":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            raw = inflater.decompress(raw, MAX_INFLATED)
        except zlib.error as exc:
            return Skip("invalid_json", f"gzip in a base64 record: {exc}")
        if inflater.unconsumed_tail:
            return Skip("too_large", f"base64 record inflates past {MAX_INFLATED} bytes")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return Skip("invalid_json", f"base64 record: {exc}")


def insights_row(row: list[Any]) -> list[Item]:
    """A Logs Insights result row: ``[{"field": "@message", "value": "..."}, ...]``."""
    message = time = None
    for cell in row:
        if isinstance(cell, dict):
            name = cell.get("field")
            if name == "@message":
                message = cell.get("value")
            elif name == "@timestamp":
                time = cell.get("value")
    return _insights(message, time)


def insights_object(record: dict[str, Any]) -> list[Item]:
    """A Logs Insights result as the console exports JSON: ``{"@message": "...", ...}``."""
    return _insights(record.get("@message"), record.get("@timestamp"))


def _insights(message: Any, time: Any) -> list[Item]:
    if not isinstance(message, str) or not message:
        return [Skip("not_audit_event", "Logs Insights row without @message")]
    return [message_payload(message, time if isinstance(time, str) else None)]


def is_insights_row(value: list[Any]) -> bool:
    """Whether a list is a Logs Insights row (cells with ``field`` and ``value``)."""
    first = value[0] if value else None
    return isinstance(first, dict) and "field" in first and "value" in first
