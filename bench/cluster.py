#!/usr/bin/env python3
"""Benchmark ``scan --cluster local:N`` against one process (not run in CI).

Measures, on a corpus of --files files of --events events each (made with
gen_corpus.py, seeds 1..N, about 197 MB per 200k events):

  serial    k8saudit scan DIR (one process); wall time, the report's "Elapsed",
            and the CPU time of every process
  cluster   k8saudit scan DIR --cluster local:W (W worker processes, one thread each),
            wall time including the cluster's start, and the report's own
            "Elapsed" (the scan alone)
  running   k8saudit scan DIR --cluster tcp://... on a cluster already running (a
            LocalCluster of W workers started by this script, its rules warmed up):
            what a scan on a standing cluster costs
  overhead  the cost of one task: --tasks tiny files (one event each) scanned on the
            cluster, wall time of the scan divided by the number of tasks (their work
            is nothing, so what is left is scheduling, transfer and the in-order merge)

Both scans must print the same alerts (compared by hash) and, but for the
clock, the same report. Prints a table and, with --json, writes the figures.

    python bench/cluster.py                       # 10 x 200k events, 2 workers
    python bench/cluster.py --files 2 --events 20000 --keep /tmp/corpus
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
K8SAUDIT = [sys.executable, "-m", "k8saudit_cli"]
ELAPSED = re.compile(r"^Elapsed: ([0-9.]+) s.*$", re.M)


def make_corpus(folder: Path, files: int, events: int) -> int:
    """--files corpus files; their total size."""
    folder.mkdir(parents=True, exist_ok=True)
    total = 0
    for seed in range(1, files + 1):
        out = folder / f"audit-{seed:02d}.jsonl"
        if not out.exists():
            subprocess.run(
                [sys.executable, str(HERE / "gen_corpus.py"), "-n", str(events), "--seed",
                 str(seed), "-o", str(out), "-q"],
                check=True,
            )  # fmt: skip
        total += out.stat().st_size
    return total


def timed_scan(args: list[str], repeat: int) -> tuple[float, str, str, float]:
    """(wall seconds, sha256 of stdout, stderr, CPU seconds of every process) of the
    fastest of ``repeat`` runs of ``k8saudit scan``."""
    env = {**os.environ, "TZ": "UTC"}
    best: tuple[float, str, str, float] | None = None
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run([*K8SAUDIT, "scan", *args, "--no-progress"], capture_output=True,
                              env=env, check=True)  # fmt: skip
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)  # workers included: all reaped
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        run = (wall, hashlib.sha256(done.stdout).hexdigest(), done.stderr.decode(), cpu)
        if best is None or run[0] < best[0]:
            best = run
    assert best is not None
    return best


def elapsed(report: str) -> float:
    m = ELAPSED.search(report)
    return float(m.group(1)) if m else float("nan")


def running_cluster(
    corpus: Path, workers: int, repeat: int
) -> tuple[tuple[float, str, str, float], dict[str, float]]:
    """The scan with ``--cluster tcp://...`` on a cluster that is already running (its
    start not paid by the scan): a LocalCluster of this process, workers warmed up.
    Also where the CPU of the fastest run went: the client, the workers, the scheduler."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None) as lc:
        with Client(lc) as client:
            first = sorted(corpus.iterdir())[0]
            timed_scan([str(first), "--cluster", lc.scheduler_address], 1)  # rules built once
            best: tuple[tuple[float, str, str, float], dict[str, float]] | None = None
            for _ in range(repeat):
                before = _cluster_cpu(client)
                run = timed_scan([str(corpus), "--cluster", lc.scheduler_address], 1)
                after = _cluster_cpu(client)
                cpu = {k: round(after[k] - before[k], 2) for k in after}
                cpu["client_cpu_s"] = round(run[3], 2)
                if best is None or run[0] < best[0][0]:
                    best = (run, cpu)
            assert best is not None
            return best


def _cluster_cpu(client: object) -> dict[str, float]:
    """CPU seconds so far of the worker processes (together) and of the scheduler."""

    def used() -> float:
        me = resource.getrusage(resource.RUSAGE_SELF)
        return me.ru_utime + me.ru_stime

    per_worker = client.run(used)  # type: ignore[attr-defined]
    scheduler = client.run_on_scheduler(used)  # type: ignore[attr-defined]
    return {"workers_cpu_s": sum(per_worker.values()), "scheduler_cpu_s": scheduler}


def task_overhead(folder: Path, tasks: int, workers: int) -> dict[str, float]:
    """Wall time per task of a cluster scan of ``tasks`` one-event files."""
    from k8saudit_cli.cluster import ClusterScan, RuleSpec, connected
    from k8saudit_cli.detection_run import DetectionRun

    folder.mkdir(parents=True, exist_ok=True)
    line = (HERE.parent / "samples" / "attack-story.jsonl").read_bytes().split(b"\n", 1)[0]
    for i in range(tasks):
        (folder / f"tiny-{i:05d}.jsonl").write_bytes(line + b"\n")
    paths = sorted(str(p) for p in folder.iterdir())
    spec = RuleSpec.from_paths([])
    with connected(f"local:{workers}") as connection:
        scan = ClusterScan(connection, spec)
        DetectionRun(spec.load(), cluster=scan).scan_paths(paths[: workers * 4])  # warm up
        start = time.perf_counter()
        DetectionRun(spec.load(), cluster=scan).scan_paths(paths)
        wall = time.perf_counter() - start
    start = time.perf_counter()
    DetectionRun(spec.load()).scan_paths(paths)
    serial = time.perf_counter() - start
    return {"tasks": scan.tasks, "ms_per_task": 1000 * wall / scan.tasks,
            "serial_ms_per_file": 1000 * serial / len(paths)}  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=10)
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--tasks", type=int, default=400, help="tiny tasks for the overhead line")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each scan; the fastest counts")
    ap.add_argument("--keep", metavar="DIR", help="make (or reuse) the corpus here, keep it")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    opts = ap.parse_args()
    root = Path(opts.keep) if opts.keep else Path(tempfile.mkdtemp(prefix="k8saudit-cluster-"))
    try:
        corpus = root / "corpus"
        size = make_corpus(corpus, opts.files, opts.events)
        serial = timed_scan([str(corpus), "--jobs", "1"], opts.repeat)  # auto is the default now
        cluster = timed_scan([str(corpus), "--cluster", f"local:{opts.workers}"], opts.repeat)
        running, running_cpu = running_cluster(corpus, opts.workers, opts.repeat)
        same_alerts = serial[1] == cluster[1] == running[1]
        same_report = ELAPSED.sub("", serial[2]) == ELAPSED.sub("", cluster[2].split("Dask")[0])
        overhead = task_overhead(root / "tiny", opts.tasks, opts.workers)
    finally:
        if not opts.keep:
            shutil.rmtree(root, ignore_errors=True)
    figures = {
        "files": opts.files,
        "events": opts.files * opts.events,
        "bytes": size,
        "workers": opts.workers,
        "serial_wall_s": round(serial[0], 2),
        "serial_elapsed_s": elapsed(serial[2]),
        "cluster_wall_s": round(cluster[0], 2),
        "cluster_elapsed_s": elapsed(cluster[2]),
        "speedup_wall": round(serial[0] / cluster[0], 2),
        "speedup_elapsed": round(elapsed(serial[2]) / elapsed(cluster[2]), 2),
        "running_cluster_wall_s": round(running[0], 2),
        "speedup_running_cluster": round(serial[0] / running[0], 2),
        **{f"running_{k}": v for k, v in running_cpu.items()},
        "serial_cpu_s": round(serial[3], 2),
        "cluster_cpu_s": round(cluster[3], 2),
        "load_average_1m": os.getloadavg()[0],
        "same_alerts": same_alerts,
        "same_report": same_report,
        **{k: round(v, 2) for k, v in overhead.items()},
    }
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    print(cluster[2][cluster[2].find("Dask cluster") :].rstrip())
    if opts.json:
        Path(opts.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if same_alerts and same_report else 1


if __name__ == "__main__":
    sys.exit(main())
