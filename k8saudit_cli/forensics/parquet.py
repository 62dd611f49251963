"""Rows written as Parquet with real types, in row groups, while they stream.

``pyarrow`` is an optional extra (``pip install 'k8saudit[parquet]'``); it is
imported only when a Parquet file is written, and its absence is a one-line
:class:`MissingExtra` error naming the extra. Column types come from the
column kinds: the event time is ``timestamp[ns, UTC]``, integers ``int64``,
booleans ``bool``, lists ``list<string>``, the rest ``string``; a value that
is not available is null.

Memory stays bounded: rows are turned into Arrow record batches of
:data:`BATCH_CELLS` values, and batches are written as one row group every
:data:`ROW_GROUP_CELLS` values (4,096 and 65,536 rows of ``extract``'s 12
default columns; fewer rows of a wide table such as a scan's alerts).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from k8saudit_cli.errors import K8sAuditError
from k8saudit_cli.fields import MISSING
from k8saudit_cli.forensics.columns import Column, ColumnKind
from k8saudit_cli.forensics.tabular import RowsOfEvents

BATCH_CELLS = 4096 * 12
ROW_GROUP_CELLS = 65536 * 12
#: However wide a table, batches of fewer rows than this cost more than they save.
MIN_BATCH_ROWS = 64
EXTRA_HINT = "Parquet output needs pyarrow: pip install 'k8saudit[parquet]'"


class MissingExtra(K8sAuditError):
    """An optional dependency a requested feature needs is not installed."""

    code = "MISSING_EXTRA"


def import_pyarrow() -> Any:
    """``(pyarrow, pyarrow.parquet)``, or :class:`MissingExtra` naming the extra."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise MissingExtra(EXTRA_HINT) from None
    return pyarrow, pyarrow.parquet


def arrow_type(pa: Any, kind: ColumnKind) -> Any:
    """The Arrow type of a column kind."""
    return {
        "time": pa.timestamp("ns", tz="UTC"),
        "text": pa.string(),
        "list": pa.list_(pa.string()),
        "int": pa.int64(),
        "bool": pa.bool_(),
    }[kind]


def _nulls(values: Sequence[Any]) -> list[Any]:
    """Values with ``MISSING`` (and empty lists) as ``None``: Arrow's null."""
    return [None if v is MISSING or v == [] else v for v in values]


class ParquetWriter(RowsOfEvents):
    """Writes rows to ``path`` as Parquet (see the module docstring for types and memory)."""

    def __init__(self, path: str, columns: Sequence[Column]) -> None:
        pa, pq = import_pyarrow()
        self.pa = pa
        self.schema = pa.schema([pa.field(c.name, arrow_type(pa, c.kind)) for c in columns])
        self.writer = pq.ParquetWriter(path, self.schema, compression="zstd")
        width = max(len(columns), 1)
        self.batch_rows = max(BATCH_CELLS // width, MIN_BATCH_ROWS)
        self.group_rows = max(ROW_GROUP_CELLS // width, self.batch_rows)
        self.rows: list[Sequence[Any]] = []
        self.batches: list[Any] = []
        self.batched = 0

    def write_rows(self, rows: Iterable[Sequence[Any]]) -> int:
        buffer, n = self.rows, 0
        for row in rows:
            buffer.append(row)
            n += 1
            if len(buffer) >= self.batch_rows:
                self._batch()
        return n

    def _batch(self) -> None:
        if not self.rows:
            return
        pa, schema = self.pa, self.schema
        arrays = [
            pa.array(_nulls(values), type=schema.field(i).type)
            for i, values in enumerate(zip(*self.rows, strict=True))
        ]
        self.batches.append(pa.RecordBatch.from_arrays(arrays, schema=schema))
        self.batched += len(self.rows)
        self.rows.clear()  # in place: write_rows holds this list
        if self.batched >= self.group_rows:
            self._row_group()

    def _row_group(self) -> None:
        if self.batches:
            table = self.pa.Table.from_batches(self.batches, schema=self.schema)
            self.writer.write_table(table, row_group_size=self.group_rows)
        self.batches, self.batched = [], 0

    def close(self) -> None:
        """Write what is buffered and the file's footer (an empty table still has a schema)."""
        self._batch()
        self._row_group()
        self.writer.close()
