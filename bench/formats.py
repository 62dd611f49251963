#!/usr/bin/env python3
"""What reading a cloud export costs next to scanning the same events as plain JSON lines.

Builds a corpus with ``gen_corpus.py``, writes the same events in every
shape of docs/input-formats.md (with samples/cloudgen.py's builders), and
times ``k8saudit scan FILE --no-summary --no-progress --format json -o
/dev/null`` on each. The reference for the EKS, AKS and k8s shapes is the
corpus itself; GKE keeps no event, so its reference is the events k8saudit
rebuilds from the entries, written as JSON lines (the same events); the
API server's own lines of the same requests are timed too, for comparison.

Each command runs in its own child, ``--repeat`` times (3 by default), in
rounds (every input once per round); the table shows the best CPU time
(user + system, from ``os.wait4``, which the other load on a shared machine
disturbs less than wall time), the best wall time, the peak RSS, and the CPU
ratio to the reference. The issue's bound is 1.3x.

    python bench/formats.py                       # 100k events, 3 runs each
    python bench/formats.py -n 20000 --repeat 1   # quick look
    python bench/formats.py --json /tmp/formats.json

Standard library and orjson only (plus k8saudit itself for the GKE reference).
"""

from __future__ import annotations

import argparse
import base64
import csv
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "samples"))

import cloudgen  # noqa: E402

SCAN_FLAGS = ["--no-summary", "--no-progress", "--format", "json", "-o", "/dev/null"]
LIMIT = 1.3


@dataclass
class Row:
    name: str
    file: str
    reference: str
    cpu: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    rss_mib: float = 0.0
    size: int = 0
    ratio: float | None = None


# ---------------------------------------------------------------- writing the shapes


def read_corpus(path: Path) -> Iterator[tuple[dict[str, Any], str]]:
    with open(path, "rb") as fh:
        for line in fh:
            yield orjson.loads(line), line.rstrip(b"\n").decode()


def pretty_elements(out: BinaryIO, items: Iterable[Any], indent: int, depth: int) -> None:
    """Array elements as ``json.dumps(array, indent=indent)`` writes them, one at a time."""
    pad = " " * (indent * depth)
    first = True
    for item in items:
        text = json.dumps(item, indent=indent, ensure_ascii=False)
        out.write((b"" if first else b",\n") + (pad + text.replace("\n", "\n" + pad)).encode())
        first = False
    out.write(b"\n")


def write_pretty_array(path: Path, items: Iterable[Any], indent: int) -> None:
    with open(path, "wb") as out:
        out.write(b"[\n")
        pretty_elements(out, items, indent, 1)
        out.write(b"]\n")


def write_wrapped(path: Path, key: str, items: Iterable[Any], tail: dict[str, Any]) -> None:
    """``{"<key>": [...], ...tail}`` as the AWS CLI prints it (indent 4)."""
    with open(path, "wb") as out:
        out.write(b'{\n    "' + key.encode() + b'": [\n')
        pretty_elements(out, items, 4, 2)
        out.write(b"    ]")
        for k, v in tail.items():
            text = json.dumps(v, indent=4).replace("\n", "\n    ")
            out.write(f',\n    "{k}": {text}'.encode())
        out.write(b"\n}\n")


def subscription_stream(corpus: Path) -> Iterator[dict[str, Any]]:
    """DATA_MESSAGEs of up to 40 events of one log stream, as CloudWatch batches them."""
    return cloudgen.subscription_records(read_corpus(corpus))


def write_shapes(corpus: Path, out: Path) -> dict[str, tuple[Path, str]]:
    """Every shape: name -> (file, reference name)."""
    files: dict[str, tuple[Path, str]] = {}

    def pairs() -> Iterator[tuple[dict[str, Any], str]]:
        return read_corpus(corpus)

    write_pretty_array(out / "k8s-array.json", (e for e, _ in pairs()), 2)
    files["k8s JSON array"] = (out / "k8s-array.json", "jsonl")
    events = (cloudgen.cloudwatch_event(e, m, n) for n, (e, m) in enumerate(pairs()))
    streams = [{"logStreamName": s, "searchedCompletely": True} for s in cloudgen.STREAMS]
    write_wrapped(out / "eks-filter.json", "events", events, {"searchedLogStreams": streams})
    files["EKS filter-log-events"] = (out / "eks-filter.json", "jsonl")
    _write_lines(
        out / "eks-s3.txt",
        (f"{cloudgen.iso_ms(cloudgen.stamp(e))} {m}".encode() for e, m in pairs()),
    )
    files["EKS S3 export"] = (out / "eks-s3.txt", "jsonl")
    with open(out / "eks-firehose", "wb") as fh:
        for record in subscription_stream(corpus):
            fh.write(orjson.dumps(record))
    files["EKS Firehose object"] = (out / "eks-firehose", "jsonl")
    _write_lines(
        out / "eks-lambda.jsonl",
        (
            orjson.dumps(
                {"awslogs": {"data": base64.b64encode(gzip.compress(orjson.dumps(r))).decode()}}
            )
            for r in subscription_stream(corpus)
        ),
    )
    files["EKS Lambda (base64+gzip)"] = (out / "eks-lambda.jsonl", "jsonl")
    _write_insights(corpus, out, files)
    _write_aks(corpus, out, files)
    _write_gke(corpus, out, files)
    return files


def _write_lines(path: Path, lines: Iterable[bytes]) -> None:
    with open(path, "wb") as fh:
        for line in lines:
            fh.write(line + b"\n")


def _insights_rows(corpus: Path) -> Iterator[list[dict[str, str]]]:
    for event, message in read_corpus(corpus):
        when = cloudgen.iso_ms(cloudgen.stamp(event)).replace("T", " ").rstrip("Z")
        yield [{"field": "@timestamp", "value": when}, {"field": "@message", "value": message}]


def _write_insights(corpus: Path, out: Path, files: dict[str, tuple[Path, str]]) -> None:
    write_wrapped(out / "eks-insights.json", "results", _insights_rows(corpus), {"status": "x"})
    files["EKS Logs Insights JSON"] = (out / "eks-insights.json", "jsonl")
    with open(out / "eks-insights.csv", "w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["@timestamp", "@message"])
        for row in _insights_rows(corpus):
            writer.writerow([row[0]["value"], row[1]["value"]])
    files["EKS Logs Insights CSV"] = (out / "eks-insights.csv", "jsonl")


def _write_aks(corpus: Path, out: Path, files: dict[str, tuple[Path, str]]) -> None:
    _write_lines(
        out / "aks-PT1H.json",
        (cloudgen.azure_json(cloudgen.aks_record(e, m)) for e, m in read_corpus(corpus)),
    )
    files["AKS storage (PT1H.json)"] = (out / "aks-PT1H.json", "jsonl")

    def bodies() -> Iterator[bytes]:
        batch: list[dict[str, Any]] = []
        for e, m in read_corpus(corpus):
            batch.append(cloudgen.aks_record(e, m))
            if len(batch) == 30:
                yield cloudgen.azure_json({"records": batch})
                batch = []
        if batch:
            yield cloudgen.azure_json({"records": batch})

    _write_lines(out / "aks-eventhub.jsonl", bodies())
    files["AKS Event Hub bodies"] = (out / "aks-eventhub.jsonl", "jsonl")


def _gke_entries(corpus: Path) -> Iterator[dict[str, Any]]:
    """Entries of the corpus's completed requests (one per request, as in a busy log
    most are; long-running ones get their first/last pair in samples/)."""
    for event, _ in read_corpus(corpus):
        if event["stage"] != "RequestReceived":
            yield cloudgen.gke_entry(event, True, True)


def _write_gke(corpus: Path, out: Path, files: dict[str, tuple[Path, str]]) -> None:
    with open(out / "gke-read.json", "wb") as fh:
        fh.write(b"[\n")
        items = (json.loads(json.dumps(e, sort_keys=True)) for e in _gke_entries(corpus))
        pretty_elements(fh, items, 2, 1)
        fh.write(b"]\n")
    files["GKE gcloud logging read"] = (out / "gke-read.json", "gke")
    _write_lines(out / "gke-sink.jsonl", (orjson.dumps(e) for e in _gke_entries(corpus)))
    files["GKE sink JSON lines"] = (out / "gke-sink.jsonl", "gke")
    from k8saudit_cli.decode import DecodeOptions, read_events

    options = DecodeOptions(input_format="gke")
    events = read_events([str(out / "gke-sink.jsonl")], options)
    _write_lines(out / "gke-events.jsonl", (orjson.dumps(ev.raw) for ev in events))
    native = (m.encode() for e, m in read_corpus(corpus) if e["stage"] != "RequestReceived")
    _write_lines(out / "gke-native.jsonl", native)


# ---------------------------------------------------------------- timing


def timed(argv: list[str]) -> tuple[float, float, float]:
    """(cpu seconds, wall seconds, peak RSS MiB) of one run of ``argv``."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        sys.exit(f"bench: {' '.join(argv)} failed ({proc.returncode}): {err[-300:]}")
    return usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024


def measure(rows: list[Row], k8saudit: str, repeat: int) -> None:
    """Every row once per round, ``repeat`` rounds: a change in the machine's load
    then falls on every row alike, not on the few timed while it lasted."""
    for row in rows:
        row.size = os.path.getsize(row.file)
    for _ in range(repeat):
        for row in rows:
            cpu, wall, rss = timed([k8saudit, "scan", row.file, *SCAN_FLAGS])
            row.cpu.append(round(cpu, 3))
            row.wall.append(round(wall, 3))
            row.rss_mib = max(row.rss_mib, round(rss, 1))


def print_table(rows: list[Row]) -> None:
    print(f"{'input':28} {'MB':>7} {'cpu s':>7} {'wall s':>7} {'RSS MiB':>8} {'x ref':>6}")
    for r in rows:
        ratio = "-" if r.ratio is None else f"{r.ratio:.2f}"
        print(
            f"{r.name:28} {r.size / 1e6:7.1f} {min(r.cpu):7.2f} {min(r.wall):7.2f} "
            f"{r.rss_mib:8.1f} {ratio:>6}"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--events", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", metavar="OUT", help="also write the figures as JSON")
    ap.add_argument("--only", help="comma-separated names (substrings) of shapes to run")
    args = ap.parse_args(argv)
    k8saudit = str(Path(sys.executable).with_name("k8saudit"))
    with tempfile.TemporaryDirectory(prefix="k8saudit-formats-") as tmp:
        out = Path(tmp)
        corpus = out / "audit.jsonl"
        subprocess.run(
            [
                sys.executable,
                str(HERE / "gen_corpus.py"),
                "-n",
                str(args.events),
                "-o",
                str(corpus),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        files = write_shapes(corpus, out)
        refs = [
            Row("plain JSON lines (reference)", str(corpus), ""),
            Row("GKE: rebuilt events as lines", str(out / "gke-events.jsonl"), ""),
            Row("GKE: the requests' own lines", str(out / "gke-native.jsonl"), ""),
        ]
        rows = refs + [Row(name, str(path), ref) for name, (path, ref) in files.items()]
        if args.only:
            wanted = args.only.split(",")
            rows = refs + [r for r in rows[3:] if any(w in r.name for w in wanted)]
        print(f"load average before: {os.getloadavg()}", file=sys.stderr)
        measure(rows, k8saudit, args.repeat)
        cpu = {"jsonl": min(rows[0].cpu), "gke": min(rows[1].cpu)}
        for row in rows[3:]:
            row.ratio = round(min(row.cpu) / cpu[row.reference], 3)
        print(f"load average after: {os.getloadavg()}", file=sys.stderr)
        print_table(rows)
        if args.json:
            Path(args.json).write_text(json.dumps([asdict(r) for r in rows], indent=2))
    over = [r.name for r in rows if r.ratio is not None and r.ratio > LIMIT]
    if over:
        print(f"over {LIMIT}x: {', '.join(over)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
