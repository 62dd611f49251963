"""What an input looks like, from its first bytes: how its records are framed.

Run once per file, on the first bytes of the decompressed stream, so a
plain JSON-lines log pays nothing per line for it. The framing says how to
cut the input into records; which provider a record comes from is decided
per record (:mod:`~k8saudit_cli.formats.records`), so formats can mix.

========== ============================================== ===================
framing    first bytes                                    read as
========== ============================================== ===================
lines      ``{`` or ``[`` and the first (or second) line  one JSON value per
           is a whole JSON value                          line (the fast path)
document   ``{`` or ``[`` and the first value spans lines JSON documents,
           or runs past the head (values one after        record by record
           another)
prefixed   ``2024-05-01T10:00:00.012Z {``                 CloudWatch export:
                                                          the JSON after the
                                                          time
csv        a first line naming ``@message``               Logs Insights CSV
text       anything else                                  lines (each one
                                                          counted as skipped)
empty      nothing but blanks                             lines
========== ============================================== ===================
"""

from __future__ import annotations

import re
from typing import Final

import orjson

from k8saudit_cli.formats.jsonscan import Scanner

#: How many leading bytes are looked at (an input shorter than that is seen whole).
HEAD_BYTES: Final = 1 << 20

#: Read as lines by the line decoder.
LINE_FRAMINGS: Final = frozenset({"lines", "text", "empty"})

_BOM: Final = b"\xef\xbb\xbf"
_BLANKS: Final = re.compile(rb"[ \t\r\n]*")
#: A CloudWatch Logs export line: ISO 8601 time with milliseconds, one space, JSON.
EXPORT_PREFIX: Final = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z [\[{]")

#: Each shape a record is recognised as, in words.
SHAPES: Final = {
    "k8s": "Kubernetes audit events",
    "eks-cloudwatch": "EKS CloudWatch Logs events (filter-log-events, get-log-events)",
    "eks-export": "EKS CloudWatch Logs export to S3",
    "eks-subscription": "EKS CloudWatch Logs subscription records (Firehose, Lambda)",
    "eks-insights": "EKS CloudWatch Logs Insights results",
    "gke-logentry": "GKE Cloud Logging entries (LogEntry)",
    "aks-diagnostic": "AKS diagnostic-setting records (storage account, Event Hub)",
    "unknown": "no audit events or cloud export records recognised",
}
FRAMINGS: Final = {
    "lines": "JSON lines",
    "document": "a JSON document",
    "prefixed": "timestamp-prefixed lines",
    "csv": "CSV",
    "text": "text that is not JSON",
    "empty": "an empty input",
}


def framing_of(head: bytes, input_format: str = "auto") -> str:
    """The framing of an input whose first bytes are ``head`` (see the module table)."""
    text = head[len(_BOM) :] if head.startswith(_BOM) else head
    start = _BLANKS.match(text).end()  # type: ignore[union-attr]
    if start >= len(text):
        return "empty"
    if text[start] in b"{[":
        return _json_framing(text, start)
    if input_format in ("auto", "eks"):
        if EXPORT_PREFIX.match(text, start):
            return "prefixed"
        end = text.find(b"\n", start)
        if b"@message" in text[start : end if end >= 0 else len(text)]:
            return "csv"
    return "text"


def _json_framing(text: bytes, start: int) -> str:
    """JSON lines when the first line is a whole value, or junk, or a cut line followed
    by a whole one; a document when it is the start of a value that goes on (a
    pretty-printed document), or values one after another (a Firehose object)."""
    end = text.find(b"\n", start)
    if end < 0 and len(text) >= HEAD_BYTES:
        return _long_first_line(text, start)
    if end < 0:
        end = len(text)  # the whole input is one line
    error = _json_error(text[start:end])
    if error is None:
        return "lines"
    if error.startswith("unexpected content after document"):
        return "document"
    if not error.startswith("unexpected end of data"):
        return "lines"  # a broken line among lines
    second_end = text.find(b"\n", end + 1)
    if second_end >= 0 and _json_error(text[end + 1 : second_end]) is None:
        return "lines"
    return "document"


def _long_first_line(text: bytes, start: int) -> str:
    """A first line longer than the head: values one after another (a Firehose object)
    if the first one ends in the head with another right after it, else one long line."""
    end, _ = Scanner().run(text, start)
    if end < 0:
        return "lines"
    after = _BLANKS.match(text, end).end()  # type: ignore[union-attr]
    return "document" if text[after : after + 1] in (b"{", b"[") else "lines"


def _json_error(line: bytes) -> str | None:
    """Why a line is not one JSON value (``None`` when it is one)."""
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return str(exc)
    return None


def format_label(shape: str, framing: str) -> str:
    """The machine form of what an input was: ``gke-logentry/document``."""
    return f"{shape}/{framing}"


def describe_format(label: str) -> str:
    """``gke-logentry/document`` in words, for messages about an input."""
    shape, _, framing = label.partition("/")
    words = SHAPES.get(shape, shape)
    how = FRAMINGS.get(framing)
    return f"{words}, as {how}" if how else words
