"""SIGINT and SIGTERM for the command line: stop the work, remember the signal, exit 130 or 143.

While a command runs, the first SIGINT (Ctrl-C) or SIGTERM raises
KeyboardInterrupt in the main thread: a detection run turns it into an
interrupted run and the command prints what it scanned; anything else ends
the command with ``k8saudit: interrupted``. The exit code is 128 plus the
signal's number, as a shell reports a process the signal ended. A second
signal ends the process at once (for a scan stuck writing to a stalled pipe).
Once the command is over, a process that is about to exit ignores both: its
result is complete and its exit code already decided.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: The signals received since :func:`handled` was entered, first one first.
_received: list[int] = []
#: Set by :func:`result_decided`: a first signal is noted, not raised.
_decided: list[bool] = []


@contextmanager
def handled(exiting_after: bool = False) -> Iterator[None]:
    """Our handlers for the length of a command (only the main thread can set them).

    Afterwards the previous handlers are back, or with ``exiting_after``
    (the process's own command, about to exit) both signals are ignored.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in _SIGNALS}
    _received.clear()
    _decided.clear()
    for sig in _SIGNALS:
        signal.signal(sig, _on_signal)
    try:
        yield
    finally:
        _decided.clear()
        for sig, handler in previous.items():
            if exiting_after or handler is None:
                handler = signal.SIG_IGN if exiting_after else signal.SIG_DFL
            signal.signal(sig, handler)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    if _received:
        os._exit(128 + signum)
    _received.append(signum)
    if not _decided:
        raise KeyboardInterrupt


def result_decided() -> None:
    """The run is over: what is left (closing the output, the summary, the report) must
    not be cut by a late first signal, which would leave a complete scan without its
    summary. A second signal still ends the process at once (a stalled stderr)."""
    _decided.append(True)


def exit_code() -> int:
    """128 + the first signal received; 130 (SIGINT) for a KeyboardInterrupt of other origin."""
    return 128 + (_received[0] if _received else signal.SIGINT)
