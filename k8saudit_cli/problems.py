"""Skipped input, counted by reason and warned about (rate-limited); what each input was.

One broken line must not hide the rest of an incident's log, so nothing
here raises: every line, record or event that is not read is counted under
a reason, and the first few of each reason are warned about with their
place. :attr:`Problems.inputs` also records, per input, the format it was
read as and how many events it gave, for messages about an input that gave
none.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from k8saudit_cli.formats import KEPT, QUIET
from k8saudit_cli.formats import REASONS as FORMAT_REASONS

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
class Problems:
    """Counts of skipped input by reason, and the rate-limited warnings about them.

    ``emit`` receives each warning line (the CLI points it at stderr); a
    library user may leave it ``None`` and read :attr:`counts` afterwards.
    """

    emit: Callable[[str], None] | None = None
    limit: int = WARNINGS_PER_REASON
    counts: Counter[str] = field(default_factory=Counter)
    #: The first ``limit`` problems per reason as ``(reason, file, line, index, detail)``,
    #: kept so a parallel scan can replay them in input order.
    shown: list[tuple[str, str, int, int | None, str]] = field(default_factory=list)
    #: Each input read: file -> (the format it was read as, e.g. ``k8s/lines`` or
    #: ``gke-logentry/document`` (see ``formats.describe_format``), events it gave).
    inputs: dict[str, tuple[str, int]] = field(default_factory=dict)

    def add(
        self, reason: str, file: str, line: int, index: int | None = None, detail: str = ""
    ) -> None:
        self.counts[reason] += 1
        n = self.counts[reason]
        if reason in QUIET_REASONS:
            return
        if n > self.limit:
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
            self.emit(f"k8saudit: warning: {where}: {text}" + (f": {detail}" if detail else ""))

    def shows(self, reason: str) -> bool:
        """Whether the next problem of ``reason`` would be shown (not only counted)."""
        return self.counts[reason] < self.limit

    def note_input(self, file: str, fmt: str, events: int) -> None:
        """Record what ``file`` was read as and how many events it gave (added up when a
        file comes in several parts; the first part's format stands)."""
        seen = self.inputs.get(file)
        self.inputs[file] = (seen[0], seen[1] + events) if seen else (fmt, events)

    @property
    def skipped(self) -> int:
        """Number of skipped items (lines or events), excluding kept-with-warning ones."""
        return sum(n for r, n in self.counts.items() if r not in KEPT_REASONS)

    def final_lines(self) -> list[str]:
        """One ``count reason`` line per reason seen, for the end-of-run report."""
        return [f"{n} {REASONS.get(r, r)}" for r, n in sorted(self.counts.items())]
