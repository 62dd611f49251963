"""``--cluster ADDRESS`` or ``local:N``: a Dask client, and the local cluster it may start.

``tcp://host:8786`` (or ``tls://...``, or any address ``distributed``
takes) connects to a running scheduler; ``local:N`` starts a
``distributed.LocalCluster`` of N worker processes with one thread each,
stopped again when the connection closes. ``dask[distributed]`` is an
optional extra: without it, a one-line error names it. Dask's own log
lines are kept to errors, so that stderr holds what a scan without a
cluster prints.
"""

from __future__ import annotations

import importlib
import logging
import re
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from k8saudit_cli.errors import K8sAuditError

_LOCAL = re.compile(r"local(?::(\d+))?\Z")
#: Seconds to wait for a scheduler (or a local cluster's workers) to answer.
CONNECT_TIMEOUT = 30
MISSING_DASK = "--cluster needs dask.distributed: pip install 'k8saudit[dask]'"


class ClusterError(K8sAuditError):
    """The cluster cannot be reached, started or used."""

    code = "CLUSTER"


@dataclass
class Connection:
    """A Dask client; ``local`` is the cluster this connection started (``None``: remote)."""

    client: Any
    local: Any = None

    @property
    def address(self) -> str:
        return str(self.client.scheduler.address)

    def threads(self) -> int:
        """Worker threads of the cluster now (at least 1)."""
        return max(1, int(sum(self.client.nthreads().values())))

    def dashboard(self) -> str | None:
        """The link of the scheduler's dashboard, when it serves one."""
        try:
            services = self.client.scheduler_info().get("services", {})
        except Exception:  # the dashboard is a nicety: never a reason to fail
            return None
        return str(self.client.dashboard_link) if "dashboard" in services else None

    def close(self) -> None:
        self.client.close()
        if self.local is not None:
            self.local.close()


def parse_address(text: str) -> tuple[str, int | None]:
    """``local:N`` -> ``("local", N)``; anything else is a scheduler address."""
    m = _LOCAL.match(text.strip())
    if m is None:
        return text.strip(), None
    workers = int(m.group(1) or 0)
    if workers < 1:
        raise ClusterError(f"--cluster local:N needs a number of workers, not '{text}'")
    return "local", workers


def dask_distributed() -> Any:
    """The ``distributed`` module; :class:`ClusterError` naming the extra when it is missing."""
    try:
        return importlib.import_module("distributed")
    except ImportError:
        raise ClusterError(MISSING_DASK) from None


def connect(address: str) -> Connection:
    """A client of ``address`` (``local:N`` starts the cluster first)."""
    distributed = dask_distributed()
    logging.getLogger("distributed").setLevel(logging.ERROR)
    target, workers = parse_address(address)
    if workers is not None:
        return _local(distributed, workers)
    try:
        return Connection(distributed.Client(target, timeout=CONNECT_TIMEOUT))
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler '{target}': {exc}") from None


def _local(distributed: Any, workers: int) -> Connection:
    """N worker processes of one thread each; they ignore Ctrl-C (the client decides)."""
    with _sigint_ignored():
        try:
            local = distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                silence_logs=logging.CRITICAL,  # a worker's death is the client's to report
                dashboard_address=":0",
            )
        except (OSError, TimeoutError) as exc:
            raise ClusterError(f"cannot start a local Dask cluster: {exc}") from None
    return Connection(distributed.Client(local, timeout=CONNECT_TIMEOUT), local)


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored while worker processes start: they inherit it, so a Ctrl-C at the
    terminal reaches only this process, which cancels the tasks and closes the cluster."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def connected(address: str) -> Iterator[Connection]:
    """:func:`connect` for the length of a ``with`` block."""
    connection = connect(address)
    try:
        yield connection
    finally:
        connection.close()
