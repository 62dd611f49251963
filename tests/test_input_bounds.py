"""Memory and time bounds on hostile or degenerate input, measured on real processes.

Every scan here runs as a child process and its peak RSS is read back with
``getrusage(RUSAGE_CHILDREN)`` in a wrapper whose only child is the scan
(pipelines included: bash waits for them), so nothing else in the test run
counts. Inputs are made here, streaming: a gigabyte of zeros costs a few
megabytes of disk as gzip members.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from k8saudit_cli.decode import DecodeOptions, Problems, read_events

MiB = 1 << 20
#: The bound the report asks for, with a scan of a small file at ~35 MiB.
RSS_LIMIT_MIB = 150
#: Size of the bombs made here (the report's was 10 GB; the guard stops at 64 MiB anyway).
BOMB_MIB = 1024

EVENT = orjson.dumps(
    {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "auditID": "a",
        "stage": "ResponseComplete",
        "verb": "get",
        "requestURI": "/api/v1/pods",
        "user": {"username": "u"},
        "stageTimestamp": "2024-05-01T10:00:00.000000Z",
    }
)

_MEASURE = (
    "import resource, subprocess, sys\n"
    "with open(sys.argv[2], 'wb') as err:\n"
    "    rc = subprocess.run(['bash', '-c', sys.argv[1]], stdout=subprocess.DEVNULL,"
    " stderr=err, stdin=subprocess.DEVNULL).returncode\n"
    "print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def measured(command: str, tmp_path: Path) -> tuple[int, float, str]:
    """Run a shell command line: its exit code, the peak RSS (MiB) of its biggest
    process, and what it wrote on stderr."""
    err = tmp_path / "stderr.txt"
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, command, str(err)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    rc, kib = out.stdout.split()
    return int(rc), int(kib) / 1024, err.read_text(errors="replace")


def scan_cmd(*args: str) -> str:
    return shlex.join([sys.executable, "-m", "k8saudit_cli", "scan", "--no-progress", *args])


def members(path: Path, compress: Callable[[bytes], bytes], first: bytes, fill: bytes) -> None:
    """``BOMB_MIB`` MiB as concatenated compressed members (valid gzip, bzip2, xz and
    zstd all): ``first`` then ``fill`` bytes, no line break anywhere."""
    block = compress(fill * MiB)
    with open(path, "wb") as fh:
        fh.write(compress(first + fill * (MiB - len(first))))
        for _ in range(BOMB_MIB - 1):
            fh.write(block)


def zstd_compress(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor(level=3).compress(data)


COMPRESSORS = {
    "gzip": lambda d: gzip.compress(d, 9),
    "bzip2": lambda d: bz2.compress(d, 9),
    "xz": lzma.compress,
    "zstd": zstd_compress,
}


# ------------------------------------------------------------------ the report's three inputs


def test_gzipped_zeros(tmp_path: Path) -> None:
    # 1 GiB of zeros in 1 MiB of gzip; used to reach the size of the data in RSS
    bomb = tmp_path / "zeros.gz"
    members(bomb, COMPRESSORS["gzip"], b"", b"\0")
    rc, rss, err = measured(scan_cmd(str(bomb)), tmp_path)
    assert rc == 2, err  # nothing but the bomb: "no audit events in ..." (issue 12)
    assert rss < RSS_LIMIT_MIB, rss
    assert "unsupported compression or binary file: binary data in a gzip stream" in err
    assert "error: no audit events in " in err
    assert "Traceback" not in err


def test_dev_zero(tmp_path: Path) -> None:
    rc, rss, err = measured(f"head -c {BOMB_MIB}M /dev/zero | {scan_cmd('-')}", tmp_path)
    assert rc == 2, err  # nothing but zeros: "no audit events in <stdin>" (issue 12)
    assert rss < RSS_LIMIT_MIB, rss
    assert "<stdin>:1: unsupported compression or binary file: binary data\n" in err
    assert "error: no audit events in <stdin>: unsupported compression or binary file" in err


def test_dev_zero_as_text_one_long_line(tmp_path: Path) -> None:
    # the same without NUL bytes: one 256 MiB line on a pipe, skipped a block at a time
    rc, rss, err = measured(f"head -c 256M /dev/zero | tr '\\0' a | {scan_cmd('-')}", tmp_path)
    assert rc == 0, err
    assert rss < RSS_LIMIT_MIB, rss
    assert f"<stdin>:1: event larger than --max-event-size: {256 * MiB} bytes > 262144" in err


def test_200_mb_line_without_newline(tmp_path: Path) -> None:
    path = tmp_path / "long.log"
    with open(path, "wb") as fh:
        fh.write(EVENT + b"\n")
        for _ in range(200):
            fh.write(b"x" * MiB)
    rc, rss, err = measured(scan_cmd(str(path)), tmp_path)
    assert rc == 0, err
    assert rss < RSS_LIMIT_MIB, rss
    assert f"{path}:2: event larger than --max-event-size: {200 * MiB} bytes > 262144" in err
    assert "Events read: 1" in err


@pytest.mark.parametrize("kind", sorted(COMPRESSORS))
def test_decompression_ratio_guard(tmp_path: Path, kind: str) -> None:
    # a text bomb (no NUL): the line is skipped until the guard sees the ratio
    bomb = tmp_path / f"spaces.{kind}"
    members(bomb, COMPRESSORS[kind], EVENT + b"\n{", b" ")
    rc, rss, err = measured(scan_cmd(str(bomb)), tmp_path)
    assert rc == 0, err
    assert rss < RSS_LIMIT_MIB, rss
    assert f"warning: {bomb}:2: compressed data inflates too far without a line break: " in err
    assert f"{kind} data inflates past 64 MiB at " in err
    assert "Events read: 1" in err
    if kind == "gzip":
        rc, _, err = measured(scan_cmd(str(bomb), "--strict"), tmp_path)
        assert rc == 2 and "--strict: 1 input item(s) were skipped" in err


# ------------------------------------------------------------------ long lines in process


def read(path: Path, **opts: int) -> tuple[list[int], Problems]:
    warnings: list[str] = []
    problems = Problems(emit=warnings.append)
    events = list(read_events([str(path)], DecodeOptions(**opts), problems))
    return [e.line for e in events], problems


def test_long_line_is_skipped_and_numbering_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_bytes(EVENT + b"\n" + b"y" * (5 * MiB) + b"\r\n\n" + EVENT + b"\n")
    lines, problems = read(path)
    assert lines == [1, 4]
    assert problems.shown == [("too_large", str(path), 2, None, f"{5 * MiB} bytes > 262144")]


def test_line_limit_follows_max_event_size(tmp_path: Path) -> None:
    from k8saudit_cli.sources import LINE_SLACK, line_limit

    # an EventList line past the default line limit: its events each fit the size limit
    count = (line_limit(262144) // len(EVENT)) + 100
    big = b'{"kind":"EventList","items":[' + b",".join([EVENT] * count) + b"]}"
    assert len(big) > line_limit(262144) == 262144 + LINE_SLACK
    path = tmp_path / "a.log"
    path.write_bytes(big + b"\n" + EVENT + b"\n")
    lines, problems = read(path)
    assert (lines, problems.counts) == ([2], {"too_large": 1})
    lines, problems = read(path, max_event_size=1 << 20)  # the line limit moves with it
    assert (len(lines), problems.counts) == (count + 1, {})


# ------------------------------------------------------------------ degenerate input


def test_blank_and_junk_lines_are_parsed_at_most_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 10M empty lines took 42.6 s: every line was parsed twice and raised twice
    calls: list[bytes] = []
    real = orjson.loads

    def counting(data: bytes) -> object:
        calls.append(bytes(data))
        return real(data)

    monkeypatch.setattr(orjson, "loads", counting)
    path = tmp_path / "junk.log"
    legacy = b'2024-05-01T10:00:00.1Z AUDIT: id="1" method="get" user="u"\n'
    path.write_bytes(b"\n" * 1000 + b"x\n" * 30 + b" \r\n" + legacy * 5 + EVENT + b"\n")
    lines, problems = read(path)
    assert lines == [1037]
    assert problems.counts == {"invalid_json": 30, "legacy_format": 5}
    # blank lines never meet the parser, nor lines that show what they are;
    # junk that cannot be JSON meets it only to word the 20 warnings shown; the event once
    assert len(calls) == 20 + 1


def test_ten_million_empty_lines_are_quick(tmp_path: Path) -> None:
    # a loose bound for a shared CI machine (about 1.5 s here): 42.6 s before
    path = tmp_path / "empty.log"
    path.write_bytes(b"\n" * 10_000_000)
    rc, _, err = measured(f"time -p {scan_cmd(str(path))}", tmp_path)
    assert rc == 0, err
    real = float(next(ln.split()[1] for ln in err.splitlines() if ln.startswith("real ")))
    assert real < 8.0, err
    os.unlink(path)
