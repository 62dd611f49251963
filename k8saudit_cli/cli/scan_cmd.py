"""``k8saudit scan``: run rules over audit logs, print alerts, report, set the exit code."""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Iterator
from typing import IO, Any

import click
import orjson

from k8saudit_cli import priority as prio
from k8saudit_cli.alerts import AlertRenderer
from k8saudit_cli.cli.common import (
    OrderedSelectionCommand,
    PriorityType,
    fail,
    load_ruleset,
    parse_when,
    rules_option,
    selection_steps,
    warn,
)
from k8saudit_cli.decode import DEFAULT_MAX_EVENT_SIZE, DecodeOptions, Problems, read_events
from k8saudit_cli.detect import Alert, Detector
from k8saudit_cli.detection_run import ScanOptions, ScanStats, run_scan
from k8saudit_cli.errors import InputError
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.report import plain_text, print_rich, summary_json
from k8saudit_cli.selection import select_rules, unmatched_steps
from k8saudit_cli.sources import Input, expand_inputs, needs_single_process

EPILOG = """\b
Examples:
  k8saudit scan audit.log
  k8saudit scan /var/log/kubernetes/audit/ -r k8s_audit_rules.yaml -r my_overrides.yaml
  k8saudit scan 'audit-*.log.gz' --since 2024-05-01T00:00:00Z --until 6h
  kubectl logs ... | k8saudit scan - --format json -o alerts.jsonl
  k8saudit scan audit.log --fail-on warning --no-progress     # CI gate

\b
Inputs: files, directories (every regular file inside, in name order, not
recursive), shell-style globs, and '-' for stdin. gzip, bzip2, xz and zstd files
are decompressed by content. Each line holds an Event, an EventList or an array.
"""


@click.command("scan", cls=OrderedSelectionCommand, epilog=EPILOG)
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@rules_option()
@click.option(
    "--disable-rule",
    "disable_rule",
    multiple=True,
    metavar="GLOB",
    help="Disable rules whose name matches (only '*' is special).",
)
@click.option(
    "--enable-rule",
    "enable_rule",
    multiple=True,
    metavar="GLOB",
    help="Enable rules whose name matches, even 'enabled: false' ones.",
)
@click.option(
    "--disable-tag",
    "disable_tag",
    multiple=True,
    metavar="TAG",
    help="Disable rules with this tag.",
)
@click.option(
    "--enable-tag", "enable_tag", multiple=True, metavar="TAG", help="Enable rules with this tag."
)
@click.option(
    "--min-priority",
    type=PriorityType(),
    default="debug",
    show_default=True,
    help="Drop rules less severe than this (Falco's 'priority' setting).",
)
@click.option(
    "--rule-matching",
    type=click.Choice(["all", "first"]),
    default="all",
    show_default=True,
    help="'all': every matching rule alerts (what a responder wants). 'first': only the first "
    "matching rule per event, Falco's default.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="'text': Falco's alert line. 'json': Falco's json_output object per line.",
)
@click.option(
    "--time-format",
    type=click.Choice(["iso", "falco"]),
    default="iso",
    show_default=True,
    help="'iso': 2024-05-01T10:00:00.123456000+0000 (UTC). 'falco': Falco's default "
    "HH:MM:SS.nnnnnnnnn in local time.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    metavar="FILE",
    help="Write alerts to FILE instead of stdout.",
)
@click.option(
    "--since",
    metavar="TIME",
    help="Only events at or after TIME (RFC 3339, or relative: 2h, 30m, 7d ago).",
)
@click.option("--until", metavar="TIME", help="Only events before TIME (same forms as --since).")
@click.option(
    "--summary-json",
    type=click.Path(dir_okay=False, writable=True),
    metavar="FILE",
    help="Also write the end-of-run numbers as JSON to FILE.",
)
@click.option("--no-summary", is_flag=True, help="Do not print the end-of-run report on stderr.")
@click.option(
    "--no-progress",
    is_flag=True,
    help="Never show the progress bar (it only appears on a terminal).",
)
@click.option(
    "--fail-on",
    type=PriorityType(),
    metavar="PRIORITY",
    help="Exit 1 if any alert has this priority or a more severe one.",
)
@click.option("--strict", is_flag=True, help="Exit 2 if any input line or event had to be skipped.")
@click.option(
    "--max-event-size",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_EVENT_SIZE,
    show_default=True,
    metavar="BYTES",
    help="Skip events whose JSON is larger (as Falco's maxEventSize).",
)
@click.option(
    "-j",
    "--jobs",
    default="1",
    show_default=True,
    metavar="N|auto",
    help="Worker processes. Big plain files are split on line boundaries, many or compressed "
    "files are spread over the workers; alerts, evt.num and the report stay exactly as "
    "with one process. 'auto' uses every core.",
)
@click.option(
    "--no-fast-path",
    is_flag=True,
    help="Evaluate with the plain reference evaluator (for checking; slower).",
)
@click.pass_context
def scan_command(
    ctx: click.Context, inputs: tuple[str, ...], rules: tuple[str, ...], **opts: Any
) -> None:
    """Scan audit logs with Falco rules; print one alert per rule match.

    Alerts go to stdout (or --output); warnings and the end-of-run report
    (Falco's 'Events detected' summary plus input counters) go to stderr.
    Exit codes: 0 the scan ran, 1 an alert at or above --fail-on, 2 the scan
    could not be done (invalid rules, unreadable input, or --strict and
    skipped input).
    """
    try:
        paths = expand_inputs(inputs)
    except InputError as exc:
        fail(str(exc))
    ruleset = load_ruleset(rules)
    steps = selection_steps(ctx.meta.get("raw_args", []))
    for step in unmatched_steps(ruleset.rules, steps):
        warn(f"--{step.action}-{step.by} '{step.pattern}' matches no rule")
    selected = select_rules(ruleset.rules, steps, opts["min_priority"])
    if not selected:
        warn("no rule is enabled: nothing can be detected")
    since = parse_when(opts["since"]) if opts["since"] else None
    until = parse_when(opts["until"]) if opts["until"] else None
    detector = Detector(
        selected, match_all=opts["rule_matching"] == "all", fast=not opts["no_fast_path"]
    )
    problems = Problems(emit=lambda line: click.echo(line, err=True))
    stats = ScanStats(problems=problems)
    renderer = AlertRenderer(opts["time_format"])
    out = _open_output(opts["output"])
    try:
        fmt = renderer.json_text if opts["fmt"] == "json" else renderer.line
        write = out.write

        def sink(alert: Alert) -> None:
            write(fmt(alert))

        decode = DecodeOptions(opts["max_event_size"])
        window = ScanOptions(since, until)
        jobs = _jobs(opts["jobs"])
        show_progress = not opts["no_progress"] and sys.stderr.isatty() and "-" not in paths
        if jobs > 1 and needs_single_process(paths):
            warn("--jobs needs regular files; scanning in one process (a pipe is read once)")
            jobs = 1
        if jobs > 1 and "fork" not in multiprocessing.get_all_start_methods():
            warn("--jobs needs fork(), which this platform lacks; scanning in one process")
            jobs = 1
        if jobs > 1:
            from k8saudit_cli.parallel import run_parallel_scan

            bar = _ChunkProgress(paths, problems) if show_progress else None
            try:
                run_parallel_scan(
                    paths,
                    detector,
                    decode,
                    fmt,
                    write,
                    window,
                    stats,
                    jobs,
                    bar.done if bar else None,
                )
            finally:
                if bar:
                    bar.close()
        else:
            tracker = _Tracker(stats)
            events = read_events(paths, decode, problems, tracker.opened)
            if show_progress:
                events = _with_progress(events, paths, tracker, problems)
            run_scan(events, detector, sink, window, stats)
    except InputError as exc:
        fail(str(exc))
    except BrokenPipeError:
        _quiet_broken_pipe()
    finally:
        if out is not sys.stdout:
            out.close()
        else:
            _flush_stdout()
    _finish(stats, opts)


def _jobs(text: str) -> int:
    if text == "auto":
        return os.cpu_count() or 1
    if text.isdigit() and int(text) >= 1:
        return int(text)
    fail(f"--jobs takes a positive number or 'auto', not '{text}'")


class _ChunkProgress:
    """Progress for parallel scans: advances as chunks complete, in order."""

    def __init__(self, paths: list[str], problems: Problems) -> None:
        from tqdm import tqdm

        total = sum(os.path.getsize(p) for p in paths if os.path.isfile(p))
        self.bar = tqdm(
            total=total, unit="B", unit_scale=True, file=sys.stderr, leave=False, dynamic_ncols=True
        )
        self.problems, self.prev_emit = problems, problems.emit
        problems.emit = lambda line: self.bar.write(line, file=sys.stderr)

    def done(self, chunk: Any) -> None:
        end = chunk.end if chunk.end is not None else os.path.getsize(chunk.path)
        self.bar.update(end - chunk.start)

    def close(self) -> None:
        self.problems.emit = self.prev_emit
        self.bar.close()


def _open_output(path: str | None) -> IO[str]:
    if not path:
        return sys.stdout
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write '{path}': {exc.strerror}")


class _Tracker:
    """Follows which input is open: for the files list and the progress bar."""

    def __init__(self, stats: ScanStats) -> None:
        self.stats = stats
        self.current: Input | None = None
        self.done_bytes = 0

    def opened(self, inp: Input) -> None:
        if self.current is not None:
            self.done_bytes += self.current.size() or 0
        self.current = inp
        self.stats.files.append(inp.name)

    def position(self) -> int:
        return self.done_bytes + (self.current.position() if self.current else 0)


def _with_progress(
    events: Iterator[AuditEvent], paths: list[str], tracker: _Tracker, problems: Problems
) -> Iterator[AuditEvent]:
    """A byte-based tqdm bar on stderr over the (compressed) input sizes."""
    from tqdm import tqdm

    total = sum(os.path.getsize(p) for p in paths if os.path.isfile(p))
    bar = tqdm(
        total=total, unit="B", unit_scale=True, file=sys.stderr, leave=False, dynamic_ncols=True
    )
    prev_emit = problems.emit
    problems.emit = lambda line: bar.write(line, file=sys.stderr)
    try:
        for i, ev in enumerate(events):
            if i % 2048 == 0:
                bar.n = min(total, tracker.position())
                bar.refresh()
            yield ev
    finally:
        problems.emit = prev_emit
        bar.close()


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_broken_pipe()


def _quiet_broken_pipe() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(0)


def _finish(stats: ScanStats, opts: dict[str, Any]) -> None:
    if opts["summary_json"]:
        try:
            with open(opts["summary_json"], "wb") as fh:
                fh.write(orjson.dumps(summary_json(stats), option=orjson.OPT_INDENT_2) + b"\n")
        except OSError as exc:
            fail(f"cannot write '{opts['summary_json']}': {exc.strerror}")
    if not opts["no_summary"]:
        if sys.stderr.isatty():
            from rich.console import Console

            print_rich(stats, Console(stderr=True))
        else:
            sys.stderr.write(plain_text(stats))
    if opts["strict"] and stats.problems.skipped:
        fail(f"--strict: {stats.problems.skipped} input item(s) were skipped")
    fail_on = opts["fail_on"]
    if fail_on is not None and stats.most_severe is not None and stats.most_severe <= fail_on:
        click.echo(
            f"k8saudit: alerts at or above {prio.name(fail_on)}: failing (--fail-on)", err=True
        )
        sys.exit(1)
