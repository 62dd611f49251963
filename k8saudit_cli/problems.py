"""Skipped input, counted by reason and warned about (rate-limited); what each input was.

One broken line must not hide the rest of an incident's log, so nothing
here raises: every line, record or event that is not read is counted under
a reason, and the first few of each reason are warned about with their
place. Per input, :class:`Problems` also keeps what was skipped by reason,
its lines and events (:attr:`Problems.inputs`) and the format it was read
as (:attr:`Problems.formats`), so an input that gave no event can be
described.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from k8saudit_cli.escape import visible
from k8saudit_cli.formats import KEPT, QUIET
from k8saudit_cli.formats import REASONS as FORMAT_REASONS

if TYPE_CHECKING:
    from k8saudit_cli.sources import Input

WARNINGS_PER_REASON = 20

#: Why input was skipped (or, for the kept reasons, kept with a warning).
REASONS: dict[str, str] = {
    "invalid_json": "invalid JSON",
    "invalid_utf8": "invalid UTF-8",
    "nul_byte": "NUL byte in line",
    "too_deep": "JSON nesting too deep",
    "not_audit_event": "data not recognized as a k8s audit event",
    "legacy_format": "legacy text audit format (not JSON)",
    "too_large": "event larger than --max-event-size",
    "no_timestamp": "no usable timestamp",
    "truncated_stream": "truncated or corrupt compressed stream",
    "read_error": "read error",
    "binary_input": "unsupported compression or binary file",
    "decompression_bomb": "compressed data inflates too far without a line break",
    "time_fallback": "stageTimestamp missing or unparsable, used a fallback time",
    **FORMAT_REASONS,
}

#: Reasons that do not drop anything.
KEPT_REASONS = frozenset({"time_fallback"}) | KEPT
#: Reasons only counted, never warned about item by item (other kinds of records that
#: cloud exports normally hold).
QUIET_REASONS = QUIET


@dataclass
class InputTally:
    """What one input gave when read to its end: lines (blank ones too) and events."""

    lines: int = 0
    events: int = 0


@dataclass
class Problems:
    """Counts of skipped input by reason and by input, and the rate-limited warnings.

    ``emit`` receives each warning line (the CLI points it at stderr); a
    library user may leave it ``None`` and read :attr:`counts` afterwards.
    :attr:`by_file` and :attr:`inputs` say, per input, what was skipped and
    what was read, so an input that gave no event can be described.
    """

    emit: Callable[[str], None] | None = None
    limit: int = WARNINGS_PER_REASON
    counts: Counter[str] = field(default_factory=Counter)
    #: The first ``limit`` problems per reason as ``(reason, file, line, index, detail)``,
    #: kept so a parallel scan can replay them in input order.
    shown: list[tuple[str, str, int, int | None, str]] = field(default_factory=list)
    #: The first problem per reason past ``limit``, with its place in :attr:`shown`:
    #: where a serial scan says further warnings are not shown.
    first_hidden: list[tuple[int, tuple[str, str, int, int | None, str]]] = field(
        default_factory=list
    )
    #: Counts by ``(file, reason)``, added as each input ends (see :meth:`tally`):
    #: nothing more per problem or per event.
    by_file: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: Lines and events of each input read to its end, by name, in reading order.
    inputs: dict[str, InputTally] = field(default_factory=dict)
    #: The format each input was read as, e.g. ``k8s/lines`` or ``gke-logentry/document``
    #: (see ``formats.format_label``; the first part's format stands for a split file).
    formats: dict[str, str] = field(default_factory=dict)

    def add(
        self, reason: str, file: str, line: int, index: int | None = None, detail: str = ""
    ) -> None:
        self.counts[reason] += 1
        n = self.counts[reason]
        if reason in QUIET_REASONS:
            return
        if n > self.limit:
            if n == self.limit + 1:
                self.first_hidden.append((len(self.shown), (reason, file, line, index, detail)))
            if n == self.limit + 1 and self.emit is not None:
                text = REASONS.get(reason, reason)
                self.emit(
                    f"k8saudit: warning: further '{text}' warnings are not shown "
                    "(counted in the summary)"
                )
            return
        self.shown.append((reason, file, line, index, detail))
        if self.emit is not None:
            text = REASONS.get(reason, reason)
            where = f"{file}:{line}" + (f"[{index}]" if index is not None else "")
            message = f"k8saudit: warning: {where}: {text}" + (f": {detail}" if detail else "")
            self.emit(visible(message))  # file names and details may hold any character

    def shows(self, reason: str) -> bool:
        """Whether the next problem of ``reason`` would be shown (not only counted)."""
        return self.counts[reason] < self.limit

    def tally(self, file: str, lines: int, events: int, skipped: Mapping[str, int]) -> None:
        """Count what an input (or a part of it: the counts add up) gave: lines,
        events, and the problems met in it by reason."""
        seen = self.inputs.setdefault(file, InputTally())
        seen.lines += lines
        seen.events += events
        for reason, n in skipped.items():
            if n:
                self.by_file[file, reason] += n

    def note_format(self, file: str, fmt: str) -> None:
        """Record what ``file`` (or a part of it) was read as. Of a split file's parts,
        the first that met a cloud shape stands, else the first with events, as a
        serial read names the whole file."""
        seen = self.formats.get(file)
        if seen is None or _format_rank(fmt) > _format_rank(seen):
            self.formats[file] = fmt

    @property
    def skipped(self) -> int:
        """Number of skipped items (lines or events), excluding kept-with-warning ones."""
        return sum(n for r, n in self.counts.items() if r not in KEPT_REASONS)

    def final_lines(self) -> list[str]:
        """One ``count reason`` line per reason seen, for the end-of-run report."""
        return [f"{n} {REASONS.get(r, r)}" for r, n in sorted(self.counts.items())]


def _format_rank(fmt: str) -> int:
    """Which label of a split file's parts names it: a cloud shape, then audit events."""
    shape = fmt.partition("/")[0]
    return 0 if shape == "unknown" else 1 if shape == "k8s" else 2


def input_done(
    inp: Input,
    problems: Problems,
    before: tuple[int, Counter[str]],
    events: int,
    lines: int | None = None,
) -> None:
    """Record how an input read to its end went: why it stopped early, if it did
    (a read error, a truncated stream...), and what it gave. ``before``: the event
    count and the problem counts when it began, ``events`` the event count now;
    ``lines``: its lines, by default those its line reader counted."""
    if inp.error is not None:
        problems.add(inp.error.reason, inp.name, inp.error.line, None, inp.error.detail)
    if lines is None:
        lines = inp.reader.count if inp.reader is not None else 0
    problems.tally(inp.name, lines, events - before[0], problems.counts - before[1])
