"""The progress bar of a scan: one tqdm bar of input bytes on stderr, serial or parallel alike.

:class:`ProgressBar` takes a run's ``on_progress(done, total)`` reports and
prints the run's input warnings above the bar, so neither tears the other.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # tqdm is imported only when a bar is drawn
    from tqdm import tqdm


class ProgressBar:
    """A byte bar drawn from the first report on; ``shown=False`` only prints warnings."""

    def __init__(self, shown: bool = True) -> None:
        self.shown = shown
        self._bar: tqdm[None] | None = None

    def update(self, done: int, total: int) -> None:
        """``on_progress`` for :class:`~k8saudit_cli.detection_run.DetectionRun`."""
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                file=sys.stderr,
                leave=False,
                dynamic_ncols=True,
            )
        self._bar.n = min(total, done)
        self._bar.refresh()

    def echo(self, line: str) -> None:
        """Print a warning line on stderr, above the bar when there is one."""
        if self._bar is None:
            click.echo(line, err=True)
        else:
            self._bar.write(line, file=sys.stderr)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
