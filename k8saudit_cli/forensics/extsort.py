"""Rows ordered by event time, however many: an external merge sort through temporary files.

Rows arrive as ``(time_ns, row)``. Up to :data:`RUN_ROWS` of them are sorted
in memory; when there are more, each full run is written, sorted, to an
anonymous temporary file (pickled in blocks of :data:`BLOCK_ROWS`), and the
runs are merged with :func:`heapq.merge`, which holds one block per run.
Events with the same time keep their input order (the sort is stable).
Temporary files are removed when the merge ends, even part-way.
"""

from __future__ import annotations

import heapq
import pickle
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO, Any

#: Rows sorted in memory at a time (about 60 MiB for the default 12 columns).
RUN_ROWS = 100_000
#: Rows per pickle record in a run file: large enough to be cheap, small enough to merge in.
BLOCK_ROWS = 1000

Keyed = tuple[int, int, Any]  # (time_ns, input position, row)


def sorted_by_time(
    rows: Iterable[tuple[int, Any]], run_rows: int = RUN_ROWS, tmp_dir: str | None = None
) -> Iterator[Any]:
    """The rows in event-time order (input order among equal times)."""
    runs: list[IO[bytes]] = []
    try:
        last = _runs(rows, run_rows, tmp_dir, runs)
        if not runs:
            yield from (row for _, _, row in last)
            return
        merged = heapq.merge(*(_read_run(f) for f in runs), iter(last))
        yield from (row for _, _, row in merged)
    finally:
        for f in runs:
            f.close()


def _runs(
    rows: Iterable[tuple[int, Any]], run_rows: int, tmp_dir: str | None, runs: list[IO[bytes]]
) -> list[Keyed]:
    """Spill every full run to a file added to ``runs``; return the last run, sorted."""
    run: list[Keyed] = []
    for seq, (t, row) in enumerate(rows):
        run.append((t, seq, row))
        if len(run) >= run_rows:
            run.sort(key=_key)
            runs.append(_spill(run, tmp_dir))
            run = []
    run.sort(key=_key)
    return run


def _key(item: Keyed) -> tuple[int, int]:
    return item[0], item[1]


def _spill(run: list[Keyed], tmp_dir: str | None) -> IO[bytes]:
    f = tempfile.TemporaryFile(prefix="k8saudit-sort-", dir=tmp_dir)
    for i in range(0, len(run), BLOCK_ROWS):
        pickle.dump(run[i : i + BLOCK_ROWS], f, pickle.HIGHEST_PROTOCOL)
    f.seek(0)
    return f


def _read_run(f: IO[bytes]) -> Iterator[Keyed]:
    while True:
        try:
            block = pickle.load(f)
        except EOFError:
            return
        yield from block
