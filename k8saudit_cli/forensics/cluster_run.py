"""``extract``, ``query`` and ``stats`` on a Dask cluster: chunk tasks, results merged in order.

The chunks are those of a cluster scan
(:func:`~k8saudit_cli.parallel_run.plan_chunks`, ranges of
:data:`~k8saudit_cli.cluster.CHUNK_BYTES`), each a
:func:`~k8saudit_cli.forensics.chunk_select.forensic_task`; the client takes
results in input order (:class:`~k8saudit_cli.cluster.ordered.OrderedTasks`),
replays their warnings with the line offsets of the chunks before
(:class:`~k8saudit_cli.parallel_run.Places`, as scans do), and writes or
merges their payloads in that order: query texts and extract rows as they
come, ``--sort`` rows through the same external sort, group counts added
up (a group keeps the place it first had in the input). Output and
counters are therefore those of one process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from k8saudit_cli.chunk_worker import Chunk
from k8saudit_cli.cluster import CHUNK_BYTES, Connection
from k8saudit_cli.cluster.ordered import OrderedTasks, WorkerTally, report_lines
from k8saudit_cli.forensics.chunk_select import ForensicResult, ForensicSpec, forensic_task
from k8saudit_cli.forensics.columns import Column
from k8saudit_cli.forensics.extract import SortOptions
from k8saudit_cli.forensics.extsort import sorted_by_time
from k8saudit_cli.forensics.selection import SelectionStats
from k8saudit_cli.forensics.stats import GroupCounts
from k8saudit_cli.forensics.tabular import RowWriter
from k8saudit_cli.parallel_run import Places, plan_chunks


class ForensicCluster:
    """Forensic commands on ``connection``'s cluster; :attr:`tally` describes the last one."""

    def __init__(self, connection: Connection, chunk_bytes: int = CHUNK_BYTES) -> None:
        self.connection, self.chunk_bytes = connection, chunk_bytes
        self.tally = WorkerTally()
        self.tasks = 0

    def results(
        self, paths: Sequence[str], spec: ForensicSpec, stats: SelectionStats
    ) -> Iterator[ForensicResult]:
        """Each chunk's result in input order, its warnings and counters already in ``stats``."""
        threads = self.connection.threads()
        chunks = plan_chunks(paths, threads, self.chunk_bytes)
        self.tally, self.tasks = WorkerTally(), len(chunks)
        places = Places(stats.files, stats.problems)
        tasks = OrderedTasks(self.connection.client, forensic_task, spec, 4 * threads + 4)
        for chunk, result in tasks.results(chunks):
            _account(chunk, result, places, stats)
            self.tally.add(result.worker, chunk, result.stats.events_read)
            yield result

    def query(
        self,
        paths: Sequence[str],
        spec: ForensicSpec,
        write: Callable[[bytes], object],
        stats: SelectionStats | None = None,
    ) -> SelectionStats:
        """``query``: each selected event's JSON text, in input order (``count``: none)."""
        stats = stats if stats is not None else SelectionStats()
        for result in self.results(paths, spec, stats):
            if result.texts:
                write(result.texts)
        return stats

    def extract(
        self,
        paths: Sequence[str],
        spec: ForensicSpec,
        writer: RowWriter,
        sort: SortOptions | None = None,
        stats: SelectionStats | None = None,
    ) -> SelectionStats:
        """``extract``: the rows, in input order or (``sort``) in event-time order."""
        stats = stats if stats is not None else SelectionStats()
        results = self.results(paths, spec, stats)
        if sort is None:
            for result in results:
                writer.write_rows(result.rows)
            return stats
        timed = (pair for result in results for pair in result.rows)
        writer.write_rows(sorted_by_time(timed, sort.run_rows, sort.tmp_dir))
        return stats

    def group_counts(
        self,
        paths: Sequence[str],
        spec: ForensicSpec,
        columns: Sequence[Column],
        stats: SelectionStats | None = None,
    ) -> GroupCounts:
        """``stats``: every chunk's groups added up, in the order groups first appear."""
        counts = GroupCounts(columns, stats=stats if stats is not None else SelectionStats())
        groups = counts.groups
        for result in self.results(paths, spec, counts.stats):
            for key, (n, first, last) in result.groups.items():
                group = groups.get(key)
                if group is None:
                    groups[key] = [n, first, last]
                    continue
                group[0] += n
                group[1] = min(group[1], first)
                group[2] = max(group[2], last)
        return counts


def _account(chunk: Chunk, result: ForensicResult, places: Places, stats: SelectionStats) -> None:
    places.enter(chunk, result.stats.problems)  # forensic payloads carry no line numbers
    stats.events_read += result.stats.events_read
    stats.events_selected += result.stats.events_selected
    places.leave(chunk, result.lines, result.stats.events_read, result.stats.problems.counts)


def describe(cluster: ForensicCluster) -> list[str]:
    """The lines a cluster run adds after a command's output (scheduler, workers)."""
    return report_lines(cluster.connection, cluster.tasks, cluster.tally)
