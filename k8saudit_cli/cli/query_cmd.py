"""``k8saudit query``: the events matching a condition, as their JSON lines (jq's ``select``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from k8saudit_cli.cli.cluster_option import cluster_connection, cluster_option
from k8saudit_cli.cli.common import expanded, output_option, rules_option
from k8saudit_cli.cli.forensics_common import (
    INPUTS_HELP,
    compile_condition,
    fail_if_nothing_read,
    selection_of,
    stats_to_stderr,
    window_options,
)
from k8saudit_cli.cli.scan_output import alert_output
from k8saudit_cli.forensics.query import count, query
from k8saudit_cli.forensics.selection import Selection, SelectionStats

if TYPE_CHECKING:
    from k8saudit_cli.cluster import Connection
    from k8saudit_cli.forensics.chunk_select import Mode

EPILOG = f"""\b
Examples:
  k8saudit query 'ka.user.name="system:serviceaccount:ci:deployer"' audit/
  k8saudit query 'ka_verb_create and ka.target.resource=pods' audit.log | jq .objectRef
  k8saudit query 'ka.response.code=403' --count 'audit-*.log.gz'

{INPUTS_HELP}
"""


@click.command("query", epilog=EPILOG)
@click.argument("condition", metavar="CONDITION")
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@rules_option()
@window_options
@click.option("--count", "count_only", is_flag=True, help="Print only the number of matches.")
@output_option()
@cluster_option()
def query_command(condition: str, inputs: tuple[str, ...], **opts: Any) -> None:
    """Print the events matching CONDITION, one JSON document per line.

    An event that is a line of its own is printed as that line, byte for
    byte. An item of an EventList (a webhook batch) or of an array is
    printed as its compact JSON, one item per line.
    """
    where = compile_condition(condition, "CONDITION", opts["rules"])
    selection = selection_of(where, opts)
    paths = expanded(inputs)
    stats = stats_to_stderr()
    with cluster_connection(opts["cluster"], paths) as connection:
        if connection is not None:
            _query_on_cluster(connection, condition, paths, selection, opts, stats)
        else:
            _query_here(paths, selection, opts, stats)
    fail_if_nothing_read(stats)


def _query_here(
    paths: list[str], selection: Selection, opts: dict[str, Any], stats: SelectionStats
) -> None:
    with alert_output(opts["output"]) as out:
        if opts["count_only"]:
            out.write(f"{count(paths, selection, stats).events_selected}\n")
            return
        out.flush()  # bytes go under the text layer from here on
        query(paths, selection, out.write_bytes, stats)


def _query_on_cluster(
    connection: Connection,
    condition: str,
    paths: list[str],
    selection: Selection,
    opts: dict[str, Any],
    stats: SelectionStats,
) -> None:
    """``query`` as chunk tasks on the cluster: the same output, in input order."""
    from k8saudit_cli.cli import forensics_cluster as fc

    mode: Mode = "count" if opts["count_only"] else "query"
    spec = fc.forensic_spec(mode, selection, opts["rules"], (condition, "CONDITION"))
    cluster = fc.ForensicCluster(connection)
    with alert_output(opts["output"]) as out:
        if opts["count_only"]:
            cluster.query(paths, spec, out.write_bytes, stats)
            out.write(f"{stats.events_selected}\n")
        else:
            out.flush()  # bytes go under the text layer from here on
            cluster.query(paths, spec, out.write_bytes, stats)
    fc.report(cluster)
