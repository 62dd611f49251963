"""Helpers the Dask tests ship to workers (importable there by name: tests is a package)."""

from __future__ import annotations

import os
import signal
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin


class KillOnce(WorkerPlugin):
    """The first task to claim ``marker`` (by deleting it) kills its own worker process
    with SIGKILL, mid-task; every other task, and that task's rerun, scans as usual."""

    name = "k8saudit-kill-once"

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def setup(self, worker: Any) -> None:
        from k8saudit_cli.chunk_worker import ChunkWorker

        original = getattr(ChunkWorker, "_unpatched_run", ChunkWorker.run)
        marker = self.marker

        def run(self: ChunkWorker, chunk: Any) -> Any:
            try:
                os.unlink(marker)
            except FileNotFoundError:
                return original(self, chunk)
            os.kill(os.getpid(), signal.SIGKILL)
            raise AssertionError("unreachable")

        ChunkWorker._unpatched_run = original  # type: ignore[attr-defined]
        ChunkWorker.run = run  # type: ignore[method-assign]
