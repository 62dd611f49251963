"""``k8saudit scan``: run rules over audit logs, print alerts, report, set the exit code."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import click

from k8saudit_cli.alerts import AlertRenderer
from k8saudit_cli.cli import interrupts
from k8saudit_cli.cli.cluster_option import (
    cluster_connection,
    cluster_option,
    echo_cluster_report,
    rule_spec,
)
from k8saudit_cli.cli.common import (
    OrderedSelectionCommand,
    PriorityType,
    color_option,
    decode_options,
    expanded,
    fail,
    guard_outputs,
    input_format_options,
    load_ruleset,
    output_path,
    parse_window,
    rules_option,
    selection_steps,
    warn,
)
from k8saudit_cli.cli.console import ColoredAlerts, is_terminal, use_color
from k8saudit_cli.cli.progress import ProgressBar
from k8saudit_cli.cli.scan_output import alert_output, exit_policy, print_report, write_summary_json
from k8saudit_cli.cli.streams import stderr_is_terminal
from k8saudit_cli.decode import DEFAULT_MAX_EVENT_SIZE
from k8saudit_cli.detect import Alert
from k8saudit_cli.detection_run import DetectionRun
from k8saudit_cli.ruleset.compile import CompiledRule
from k8saudit_cli.run_options import AUTO_JOBS, AlertSink, RunOptions, TextSink
from k8saudit_cli.run_stats import RunStats, RunStopped
from k8saudit_cli.selection import select_rules, unmatched_steps
from k8saudit_cli.sources import STDIN

if TYPE_CHECKING:
    from k8saudit_cli.cluster import ClusterScan

#: Formats that write the alert timeline as a table (k8saudit_cli.forensics.alert_rows).
TABLE_FORMATS = ("csv", "tsv", "parquet")

EPILOG = """\b
Examples:
  k8saudit scan audit.log
  k8saudit scan /var/log/kubernetes/audit/ -r k8s_audit_rules.yaml -r my_overrides.yaml
  k8saudit scan 'audit-*.log.gz' --since 2024-05-01T00:00:00Z --until 6h
  kubectl logs ... | k8saudit scan - --format json -o alerts.jsonl
  k8saudit scan audit.log --fail-on warning --no-progress     # CI gate
  k8saudit scan 's3://audit-archive/prod/' --cluster tcp://scheduler:8786

\b
Inputs: files, directories (every regular file inside, in name order, not
recursive), shell-style globs, URLs (s3://, gs://, az://, file://: every object
under a prefix), and '-' for stdin. gzip, bzip2, xz and zstd files are
decompressed by content. Each line holds an Event, an EventList or an array;
whole JSON documents and EKS, GKE and AKS exports are recognised too
(--input-format, docs/input-formats.md).
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
    type=click.Choice(["text", "json", *TABLE_FORMATS]),
    default="text",
    show_default=True,
    help="'text': Falco's alert line. 'json': Falco's json_output object per line. "
    "'csv', 'tsv', 'parquet' (needs -o): the alert timeline as a table, one column per "
    "output field.",
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
    type=click.Path(dir_okay=False, writable=True, allow_dash=True),
    metavar="FILE",
    help="Write alerts to FILE instead of stdout ('-': stdout).",
)
@click.option(
    "--since",
    metavar="TIME",
    help="Only events at or after TIME: RFC 3339 (2024-05-01T10:00:00Z), a date "
    "(2024-05-01, midnight UTC) or a time ago (30m, 2h, 7d).",
)
@click.option("--until", metavar="TIME", help="Only events before TIME (same forms as --since).")
@click.option(
    "--summary-json",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True),
    metavar="FILE",
    help="Also write the end-of-run numbers as JSON to FILE, written whole at the end "
    "('-': stdout, when the alerts go to -o FILE).",
)
@color_option()
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
@input_format_options
@click.option(
    "-j",
    "--jobs",
    default="auto",
    show_default=True,
    metavar="N|auto",
    help="Worker processes. Big plain files are split on line boundaries, many or compressed "
    "files are spread over the workers; alerts, evt.num and the report stay exactly as "
    "with one process. 'auto' uses the idle cores for regular files of 64 MiB or more in "
    "all, one process for smaller inputs and stdin.",
)
@cluster_option()
@click.option(
    "--no-fast-path",
    is_flag=True,
    help="Evaluate with the plain reference evaluator (for checking; slower).",
)
@click.pass_context
def scan_command(
    ctx: click.Context, /, inputs: tuple[str, ...], rules: tuple[str, ...], **opts: Any
) -> None:
    """Scan audit logs with Falco rules; print one alert per rule match.

    Alerts go to stdout (or --output); warnings and the end-of-run report
    (Falco's 'Events detected' summary plus input counters) go to stderr.
    Exit codes: 0 the scan ran, 1 an alert at or above --fail-on, 2 the scan
    could not be done (invalid rules, unreadable input, output that cannot
    be written, or --strict and skipped input), 130/143 interrupted by
    SIGINT/SIGTERM (the report then covers what was scanned).
    """
    paths = expanded(inputs)
    since, until = parse_window(opts["since"], opts["until"])
    _check_outputs(inputs, paths, opts)
    selected = _select(ctx, rules, opts["min_priority"])
    options = _run_options(opts, since, until)
    shown = not opts["no_progress"] and stderr_is_terminal() and STDIN not in paths
    with cluster_connection(opts["cluster"], paths) as connection:
        cluster = _cluster_scan(ctx, connection, rules, opts) if connection else None
        # Every check has passed (the cluster is reached): only now is -o opened (and truncated).
        try:
            with _alert_sink(opts, selected) as sink, ProgressBar(shown) as bar:
                run = DetectionRun(
                    selected,
                    options,
                    sink,
                    on_warning=warn,
                    on_input_warning=bar.echo,
                    on_progress=bar.update if bar.shown else None,
                    cluster=cluster,
                )
                stats = run.scan_paths(paths)
                interrupts.result_decided()  # a late signal must not cut the output or summary
        except RunStopped as exc:
            interrupts.result_decided()
            _stopped(exc, opts, cluster)
        _finish(stats, opts, cluster)


@contextmanager
def _alert_sink(opts: dict[str, Any], rules: Sequence[CompiledRule]) -> Iterator[AlertSink]:
    """Alert lines on the output, or (csv, tsv, parquet) rows of the alert timeline."""
    if opts["fmt"] in TABLE_FORMATS:
        from k8saudit_cli.cli.forensics_common import alert_table  # only tables pay for it

        with alert_table(opts["fmt"], opts["output"], rules) as table_sink:
            yield table_sink
        return
    with alert_output(opts["output"]) as out:
        yield TextSink(_render(opts), out.write)


def _check_outputs(inputs: Sequence[str], paths: Sequence[str], opts: dict[str, Any]) -> None:
    """``-`` as stdout, at most one stream on stdout, no output over an input, every
    output writable: all checked (exit 2) before the rules are loaded or input is read."""
    opts["output"] = output_path(opts["output"])
    if opts["summary_json"] == STDIN and not opts["output"]:
        raise click.UsageError(
            "--summary-json -: stdout already carries the alerts; send them to a file "
            "with -o FILE, or the summary to a file",
        )
    guard_outputs(
        inputs, paths, {"--output": opts["output"], "--summary-json": opts["summary_json"]}
    )


def _select(ctx: click.Context, rules: Sequence[str], min_priority: int) -> list[CompiledRule]:
    """Load the rules and apply the selection options in command-line order."""
    ruleset = load_ruleset(rules)
    steps = selection_steps(ctx.meta.get("raw_args", []))
    for step in unmatched_steps(ruleset.rules, steps):
        warn(f"--{step.action}-{step.by} '{step.pattern}' matches no rule")
    selected = select_rules(ruleset.rules, steps, min_priority)
    if not selected:
        warn("no rule is enabled: nothing can be detected")
    return selected


def _cluster_scan(
    ctx: click.Context, connection: Any, rules: Sequence[str], opts: dict[str, Any]
) -> ClusterScan:
    """``--cluster``: the scan's rules as the workers will build them."""
    from k8saudit_cli.cluster import ClusterScan

    given = ctx.get_parameter_source("jobs") is not click.core.ParameterSource.DEFAULT
    if given and opts["jobs"] != "1":  # the default, 'auto', leaves the work to the cluster
        fail("--jobs and --cluster do not go together: the cluster's workers do the work")
    steps = selection_steps(ctx.meta.get("raw_args", []))
    return ClusterScan(connection, rule_spec(rules, steps, opts["min_priority"]))


def _run_options(opts: dict[str, Any], since: int | None, until: int | None) -> RunOptions:
    """The run's choices from the command line (``--jobs`` checked here, exit 2 if bad)."""
    return RunOptions(
        since_ns=since,
        until_ns=until,
        rule_matching=opts["rule_matching"],
        evaluator="reference" if opts["no_fast_path"] else "fast",
        decode=decode_options(opts, opts["max_event_size"]),
        jobs=_jobs(opts["jobs"]),
    )


def _jobs(text: str) -> int:
    if text == "auto":
        return AUTO_JOBS
    if text.isdigit() and int(text) >= 1:
        return int(text)
    fail(f"--jobs takes a positive number or 'auto', not '{text}'")


def _render(opts: dict[str, Any]) -> Callable[[Alert], str]:
    """``--format`` and ``--time-format``: an alert to its output line."""
    renderer = AlertRenderer(opts["time_format"])
    if opts["fmt"] == "json":
        return renderer.json_text
    terminal = not opts["output"] and is_terminal()
    return ColoredAlerts(renderer.line) if use_color(opts["color"], terminal) else renderer.line


def _finish(stats: RunStats, opts: dict[str, Any], cluster: ClusterScan | None = None) -> None:
    """Summary, report and exit code of a run that ended, completely or interrupted."""
    if stats.interrupted:
        click.echo("k8saudit: interrupted", err=True)
    _report(stats, opts, cluster)
    if stats.interrupted:
        sys.exit(interrupts.exit_code())
    exit_policy(stats, opts["strict"], opts["fail_on"])


def _stopped(exc: RunStopped, opts: dict[str, Any], cluster: ClusterScan | None) -> NoReturn:
    """A run that could not go on: the reason, then the report of what was scanned; exit 2."""
    click.echo(f"k8saudit: error: {exc}", err=True)
    if exc.stats is not None:
        _report(exc.stats, opts, cluster)
    sys.exit(2)


def _report(stats: RunStats, opts: dict[str, Any], cluster: ClusterScan | None = None) -> None:
    if opts["summary_json"]:
        write_summary_json(stats, opts["summary_json"])
    if not opts["no_summary"]:
        print_report(stats)
        if cluster is not None:  # after the report, which stays as one process prints it
            echo_cluster_report(cluster.report_lines())
