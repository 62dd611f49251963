"""``--cluster`` for ``extract``, ``query`` and ``stats``: the command as chunk tasks on Dask.

Each command compiles its condition and columns here first, as without a
cluster (mistakes are shown with their caret, exit 2), then ships their
text (:class:`~k8saudit_cli.forensics.chunk_select.ForensicSpec`) to the
workers, which compile them again. The output is that of one process; the
cluster's own lines (scheduler, tasks per worker) follow on stderr.
"""

from __future__ import annotations

from collections.abc import Sequence

from k8saudit_cli.cli.cluster_option import echo_cluster_report, rule_spec
from k8saudit_cli.forensics.chunk_select import ForensicSpec, Mode
from k8saudit_cli.forensics.cluster_run import ForensicCluster, describe

__all__ = ["ForensicCluster", "forensic_spec", "report"]
from k8saudit_cli.forensics.selection import Selection


def forensic_spec(
    mode: Mode,
    selection: Selection,
    rules: Sequence[str],
    where: tuple[str, str] | None = None,
    columns: tuple[Sequence[str], str] = ((), "-f"),
) -> ForensicSpec:
    """The spec of a command: ``where`` is (condition text, its label), ``columns``
    (field specs, their option)."""
    return ForensicSpec(
        mode,
        rule_spec(rules) if where is not None else None,
        where[0] if where is not None else None,
        where[1] if where is not None else "--where",
        tuple(columns[0]),
        columns[1],
        selection.since_ns,
        selection.until_ns,
        selection.decode,
    )


def report(cluster: ForensicCluster) -> None:
    echo_cluster_report(describe(cluster))
