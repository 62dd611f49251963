"""Alerts as table rows: the alert timeline of ``scan --format csv|tsv|parquet``.

The columns are fixed, then one per output field of the selected rules:

* ``time`` (the event time), ``priority``, ``rule``, ``tags`` (a list),
  ``output`` (the rule's output text, without the time and priority that
  have their own columns);
* then every key that the rules' ``output_fields`` use (``ka.user.name``,
  ``ka.uri.param[watch]``, ...), once each, in the order the rules first use
  them. An alert fills the columns of its own rule's fields; the others are
  empty (null in Parquet).

Output field columns are typed like ``extract``'s (a time, a number, a list...).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from k8saudit_cli import priority as prio
from k8saudit_cli.detect import Alert
from k8saudit_cli.engine.bind import BField
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fields import MISSING
from k8saudit_cli.forensics.columns import Column, field_column
from k8saudit_cli.forensics.tabular import RowWriter
from k8saudit_cli.ruleset.compile import CompiledRule
from k8saudit_cli.timestamps import evt_iso8601_text

FIXED_COLUMNS = ("time", "priority", "rule", "tags", "output")


def _computed(ev: AuditEvent) -> Any:
    """The ``get`` of a fixed column, which the row builder fills itself."""
    return MISSING


def _output_fields(rule: CompiledRule) -> list[tuple[str, BField]]:
    return [(t.key, t.field) for t in rule.output.fields if t.key is not None and t.field]


@dataclass
class AlertTable:
    """The columns for alerts of ``rules``, and each rule's own cells among them."""

    rules: Sequence[CompiledRule]
    columns: list[Column] = field(init=False)
    _cells: dict[str, list[tuple[int, Callable[[AuditEvent], Any]]]] = field(init=False)

    def __post_init__(self) -> None:
        self.columns = [
            Column("time", "time", attrgetter("time_ns"), evt_iso8601_text),
            Column("priority", "text", _computed),
            Column("rule", "text", _computed),
            Column("tags", "list", _computed),
            Column("output", "text", _computed),
        ]
        position: dict[str, int] = {}
        self._cells = {}
        for rule in self.rules:
            cells = []
            for key, bfield in _output_fields(rule):
                if key not in position:
                    position[key] = len(self.columns)
                    self.columns.append(field_column(key, bfield))
                cells.append((position[key], self.columns[position[key]].get))
            self._cells[rule.name] = cells

    def row(self, alert: Alert) -> list[Any]:
        """One alert's cells, in column order."""
        rule, ev = alert.rule, alert.event
        out: list[Any] = [MISSING] * len(self.columns)
        out[:5] = [
            ev.time_ns,
            prio.name(rule.priority),
            rule.name,
            sorted(rule.tags),
            rule.output.render(ev),
        ]
        for index, get in self._cells.get(rule.name, ()):
            out[index] = get(ev)
        return out


@dataclass
class AlertRowSink:
    """A detection run's sink that writes each alert as a row."""

    table: AlertTable
    writer: RowWriter

    def __call__(self, alert: Alert) -> None:
        self.writer.write_rows((self.table.row(alert),))
