"""Rows ordered by event time, however many: an external merge sort through temporary files.

Rows arrive as ``(time_ns, row)``. Up to :data:`RUN_ROWS` of them are sorted
in memory; when there are more, each full run is written, sorted, to an
anonymous temporary file (pickled in blocks of :data:`BLOCK_ROWS`), and the
runs are merged with :func:`heapq.merge`, which holds one block per run.
More than :data:`FAN_IN` runs are first merged :data:`FAN_IN` at a time into
longer runs, so memory stays bounded whatever the input size. Events with
the same time keep their input order (every row carries its input position).
Temporary files are closed, and so removed, when the merge ends, even part-way.
"""

from __future__ import annotations

import heapq
import itertools
import pickle
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO, Any

#: Rows sorted in memory at a time (about 60 MiB for the default 12 columns).
RUN_ROWS = 50_000
#: Rows per pickle record in a run file: large enough to be cheap, small enough to merge in.
BLOCK_ROWS = 1000
#: Runs merged at once: the merge holds FAN_IN blocks.
FAN_IN = 32

Keyed = tuple[int, int, Any]  # (time_ns, input position, row)


def sorted_by_time(
    rows: Iterable[tuple[int, Any]], run_rows: int = RUN_ROWS, tmp_dir: str | None = None
) -> Iterator[Any]:
    """The rows in event-time order (input order among equal times)."""
    runs: list[IO[bytes]] = []
    try:
        last = _runs(rows, run_rows, tmp_dir, runs)
        _merge_down(runs, tmp_dir)
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


def _merge_down(runs: list[IO[bytes]], tmp_dir: str | None) -> None:
    """Merge runs :data:`FAN_IN` at a time until at most :data:`FAN_IN` are left."""
    while len(runs) > FAN_IN:
        group = runs[:FAN_IN]
        merged = _spill(heapq.merge(*(_read_run(f) for f in group)), tmp_dir)
        del runs[:FAN_IN]
        runs.append(merged)
        for f in group:
            f.close()


def _key(item: Keyed) -> tuple[int, int]:
    return item[0], item[1]


def _spill(items: Iterable[Keyed], tmp_dir: str | None) -> IO[bytes]:
    f = tempfile.TemporaryFile(prefix="k8saudit-sort-", dir=tmp_dir)
    it = iter(items)
    while block := list(itertools.islice(it, BLOCK_ROWS)):
        pickle.dump(block, f, pickle.HIGHEST_PROTOCOL)
    f.seek(0)
    return f


def _read_run(f: IO[bytes]) -> Iterator[Keyed]:
    while True:
        try:
            block = pickle.load(f)
        except EOFError:
            return
        yield from block
