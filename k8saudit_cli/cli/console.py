"""Where output goes and how it looks there: terminal or pipe, colour, plain lines, closed pipes.

A table is drawn with Rich only when stdout is a terminal; in a pipe or a
file it becomes plain lines, one record per line with tab-separated
columns, so ``grep``, ``cut`` and ``awk`` see every value whole (Rich would
wrap at 80 columns there). Colour follows ``--color``: ``auto`` colours a
terminal only, and never when ``NO_COLOR`` is set.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, NoReturn

from k8saudit_cli.escape import tsv_cell

if TYPE_CHECKING:
    from k8saudit_cli.detect import Alert

COLOR_CHOICES = ("auto", "always", "never")


def is_terminal(stream: IO[str] | None = None) -> bool:
    """Whether ``stream`` (default: stdout) is a terminal; a closed or fake stream is not."""
    stream = sys.stdout if stream is None else stream
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def use_color(choice: str, terminal: bool) -> bool:
    """``--color``: ``always``/``never`` as said; ``auto`` a terminal without ``NO_COLOR``."""
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR", ""):
        return False
    return terminal


def plain_format(fmt: str | None, table: str) -> str:
    """The format to use: what was asked for, else ``table`` on a terminal and ``tsv`` elsewhere."""
    if fmt is not None:
        return fmt
    return table if is_terminal() else "tsv"


def tsv_line(cells: Iterable[str]) -> str:
    """One record: the cells joined by tabs, with the newline."""
    return "\t".join(tsv_cell(c) for c in cells) + "\n"


# ------------------------------------------------------------------ colour

#: SGR parameters by priority (0 = Emergency ... 7 = Debug): the three most severe bold
#: red, then red, yellow, cyan; Informational stays plain, Debug is dim.
_PRIORITY_SGR = ("1;31", "1;31", "1;31", "31", "33", "36", "", "2")


@dataclass(frozen=True)
class ColoredAlerts:
    """Wraps an alert renderer so each text line is coloured by the rule's priority."""

    render: Callable[[Alert], str]

    def __call__(self, alert: Alert) -> str:
        line = self.render(alert)
        sgr = _PRIORITY_SGR[alert.rule.priority]
        if not sgr:
            return line
        body = line.rstrip("\n")  # the colour ends before the newline, so a pager keeps it per line
        return f"\x1b[{sgr}m{body}\x1b[0m{line[len(body) :]}"


# ------------------------------------------------------------------ closed pipes


def stdout_to_devnull() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush at exit cannot fail
    again (and print "Exception ignored ..." or exit 120)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass  # not a real file descriptor (a test runner's buffer): nothing to protect


def exit_on_broken_pipe() -> NoReturn:
    """The reader went away (``| head``): end quietly with 0, as other Unix tools do."""
    stdout_to_devnull()
    sys.exit(0)


def flush_stdout() -> None:
    """Flush what is buffered for stdout; a closed pipe ends the program quietly."""
    if sys.stdout is None:  # started with stdout closed: nothing was buffered
        return
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        exit_on_broken_pipe()
