"""``k8saudit stats``: event counts per group of field values, first and last time seen."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click
import orjson

from k8saudit_cli.cli.cluster_option import cluster_connection, cluster_option
from k8saudit_cli.cli.common import expanded, fail, output_option, output_path, rules_option
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
from k8saudit_cli.cli.scan_output import alert_output
from k8saudit_cli.errors import InputError
from k8saudit_cli.forensics.columns import Column
from k8saudit_cli.forensics.selection import Selection
from k8saudit_cli.forensics.stats import GroupCounts, group_counts
from k8saudit_cli.forensics.tabular import json_cell, text_cell

if TYPE_CHECKING:
    from k8saudit_cli.cluster import Connection

EPILOG = f"""\b
Examples:
  k8saudit stats audit.log --by ka.user.name,ka.verb
  k8saudit stats audit.log --by ka.sourceips --top 10
  k8saudit stats audit.log --by ka.user.name --where 'ka.response.code=403'
  k8saudit stats audit/ --by ka.user.name,ka.target.resource --format json

{INPUTS_HELP}
"""


@click.command("stats", epilog=EPILOG)
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option(
    "--by",
    "by",
    required=True,
    multiple=True,
    metavar="FIELD[,FIELD...]",
    help="Group by these fields (comma-separated or repeated).",
)
@where_option
@rules_option()
@window_options
@click.option("--top", type=click.IntRange(min=1), metavar="N", help="Only the N largest groups.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "tsv", "csv", "json"]),
    help="Default: a table on a terminal, tsv otherwise.",
)
@output_option()
@cluster_option()
def stats_command(inputs: tuple[str, ...], by: tuple[str, ...], **opts: Any) -> None:
    """Count events per value of the --by fields, largest groups first.

    Each group shows its count and the first and last time it was seen.
    Groups with equal counts keep the order in which they first appeared.
    """
    columns = columns_or_exit(split_by(by), "--by")
    where = compile_condition(opts["where"], "--where", opts["rules"]) if opts["where"] else None
    selection = selection_of(where, opts)
    paths = expanded(inputs)
    output = output_path(opts["output"])
    fmt = opts["fmt"] or ("table" if sys.stdout.isatty() and not output else "tsv")
    with cluster_connection(opts["cluster"], paths) as connection:
        try:
            if connection is None:
                counts = group_counts(paths, columns, selection, stats_to_stderr())
            else:
                counts = _on_cluster(connection, by, columns, selection, paths, opts)
        except InputError as exc:
            fail(str(exc))
    rows, result_columns = counts.rows(opts["top"]), counts.result_columns
    if fmt in ("tsv", "csv"):
        with table_output(fmt, output, result_columns) as writer:
            writer.write_rows(rows)
    else:
        with alert_output(output) as out:
            if fmt == "json":
                out.write(json_text(result_columns, rows))
            else:
                print_table(result_columns, rows, out)
    fail_if_nothing_read(counts.stats)


def _on_cluster(
    connection: Connection,
    by: Sequence[str],
    columns: Sequence[Column],
    selection: Selection,
    paths: Sequence[str],
    opts: dict[str, Any],
) -> GroupCounts:
    """The group counts of every chunk, counted on the cluster and added up in input order."""
    from k8saudit_cli.cli import forensics_cluster as fc

    where = (opts["where"], "--where") if opts["where"] else None
    spec = fc.forensic_spec("stats", selection, opts["rules"], where, (split_by(by), "--by"))
    cluster = fc.ForensicCluster(connection)
    counts = cluster.group_counts(paths, spec, columns, stats_to_stderr())
    fc.report(cluster)
    return counts


def split_by(by: Sequence[str]) -> list[str]:
    """``--by a,b --by c`` -> ``[a, b, c]`` (a comma inside brackets is part of an argument)."""
    out: list[str] = []
    for text in by:
        depth, start = 0, 0
        for i, c in enumerate(text):
            if c in "[(":
                depth += 1
            elif c in "])":
                depth -= 1
            elif c == "," and depth == 0:
                out.append(text[start:i])
                start = i + 1
        out.append(text[start:])
    return [s.strip() for s in out if s.strip()]


def json_text(columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> str:
    cells = [json_cell(c) for c in columns]
    objects = [
        {c.name: cell(v) for c, cell, v in zip(columns, cells, row, strict=True)} for row in rows
    ]
    return orjson.dumps(objects, option=orjson.OPT_INDENT_2).decode() + "\n"


def print_table(columns: Sequence[Column], rows: Sequence[Sequence[Any]], out: Any) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table()
    for c in columns:  # values fold rather than vanish when the terminal is narrow
        table.add_column(
            c.name,
            justify="right" if c.kind == "int" else "left",
            overflow="fold",
            min_width=min(len(c.name), 12),
        )
    cells = [text_cell(c) for c in columns]
    for row in rows:
        table.add_row(*(Text(cell(v)) for cell, v in zip(cells, row, strict=True)))
    Console(file=out).print(table)
