#!/usr/bin/env python3
"""Benchmark k8saudit against the cost of just decoding its input.

Measures, in one run, on a low-alert corpus (a quiet day):

  floor     read the file line by line (binary) and orjson.loads each line in
            a plain Python loop: the least any Python scanner must spend
  default   k8saudit scan CORPUS --jobs 1 --no-summary --no-progress --format json
            -o /dev/null (built-in ruleset: rules and aggregations, one process)
  auto      the same without --jobs: what a plain `k8saudit scan` does (--jobs auto
            for a regular file large enough to pay for processes)
  noagg     default with -r rules/k8s_audit_rules.yaml: the built-in rules
            without the aggregations (the difference is their cost)
  upstream  default with -r ../shared/conformance/upstream-current/k8s_audit_rules.yaml
  jobs2     the default ruleset with --jobs 2
  nofast    default with --no-fast-path (the reference evaluator)
  jq        jq -c 'select(...)' with one equivalent rule (privileged pod creation)
  startup   k8saudit scan of an empty file: the fixed cost of every run
  load      load_rules() of the upstream ruleset, timed in-process (median of 5 runs)

and on an alert-heavy corpus (``gen_corpus.py --profile incident``: about a
third of the events alert), the lines of ``incident``:

  ifloor    the decode floor of that corpus
  ijson     scan --jobs 1 --format json, built-in ruleset
  ijson0    the same with every output replaced by one literal character
            (the loader refuses an empty output, as Falco does)
  itext     scan --jobs 1 --format text
  itext0    the same with the one-character outputs

The per-alert cost of an output is (ijson - ijson0) / alerts (and the same
for text), in CPU time.

Every measurement runs in its own child process, --repeat times. The machine
may be shared, so ratios use CPU time (user + sys of the child and of the
workers it reaped), the best of the runs; wall time (best of the runs) is
shown beside it and is what --jobs speed-ups are measured in. Peak RSS is the
child's ru_maxrss (from os.wait4; for --jobs it is the largest single
process, not the sum). Ratios are to the floor of the same corpus measured
in the same run. The page cache is warm: each floor runs first and reads
its whole file before anything else on it is timed.

    python bench/run.py                      # 200k-event corpora in a temp dir
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

SCAN_FLAGS = ["--no-summary", "--no-progress", "-o", "/dev/null"]

#: Lines of the low-alert corpus, and of the alert-heavy one (--only incident).
MAIN_LINES = ["floor", "default", "auto", "noagg", "upstream", "jobs2", "nofast", "jq", "startup"]
ALL_NAMES = [*MAIN_LINES, "load", "incident"]

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
    #: CPU time (user + sys) of each run: the child's and its reaped children's.
    cpu_runs: list[float] = field(default_factory=list)
    seconds: float | None = None
    cpu_seconds: float | None = None
    peak_rss_mib: float | None = None
    events_per_s: float | None = None
    mb_per_s: float | None = None
    #: CPU time over the floor's CPU time (same run, same corpus).
    ratio_to_floor: float | None = None
    wall_ratio_to_floor: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Child:
    rc: int
    wall: float
    cpu: float
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
    cpu = ru.ru_utime + ru.ru_stime  # the child's, and its children's once reaped
    reply = {"status": status, "wall": wall, "cpu": cpu, "maxrss": ru.ru_maxrss}
    sys.stdout.write(dumps(reply) + "\n")
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
            os.waitstatus_to_exitcode(rep["status"]),
            rep["wall"],
            rep["cpu"],
            rep["maxrss"],
            out_text,
            err_text,
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
    """Run ``repeat`` times; keep every wall and CPU time, the best of each and the
    highest peak RSS.

    Returns the run with the least CPU time (its output), or None when a run failed."""
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
        res.cpu_runs.append(round(child.cpu, 4))
        rss = max(rss, child.maxrss_kib)
        if best is None or child.cpu < best.cpu:
            best = child
    res.seconds = min(res.runs)
    res.cpu_seconds = min(res.cpu_runs)
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


def print_table(results: list[Result], corpus: dict[str, Any], title: str) -> None:
    if not results:
        return
    print()
    print(
        f"{title}: {corpus['path']}  {corpus['events']} events, {corpus['bytes'] / 1e6:.1f} MB"
        f" ({corpus['bytes'] / max(corpus['events'], 1):.0f} B/event)"
        + (
            f", {corpus['file_bytes'] / 1e6:.1f} MB on disk"
            if corpus["file_bytes"] != corpus["bytes"]
            else ""
        )
    )
    print(
        "(x floor: CPU time over the floor's; peak RSS: ru_maxrss of each child, '<=' marks "
        f"figures at the {corpus['rss_baseline_mib']} MiB a child starts from)"
    )
    head = (
        f"{'name':<9} {'wall s':>7} {'CPU s':>7} {'events/s':>9} {'peak RSS MiB':>12} "
        f"{'x floor':>7} {'(wall)':>6}  notes"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        if r.status in ("skipped", "not available", "failed"):
            print(f"{r.name:<9} {r.status:>7}  {r.note}")
            continue
        print(
            f"{r.name:<9} {fmt(r.seconds, '.3f'):>7} {fmt(r.cpu_seconds, '.3f'):>7} "
            f"{fmt(r.events_per_s, ',.0f'):>9} {rss_text(r, corpus['rss_baseline_mib']):>12} "
            f"{fmt(r.ratio_to_floor, '.2f'):>7} {fmt(r.wall_ratio_to_floor, '.2f'):>6}  {r.note}"
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "corpus", nargs="?", help="audit log to scan (default: generate one in a temp dir)"
    )
    ap.add_argument(
        "--incident",
        metavar="PATH",
        help="alert-heavy log for the incident lines (default: generate one, "
        "gen_corpus.py --profile incident, same -n and --seed)",
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
        "--only", metavar="NAMES", help=f"comma-separated subset of: {','.join(ALL_NAMES)}"
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
    args.wanted = set(ALL_NAMES)
    if args.only:
        args.wanted = {x.strip() for x in args.only.split(",") if x.strip()}
        unknown = args.wanted - set(ALL_NAMES)
        if unknown:
            ap.error(f"--only: unknown names {sorted(unknown)}")
    if args.repeat < 1 or args.load_runs < 1:
        ap.error("--repeat and --load-runs must be >= 1")
    return args


def corpus_file(given: str | None, args: argparse.Namespace, tmp: str, profile: str) -> str:
    """The path of a corpus: the one given, or one generated in ``tmp`` (in a child,
    like every step: the spawner's memory stays small)."""
    if given:
        path = str(Path(given).resolve())
        if not os.path.isfile(path):
            sys.exit(f"bench: no such file: {given}")
        return path
    path = os.path.join(tmp, f"{profile}.jsonl")
    gen = run_child(
        [
            sys.executable,
            str(HERE / "gen_corpus.py"),
            "-n",
            str(args.events),
            "--seed",
            str(args.seed),
            "--profile",
            profile,
            "-o",
            path,
        ]
    )
    if gen.rc != 0:
        sys.exit(f"bench: corpus generation failed:\n{gen.stderr}")
    print(gen.stderr.strip(), file=sys.stderr)
    return path


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    k8s = k8saudit_path(args.k8saudit)
    tmp = tempfile.TemporaryDirectory(prefix="k8saudit-bench-")
    global _spawner
    _spawner = Spawner(tmp.name)
    parts: list[Bench] = []
    try:
        load_before = os.getloadavg()
        if args.wanted & {*MAIN_LINES, "load"}:
            main_corpus = corpus_file(args.corpus, args, tmp.name, "default")
            parts.append(Bench(args, k8s, main_corpus, tmp.name, "corpus"))
            parts[-1].run_main(args.wanted)
        if "incident" in args.wanted:
            incident = corpus_file(args.incident, args, tmp.name, "incident")
            parts.append(Bench(args, k8s, incident, tmp.name, "incident corpus"))
            parts[-1].run_incident()
        load_after = os.getloadavg()
    finally:
        _spawner.close()
        tmp.cleanup()

    for part in parts:
        print_table(part.results, part.corpus, part.title)
    print()
    print(
        f"load average before/after: {load_before[0]:.2f} / {load_after[0]:.2f} "
        f"on {os.cpu_count()} CPUs (other work on the machine skews the figures)"
    )
    results = [r for part in parts for r in part.results]
    failed = [r.name for r in results if r.status == "failed"]
    if args.json:
        write_json(args, k8s, parts, (load_before, load_after))
    if failed:
        print(f"bench: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def write_json(
    args: argparse.Namespace,
    k8s: str,
    parts: list[Bench],
    loads: tuple[tuple[float, ...], tuple[float, ...]],
) -> None:
    doc = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": [os.path.basename(sys.executable), *sys.argv],
        "machine": machine_info(k8s),
        "loadavg_before": [round(x, 2) for x in loads[0]],
        "loadavg_after": [round(x, 2) for x in loads[1]],
        "repeat": args.repeat,
        "corpora": [
            {"title": p.title, **p.corpus, "results": [asdict(r) for r in p.results]} for p in parts
        ],
    }
    with open(args.json, "w") as fh:
        json.dump(doc, fh, indent=2)
        fh.write("\n")
    print(f"wrote {args.json}", file=sys.stderr)


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


# Lists the rules and aggregations of the built-in ruleset and writes a rules
# file that overrides every output with one literal character.
PLAIN_OUTPUTS_SRC = r"""
import json, sys
from k8saudit_cli.ruleset import load_rules
from k8saudit_cli.ruleset.compile_aggregations import CompiledAggregation
from k8saudit_cli.ruleset.defaults import default_rules_paths
paths = default_rules_paths()
rules = load_rules(paths).rules
with open(sys.argv[1], "w") as fh:
    for r in rules:
        kind = "aggregation" if isinstance(r, CompiledAggregation) else "rule"
        fh.write(f"- {kind}: {json.dumps(r.name)}\n  output: x\n  override:\n    output: replace\n")
print(json.dumps(paths))
"""


class Bench:
    """The measurements on one corpus, in order; each appends its Result."""

    def __init__(
        self, args: argparse.Namespace, k8s: str, corpus_path: str, tmpdir: str, title: str
    ) -> None:
        self.args, self.k8s, self.py, self.tmpdir = args, k8s, sys.executable, tmpdir
        self.path, self.title = corpus_path, title
        self.corpus: dict[str, Any] = {
            "path": corpus_path,
            "events": 0,
            "bytes": 0,
            "file_bytes": os.path.getsize(corpus_path),
            "rss_baseline_mib": rss_baseline(self.py),
        }
        self.results: list[Result] = []
        self.floor_cpu: float | None = None
        self.floor_wall: float | None = None
        self.scan = [k8s, "scan", corpus_path, *SCAN_FLAGS]
        self.json = ["--format", "json"]

    def run_main(self, wanted: set[str]) -> None:
        if not self.floor("floor" in wanted):
            return
        one = ["--jobs", "1", *self.json]
        steps = {
            "default": lambda: self.scan_row("default", "scan, built-in ruleset, 1 process", one),
            "auto": self.auto,
            "noagg": lambda: self.scan_row(
                "noagg",
                "scan, built-in rules without aggregations, 1 process",
                [*one, "-r", str(REPO / "rules" / "k8s_audit_rules.yaml")],
            ),
            "upstream": self.upstream,
            "jobs2": self.jobs2,
            "nofast": lambda: self.scan_row(
                "nofast", "scan, built-in ruleset, --no-fast-path", [*one, "--no-fast-path"]
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
            if self.floor_wall:
                r.wall_ratio_to_floor = round(r.seconds / self.floor_wall, 3)
        if r.cpu_seconds and self.floor_cpu:
            r.ratio_to_floor = round(r.cpu_seconds / self.floor_cpu, 3)

    def floor(self, keep: bool) -> bool:
        """Always first: it warms the page cache and counts the events and bytes
        every other row needs. Without ``keep`` it runs once, untimed."""
        name = "floor" if self.title == "corpus" else "ifloor"
        print(f"... {name}", file=sys.stderr, flush=True)
        r = Result(name, "read lines + orjson.loads, plain Python loop")
        argv = [self.py, "-c", FLOOR_SRC, self.path]
        child = best_of(r, argv, self.args.repeat if keep else 1, capture=True)
        if child is None:
            self.results.append(r)
            return False
        n, size, loop_s = child.stdout.split()
        self.corpus["events"], self.corpus["bytes"] = int(n), int(size)
        r.extra["loop_seconds"] = round(float(loop_s), 4)
        if keep:
            self.floor_cpu, self.floor_wall = r.cpu_seconds, r.seconds
            self.rates(r)
            self.results.append(r)
        return True

    def scan_row(self, name: str, what: str, flags: list[str]) -> Result:
        """One k8saudit scan command line."""
        r = Result(name, what)
        best_of(r, [*self.scan, *flags], self.args.repeat)
        self.rates(r)
        self.results.append(r)
        return r

    def auto(self) -> None:
        """A plain scan, without --jobs: whatever the default does with this file."""
        r = self.scan_row("auto", "scan, built-in ruleset, no --jobs option", self.json)
        self.note_speedup(r)

    def upstream(self) -> None:
        """The upstream ruleset, when the shared conformance data is there."""
        rules = self.args.rules_upstream
        if (REPO / rules).is_file():
            self.scan_row("upstream", f"scan -r {rules}", ["--jobs", "1", *self.json, "-r", rules])
        else:
            self.results.append(
                Result("upstream", f"scan -r {rules}", [], "skipped", f"{rules} not found")
            )

    def jobs2(self) -> None:
        """Two worker processes, if this k8saudit has --jobs."""
        what = "scan, built-in ruleset, --jobs 2"
        if "--jobs" not in run_child([self.k8s, "scan", "--help"], capture=True).stdout:
            self.results.append(Result("jobs2", what, [], "not available", "no --jobs option"))
            return
        r = self.scan_row("jobs2", what, ["--jobs", "2", *self.json])
        if r.status == "failed" and "no such option" in r.note.lower():
            r.status, r.note = "not available", "k8saudit scan rejected --jobs"
        self.note_speedup(r)

    def note_speedup(self, r: Result) -> None:
        """Wall-time speed-up over the one-process line: what more processes buy."""
        one = next((x.seconds for x in self.results if x.name == "default" and x.seconds), None)
        if r.seconds and one:
            r.extra["speedup_vs_default"] = round(one / r.seconds, 3)
            r.note = f"speed-up {one / r.seconds:.2f}x over 1 process (wall)"

    def jq(self) -> None:
        """jq evaluating one equivalent rule; its matches are counted."""
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
        best_of(r, [self.k8s, "scan", empty, *SCAN_FLAGS, *self.json], self.args.repeat)
        r.note = "fixed cost per run"
        self.results.append(r)

    def load(self) -> None:
        """load_rules() of the upstream ruleset, timed inside a fresh process
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

    # ------------------------------------------------------------ the alert-heavy corpus

    def run_incident(self) -> None:
        """JSON and text scans of the alert-heavy corpus, each beside the same scan
        with one-character outputs: alerts/s, and what one alert's output costs."""
        if not self.floor(True):
            return
        plain = self.plain_output_rules()
        summary = os.path.join(self.tmpdir, "summary.json")
        one = ["--jobs", "1", "--summary-json", summary]
        for fmt_name, key in (("json", "ijson"), ("text", "itext")):
            flags = [*one, "--format", fmt_name]
            print(f"... {key}", file=sys.stderr, flush=True)
            full = self.scan_row(key, f"scan --format {fmt_name}, built-in ruleset", flags)
            alerts = self.alerts(summary)
            print(f"... {key}0", file=sys.stderr, flush=True)
            bare = self.scan_row(key + "0", "the same, one-character outputs", [*flags, *plain])
            self.alert_cost(full, bare, alerts)

    def plain_output_rules(self) -> list[str]:
        """``-r`` options for the built-in ruleset with every output one character long."""
        path = os.path.join(self.tmpdir, "plain_outputs.yaml")
        child = run_child([self.py, "-c", PLAIN_OUTPUTS_SRC, path], capture=True)
        if child.rc != 0:
            sys.exit(f"bench: cannot list the built-in rules:\n{child.stderr}")
        return [x for p in [*json.loads(child.stdout), path] for x in ("-r", p)]

    @staticmethod
    def alerts(summary: str) -> int | None:
        try:
            with open(summary, "rb") as fh:
                return int(json.load(fh)["events_detected"])
        except (OSError, ValueError, KeyError):
            return None

    @staticmethod
    def alert_cost(full: Result, bare: Result, alerts: int | None) -> None:
        if not (alerts and full.cpu_seconds and bare.cpu_seconds):
            return
        per_alert_us = (full.cpu_seconds - bare.cpu_seconds) / alerts * 1e6
        full.extra.update(alerts=alerts, alert_output_us=round(per_alert_us, 2))
        full.extra["alerts_per_cpu_s"] = round(alerts / full.cpu_seconds)
        full.note = (
            f"{alerts} alerts, {alerts / full.cpu_seconds:,.0f} alerts/s (CPU); "
            f"output {per_alert_us:.1f} us/alert"
        )


if __name__ == "__main__":
    sys.exit(main())
