#!/usr/bin/env python3
"""Load generator for ``k8saudit serve`` on loopback (a benchmark, not a test: not run in CI).

For each batch size (100 and 400 events by default) it starts a fresh
``k8saudit serve`` (default ruleset, archive on, ``--fsync batch`` unless
told otherwise), POSTs ``EventList`` batches cut from a realistic corpus
(``bench/gen_corpus.py``) from ``--concurrency`` connections until
``--requests`` have been acknowledged or ``--duration`` seconds have
passed, waits until the rules have seen every accepted event, stops the
server with SIGTERM and reads the archive back. It prints, per batch size:

* sustained events/s: events acknowledged / (first request -> the rules
  have evaluated the last one), and the acknowledgement rate alone;
* p50 / p99 / max request latency (POST to its answer, a 503 and its retry
  counted as one request); with ``--rates N`` the load is an open loop at N
  events/s and latency counts from when each request was due;
* the server's CPU (% of one core over the same span) and peak RSS (VmHWM);
  the load generator's own CPU, since it shares the machine;
* archived lines and events against acknowledged requests and events
  (missing must be 0), and the count of 503 answers (retried after a pause).

    python bench/serve_load.py                      # 40k-event corpus made in a temp dir
    python bench/serve_load.py --corpus /tmp/c200k.jsonl --duration 30 --json /tmp/serve.json
    python bench/serve_load.py --rates 0,5000         # also an open loop at 5,000 events/s
    python bench/serve_load.py --batch-sizes 400 --concurrency 8 --fsync interval

Needs the ``serve`` extra (aiohttp) in the Python running it; Linux (/proc).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson

ROOT = Path(__file__).resolve().parent.parent
HEAD = b'{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":['
TICKS = os.sysconf("SC_CLK_TCK")


def corpus_lines(path: Path | None, events: int, workdir: Path) -> list[bytes]:
    if path is None:
        path = workdir / "corpus.jsonl"
        gen = [sys.executable, str(ROOT / "bench" / "gen_corpus.py"), "-n", str(events)]
        subprocess.run([*gen, "--seed", "1", "-o", str(path)], check=True, capture_output=True)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        return [line.rstrip(b"\n") for line in fh if line.strip()]


def bodies(lines: list[bytes], size: int) -> list[bytes]:
    """The corpus cut into EventList bodies of ``size`` events, the bytes of each event kept."""
    return [
        HEAD + b",".join(lines[i : i + size]) + b"]}" for i in range(0, len(lines) - size + 1, size)
    ]


# ---------------------------------------------------------------- the server


class Server:
    def __init__(self, archive: Path, args: argparse.Namespace, summary: Path) -> None:
        command = [sys.executable, "-m", "k8saudit_cli", "serve"]
        command += ["--listen", "http://127.0.0.1:0/k8s-audit", "--archive", str(archive)]
        command += ["--fsync", args.fsync, "-o", os.devnull, "--summary-json", str(summary)]
        command += ["--queue-size", str(args.queue_size), *args.server_arg]
        self.command = command
        self.proc = subprocess.Popen(
            command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
        )
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            if "listening on " in line:
                self.url = line.split("listening on ")[1].split()[0]
                break
        else:
            raise SystemExit("k8saudit serve did not start")
        self.base = self.url.rsplit("/", 1)[0]
        self.stderr: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:  # a full stderr pipe would stall the server
        assert self.proc.stderr is not None
        self.stderr.extend(self.proc.stderr)

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def peak_rss_mib(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        match = re.search(r"VmHWM:\s+(\d+) kB", status)
        return int(match.group(1)) / 1024 if match else float("nan")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(120)


async def evaluated(session: aiohttp.ClientSession, base: str) -> tuple[float, float]:
    """(events accepted, events the rules have seen) from /metrics."""
    async with session.get(base + "/metrics") as response:
        text = await response.text()
    values = {}
    for name in ("k8saudit_serve_events_accepted_total", "k8saudit_serve_events_evaluated"):
        match = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
        values[name] = float(match.group(1)) if match else 0.0
    return values["k8saudit_serve_events_accepted_total"], values["k8saudit_serve_events_evaluated"]


# ---------------------------------------------------------------- the load


def client_cpu(before: resource.struct_rusage, after: resource.struct_rusage) -> float:
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


class Load:
    """Closed loop (``rate`` 0: each connection posts as soon as its last answer came) or
    open loop (``rate`` events/s: request i is due at i * size / rate, and its latency counts
    from then, so a server that falls behind is not flattered)."""

    def __init__(
        self, batches: list[bytes], size: int, rate: float, args: argparse.Namespace
    ) -> None:
        self.batches, self.size, self.rate, self.args = batches, size, rate, args
        self.latencies: list[float] = []
        self.acked_requests = self.busy = self.errors = 0
        self.next = 0
        self.start = self.deadline = 0.0

    def _take(self) -> tuple[bytes, float] | None:
        due = self.start + self.next * self.size / self.rate if self.rate else 0.0
        if self.next >= self.args.requests or max(due, time.perf_counter()) >= self.deadline:
            return None
        body = self.batches[self.next % len(self.batches)]
        self.next += 1
        return body, due

    async def worker(self, session: aiohttp.ClientSession, url: str) -> None:
        while (taken := self._take()) is not None:
            body, due = taken
            if due:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
            started = due or time.perf_counter()
            while True:
                async with session.post(url, data=body) as response:
                    await response.read()
                    status = response.status
                if status != 503:
                    break
                self.busy += 1
                await asyncio.sleep(0.05)  # the API server backs off too
            if status == 200:
                self.latencies.append(time.perf_counter() - started)
                self.acked_requests += 1
            else:
                self.errors += 1

    async def run(self, server: Server) -> dict[str, Any]:
        connector = aiohttp.TCPConnector(limit=self.args.concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            for body in self.batches[:5]:  # warm-up, not counted
                async with session.post(server.url, data=body) as response:
                    await response.read()
            await self._wait_evaluated(session, server)
            cpu0, rusage0 = server.cpu_seconds(), resource.getrusage(resource.RUSAGE_SELF)
            t0 = time.monotonic()
            self.start = time.perf_counter()
            self.deadline = self.start + self.args.duration
            workers = [self.worker(session, server.url) for _ in range(self.args.concurrency)]
            await asyncio.gather(*workers)
            acked_at = time.monotonic()
            await self._wait_evaluated(session, server)
            done_at = time.monotonic()
            cpu1, rusage1 = server.cpu_seconds(), resource.getrusage(resource.RUSAGE_SELF)
        cpu = (cpu1 - cpu0, client_cpu(rusage0, rusage1))
        return self._figures(done_at - t0, acked_at - t0, cpu, server.peak_rss_mib())

    def _figures(
        self, span: float, acked: float, cpu: tuple[float, float], rss: float
    ) -> dict[str, Any]:
        events = self.acked_requests * self.size
        lat = sorted(self.latencies)
        return {
            "batch_size": self.size,
            "offered_rate": self.rate or "max",
            "requests_acknowledged": self.acked_requests,
            "events_acknowledged": events,
            "seconds_to_evaluated": round(span, 3),
            "seconds_to_acknowledged": round(acked, 3),
            "events_per_s": round(events / span),
            "ack_events_per_s": round(events / acked),
            "latency_ms_p50": round(1000 * statistics.median(lat), 1) if lat else None,
            "latency_ms_p99": round(1000 * lat[int(0.99 * (len(lat) - 1))], 1) if lat else None,
            "latency_ms_max": round(1000 * lat[-1], 1) if lat else None,
            "server_cpu_pct": round(100 * cpu[0] / span, 1),
            "client_cpu_pct": round(100 * cpu[1] / span, 1),
            "server_peak_rss_mib": round(rss, 1),
            "answers_503": self.busy,
            "other_errors": self.errors,
        }

    @staticmethod
    async def _wait_evaluated(session: aiohttp.ClientSession, server: Server) -> None:
        while True:
            accepted, seen = await evaluated(session, server.base)
            if seen >= accepted:
                return
            await asyncio.sleep(0.02)


# ---------------------------------------------------------------- the archive read back


def archived(archive: Path) -> tuple[int, int]:
    """(lines, events) in the archive: every file, compressed or not, read back."""
    lines = events = 0
    for path in sorted(p for p in archive.iterdir() if p.is_file()):
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        for line in data.splitlines():
            lines += 1
            events += len(orjson.loads(line)["items"])
    return lines, events


def phase(
    lines: list[bytes], size: int, rate: float, args: argparse.Namespace, workdir: Path
) -> dict[str, Any]:
    archive = workdir / f"archive-{size}-{rate:g}"
    summary = workdir / f"summary-{size}-{rate:g}.json"
    server = Server(archive, args, summary)
    result = asyncio.run(Load(bodies(lines, size), size, rate, args).run(server))
    result["server_exit"] = server.stop()
    result["command"] = " ".join(server.command)
    warmup = min(5, len(bodies(lines, size)))
    lines_in, events_in = archived(archive)
    result["archived_lines"] = lines_in - warmup
    result["archived_events"] = events_in - warmup * size
    result["missing_events"] = result["events_acknowledged"] - result["archived_events"]
    result["events_read_by_rules"] = json.loads(summary.read_text())["events_read"] - warmup * size
    return result


def show(results: list[dict[str, Any]]) -> None:
    rows = [
        ("events/s sustained (to evaluated)", "events_per_s"),
        ("events/s acknowledged", "ack_events_per_s"),
        ("latency p50 ms", "latency_ms_p50"),
        ("latency p99 ms", "latency_ms_p99"),
        ("latency max ms", "latency_ms_max"),
        ("server CPU % of one core", "server_cpu_pct"),
        ("load generator CPU %", "client_cpu_pct"),
        ("server peak RSS MiB", "server_peak_rss_mib"),
        ("requests acknowledged", "requests_acknowledged"),
        ("events acknowledged", "events_acknowledged"),
        ("archived lines", "archived_lines"),
        ("archived events", "archived_events"),
        ("acknowledged events missing", "missing_events"),
        ("events read by the rules", "events_read_by_rules"),
        ("503 answers (retried)", "answers_503"),
        ("seconds", "seconds_to_evaluated"),
    ]
    print(f"{'batch size':36}" + "".join(f"{r['batch_size']:>12}" for r in results))
    print(f"{'offered events/s':36}" + "".join(f"{r['offered_rate']:>12}" for r in results))
    for label, key in rows:
        print(f"{label:36}" + "".join(f"{r[key]!s:>12}" for r in results))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, help="JSONL audit log (default: generate one)")
    parser.add_argument("--events", type=int, default=40_000, help="size of a generated corpus")
    parser.add_argument("--batch-sizes", default="100,400")
    parser.add_argument(
        "--rates", default="0", help="offered events/s per phase, 0 = as fast as answered"
    )
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--requests", type=int, default=3000, help="bound per batch size")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per batch size")
    parser.add_argument("--fsync", default="batch", choices=["batch", "interval", "never"])
    parser.add_argument("--queue-size", type=int, default=10000)
    parser.add_argument("--server-arg", action="append", default=[], help="extra serve option")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="k8saudit-serve-load-") as tmp:
        workdir = Path(tmp)
        lines = corpus_lines(args.corpus, args.events, workdir)
        sizes = [int(s) for s in args.batch_sizes.split(",")]
        rates = [float(r) for r in args.rates.split(",")]
        results = [phase(lines, size, rate, args, workdir) for size in sizes for rate in rates]
    show(results)
    if args.json:
        meta = {"cpus": os.cpu_count(), "python": sys.version.split()[0], "argv": sys.argv}
        args.json.write_text(json.dumps({"machine": meta, "results": results}, indent=2) + "\n")
    return 1 if any(r["missing_events"] or r["server_exit"] not in (0, 1) for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
