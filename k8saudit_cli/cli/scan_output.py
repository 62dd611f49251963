"""Where a scan's results go: the alert stream, the end-of-run report, the exit code."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

import click
import orjson

from k8saudit_cli import priority as prio
from k8saudit_cli.cli.common import fail
from k8saudit_cli.cli.console import exit_on_broken_pipe
from k8saudit_cli.errors import InputError
from k8saudit_cli.report import plain_text, print_rich, summary_json
from k8saudit_cli.run_stats import RunStats


@contextmanager
def alert_output(path: str | None) -> Iterator[IO[str]]:
    """The alert stream for the length of a run: FILE, or stdout.

    Unreadable input exits 2; a reader that closed the pipe (``| head``)
    ends the scan quietly with 0, as other Unix tools do.
    """
    out = _open_output(path)
    try:
        yield out
    except InputError as exc:
        fail(str(exc))
    except BrokenPipeError:
        _quiet_broken_pipe()
    finally:
        if out is not sys.stdout:
            out.close()
        else:
            _flush_stdout()


def _open_output(path: str | None) -> IO[str]:
    if not path:
        return sys.stdout
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write '{path}': {exc.strerror}")


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_broken_pipe()


def _quiet_broken_pipe() -> None:
    exit_on_broken_pipe()


def write_summary_json(stats: RunStats, path: str) -> None:
    """``--summary-json``: the report's numbers as indented JSON."""
    try:
        with open(path, "wb") as fh:
            fh.write(orjson.dumps(summary_json(stats), option=orjson.OPT_INDENT_2) + b"\n")
    except OSError as exc:
        fail(f"cannot write '{path}': {exc.strerror}")


def print_report(stats: RunStats) -> None:
    """The end-of-run report on stderr: tables at a terminal, Falco's text otherwise."""
    if sys.stderr.isatty():
        from rich.console import Console

        print_rich(stats, Console(stderr=True))
    else:
        sys.stderr.write(plain_text(stats))


def exit_policy(stats: RunStats, strict: bool, fail_on: int | None) -> None:
    """Exit 2 for skipped input under ``--strict``, 1 for an alert at or above ``--fail-on``."""
    if strict and stats.problems.skipped:
        fail(f"--strict: {stats.problems.skipped} input item(s) were skipped")
    if fail_on is not None and stats.most_severe is not None and stats.most_severe <= fail_on:
        click.echo(
            f"k8saudit: alerts at or above {prio.name(fail_on)}: failing (--fail-on)", err=True
        )
        sys.exit(1)
