"""A detection run's chunks as tasks on a Dask cluster, merged as ``--jobs`` merges them.

Planning is ``--jobs``'s (:func:`~k8saudit_cli.parallel_run.plan_chunks`)
with bigger ranges (:data:`CHUNK_BYTES`, a few seconds of work each: a
task costs milliseconds of scheduling); the merge is ``--jobs``'s
(:class:`~k8saudit_cli.parallel_run.Merge`), so alerts, ``evt.num``,
warnings and the report are those of one process. What only a cluster
knows (which worker scanned how much, the dashboard) is kept apart, for a
report of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from contextlib import closing
from dataclasses import dataclass, field

from k8saudit_cli.aggregate_run import Aggregations
from k8saudit_cli.chunk_worker import Chunk, ChunkResult
from k8saudit_cli.cluster.connect import Connection
from k8saudit_cli.cluster.ordered import OrderedTasks, WorkerTally, report_lines
from k8saudit_cli.cluster.rulespec import RuleSpec
from k8saudit_cli.cluster.tasks import scan_spec, scan_task
from k8saudit_cli.detect import Detector
from k8saudit_cli.parallel_run import Merge, plan_chunks
from k8saudit_cli.run_options import AlertSink, RunOptions
from k8saudit_cli.run_stats import RunStats, StopRequest

#: Bytes per task at most: a few seconds of decoding and matching.
CHUNK_BYTES = 64 << 20


@dataclass
class ClusterScan:
    """Runs scans on ``connection``'s cluster with the rules of ``rules``.

    ``tally`` and ``tasks`` describe the last scan, for the report.
    """

    connection: Connection
    rules: RuleSpec
    chunk_bytes: int = CHUNK_BYTES
    retries: int = 2
    tally: WorkerTally = field(default_factory=WorkerTally)
    tasks: int = 0

    def scan(
        self,
        paths: Sequence[str],
        detector: Detector,
        options: RunOptions,
        sink: AlertSink,
        stats: RunStats,
        on_progress: Callable[[int, int], object] | None = None,
        stop: StopRequest | None = None,
        aggregations: Aggregations | None = None,
    ) -> None:
        """Scan ``paths`` on the cluster; the sink and ``stats`` see what a serial run gives."""
        threads = self.connection.threads()
        chunks = plan_chunks(paths, threads, self.chunk_bytes)
        names = tuple(r.name for r in detector.rules)
        if aggregations is not None:
            names += tuple(r.name for r in aggregations.rules)
        spec = scan_spec(self.rules, options, sink, names)
        self.tally, self.tasks = WorkerTally(), len(chunks)
        total = sum(c.size() for c in chunks)
        progress = None
        if on_progress is not None:
            on_progress(0, total)
            progress = lambda done: on_progress(min(done, total), total)  # noqa: E731
        tasks = OrderedTasks(self.connection.client, scan_task, spec, 4 * threads + 4, self.retries)
        merge = Merge(detector.rules, sink, stats, aggregations)
        with closing(self._tallied(tasks.results(chunks, progress))) as results:
            merge.merge(results, None, stop)  # leaving early cancels the tasks not merged
        if on_progress is not None and not (stop is not None and stop.requested):
            on_progress(total, total)

    def _tallied(
        self, results: Generator[tuple[Chunk, tuple[str, ChunkResult]], None, None]
    ) -> Generator[tuple[Chunk, ChunkResult], None, None]:
        try:
            for chunk, (worker, result) in results:
                self.tally.add(worker, chunk, result.stats.events_read)
                yield chunk, result
        finally:
            results.close()  # cancels the tasks not taken, whatever ended the merge

    def report_lines(self) -> list[str]:
        """What the report adds for a cluster run: the scheduler, dashboard, each worker."""
        return report_lines(self.connection, self.tasks, self.tally)
