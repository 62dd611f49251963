"""Start-up of ``k8saudit scan`` on a one-line file with the default rules, warm cache.

Runs ``python -m k8saudit_cli scan <one line> --no-progress`` N times (after
two warm-up runs that fill the parse cache and the bytecode) and prints the
best and median wall and CPU times. With ``--baseline DIR`` (a checkout of
another version, e.g. ``git archive main | tar -x -C DIR``) the two trees run
alternately, each with its own cache directory, so machine noise hits both.

    python bench/startup.py --runs 20 --baseline /tmp/main-tree
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "attack-story.jsonl"


def run_once(tree: Path, cache: str, line_file: str) -> tuple[float, float]:
    env = {**os.environ, "PYTHONPATH": str(tree), "K8SAUDIT_CACHE_DIR": cache}
    env.pop("K8SAUDIT_NO_CACHE", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed package has its bytecode
    cmd = [sys.executable, "-m", "k8saudit_cli", "scan", line_file, "--no-progress"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, env=env, capture_output=True, check=True, cwd=tree)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall * 1000, cpu * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="another tree to compare with")
    opts = parser.parse_args()
    trees = {"this tree": ROOT}
    if opts.baseline:
        trees = {"baseline": opts.baseline.resolve(), **trees}
    with tempfile.TemporaryDirectory() as tmp:
        line_file = os.path.join(tmp, "one.jsonl")
        with SAMPLE.open("rb") as fh:
            Path(line_file).write_bytes(fh.readline())
        caches = {name: tempfile.mkdtemp(dir=tmp) for name in trees}
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
        for name, tree in trees.items():
            for _ in range(2):
                run_once(tree, caches[name], line_file)
        for _ in range(opts.runs):
            for name, tree in trees.items():
                times[name].append(run_once(tree, caches[name], line_file))
    for name, pairs in times.items():
        walls, cpus = [w for w, _ in pairs], [c for _, c in pairs]
        print(
            f"{name}: wall best {min(walls):.0f} ms, median {statistics.median(walls):.0f}; "
            f"cpu best {min(cpus):.0f} ms, median {statistics.median(cpus):.0f} "
            f"(of {opts.runs})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
