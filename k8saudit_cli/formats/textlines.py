"""EKS exports that are text lines around the JSON: CloudWatch's S3 export and Insights CSV.

* An S3 export line is ``2024-05-01T10:00:00.012Z {...}``: the JSON after
  the first space is the message, the time before it dates a salvaged
  event. Exports are not in time order (AWS says so); rules do not care,
  aggregations count the disorder as timeline restarts.
* A Logs Insights CSV export has a header naming ``@message``; that column
  holds the message.

Both turn numbered lines into numbered items for the decoder: a payload, a
skip, or the line itself when it is not of the shape (it is then decoded as
any line, so a plain JSON line in between is still read).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any, Final

from k8saudit_cli.formats.eks import TRUNCATED_MARK
from k8saudit_cli.formats.items import Item, Payload, Skip

_MARK: Final = TRUNCATED_MARK.encode()
#: A time prefix is never longer than this (``2024-05-01T10:00:00.123456789Z``).
_MAX_PREFIX: Final = 40

NumberedItem = tuple[int, Item | bytes]


def export_lines(lines: Iterable[tuple[int, bytes]]) -> Iterator[NumberedItem]:
    """The message of each CloudWatch export line (its time kept), other lines as they are."""
    for lineno, line in lines:
        space = line.find(b" ", 0, _MAX_PREFIX)
        if space < 20 or line[0] not in b"0123456789":
            yield lineno, line
            continue
        yield lineno, export_payload(line, space)


def export_payload(line: bytes, space: int) -> Payload:
    """The payload of one export line whose time ends at ``space``."""
    time = line[:space].decode("ascii", "replace")
    body = line[space + 1 :]
    end = len(body.rstrip(b"\r\n")) if body[-1:] in (b"\n", b"\r") else len(body)
    if body.endswith(_MARK, 0, end):
        return Payload("eks", body[: end - len(_MARK)], time=time, cut=TRUNCATED_MARK)
    return Payload("eks", body, time=time)


def insights_csv(lines: Iterable[tuple[int, bytes]]) -> Iterator[NumberedItem]:
    """The ``@message`` column of each row of a Logs Insights CSV export."""
    it = iter(lines)
    first = next(it, None)
    if first is None:
        return
    header = next(csv.reader([first[1].decode("utf-8", "replace")]), [])
    names = [name.strip() for name in header]
    if "@message" not in names:
        yield first[0], Skip("not_audit_event", "CSV without an @message column")
        return
    message = names.index("@message")
    stamp = names.index("@timestamp") if "@timestamp" in names else None
    simple = names == ["@timestamp", "@message"]
    for lineno, line in it:
        row: list[Any] | None = _two_columns(line) if simple else None
        if row is None:
            row = next(csv.reader([line.decode("utf-8", "replace")]), [])
        elif not row[1].endswith(_MARK):  # the common row, spared the general path
            yield lineno, Payload("eks", row[1], time=row[0])
            continue
        yield lineno, _insights_item(row, message, stamp)


def _two_columns(line: bytes) -> list[Any] | None:
    """``time,"message"`` split with C-speed byte operations (what the console writes,
    the message quoted with its quotes doubled); ``None`` for any other layout."""
    time, comma, rest = line.partition(b",")
    end = len(rest) - (2 if rest.endswith(b'"\n') else 1 if rest.endswith(b'"') else 0)
    if not comma or b'"' in time or end == len(rest) or rest[:1] != b'"':
        return None
    body = rest[1:end]
    return [time.decode("ascii", "replace"), body.replace(b'""', b'"')]


def _insights_item(row: list[Any], message: int, stamp: int | None) -> Item:
    if len(row) <= message or not row[message]:
        return Skip("not_audit_event", "CSV row without @message")
    text = row[message]
    time = row[stamp] if stamp is not None and stamp < len(row) else None  # read if salvaged
    mark = TRUNCATED_MARK if isinstance(text, str) else _MARK
    if text.endswith(mark):
        return Payload("eks", text[: -len(mark)], time=time, cut=TRUNCATED_MARK)
    return Payload("eks", text, time=time)
