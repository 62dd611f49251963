"""What runs on a Dask worker: one chunk of a scan, with the rules built once per worker.

A task gets a :class:`ScanSpec` (plain data: the rules' text, the run's
options, the renderer) and a :class:`~k8saudit_cli.chunk_worker.Chunk`
(a path or URL and a byte range, never the data), builds the
:class:`~k8saudit_cli.chunk_worker.ChunkWorker` the first time it meets the
spec in this process, and runs it: the very function ``--jobs`` workers run.
The result is plain data (rendered alert text, event JSON, counters) and
the name of the worker, for the report.

A chunk that cannot be read (a local path the worker does not have, an
object that went away) is a counted ``read_error`` of that chunk, as a
missing file is in a serial scan, not a failed task.
"""

from __future__ import annotations

import hashlib
import pickle
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from k8saudit_cli.aggregate_run import Aggregations, split_aggregations
from k8saudit_cli.alerts import AlertRenderer
from k8saudit_cli.chunk_worker import MACHINE_FIELDS, Chunk, ChunkResult, ChunkWorker, chunk_worker
from k8saudit_cli.cluster.rulespec import RuleSpec, check_names
from k8saudit_cli.detect import Alert, Detector
from k8saudit_cli.run_options import AlertSink, RunOptions, TextSink
from k8saudit_cli.sources.remote import error_text

#: The ISO time prefix: the same text on every machine (Falco's ``evt.time`` is local time).
_PORTABLE_TIME = "evt.time.iso8601"


@dataclass(frozen=True)
class ScanSpec:
    """Everything a task needs besides its chunk; :attr:`key` names it in workers' caches."""

    rules: RuleSpec
    options: RunOptions
    #: Renders alerts in the worker; ``None``: every alert goes back as event JSON.
    render: Callable[[Alert], str] | None
    #: The client's rule names, aggregations included, in order.
    names: tuple[str, ...]
    key: str


def scan_spec(
    rules: RuleSpec, options: RunOptions, sink: AlertSink, names: tuple[str, ...]
) -> ScanSpec:
    """The spec of a run whose alerts go to ``sink``: a text sink whose renderer gives
    the same text on any machine renders in the workers."""
    render = sink.render if isinstance(sink, TextSink) and portable(sink.render) else None
    try:
        shipped = pickle.dumps((options, render))
    except (pickle.PicklingError, TypeError, AttributeError):
        render, shipped = None, pickle.dumps((options, None))
    key = hashlib.sha256(rules.digest.encode() + shipped + repr(names).encode()).hexdigest()
    return ScanSpec(rules, options, render, names, key)


def portable(render: Callable[[Alert], str]) -> bool:
    """Whether ``render`` is one of ours whose text does not depend on the machine:
    :class:`AlertRenderer`'s line or JSON in ISO time, possibly coloured."""
    owner = getattr(render, "__self__", None)
    if isinstance(owner, AlertRenderer):
        return owner.time_key == _PORTABLE_TIME
    inner = getattr(render, "render", None)  # the CLI's colouring wrapper
    return callable(inner) and inner is not render and portable(inner)


_BUILT: dict[str, ChunkWorker] = {}
_BUILDING = threading.Lock()


def worker_for(spec: ScanSpec) -> ChunkWorker:
    """The chunk worker of ``spec``, built on first use in this process."""
    with _BUILDING:
        built = _BUILT.get(spec.key)
        if built is None:
            built = _BUILT[spec.key] = _build(spec)
        return built


def _build(spec: ScanSpec) -> ChunkWorker:
    selected = spec.rules.load()
    check_names(selected, spec.names)
    fast = spec.options.evaluator == "fast"
    rules, aggregations = split_aggregations(selected)
    detector = Detector(rules, match_all=spec.options.rule_matching == "all", fast=fast)
    counted = Aggregations(aggregations, fast) if aggregations else None
    return chunk_worker(detector, spec.options, spec.render, counted, MACHINE_FIELDS)


def scan_task(spec: ScanSpec, chunk: Chunk) -> tuple[str, ChunkResult]:
    """One chunk scanned on this worker: (the worker's name, the chunk's result)."""
    worker = worker_for(spec)
    try:
        result = worker.run(chunk)
    except OSError as exc:
        result = unreadable(chunk, exc)
    return worker_name(), result


def unreadable(chunk: Chunk, exc: BaseException) -> ChunkResult:
    """The result of a chunk that could not be read at all: one counted read error."""
    result = ChunkResult()
    result.stats.problems.add("read_error", chunk.path, 1, None, f"cannot read: {error_text(exc)}")
    return result


def worker_name() -> str:
    """This Dask worker's address (``local`` outside a worker, as in tests)."""
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return "local"


def identity(value: Any) -> Any:
    """A task holding ``value``: data shipped once, kept by the scheduler, recomputed if lost."""
    return value
