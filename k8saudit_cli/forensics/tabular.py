"""Rows of values written as TSV, CSV or JSON lines (Parquet is :mod:`.parquet`).

Every writer takes the columns once and then rows: sequences of values in
column order, as :class:`~k8saudit_cli.forensics.columns.Column` ``get``
returns them (``MISSING`` when not available). The text forms:

* TSV: one header line, then one line per row; a value that is not
  available is an empty cell; a list is its elements joined by ``,``; a tab,
  newline, carriage return or backslash in a value is written ``\\t``,
  ``\\n``, ``\\r``, ``\\\\`` (the convention of PostgreSQL's text format), so a
  row is always one line.
* CSV: RFC 4180 (quoted where needed, ``\\r\\n`` line ends), the same cells.
* JSON lines: one object per row, keys in column order; not available is
  ``null``, lists are arrays, integers and booleans are JSON's own.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

import orjson

from k8saudit_cli.escape import tsv_cell
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fields import MISSING
from k8saudit_cli.forensics.columns import Column, row_reader


class TextOut(Protocol):
    """Where text rows go: a text file, stdout, or the CLI's alert stream."""

    def write(self, text: str, /) -> object: ...

    def flush(self) -> None: ...


#: The formats of this module, and all the formats of a forensic table.
TEXT_FORMATS = ("tsv", "csv", "jsonl")
FORMATS = (*TEXT_FORMATS, "parquet")

Cell = Callable[[Any], Any]


class RowWriter(Protocol):
    """Where rows go: ``write_rows`` (or ``write_events``, the rows of events) may be
    called several times, then ``close`` once."""

    def write_rows(self, rows: Iterable[Sequence[Any]]) -> int: ...

    def write_events(self, events: Iterable[AuditEvent], columns: Sequence[Column]) -> int: ...

    def close(self) -> None: ...


class RowsOfEvents:
    """``write_events`` as the rows of the events, for writers without a faster way."""

    def write_rows(self, rows: Iterable[Sequence[Any]]) -> int:
        raise NotImplementedError

    def write_events(self, events: Iterable[AuditEvent], columns: Sequence[Column]) -> int:
        return self.write_rows(map(row_reader(columns), events))


# ---------------------------------------------------------------- cells


def _text(v: Any) -> str:
    if v.__class__ is str:
        return v
    return "" if v is MISSING or v is None else str(v)


def _list_text(v: Any) -> str:
    if v.__class__ is list:
        return ",".join(v)
    return _text(v)


def _bool_text(v: Any) -> str:
    if v is True:
        return "true"
    return "false" if v is False else ""


def text_cell(column: Column) -> Cell:
    """``value -> str``: the text of a value of ``column`` for TSV, CSV and tables."""
    if column.kind == "time":
        render = column.time_text
        assert render is not None
        return lambda v: "" if v is MISSING or v is None else render(v)
    if column.kind == "list":
        return _list_text
    if column.kind == "bool":
        return _bool_text
    return _text


def json_cell(column: Column) -> Cell:
    """``value -> JSON value`` for JSON lines: ``None`` when not available."""
    if column.kind == "time":
        return text_cell(column)
    return lambda v: None if v is MISSING or (v.__class__ is list and not v) else v


def tsv_escape(text: str) -> str:
    """One TSV cell, escaped as every TSV line k8saudit prints (:func:`escape.tsv_cell`)."""
    return tsv_cell(text)


# ---------------------------------------------------------------- writers


class TsvWriter:
    """Tab-separated values with a header line (lnav and spreadsheets open it)."""

    def __init__(self, out: TextOut, columns: Sequence[Column], header: bool = True) -> None:
        self.out = out
        self.cells = [text_cell(c) for c in columns]
        if header:
            out.write("\t".join(tsv_escape(c.name) for c in columns) + "\n")

    def write_rows(self, rows: Iterable[Sequence[Any]]) -> int:
        """The hot loop of ``extract``: a text value is its own cell (no call), and the
        escaping is decided once per line: a line with one tab per column boundary and
        no newline, carriage return or backslash needs none."""
        write, cells, n = self.out.write, self.cells, 0
        tabs = len(cells) - 1
        for row in rows:
            line = "\t".join(
                [v if v.__class__ is str else cell(v) for cell, v in zip(cells, row, strict=True)]
            )
            if line.count("\t") != tabs or "\n" in line or "\r" in line or "\\" in line:
                line = "\t".join([tsv_escape(cell(v)) for cell, v in zip(cells, row, strict=True)])
            write(line + "\n")
            n += 1
        return n

    def write_events(self, events: Iterable[AuditEvent], columns: Sequence[Column]) -> int:
        """:meth:`write_rows` of the events' rows, without building the rows: the
        inner loop of a plain ``extract``."""
        write, n = self.out.write, 0
        tabs = len(columns) - 1
        pairs = [(c.get, cell) for c, cell in zip(columns, self.cells, strict=True)]
        for ev in events:
            line = "\t".join(
                [v if (v := get(ev)).__class__ is str else cell(v) for get, cell in pairs]
            )
            if line.count("\t") != tabs or "\n" in line or "\r" in line or "\\" in line:
                line = "\t".join([tsv_escape(cell(get(ev))) for get, cell in pairs])
            write(line + "\n")
            n += 1
        return n

    def close(self) -> None:
        self.out.flush()


class CsvWriter:
    """Comma-separated values (RFC 4180) with a header line."""

    def __init__(self, out: TextOut, columns: Sequence[Column], header: bool = True) -> None:
        self.out = out
        self.writer = csv.writer(out, lineterminator="\r\n")
        self.cells = [text_cell(c) for c in columns]
        if header:
            self.writer.writerow([c.name for c in columns])

    def write_rows(self, rows: Iterable[Sequence[Any]]) -> int:
        writerow, cells, n = self.writer.writerow, self.cells, 0
        for row in rows:
            writerow([cell(v) for cell, v in zip(cells, row, strict=True)])
            n += 1
        return n

    def write_events(self, events: Iterable[AuditEvent], columns: Sequence[Column]) -> int:
        """The events' rows, a text value being its own cell (as in :class:`TsvWriter`)."""
        writerow, n = self.writer.writerow, 0
        pairs = [(c.get, cell) for c, cell in zip(columns, self.cells, strict=True)]
        for ev in events:
            writerow([v if (v := get(ev)).__class__ is str else cell(v) for get, cell in pairs])
            n += 1
        return n

    def close(self) -> None:
        self.out.flush()


class JsonLinesWriter(RowsOfEvents):
    """One JSON object per row, keys in column order."""

    def __init__(self, out: TextOut, columns: Sequence[Column], header: bool = True) -> None:
        self.out = out
        self.names = [c.name for c in columns]
        self.cells = [json_cell(c) for c in columns]

    def write_rows(self, rows: Iterable[Sequence[Any]]) -> int:
        write, names, cells, n = self.out.write, self.names, self.cells, 0
        dumps = orjson.dumps
        for row in rows:
            obj = {name: cell(v) for name, cell, v in zip(names, cells, row, strict=True)}
            write(dumps(obj, option=orjson.OPT_APPEND_NEWLINE).decode())
            n += 1
        return n

    def close(self) -> None:
        self.out.flush()


_TEXT_WRITERS: dict[str, type[TsvWriter] | type[CsvWriter] | type[JsonLinesWriter]] = {
    "tsv": TsvWriter,
    "csv": CsvWriter,
    "jsonl": JsonLinesWriter,
}


def text_writer(
    fmt: str, out: TextOut, columns: Sequence[Column], header: bool = True
) -> RowWriter:
    """The writer of one of :data:`TEXT_FORMATS` on a text stream."""
    return _TEXT_WRITERS[fmt](out, columns, header)
