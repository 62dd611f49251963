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
from typing import Final

from k8saudit_cli.formats.eks import TRUNCATED_MARK, insights_time
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
    numbered = _Numbered(lines)
    rows = csv.reader(numbered)
    header = next(rows, None)
    if header is None:
        return
    names = [name.strip() for name in header]
    if "@message" not in names:
        yield numbered.last, Skip("not_audit_event", "CSV without an @message column")
        return
    message = names.index("@message")
    stamp = names.index("@timestamp") if "@timestamp" in names else None
    for row in rows:
        if len(row) <= message or not row[message]:
            yield numbered.last, Skip("not_audit_event", "CSV row without @message")
            continue
        time = insights_time(row[stamp]) if stamp is not None and stamp < len(row) else None
        text = row[message]
        if text.endswith(TRUNCATED_MARK):
            item = Payload("eks", text[: -len(TRUNCATED_MARK)], time=time, cut=TRUNCATED_MARK)
        else:
            item = Payload("eks", text, time=time)
        yield numbered.last, item


class _Numbered:
    """Lines as text for :mod:`csv`, remembering the number of the last one read."""

    def __init__(self, lines: Iterable[tuple[int, bytes]]) -> None:
        self.lines = lines
        self.last = 0

    def __iter__(self) -> Iterator[str]:
        for lineno, line in self.lines:
            self.last = lineno
            yield line.decode("utf-8", "replace")
