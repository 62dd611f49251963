"""One request body -> its audit events, with exactly the checks ``scan`` applies to a line.

A body is one JSON document: an ``EventList``, an ``Event`` or an array of
those. It is decoded by :meth:`Decoder.decode_line`, the decoder ``scan``
uses, so what a live batch yields is what a rescan of its archived line
yields. A body that is not such a document is refused (400); items inside
it that are not audit events are only counted and skipped.

The archive keeps the body as it arrived. JSON cannot hold a raw CR or LF
except as whitespace between tokens, so :func:`archive_line` turns those
into spaces to make the body one line: every value keeps its bytes, and no
byte of the document is re-encoded.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from k8saudit_cli.decode import REASONS, DecodeOptions, Decoder, Problems
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.serve.body import BodyError

#: Reasons that mean the body as a whole is not a batch of audit events.
_REFUSED = frozenset(
    {"invalid_json", "invalid_utf8", "nul_byte", "too_deep", "legacy_format", "not_audit_event"}
)

#: (reason, index in the batch or None, detail) of one skipped item.
Skipped = tuple[str, int | None, str]


@dataclass
class Batch:
    """The events of one body and the items skipped in it, positions not yet known."""

    events: list[AuditEvent]
    skipped: list[Skipped]


def decode_batch(body: bytes, options: DecodeOptions) -> Batch:
    """Decode a body; :class:`BodyError` 400 when it is not an audit batch at all."""
    if not body.strip():
        raise BodyError(400, "empty body")
    problems = Problems(limit=sys.maxsize)
    events = Decoder(options, problems).decode_line(body, "<request>", 1)
    skipped = [(reason, index, detail) for reason, _, _, index, detail in problems.shown]
    for reason, index, detail in skipped:
        if index is None and reason in _REFUSED:
            text = REASONS.get(reason, reason)
            raise BodyError(400, f"{text}: {detail}" if detail else text)
    return Batch(events, skipped)


def place(batch: Batch, file: str, line: int, problems: Problems) -> None:
    """Give the batch's events their place in the archive, and count its skipped items there."""
    for event in batch.events:
        event.file = file
        event.line = line
    for reason, index, detail in batch.skipped:
        problems.add(reason, file, line, index, detail)


def archive_line(body: bytes) -> bytes:
    """The body as one archive line (whitespace CR/LF -> spaces), newline-terminated."""
    if b"\n" in body or b"\r" in body:
        body = body.replace(b"\r", b" ").replace(b"\n", b" ")
    return body + b"\n"
