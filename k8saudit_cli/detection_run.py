"""One detection run: events -> time window -> rules -> sink, with the run's statistics.

:class:`DetectionRun` is what the CLI's ``scan`` and ``test`` commands and a
Python user drive. Events come from any source: an iterable of
:class:`~k8saudit_cli.event.AuditEvent` (a webhook, a cloud export, a test
fixture) or input paths (files, directories, globs, ``-`` for stdin), which
it decodes itself and, with ``jobs`` above 1, spreads over worker processes
(:mod:`k8saudit_cli.parallel_run`), or with ``cluster`` over the workers of
a Dask cluster (:mod:`k8saudit_cli.cluster`), with exactly the result of
one process.

A run can be stopped part-way, by :meth:`DetectionRun.stop` or by a
KeyboardInterrupt; it then returns the statistics of what it scanned, with
``interrupted`` set, and every alert it handed to the sink stays handed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from k8saudit_cli.aggregate_run import Aggregations, split_aggregations
from k8saudit_cli.decode import Decoder, Problems, input_lines, read_events
from k8saudit_cli.detect import Alert, Detector
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.formats import LINE_FRAMINGS
from k8saudit_cli.fused_loop import LoopRun
from k8saudit_cli.ruleset.compile import CompiledRule
from k8saudit_cli.run_options import (
    AUTO_JOBS,
    AUTO_MIN_BYTES,
    AlertSink,
    RunOptions,
    TextSink,
    discard,
)
from k8saudit_cli.run_stats import (
    RunStats,
    RunStopped,
    StopRequest,
    grown_files,
    match_in_window,
)
from k8saudit_cli.sources import (
    BINARY_PROBE,
    Input,
    expand_inputs,
    needs_single_process,
    splittable,
)
from k8saudit_cli.sources.remote import is_url, size_of

if TYPE_CHECKING:  # imported when a run uses processes: a serial scan starts faster
    from k8saudit_cli.chunk_worker import Chunk
    from k8saudit_cli.cluster import ClusterScan

#: Events between two progress reports of a serial run.
PROGRESS_EVERY = 2048


class DetectionRun:
    """Match events against selected rules and hand every alert, in input order, to a sink.

    ``on_warning`` receives messages about the run itself (``--jobs`` falling
    back to one process); ``on_input_warning`` receives the rate-limited
    warning lines about skipped input; ``on_progress(done, total)`` is called
    now and then with bytes of the input files read. Each ``scan_*`` call
    returns its own :class:`RunStats`; a run that cannot go on (a worker
    process died twice on the same chunk) raises
    :class:`~k8saudit_cli.run_stats.RunStopped` carrying the statistics of
    what was scanned.

    ``cluster`` (a :class:`~k8saudit_cli.cluster.ClusterScan`) runs
    ``scan_paths`` on a Dask cluster instead of here (``jobs`` is then unused).

    ``rules`` may hold aggregations (:mod:`k8saudit_cli.aggregate_run`): they
    count events instead of alerting on each, and each ``scan_*`` call counts
    afresh.
    """

    def __init__(
        self,
        rules: Sequence[CompiledRule],
        options: RunOptions | None = None,
        sink: AlertSink | None = None,
        *,
        on_warning: Callable[[str], object] | None = None,
        on_input_warning: Callable[[str], None] | None = None,
        on_progress: Callable[[int, int], object] | None = None,
        cluster: ClusterScan | None = None,
    ) -> None:
        self.options = options = options or RunOptions()
        fast = options.evaluator == "fast"
        rules, aggregations = split_aggregations(rules)
        self.detector = Detector(rules, match_all=options.rule_matching == "all", fast=fast)
        #: The aggregation rules (our extension), counted per scan; None if there are none.
        self.aggregations = Aggregations(aggregations, fast) if aggregations else None
        self.sink = sink if sink is not None else discard
        self.on_warning = on_warning
        self.on_input_warning = on_input_warning
        self.on_progress = on_progress
        self.cluster = cluster
        self._stop = StopRequest()

    def stop(self) -> None:
        """Ask the scan under way to stop soon: after the current event (one process)
        or chunk (several). Safe from a signal handler, a callback or another thread."""
        self._stop.requested = True

    def scan_events(self, events: Iterable[AuditEvent]) -> RunStats:
        """Match already decoded events (their ``num``, ``file``, ``line`` are kept as given)."""
        stats = self._new_stats()
        self._stopping(stats, lambda: self._match(events, stats))
        return stats.finish()

    def scan_paths(self, inputs: Sequence[str]) -> RunStats:
        """Decode and match inputs in order; raises :class:`InputError` for a missing one."""
        paths = expand_inputs(inputs)
        stats = self._new_stats()
        if self.cluster is not None and self._cluster_can(paths):
            self._stopping(stats, lambda: self._scan_cluster(paths, stats))
            return stats.finish()
        jobs = self._jobs_for(paths)
        if jobs > 1:
            self._stopping(stats, lambda: self._scan_parallel(paths, jobs, stats))
        else:
            self._stopping(stats, lambda: self._scan_serial(paths, stats))
        stats.grown = grown_files(stats.read_up_to)
        return stats.finish()

    def _new_stats(self) -> RunStats:
        self._stop.requested = False
        return RunStats(problems=Problems(emit=self.on_input_warning))

    def _stopping(self, stats: RunStats, scan: Callable[[], None]) -> None:
        """Run ``scan``; a stop request or KeyboardInterrupt ends it with ``stats.interrupted``."""
        try:
            scan()
        except KeyboardInterrupt:
            stats.interrupted = True
        except RunStopped as exc:
            stats.error = str(exc)
            exc.stats = stats.finish()
            raise
        if self._stop.requested:
            stats.interrupted = True

    def _match(self, events: Iterable[AuditEvent], stats: RunStats) -> None:
        if self.options.evaluator == "fast":
            self._fused(stats, lambda run: run.scan_events(events))
            return
        options = self.options
        match: Callable[[AuditEvent], list[CompiledRule]] = self.detector.match
        on_alert = _alert_callback(self.sink)
        counting = self.aggregations.start() if self.aggregations is not None else None
        if counting is not None:
            match, on_alert = counting.serial(self.detector, on_alert)
        match_in_window(
            events, match, options.since_ns, options.until_ns, stats, on_alert, self._stop
        )
        if counting is not None:
            counting.finish(stats)

    def _jobs_for(self, paths: Sequence[str]) -> int:
        """``options.jobs``, or 1 where processes cannot help (stdin) or cannot start."""
        jobs = self.options.jobs
        if jobs == AUTO_JOBS:
            return auto_jobs(paths)
        if jobs > 1 and needs_single_process(paths):
            self._warn("--jobs needs regular files; scanning in one process (a pipe is read once)")
            jobs = 1
        if jobs > 1 and not _can_fork():
            self._warn("--jobs needs fork(), which this platform lacks; scanning in one process")
            jobs = 1
        return jobs

    def _cluster_can(self, paths: Sequence[str]) -> bool:
        """Whether the cluster can read ``paths``: not stdin, nor a pipe."""
        if needs_single_process(paths):
            self._warn("--cluster needs files or URLs; scanning here (a pipe is read once)")
            return False
        return True

    def _warn(self, message: str) -> None:
        if self.on_warning is not None:
            self.on_warning(message)

    def _fused(
        self,
        stats: RunStats,
        scan: Callable[[LoopRun], object],
        progress: Callable[[], object] | None = None,
    ) -> None:
        """The fast path: ``scan`` drives the fused run loop (:mod:`k8saudit_cli.fused_loop`)."""
        options = self.options
        counting = self.aggregations.start() if self.aggregations is not None else None
        aggregations = None
        if counting is not None and self.aggregations is not None:
            aggregations = (self.aggregations.detector, self.aggregations.counter(counting.fire))
        window = (options.since_ns, options.until_ns)
        run = LoopRun(self.detector, stats, self.sink, self._stop, window, aggregations, progress)
        scan(run)
        if counting is not None:
            counting.finish(stats)

    def _scan_serial(self, paths: Sequence[str], stats: RunStats) -> None:
        tracker = _InputTracker(stats)
        if self.options.evaluator == "fast":
            self._scan_serial_fused(paths, stats, tracker)
            return
        events = read_events(paths, self.options.decode, stats.problems, tracker.opened)
        if self.on_progress is not None:
            events = _reporting(events, tracker, input_bytes(paths), self.on_progress)
        self._match(events, stats)

    def _scan_serial_fused(
        self, paths: Sequence[str], stats: RunStats, tracker: _InputTracker
    ) -> None:
        """Each input's lines through the fused loop, with what ``read_events`` does
        around them (the problems of an input are totalled when it ends)."""
        on_progress, total, report = self.on_progress, 0, None
        if on_progress is not None:  # sizes only when asked: a URL's costs a request
            total = input_bytes(paths)
            on_progress(0, total)
            report = lambda: on_progress(min(total, tracker.position()), total)  # noqa: E731

        def scan(run: LoopRun) -> None:
            decoder, problems = Decoder(self.options.decode, stats.problems), stats.problems
            for inp, lines in input_lines(paths, self.options.decode, tracker.opened):
                before = (decoder.count, problems.counts.copy())
                if not _scan_input(run, decoder, inp, lines):
                    return
                decoder.finish(inp, decoder.framing, before)
            if on_progress is not None:
                on_progress(total, total)

        self._fused(stats, scan, report)

    def _scan_parallel(self, paths: Sequence[str], jobs: int, stats: RunStats) -> None:
        from k8saudit_cli.parallel_run import run_parallel

        on_chunk = None
        if self.on_progress is not None:
            on_chunk = _ChunkProgress(input_bytes(paths), self.on_progress)
        run_parallel(
            paths,
            self.detector,
            self.options,
            jobs,
            self.sink,
            stats,
            on_chunk,
            self._stop,
            self.on_warning,
            self.aggregations,
        )

    def _scan_cluster(self, paths: Sequence[str], stats: RunStats) -> None:
        assert self.cluster is not None
        self.cluster.scan(
            paths,
            self.detector,
            self.options,
            self.sink,
            stats,
            self.on_progress,
            self._stop,
            self.aggregations,
        )


def _scan_input(
    run: LoopRun, decoder: Decoder, inp: Input, lines: Iterable[tuple[int, bytes]]
) -> bool:
    """One input through the fused loop: its lines, or the events of the framing its
    first bytes show (a JSON document, export lines, CSV); ``False`` if stopped."""
    framing = decoder.begin(inp)
    if framing in LINE_FRAMINGS:
        return run.scan_lines(lines, inp.name, decoder)
    return run.scan_events(decoder.framed(inp, framing))


def _alert_callback(sink: AlertSink) -> Callable[[Alert], object]:
    """The sink as one plain call per alert (a text sink as a closure, not a method)."""
    if not isinstance(sink, TextSink):
        return sink
    render, write = sink.render, sink.write

    def render_and_write(alert: Alert) -> None:
        write(render(alert))

    return render_and_write


def auto_jobs(paths: Sequence[str]) -> int:
    """The processes ``jobs=AUTO_JOBS`` uses: the idle cores the process may run on when
    the inputs are regular files of :data:`AUTO_MIN_BYTES` or more that can be shared out
    (several local files, or one plain file to split), else 1, without a warning."""
    if needs_single_process(paths) or any(is_url(p) for p in paths):
        return 1  # URLs too: the choice is left to --jobs N or --cluster
    if input_bytes(paths) < AUTO_MIN_BYTES:
        return 1
    if (len(paths) == 1 and not _splittable(paths[0])) or not _can_fork():
        return 1
    return idle_cores()


def idle_cores() -> int:
    """The cores this process may run on, less those other work keeps busy right now
    (rounded): two workers sharing one busy core ran slower than one process
    (docs/performance.md). The count only changes speed; the output is the same."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    return max(1, min(cores, round(cores - busy_cores())))


#: How long :func:`busy_cores` watches the CPUs (only scans of 64 MiB or more ask).
BUSY_SAMPLE_S = 0.1


def busy_cores() -> float:
    """How many cores other work keeps busy: measured over :data:`BUSY_SAMPLE_S` from
    ``/proc/stat``, or the one-minute load average where there is none. The load average
    lags by a minute: a scan that just ended (a benchmark's, a CI job's) still counted
    as a busy core and sent the next scan to one process."""
    first = _cpu_ticks()
    if first is None:
        try:
            return os.getloadavg()[0]
        except OSError:  # not available on this platform
            return 0.0
    time.sleep(BUSY_SAMPLE_S)
    second = _cpu_ticks()
    if second is None:
        return 0.0
    return busy_between(first, second, os.cpu_count() or 1)


def busy_between(first: tuple[int, int], second: tuple[int, int], cpus: int) -> float:
    """Busy cores from two ``(total, idle)`` tick counts of all ``cpus`` together."""
    total, idle = second[0] - first[0], second[1] - first[1]
    if total <= 0:
        return 0.0
    return max(0.0, min(1.0, (total - idle) / total)) * cpus


def _cpu_ticks() -> tuple[int, int] | None:
    """``(total, idle)`` ticks of every CPU since boot (idle includes iowait), or None."""
    try:
        with open("/proc/stat", "rb") as fh:
            first = fh.readline().split()
    except OSError:
        return None
    if len(first) < 6 or first[0] != b"cpu":
        return None
    ticks = [int(t) for t in first[1:9]]  # user nice system idle iowait irq softirq steal
    return sum(ticks), ticks[3] + ticks[4]


def _can_fork() -> bool:
    """Whether workers can be forked. multiprocessing is imported here, not at the top:
    a serial scan (the common small one) starts faster without it."""
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def _splittable(path: str) -> bool:
    """Whether a file can be cut into byte ranges (plain text, not compressed)."""
    with open(path, "rb") as fh:
        return splittable(fh.read(BINARY_PROBE))


def input_bytes(paths: Sequence[str]) -> int:
    """Total size of the regular files and objects among ``paths`` (compressed size for
    compressed ones)."""
    return sum(size_of(p) for p in paths if is_url(p) or os.path.isfile(p))


class _InputTracker:
    """Follows which input is open: for the files list, the sizes read up to and
    the progress position."""

    def __init__(self, stats: RunStats) -> None:
        self.stats = stats
        self.current: Input | None = None
        self.done_bytes = 0

    def opened(self, inp: Input) -> None:
        if self.current is not None:
            self.done_bytes += self.current.size() or 0
        self.current = inp
        self.stats.files.append(inp.name)
        size = inp.size()
        if size:  # a regular file, read up to this size (0: size unknown, read to its end)
            self.stats.read_up_to[inp.name] = size

    def position(self) -> int:
        return self.done_bytes + (self.current.position() if self.current else 0)


def _reporting(
    events: Iterator[AuditEvent],
    tracker: _InputTracker,
    total: int,
    on_progress: Callable[[int, int], object],
) -> Iterator[AuditEvent]:
    """The events unchanged, reporting bytes read every :data:`PROGRESS_EVERY` events."""
    on_progress(0, total)
    for i, ev in enumerate(events):
        if i % PROGRESS_EVERY == 0:
            on_progress(min(total, tracker.position()), total)
        yield ev
    on_progress(total, total)


class _ChunkProgress:
    """Progress of a parallel run: bytes of the chunks merged so far."""

    def __init__(self, total: int, on_progress: Callable[[int, int], object]) -> None:
        self.total, self.done, self.on_progress = total, 0, on_progress
        on_progress(0, total)

    def __call__(self, chunk: Chunk) -> None:
        self.done += chunk.size()
        self.on_progress(min(self.total, self.done), self.total)
