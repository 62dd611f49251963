"""``k8saudit extract``: one row of fields per event, as TSV, CSV, JSON lines or Parquet."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from k8saudit_cli.cli.cluster_option import cluster_connection, cluster_option
from k8saudit_cli.cli.common import expanded, output_option, rules_option
from k8saudit_cli.cli.forensics_common import (
    INPUTS_HELP,
    columns_or_exit,
    compile_condition,
    fail_if_nothing_read,
    selection_of,
    stats_to_stderr,
    table_output,
    where_option,
    window_options,
)
from k8saudit_cli.forensics.columns import DEFAULT_COLUMNS
from k8saudit_cli.forensics.extract import SortOptions, extract
from k8saudit_cli.forensics.tabular import FORMATS, RowWriter

if TYPE_CHECKING:
    from k8saudit_cli.cluster import Connection
    from k8saudit_cli.forensics.chunk_select import Mode
    from k8saudit_cli.forensics.cluster_run import ForensicCluster
    from k8saudit_cli.forensics.selection import SelectionStats

EPILOG = f"""\b
Examples:
  k8saudit extract audit.log > timeline.tsv                      lnav timeline.tsv
  k8saudit extract audit/ --where 'ka.user.name="system:serviceaccount:ci:deployer"'
  k8saudit extract audit.log -f evt.time.iso8601 -f ka.verb -f ka.uri --format csv
  k8saudit extract 'audit-*.log.gz' --sort --format parquet -o audit.parquet

\b
Default columns: {", ".join(DEFAULT_COLUMNS)}.

{INPUTS_HELP}
"""


@click.command("extract", epilog=EPILOG)
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option(
    "-f",
    "--field",
    "specs",
    multiple=True,
    metavar="FIELD",
    help="A column: a field, 'ka.uri.param[watch]', 'tolower(ka.verb)'; repeat for more "
    "(default: the columns below).",
)
@where_option
@rules_option()
@window_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="tsv",
    show_default=True,
    help="tsv (a header line, then one line per event), csv, jsonl, or parquet (needs -o).",
)
@click.option("--no-header", is_flag=True, help="No header line (tsv and csv).")
@click.option(
    "--sort",
    is_flag=True,
    help="Order rows by event time across all inputs (spills to temporary files when big).",
)
@click.option(
    "--tmp-dir",
    type=click.Path(file_okay=False, exists=True),
    metavar="DIR",
    help="Where --sort writes its temporary files (default: $TMPDIR).",
)
@output_option()
@cluster_option()
def extract_command(inputs: tuple[str, ...], specs: tuple[str, ...], **opts: Any) -> None:
    """Write one row of field values per event: a timeline for lnav, spreadsheets, SQL.

    Values that are not available are empty cells (null in jsonl and
    Parquet); lists are joined with ',' in tsv and csv. Parquet columns are
    typed: the event time as timestamp[ns, UTC], the response code as an
    integer, list fields as lists.
    """
    columns = columns_or_exit(specs or DEFAULT_COLUMNS, "-f")
    where = compile_condition(opts["where"], "--where", opts["rules"]) if opts["where"] else None
    selection = selection_of(where, opts)
    paths = expanded(inputs)
    sort = SortOptions(tmp_dir=opts["tmp_dir"]) if opts["sort"] else None
    stats = stats_to_stderr()
    cluster: ForensicCluster | None = None
    with cluster_connection(opts["cluster"], paths) as connection:
        with table_output(opts["fmt"], opts["output"], columns, not opts["no_header"]) as writer:
            if connection is None:
                extract(paths, columns, selection, writer, sort, stats)
            else:
                fields = specs or DEFAULT_COLUMNS
                cluster = _on_cluster(connection, fields, paths, writer, opts, stats)
        if cluster is not None:
            from k8saudit_cli.cli.forensics_cluster import report

            report(cluster)
    fail_if_nothing_read(stats)


def _on_cluster(
    connection: Connection,
    specs: Sequence[str],
    paths: Sequence[str],
    writer: RowWriter,
    opts: dict[str, Any],
    stats: SelectionStats,
) -> ForensicCluster:
    """The rows of every chunk, selected on the cluster, written in input (or time) order."""
    from k8saudit_cli.cli.forensics_cluster import ForensicCluster, forensic_spec

    where = (opts["where"], "--where") if opts["where"] else None
    selection = selection_of(None, opts)  # the window; the condition travels as text
    sort = SortOptions(tmp_dir=opts["tmp_dir"]) if opts["sort"] else None
    mode: Mode = "sorted" if sort else "extract"
    spec = forensic_spec(mode, selection, opts["rules"], where, (specs, "-f"))
    cluster = ForensicCluster(connection)
    cluster.extract(paths, spec, writer, sort, stats)
    return cluster
