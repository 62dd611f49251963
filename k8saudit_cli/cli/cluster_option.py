"""``--cluster ADDRESS|local:N`` for ``scan``, ``extract``, ``query`` and ``stats``.

The option, the connection for the length of a command (a cluster that
cannot be reached or a missing ``dask`` extra is one line and exit 2), and
the lines a cluster run adds after the report. Without ``--cluster``
nothing here is imported beyond this module, and nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click

from k8saudit_cli.cli.common import fail, warn
from k8saudit_cli.errors import K8sAuditError
from k8saudit_cli.sources import needs_single_process

if TYPE_CHECKING:
    from k8saudit_cli.cluster import Connection, RuleSpec

_F = TypeVar("_F", bound=Callable[..., Any])


def cluster_option() -> Callable[[_F], _F]:
    return click.option(
        "--cluster",
        metavar="ADDRESS|local:N",
        help="Run on a Dask cluster: a scheduler address (tcp://host:8786), or local:N for N "
        "worker processes here. Inputs may then be URLs (s3://, gs://, az://, file://) the "
        "workers read themselves; output is exactly that of one process. Needs the 'dask' "
        "extra; see docs/scale-out.md.",
    )


@contextmanager
def cluster_connection(address: str | None, paths: Sequence[str]) -> Iterator[Connection | None]:
    """The connection to ``--cluster`` (``None`` without it), closed at the end.

    An input that can only be read here (stdin, a pipe) keeps the whole
    command here, with a warning, as ``--jobs`` does.
    """
    if not address:
        yield None
        return
    if needs_single_process(paths):
        warn("--cluster needs files or URLs; scanning here (a pipe is read once)")
        yield None
        return
    from k8saudit_cli.cluster import connect

    try:
        connection = connect(address)
    except K8sAuditError as exc:
        fail(str(exc))
    try:
        yield connection
    finally:
        connection.close()


def rule_spec(rules: Sequence[str], steps: Sequence[Any] = (), min_priority: int = 7) -> RuleSpec:
    """The rules files' text (what the workers compile), or exit 2 if one cannot be read."""
    from k8saudit_cli.cluster import RuleSpec

    try:
        return RuleSpec.from_paths(rules, steps, min_priority)
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read the rules files for the cluster: {exc}")


def echo_cluster_report(lines: Sequence[str]) -> None:
    """The lines a cluster run adds after the report (scheduler, dashboard, each worker)."""
    for line in lines:
        click.echo(line, err=True)
