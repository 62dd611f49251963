"""What a detection run is asked to do, and where its alerts go.

:class:`RunOptions` holds the choices a run makes (time window, rule
matching, evaluator, decoding limits, processes); a sink is any callable
that takes each :class:`~k8saudit_cli.detect.Alert` in input order.
:class:`TextSink` is the sink for rendered output: a parallel run renders
in the worker processes and the parent only writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from k8saudit_cli.decode import DecodeOptions
from k8saudit_cli.detect import Alert

#: ``jobs`` meaning "as many processes as pay": every core for regular files of
#: :data:`AUTO_MIN_BYTES` or more in all, one process otherwise (stdin, small inputs).
AUTO_JOBS = -1
#: Below this much input, one process is faster than forking workers (docs/performance.md).
AUTO_MIN_BYTES = 64 << 20

#: Receives every alert of a run, in input order.
AlertSink = Callable[[Alert], object]


@dataclass(frozen=True)
class RunOptions:
    """``since_ns``/``until_ns`` bound the event time (inclusive, exclusive).

    ``rule_matching``: ``"all"`` reports every matching rule per event (our
    default), ``"first"`` only the first (Falco's default). ``evaluator``:
    ``"fast"`` (rule index and generated code) or ``"reference"`` (plain
    closures, for checking). ``jobs`` above 1 scans input files in that many
    processes, :data:`AUTO_JOBS` in as many as pay for themselves; events given
    as an iterable are always matched in this one.
    """

    since_ns: int | None = None
    until_ns: int | None = None
    rule_matching: Literal["all", "first"] = "all"
    evaluator: Literal["fast", "reference"] = "fast"
    decode: DecodeOptions = field(default_factory=DecodeOptions)
    jobs: int = 1

    def __post_init__(self) -> None:
        if self.rule_matching not in ("all", "first"):
            raise ValueError(f"rule_matching is 'all' or 'first', not {self.rule_matching!r}")
        if self.evaluator not in ("fast", "reference"):
            raise ValueError(f"evaluator is 'fast' or 'reference', not {self.evaluator!r}")
        if self.jobs < 1 and self.jobs != AUTO_JOBS:
            raise ValueError(f"jobs is at least 1 (or AUTO_JOBS), not {self.jobs}")


@dataclass(frozen=True)
class TextSink:
    """A sink that renders each alert to text and writes it."""

    render: Callable[[Alert], str]
    write: Callable[[str], object]

    def __call__(self, alert: Alert) -> None:
        self.write(self.render(alert))


def discard(alert: Alert) -> None:
    """The sink of a run that only wants the statistics."""
