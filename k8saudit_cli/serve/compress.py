"""Closed archive files gzip-compressed in the background, never leaving a gap or a duplicate.

For ``X.jsonl``: compress into the work directory and sync, rename the
result over ``X.jsonl`` (one atomic step: the same name now holds the gzip
form, which ``scan`` recognises by its magic bytes), then rename it to
``X.jsonl.gz``. Killed at any point, the directory holds each line exactly
once; :meth:`Archive.open` finishes the last rename and clears the work
directory. The thread runs at a lower CPU priority than the receiver.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import queue
import shutil
import threading
from collections.abc import Callable

from k8saudit_cli.serve.archive import WORK_DIR, fsync_dir

CHUNK = 1 << 20


def compress_file(path: str, level: int) -> int:
    """Replace ``path`` by ``path.gz`` as described above; the compressed size."""
    directory, name = os.path.split(path)
    tmp = os.path.join(directory, WORK_DIR, name + ".gz")
    try:
        size = _gzip_to(path, tmp, name, level)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)  # a full disk must not also keep the half-written copy
        raise
    os.rename(tmp, path)
    fsync_dir(directory)
    os.rename(path, path + ".gz")
    fsync_dir(directory)
    return size


def _gzip_to(path: str, tmp: str, name: str, level: int) -> int:
    """``path`` gzip-compressed into ``tmp``, synced; the compressed size."""
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    with open(path, "rb") as src, open(fd, "wb") as raw:
        with gzip.GzipFile(name, "wb", level, raw, mtime=0) as gz:
            shutil.copyfileobj(src, gz, CHUNK)
        raw.flush()
        os.fsync(raw.fileno())
        return raw.tell()


def _lower_priority() -> None:
    """Nice this thread only (Linux applies setpriority to one thread by its id)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):
        pass


class Compressor:
    """A background thread compressing the files it is given, in order.

    ``on_error(message)`` hears about a file that could not be compressed
    (it stays plain and readable). Counters are read by the metrics.
    """

    def __init__(self, level: int, on_error: Callable[[str], object] | None = None) -> None:
        self.level = level
        self.on_error = on_error
        self.files_compressed = 0
        self.bytes_compressed = 0
        self._queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="k8saudit-compress", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, path: str) -> None:
        if self.level > 0:
            self._queue.put(path)

    def close(self) -> None:
        """Compress what was submitted, then stop."""
        if self._thread.ident is not None:
            self._queue.put(None)
            self._thread.join()

    def _run(self) -> None:
        _lower_priority()
        while (path := self._queue.get()) is not None:
            try:
                self.bytes_compressed += compress_file(path, self.level)
                self.files_compressed += 1
            except OSError as exc:
                if self.on_error is not None:
                    self.on_error(f"cannot compress {path}: {exc}")
