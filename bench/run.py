#!/usr/bin/env python3
"""Benchmark k8saudit against the cost of just decoding its input.

Measures, in one run and on one corpus:

  floor     read the file line by line (binary) and orjson.loads each line in
            a plain Python loop: the least any Python scanner must spend
  default   k8saudit scan CORPUS --no-summary --no-progress --format json
            -o /dev/null (built-in ruleset: rules and aggregations)
  noagg     the same with -r rules/k8s_audit_rules.yaml: the built-in rules
            without the aggregations (the difference is their cost)
  upstream  the same with -r ../shared/conformance/upstream-current/k8s_audit_rules.yaml
  jobs2     the default ruleset with --jobs 2
  nofast    the default ruleset with --no-fast-path (the reference evaluator)
  jq        jq -c 'select(...)' with one equivalent rule (privileged pod creation)
  startup   k8saudit scan of an empty file: the fixed cost of every run
  load      load_rules() of the upstream ruleset, timed in-process (median of 5 runs)

Every measurement runs in its own child process: wall time is the best of
--repeat runs, peak RSS the child's ru_maxrss (from os.wait4; for --jobs it
is the largest single process, not the sum). Ratios are to the floor
measured in the same run. The page cache is warm: the floor runs first and
reads the whole file before anything is timed.

    python bench/run.py                      # 200k-event corpus in a temp dir
    python bench/run.py /tmp/audit.jsonl --json /tmp/bench.json
    python bench/run.py --smoke              # 2000 events, 1 repeat (CI)

Standard library and orjson only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
UPSTREAM_RULES = "../shared/conformance/upstream-current/k8s_audit_rules.yaml"  # relative to REPO

SCAN_FLAGS = ["--no-summary", "--no-progress", "--format", "json", "-o", "/dev/null"]

# The decode floor, run with the same interpreter as k8saudit. Prints the
# number of lines, their total size and the time spent in the loop alone.
FLOOR_SRC = r"""
import sys, time
from orjson import loads
path = sys.argv[1]
with open(path, "rb") as fh:
    gz = fh.read(2) == b"\x1f\x8b"
if gz:
    import gzip
    fh = gzip.open(path, "rb")
else:
    fh = open(path, "rb")
n = size = 0
t0 = time.perf_counter()
with fh:
    for line in fh:
        loads(line)
        n += 1
        size += len(line)
print(n, size, time.perf_counter() - t0)
"""

# Loads the upstream ruleset once and times only the load_rules() call.
LOAD_SRC = r"""
import sys, time
from k8saudit_cli.ruleset import load_rules
t0 = time.perf_counter()
rs = load_rules([sys.argv[1]])
dt = time.perf_counter() - t0
print(dt, len(rs.rules))
"""

# Falco's "Create Privileged Pod" core, without its image exceptions:
# a completed create of a pod (not a subresource) where any container,
# init container or ephemeral container asks for securityContext.privileged.
JQ_FILTER = (
    'select(.stage == "ResponseComplete" and .verb == "create"'
    ' and .objectRef.resource == "pods" and .objectRef.subresource == null'
    " and any(.requestObject.spec? // {}"
    " | (.containers // [])[], (.initContainers // [])[], (.ephemeralContainers // [])[];"
    " .securityContext.privileged? == true))"
)


@dataclass
class Result:
    name: str
    what: str
    command: list[str] = field(default_factory=list)
    status: str = "ok"  # ok | skipped | not available | failed
    note: str = ""
    runs: list[float] = field(default_factory=list)
    seconds: float | None = None
    peak_rss_mib: float | None = None
    events_per_s: float | None = None
    mb_per_s: float | None = None
    ratio_to_floor: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Child:
    rc: int
    wall: float
    maxrss_kib: int
    stdout: str
    stderr: str


# Starts every measured command. It is a separate, minimal Python (-S, no
# site-packages) that forks, execs and wait4()s: Linux seeds a child's
# ru_maxrss with the resident memory it had before exec, which after
# subprocess's vfork is the parent's peak and after a fork is the parent's
# current anonymous memory. This keeps that baseline at about 6 MiB.
SPAWNER_SRC = r"""
import os, sys, time
from json import loads, dumps
for line in sys.stdin:
    job = loads(line)
    nul = os.open(os.devnull, os.O_RDONLY)
    out = os.open(job["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    err = os.open(job["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.chdir(job["cwd"])
            os.dup2(nul, 0)
            os.dup2(out, 1)
            os.dup2(err, 2)
            os.execvp(job["argv"][0], job["argv"])
        except BaseException:
            pass
        os._exit(127)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    for fd in (nul, out, err):
        os.close(fd)
    sys.stdout.write(dumps({"status": status, "wall": wall, "maxrss": ru.ru_maxrss}) + "\n")
    sys.stdout.flush()
"""


class Spawner:
    def __init__(self, workdir: str) -> None:
        self.workdir = workdir
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", SPAWNER_SRC],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, argv: list[str], capture: bool = False, stdout_path: str | None = None) -> Child:
        """Run argv from the repo root: wall time and ru_maxrss of that child only."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        out = stdout_path or (os.path.join(self.workdir, "child.out") if capture else os.devnull)
        err = os.path.join(self.workdir, "child.err")
        self.proc.stdin.write(
            json.dumps({"argv": argv, "cwd": str(REPO), "stdout": out, "stderr": err}) + "\n"
        )
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline()
        if not reply:
            sys.exit("bench: the process spawner died")
        rep = json.loads(reply)
        with open(err, "rb") as fh:
            err_text = fh.read().decode(errors="replace")
        out_text = ""
        if capture and stdout_path is None:
            with open(out, "rb") as fh:
                out_text = fh.read().decode(errors="replace")
        return Child(
            os.waitstatus_to_exitcode(rep["status"]), rep["wall"], rep["maxrss"], out_text, err_text
        )

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait()


_spawner: Spawner | None = None


def run_child(argv: list[str], capture: bool = False, stdout_path: str | None = None) -> Child:
    assert _spawner is not None
    return _spawner.run(argv, capture, stdout_path)


def best_of(
    res: Result,
    argv: list[str],
    repeat: int,
    ok_codes: tuple[int, ...] = (0,),
    stdout_path: str | None = None,
    capture: bool = False,
) -> Child | None:
    """Run ``repeat`` times; keep every wall time, the best one and the highest peak RSS.

    Returns the fastest run (its output), or None when a run failed."""
    res.command = argv
    best: Child | None = None
    rss = 0
    for _ in range(repeat):
        child = run_child(argv, capture=capture, stdout_path=stdout_path)
        if child.rc not in ok_codes:
            res.status = "failed"
            res.note = f"exit {child.rc}: " + (child.stderr.strip().splitlines() or [""])[-1][:200]
            return None
        res.runs.append(round(child.wall, 4))
        rss = max(rss, child.maxrss_kib)
        if best is None or child.wall < best.wall:
            best = child
    res.seconds = min(res.runs)
    res.peak_rss_mib = round(rss / 1024, 1)
    return best


def k8saudit_path(given: str | None) -> str:
    if given:
        return given
    beside = Path(sys.executable).with_name("k8saudit")
    if beside.exists():
        return str(beside)
    found = shutil.which("k8saudit")
    if not found:
        sys.exit("bench: k8saudit not found (install the project, or pass --k8saudit PATH)")
    return found


def machine_info(k8saudit: str) -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "k8saudit": k8saudit,
    }
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as fh:
            info["mem_total_mib"] = int(fh.readline().split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import orjson

        info["orjson"] = orjson.__version__
    except ImportError:
        pass
    # Read-only look at which code was measured.
    for key, cmd in (
        ("git_head", ["git", "rev-parse", "--short", "HEAD"]),
        ("git_dirty_files", ["git", "status", "--porcelain", "--untracked-files=no"]),
    ):
        try:
            out = subprocess.run(
                cmd, cwd=REPO, capture_output=True, text=True, timeout=10, check=False
            ).stdout
            info[key] = out.strip() if key == "git_head" else len(out.splitlines())
        except (OSError, subprocess.SubprocessError):
            pass
    if shutil.which("jq"):
        info["jq"] = subprocess.run(
            ["jq", "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
    return info


def fmt(v: float | None, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def rss_text(r: Result, baseline: float) -> str:
    if r.peak_rss_mib is None:
        return "-"
    return (
        f"<={r.peak_rss_mib:.1f}" if r.peak_rss_mib <= baseline + 1.0 else f"{r.peak_rss_mib:.1f}"
    )


def print_table(results: list[Result], corpus: dict[str, Any]) -> None:
    print()
    print(
        f"corpus: {corpus['path']}  {corpus['events']} events, {corpus['bytes'] / 1e6:.1f} MB"
        f" ({corpus['bytes'] / max(corpus['events'], 1):.0f} B/event)"
        + (
            f", {corpus['file_bytes'] / 1e6:.1f} MB on disk"
            if corpus["file_bytes"] != corpus["bytes"]
            else ""
        )
    )
    print(
        "(peak RSS: ru_maxrss of each child; '<=' marks figures at the "
        f"{corpus['rss_baseline_mib']} MiB"
        " a child starts from, i.e. upper bounds)"
    )
    head = (
        f"{'name':<10} {'seconds':>9} {'events/s':>10} {'MB/s':>8} "
        f"{'peak RSS MiB':>13} {'x floor':>8}  notes"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        if r.status in ("skipped", "not available", "failed"):
            print(f"{r.name:<10} {r.status:>9}  {r.note}")
            continue
        print(
            f"{r.name:<10} {fmt(r.seconds, '.3f'):>9} {fmt(r.events_per_s, ',.0f'):>10} "
            f"{fmt(r.mb_per_s, '.1f'):>8} {rss_text(r, corpus['rss_baseline_mib']):>13} "
            f"{fmt(r.ratio_to_floor, '.2f'):>8}  {r.note}"
        )
    print()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=None,
    )
    ap.add_argument(
        "corpus", nargs="?", help="audit log to scan (default: generate one in a temp dir)"
    )
    ap.add_argument(
        "-n",
        "--events",
        type=int,
        default=200_000,
        help="events to generate when no corpus is given (default 200000)",
    )
    ap.add_argument("--seed", type=int, default=1, help="seed for the generated corpus (default 1)")
    ap.add_argument(
        "--repeat", type=int, default=3, help="runs per measurement, best kept (default 3)"
    )
    ap.add_argument(
        "--load-runs", type=int, default=5, help="rules-load runs, median kept (default 5)"
    )
    ap.add_argument("--json", metavar="OUT", help="also write the figures as JSON to OUT")
    ap.add_argument(
        "--smoke",
        action="store_true",
        help="CI check: 2000 generated events, 1 repeat, 1 rules-load run",
    )
    ap.add_argument(
        "--only",
        metavar="NAMES",
        help="comma-separated subset of: floor,default,noagg,upstream,jobs2,nofast,jq,startup,load",
    )
    ap.add_argument(
        "--k8saudit", metavar="PATH", help="k8saudit executable (default: beside this python)"
    )
    ap.add_argument(
        "--rules-upstream",
        metavar="PATH",
        default=UPSTREAM_RULES,
        help=f"upstream ruleset, relative to the repo root (default {UPSTREAM_RULES})",
    )
    args = ap.parse_args(argv)

    if args.smoke:
        args.events, args.repeat, args.load_runs = 2000, 1, 1
    all_names = [
        "floor",
        "default",
        "noagg",
        "upstream",
        "jobs2",
        "nofast",
        "jq",
        "startup",
        "load",
    ]
    wanted = set(all_names)
    if args.only:
        wanted = {s.strip() for s in args.only.split(",") if s.strip()}
        unknown = wanted - set(all_names)
        if unknown:
            ap.error(f"--only: unknown names {sorted(unknown)}")
    if args.repeat < 1 or args.load_runs < 1:
        ap.error("--repeat and --load-runs must be >= 1")

    k8s = k8saudit_path(args.k8saudit)
    py = sys.executable
    tmp = tempfile.TemporaryDirectory(prefix="k8saudit-bench-")
    global _spawner
    _spawner = Spawner(tmp.name)
    try:
        if args.corpus:
            corpus_path = str(Path(args.corpus).resolve())
            if not os.path.isfile(corpus_path):
                sys.exit(f"bench: no such file: {args.corpus}")
        else:
            # In a child like every step; the spawner's memory stays small.
            corpus_path = os.path.join(tmp.name, "audit.jsonl")
            gen = run_child(
                [
                    py,
                    str(HERE / "gen_corpus.py"),
                    "-n",
                    str(args.events),
                    "--seed",
                    str(args.seed),
                    "-o",
                    corpus_path,
                ]
            )
            if gen.rc != 0:
                sys.exit(f"bench: corpus generation failed:\n{gen.stderr}")
            print(gen.stderr.strip(), file=sys.stderr)
        load_before = os.getloadavg()
        bench = Bench(args, k8s, py, corpus_path, tmp.name)
        bench.run(wanted)
        results, corpus = bench.results, bench.corpus
        load_after = os.getloadavg()
    finally:
        _spawner.close()
        tmp.cleanup()

    print_table(results, corpus)
    print(
        f"load average before/after: {load_before[0]:.2f} / {load_after[0]:.2f} "
        f"on {os.cpu_count()} CPUs (other work on the machine skews the figures)"
    )
    failed = [r.name for r in results if r.status == "failed"]
    if args.json:
        doc = {
            "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "command": [os.path.basename(py), *sys.argv],
            "machine": machine_info(k8s),
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in load_after],
            "corpus": corpus,
            "repeat": args.repeat,
            "results": [asdict(r) for r in results],
        }
        with open(args.json, "w") as fh:
            json.dump(doc, fh, indent=2)
            fh.write("\n")
        print(f"wrote {args.json}", file=sys.stderr)
    if failed:
        print(f"bench: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def rss_baseline(py: str) -> float:
    """What any child's ru_maxrss starts from (see Spawner), in MiB: a figure
    at this value is an upper bound, not a measurement."""
    probe = next(
        (
            [p, "-c", ":"] if p.endswith("sh") else [p]
            for p in (shutil.which("true"), "/bin/true", "/usr/bin/true", "/bin/sh")
            if p and os.path.exists(p)
        ),
        [py, "-S", "-c", ""],
    )
    return round(run_child(probe).maxrss_kib / 1024, 1)


class Bench:
    """The measurements of one run, in order; each appends its Result."""

    def __init__(self, args: argparse.Namespace, k8s: str, py: str, corpus_path: str, tmpdir: str):
        self.args, self.k8s, self.py, self.tmpdir = args, k8s, py, tmpdir
        self.path = corpus_path
        self.corpus: dict[str, Any] = {
            "path": corpus_path,
            "events": 0,
            "bytes": 0,
            "file_bytes": os.path.getsize(corpus_path),
            "rss_baseline_mib": rss_baseline(py),
        }
        self.results: list[Result] = []
        self.floor_s: float | None = None
        self.scan = [k8s, "scan", corpus_path, *SCAN_FLAGS]

    def run(self, wanted: set[str]) -> None:
        if not self.floor("floor" in wanted):
            return
        steps = {
            "default": lambda: self.scan_row("default", "scan, built-in ruleset, 1 process", []),
            "noagg": lambda: self.scan_row(
                "noagg",
                "scan, built-in rules without aggregations, 1 process",
                ["-r", str(REPO / "rules" / "k8s_audit_rules.yaml")],
            ),
            "upstream": self.upstream,
            "jobs2": self.jobs2,
            "nofast": lambda: self.scan_row(
                "nofast", "scan, built-in ruleset, --no-fast-path", ["--no-fast-path"]
            ),
            "jq": self.jq,
            "startup": self.startup,
            "load": self.load,
        }
        for name, step in steps.items():
            if name in wanted:
                print(f"... {name}", file=sys.stderr, flush=True)
                step()

    def rates(self, r: Result) -> None:
        if r.seconds:
            r.events_per_s = round(self.corpus["events"] / r.seconds, 1)
            r.mb_per_s = round(self.corpus["bytes"] / 1e6 / r.seconds, 2)
            if self.floor_s:
                r.ratio_to_floor = round(r.seconds / self.floor_s, 3)

    def floor(self, keep: bool) -> bool:
        """(a) Always first: it warms the page cache and counts the events and
        bytes every other row needs. Without ``keep`` it runs once, untimed."""
        print("... floor", file=sys.stderr, flush=True)
        r = Result("floor", "read lines + orjson.loads, plain Python loop")
        argv = [self.py, "-c", FLOOR_SRC, self.path]
        child = best_of(r, argv, self.args.repeat if keep else 1, capture=True)
        if child is None:
            self.results.append(r)
            return False
        n, size, loop_s = child.stdout.split()
        self.corpus["events"], self.corpus["bytes"] = int(n), int(size)
        r.extra["loop_seconds"] = round(float(loop_s), 4)
        if keep:
            self.floor_s = r.seconds
            self.rates(r)
            self.results.append(r)
        return True

    def scan_row(self, name: str, what: str, flags: list[str]) -> Result:
        """(b), (e) and the others: one k8saudit scan command line."""
        r = Result(name, what)
        best_of(r, [*self.scan, *flags], self.args.repeat)
        self.rates(r)
        self.results.append(r)
        return r

    def upstream(self) -> None:
        """(c) The upstream ruleset, when the shared conformance data is there."""
        rules = self.args.rules_upstream
        if (REPO / rules).is_file():
            self.scan_row("upstream", f"scan -r {rules}", ["-r", rules])
        else:
            self.results.append(
                Result("upstream", f"scan -r {rules}", [], "skipped", f"{rules} not found")
            )

    def jobs2(self) -> None:
        """(d) Two worker processes, if this k8saudit has --jobs."""
        what = "scan, built-in ruleset, --jobs 2"
        if "--jobs" not in run_child([self.k8s, "scan", "--help"], capture=True).stdout:
            self.results.append(Result("jobs2", what, [], "not available", "no --jobs option"))
            return
        r = self.scan_row("jobs2", what, ["--jobs", "2"])
        if r.status == "failed" and "no such option" in r.note.lower():
            r.status, r.note = "not available", "k8saudit scan rejected --jobs"
        one = next((x.seconds for x in self.results if x.name == "default" and x.seconds), None)
        if r.seconds and one:
            r.extra["speedup_vs_default"] = round(one / r.seconds, 3)
            r.note = f"speedup {one / r.seconds:.2f}x over 1 process"

    def jq(self) -> None:
        """(f) jq evaluating one equivalent rule; its matches are counted."""
        r = Result("jq", "jq -c 'select(privileged pod created)'")
        self.results.append(r)
        jq = shutil.which("jq")
        with open(self.path, "rb") as fh:
            compressed = fh.read(2) == b"\x1f\x8b"
        if jq is None or compressed:
            r.status = "skipped"
            r.note = "jq not installed" if jq is None else "jq reads plain files only"
            return
        out = os.path.join(self.tmpdir, "jq.out")
        best_of(r, [jq, "-c", JQ_FILTER, self.path], self.args.repeat, stdout_path=out)
        self.rates(r)
        if r.status == "ok":
            with open(out, "rb") as fh:
                r.extra["matches"] = sum(1 for _ in fh)
            r.note = f"1 rule, {r.extra['matches']} matches"

    def startup(self) -> None:
        """The fixed cost of every run: a scan of an empty file."""
        empty = os.path.join(self.tmpdir, "empty.jsonl")
        open(empty, "wb").close()
        r = Result("startup", "scan of an empty file (imports + rules load + setup)")
        best_of(r, [self.k8s, "scan", empty, *SCAN_FLAGS], self.args.repeat)
        r.note = "fixed cost per run"
        self.results.append(r)

    def load(self) -> None:
        """(g) load_rules() of the upstream ruleset, timed inside a fresh process
        each time (what a CLI run pays), median of --load-runs."""
        r = Result("load", "load_rules(upstream), in-process, median")
        self.results.append(r)
        path = REPO / self.args.rules_upstream
        if not path.is_file():
            r.status, r.note = "skipped", f"{self.args.rules_upstream} not found"
            return
        r.command = [self.py, "-c", LOAD_SRC, str(path)]
        times, rss = [], 0
        for _ in range(self.args.load_runs):
            child = run_child(r.command, capture=True)
            if child.rc != 0:
                r.status = "failed"
                r.note = (
                    f"exit {child.rc}: " + (child.stderr.strip().splitlines() or [""])[-1][:200]
                )
                return
            dt, nrules = child.stdout.split()
            times.append(float(dt))
            rss = max(rss, child.maxrss_kib)
            r.extra["rules"] = int(nrules)
        r.runs = [round(t, 4) for t in times]
        r.seconds = round(statistics.median(times), 4)
        r.peak_rss_mib = round(rss / 1024, 1)
        r.note = f"median of {len(times)}, {r.extra['rules']} rules"


if __name__ == "__main__":
    sys.exit(main())
