"""What ``extract``, ``query`` and ``stats`` share: options, condition errors, table outputs.

A condition or field that does not compile is shown like ``validate``
shows one (position, code, message, the line with a caret), then the
command exits 2. Tables go to stdout or ``-o FILE`` through the same
stream ``scan`` uses (a closed pipe ends the command quietly); Parquet
needs ``-o FILE``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

import click

from k8saudit_cli.cli.common import (
    decode_options,
    fail,
    input_format_options,
    load_ruleset,
    parse_when_option,
)
from k8saudit_cli.cli.scan_output import alert_output
from k8saudit_cli.decode import DEFAULT_MAX_EVENT_SIZE, Problems
from k8saudit_cli.empty_inputs import no_events_error
from k8saudit_cli.errors import Diagnostic, InputError, K8sAuditError
from k8saudit_cli.forensics.alert_rows import AlertRowSink, AlertTable
from k8saudit_cli.forensics.columns import Column, columns_of
from k8saudit_cli.forensics.condition import ConditionCompiler, ConditionProblem
from k8saudit_cli.forensics.selection import Selection, SelectionStats
from k8saudit_cli.forensics.tabular import RowWriter, text_writer
from k8saudit_cli.ruleset.compile import CompiledRule
from k8saudit_cli.run_options import AlertSink

_F = Callable[..., Any]

INPUTS_HELP = """\b
Inputs: files, directories (every regular file inside, in name order), globs
and '-' for stdin; gzip, bzip2 and xz are decompressed by content; EKS, GKE
and AKS exports and whole JSON documents are recognised (docs/input-formats.md). Conditions
use the rules language (see docs/rules-language.md) with the macros and lists
of the -r files (default: the built-in ruleset's, e.g. ka_verb_create,
ka_response_complete)."""


def window_options(command: _F) -> _F:
    """``--since``, ``--until``, ``--max-event-size`` and the input format options, as
    ``scan`` has them."""
    for option in reversed(
        (
            click.option(
                "--since", metavar="TIME", help="Only events at or after TIME (RFC 3339 or 2h)."
            ),
            click.option("--until", metavar="TIME", help="Only events before TIME."),
            click.option(
                "--max-event-size",
                type=click.IntRange(min=1),
                default=DEFAULT_MAX_EVENT_SIZE,
                show_default=True,
                metavar="BYTES",
                help="Skip events whose JSON is larger.",
            ),
        )
    ):
        command = option(command)
    return input_format_options(command)


def where_option(command: _F) -> _F:
    return click.option(
        "--where",
        metavar="CONDITION",
        help="Only events matching CONDITION (rules language; macros and lists of -r).",
    )(command)


def show_problem(problem: ConditionProblem, what: str) -> NoReturn:
    """Every diagnostic with its caret on stderr, then exit 2."""
    for d in problem.diagnostics:
        click.echo(d.render(), err=True)
    fail(f"invalid {what}")


def show_warnings(warnings: Sequence[Diagnostic]) -> None:
    for d in warnings:
        click.echo(d.render(), err=True)


def compile_condition(text: str, label: str, rules: Sequence[str]) -> Callable[[Any], Any]:
    """``text`` compiled with the macros and lists of ``rules``, or exit 2 with a caret."""
    ruleset = load_ruleset(rules)
    try:
        condition = ConditionCompiler(ruleset.collection).compile(text, label)
    except ConditionProblem as problem:
        show_problem(problem, f"{label} condition" if label.startswith("-") else "condition")
    show_warnings(condition.warnings)
    return condition.test


def columns_or_exit(specs: Sequence[str], label: str) -> list[Column]:
    try:
        return columns_of(specs, label)
    except ConditionProblem as problem:
        show_problem(problem, f"{label} field")


def selection_of(where: Callable[[Any], Any] | None, opts: dict[str, Any]) -> Selection:
    """The selection from ``--since``, ``--until``, ``--max-event-size`` and a condition."""
    return Selection(
        where,
        parse_when_option(opts["since"]),
        parse_when_option(opts["until"]),
        decode_options(opts, opts["max_event_size"]),
    )


def stats_to_stderr() -> SelectionStats:
    """Counters whose skipped-input warnings go to stderr as they happen."""
    return SelectionStats(problems=Problems(emit=lambda line: click.echo(line, err=True)))


def fail_if_nothing_read(stats: SelectionStats) -> None:
    """Exit 2 when not one event was read while some input held something (a cloud
    export, a README): an empty result must not pass for a quiet log."""
    nothing = no_events_error(stats.events_read, stats.problems)
    if nothing is not None:
        fail(nothing)


@contextmanager
def table_output(
    fmt: str, path: str | None, columns: Sequence[Column], header: bool = True
) -> Iterator[RowWriter]:
    """A writer of ``fmt`` on stdout or ``path``, closed (Parquet: footer written) at the end."""
    if fmt == "parquet":
        with _parquet_output(path, columns) as writer:
            yield writer
        return
    with alert_output(path) as out:
        writer = text_writer(fmt, out, columns, header)
        yield writer
        writer.close()


@contextmanager
def _parquet_output(path: str | None, columns: Sequence[Column]) -> Iterator[RowWriter]:
    from k8saudit_cli.forensics.parquet import ParquetWriter

    if not path or path == "-":
        fail("--format parquet writes a file: give -o FILE")
    try:
        writer = ParquetWriter(path, columns)
    except K8sAuditError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write '{path}': {exc.strerror or exc}")
    try:
        yield writer
    except InputError as exc:
        fail(str(exc))
    finally:
        writer.close()


@contextmanager
def alert_table(fmt: str, path: str | None, rules: Sequence[CompiledRule]) -> Iterator[AlertSink]:
    """A scan's sink writing each alert as a row of ``fmt`` (see :mod:`.alert_rows`)."""
    table = AlertTable(rules)
    with table_output(fmt, path, table.columns) as writer:
        yield AlertRowSink(table, writer)
