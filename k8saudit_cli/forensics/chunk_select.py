"""One chunk of a forensic command on a Dask worker: decode -> window -> ``--where`` -> payload.

The worker gets a :class:`ForensicSpec` (the ``--where`` text, the column
specs and the rules files' text whose macros and lists the condition
uses, all plain data), compiles them once per process, and reads the
chunk with the chunk reader of scans
(:class:`~k8saudit_cli.chunk_worker.ChunkLines`). What it sends back is the
command's share of the chunk, in input order: the events' JSON text
(``query``), rows (``extract``, with their event time for ``--sort``), or
group counts (``stats``), plus counters and the first warnings per reason
with chunk-local line numbers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from k8saudit_cli.chunk_worker import Chunk, ChunkLines
from k8saudit_cli.cluster.rulespec import RuleSpec
from k8saudit_cli.cluster.tasks import worker_name
from k8saudit_cli.decode import DecodeOptions, Decoder, Problems
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.forensics.columns import Column, columns_of, row_reader
from k8saudit_cli.forensics.condition import ConditionCompiler
from k8saudit_cli.forensics.selection import (
    LineTap,
    Selection,
    SelectionStats,
    kept_items,
    own_text,
)
from k8saudit_cli.forensics.stats import GroupCounts, count_groups

Mode = Literal["query", "count", "extract", "sorted", "stats"]


@dataclass(frozen=True)
class ForensicSpec:
    """What a forensic task needs besides its chunk: the command and its texts."""

    mode: Mode
    rules: RuleSpec | None = None  # for the macros and lists of ``where``
    where: str | None = None
    where_label: str = "--where"
    columns: tuple[str, ...] = ()
    columns_label: str = "-f"
    since_ns: int | None = None
    until_ns: int | None = None
    decode: DecodeOptions = field(default_factory=DecodeOptions)


@dataclass
class ForensicResult:
    """One chunk's share: counters, warnings, and the payload of the command's mode."""

    lines: int = 0
    stats: SelectionStats = field(default_factory=SelectionStats)
    texts: bytes = b""
    rows: list[Any] = field(default_factory=list)
    groups: dict[tuple[Any, ...], list[int]] = field(default_factory=dict)
    worker: str = ""


@dataclass(frozen=True)
class _Built:
    selection: Selection
    columns: list[Column]


_BUILT: dict[tuple[Any, ...], _Built] = {}
_BUILDING = threading.Lock()


def built(spec: ForensicSpec) -> _Built:
    """The condition and columns of ``spec``, compiled on first use in this process."""
    key = (
        spec.rules.digest if spec.rules is not None else None,
        spec.where,
        spec.where_label,
        spec.columns,
        spec.columns_label,
        spec.since_ns,
        spec.until_ns,
        spec.decode.max_event_size,
    )
    with _BUILDING:
        done = _BUILT.get(key)
        if done is None:
            done = _BUILT[key] = _build(spec)
        return done


def _build(spec: ForensicSpec) -> _Built:
    where: Callable[[AuditEvent], Any] | None = None
    if spec.where is not None:
        assert spec.rules is not None, "a condition is compiled with the rules' macros and lists"
        compiler = ConditionCompiler(spec.rules.ruleset().collection)
        where = compiler.compile(spec.where, spec.where_label).test
    columns = columns_of(spec.columns, spec.columns_label) if spec.columns else []
    return _Built(Selection(where, spec.since_ns, spec.until_ns, spec.decode), columns)


def forensic_task(spec: ForensicSpec, chunk: Chunk) -> ForensicResult:
    """One chunk of ``spec``'s command, read and selected on this worker."""
    work = built(spec)
    result = ForensicResult(worker=worker_name())
    problems = result.stats.problems
    lines = ChunkLines(chunk, problems, spec.decode.max_event_size)
    try:
        _fill(spec.mode, work, _pairs(lines, chunk.path, spec, problems), result)
    except OSError as exc:  # the chunk cannot be read: one counted problem, as scans do
        problems.add("read_error", chunk.path, 1, None, f"cannot read: {exc}")
    result.lines = lines.count
    return result


def _pairs(
    lines: ChunkLines, path: str, spec: ForensicSpec, problems: Problems
) -> Iterator[tuple[AuditEvent, Any]]:
    """Events with their JSON text (``query``) or with themselves."""
    decoder = Decoder(spec.decode, problems)
    if spec.mode != "query":
        return ((ev, ev) for ev in decoder.events(lines, path))
    tap = LineTap(lines)
    return (
        (ev, own_text(tap.current) if ev.index is None else orjson.dumps(ev.raw))
        for ev in decoder.events(tap, path)
    )


def _fill(mode: Mode, work: _Built, pairs: Iterator[Any], result: ForensicResult) -> None:
    items = kept_items(pairs, work.selection, result.stats)
    if mode == "query":
        result.texts = b"".join(text + b"\n" for text in items)
    elif mode == "extract":
        result.rows = list(map(row_reader(work.columns), items))
    elif mode == "sorted":
        row = row_reader(work.columns)
        result.rows = [(ev.time_ns, row(ev)) for ev in items]
    elif mode == "stats":
        counts = GroupCounts(work.columns)
        count_groups(items, counts)
        result.groups = counts.groups
    else:
        for _ in items:
            pass
