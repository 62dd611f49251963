"""Inputs that are not plain files, or that change or fail under the scan.

Real pipes, FIFOs, symlinks and I/O errors: pipes and FIFOs are read once,
every byte, in one process; a regular file is read up to the size it had
when the scan started; an input that fails to read is counted and the scan
goes on (fatal with --strict); a symlink loop is called one.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from k8saudit_cli.decode import DecodeOptions, Problems, read_events
from k8saudit_cli.errors import InputError
from k8saudit_cli.sources import Input, expand_inputs


def event_line(n: int) -> bytes:
    return (
        orjson.dumps(
            {
                "kind": "Event",
                "apiVersion": "audit.k8s.io/v1",
                "auditID": f"id-{n}",
                "stage": "ResponseComplete",
                "verb": "get",
                "requestURI": f"/api/v1/namespaces/dev/configmaps/cm-{n}",
                "user": {"username": "u"},
                "stageTimestamp": f"2024-05-01T10:00:{n % 60:02d}.000000Z",
            }
        )
        + b"\n"
    )


def lines(first: int, last: int) -> bytes:
    return b"".join(event_line(n) for n in range(first, last + 1))


def scan(*args: str, pass_fds: tuple[int, ...] = (), timeout: float = 60) -> tuple[int, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "k8saudit_cli", "scan", "--no-progress", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        pass_fds=pass_fds,
        stdin=subprocess.DEVNULL,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stderr


def events_read(report: str) -> int:
    return int(next(ln for ln in report.splitlines() if ln.startswith("Events read:")).split()[2])


def feed(
    path_or_fd: str | int, data: bytes, piece: int = 1 << 16, pause: float = 0.0
) -> threading.Thread:
    """Write ``data`` to a FIFO path or pipe fd from a thread, ``piece`` bytes at a time."""

    def run() -> None:
        fd = os.open(path_or_fd, os.O_WRONLY) if isinstance(path_or_fd, str) else path_or_fd
        try:
            for i in range(0, len(data), piece):
                os.write(fd, data[i : i + piece])
                if pause:
                    time.sleep(pause)
        except BrokenPipeError:
            pass
        finally:
            os.close(fd)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


# ------------------------------------------------------------------ pipes and FIFOs


@pytest.mark.parametrize("count", [3, 412])
def test_jobs_on_a_pipe_reads_every_byte_in_one_process(count: int) -> None:
    # scan <(cat story.jsonl) --jobs 2 read 406 of 412 events; 3 lines read 0
    r, w = os.pipe()
    writer = feed(w, lines(1, count))
    rc, err = scan(f"/dev/fd/{r}", "--jobs", "2", pass_fds=(r,))
    os.close(r)
    writer.join(5)
    assert rc == 0, err
    assert events_read(err) == count
    assert "--jobs needs regular files; scanning in one process" in err
    assert "invalid JSON" not in err


def test_jobs_on_a_named_fifo_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "audit.fifo"
    os.mkfifo(fifo)
    writer = feed(str(fifo), lines(1, 50))
    rc, err = scan(str(fifo), "--jobs", "2", timeout=30)
    writer.join(5)
    assert rc == 0, err
    assert events_read(err) == 50


def test_gzip_on_a_trickling_pipe_is_recognised(tmp_path: Path) -> None:
    # the head arrives a byte at a time: the sniff waits for enough of it, then puts it back
    r, w = os.pipe()
    writer = feed(w, gzip.compress(lines(1, 5)), piece=1, pause=0.001)
    inp = Input(f"/dev/fd/{r}")
    try:
        assert inp.compression == "gzip"
        assert [n for n, _ in inp.lines()] == [1, 2, 3, 4, 5]
        assert inp.error is None
    finally:
        inp.close()
        writer.join(5)


def test_needs_single_process(tmp_path: Path) -> None:
    from k8saudit_cli.sources import is_regular_file, needs_single_process

    plain = tmp_path / "a.log"
    plain.write_bytes(b"")
    link = tmp_path / "link.log"
    link.symlink_to(plain)
    fifo = tmp_path / "f.fifo"
    os.mkfifo(fifo)
    assert is_regular_file(str(plain)) and is_regular_file(str(link))
    assert not is_regular_file("-") and not is_regular_file(str(fifo))
    assert not is_regular_file("/dev/null") and not is_regular_file(str(tmp_path))
    assert not needs_single_process([str(plain), str(link)])
    assert needs_single_process([str(plain), "-"])
    assert needs_single_process([str(fifo)])
    assert needs_single_process(["/dev/stdin"])


# ------------------------------------------------------------------ symlinks


def test_symlink_loop_is_named(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(InputError) as exc:
        expand_inputs([str(tmp_path / "a")])
    assert str(exc.value) == (
        f"cannot open '{tmp_path / 'a'}': symlink loop (too many levels of symbolic links)"
    )
    rc, err = scan(str(tmp_path / "a"))
    assert rc == 2
    assert "symlink loop" in err and "no such file" not in err


def test_broken_symlink_names_its_target(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "gone.log")
    with pytest.raises(InputError, match=r"broken symlink .* does not exist"):
        expand_inputs([str(tmp_path / "a")])


# ------------------------------------------------------------------ appended while scanning


def test_appended_data_is_left_for_the_next_scan(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    path.write_bytes(lines(1, 3))
    events = read_events([str(path)], DecodeOptions(), Problems())
    first = next(events)
    with open(path, "ab") as fh:  # the API server writes on while we scan
        fh.write(lines(4, 10))
    assert [first.line] + [e.line for e in events] == [1, 2, 3]
    assert len(list(read_events([str(path)]))) == 10  # the next scan sees it all


def _family(pid: int) -> list[int]:
    """``pid`` and its descendants (the worker processes of a ``--jobs`` scan)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:  # every thread's children: workers may be forked from a manager thread
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
            except OSError:
                pass
    return out


def _wait_until_open(pid: int, path: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in _family(pid):
            try:
                fds = os.listdir(f"/proc/{p}/fd")
                if any(os.readlink(f"/proc/{p}/fd/{fd}") == str(path) for fd in fds):
                    return
            except OSError:
                pass
        time.sleep(0.001)
    raise AssertionError("the scan never opened its input")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_appended_data_rule_is_the_same_with_one_or_many_processes(
    tmp_path: Path, jobs: str
) -> None:
    # with --jobs 1 data appended during the scan was read, with --jobs 2 it was not
    path = tmp_path / "audit.log"
    path.write_bytes(lines(1, 20000))  # 4 MB: one chunk, opened by a worker with --jobs 2
    proc = subprocess.Popen(
        [sys.executable, "-m", "k8saudit_cli", "scan", "--no-progress", "--jobs", jobs, str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_until_open(proc.pid, path)
        with open(path, "ab") as fh:
            fh.write(lines(20001, 20005))
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert events_read(err) == 20000


# ------------------------------------------------------------------ read errors


def _eio_paths(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "1.log").write_bytes(lines(1, 2))
    (tmp_path / "2.log").write_bytes(lines(3, 4))
    yield str(tmp_path / "1.log")
    yield "/proc/self/mem"  # reading offset 0 of one's own memory: EIO, a real one
    yield str(tmp_path / "2.log")


def test_read_error_is_counted_and_the_scan_goes_on(tmp_path: Path) -> None:
    paths = list(_eio_paths(tmp_path))
    problems = Problems()
    events = list(read_events(paths, DecodeOptions(), problems))
    assert [e.raw["auditID"] for e in events] == ["id-1", "id-2", "id-3", "id-4"]
    assert problems.counts == {"read_error": 1}
    reason, file, line, _, detail = problems.shown[0]
    assert (reason, file, line) == ("read_error", "/proc/self/mem", 1)
    assert detail == "Input/output error (EIO)"
    rc, err = scan(*paths)
    assert rc == 0, err
    assert "warning: /proc/self/mem:1: read error: Input/output error (EIO)\n" in err
    assert events_read(err) == 4
    rc, err = scan(*paths, "--strict")
    assert rc == 2 and "--strict: 1 input item(s) were skipped" in err


def test_input_that_vanished_during_the_scan_is_counted(tmp_path: Path) -> None:
    # rotated away after the scan listed it, before it was opened: one problem, and on
    for n in (1, 2, 3):
        (tmp_path / f"{n}.log").write_bytes(lines(n, n))
    problems = Problems()
    events = read_events([str(tmp_path)], DecodeOptions(), problems)
    first = next(events)
    os.unlink(tmp_path / "2.log")
    assert [e.raw["auditID"] for e in [first, *events]] == ["id-1", "id-3"]
    assert problems.shown == [
        (
            "read_error",
            str(tmp_path / "2.log"),
            1,
            None,
            "cannot open: No such file or directory (ENOENT)",
        )
    ]


def test_big_binary_file_with_jobs_is_refused_once(tmp_path: Path) -> None:
    # a binary file big enough to be split used to give a NUL-byte warning per range and line
    path = tmp_path / "core.bin"
    path.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(9 << 20))
    rc, err = scan(str(path), "--jobs", "2")
    assert err.count("unsupported compression or binary file: binary data") == 1
    assert "NUL byte" not in err
    # nothing else was read: the scan says so instead of passing for an empty log (issue 12)
    assert rc == 2, err
    assert err.endswith(
        "no audit events in " + str(path) + ": unsupported compression or binary file\n"
    )


def test_closed_stdin_is_refused_before_the_scan() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "k8saudit_cli", "scan", "--no-progress", "-"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        preexec_fn=lambda: os.close(0),
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == "k8saudit: error: cannot read '<stdin>': stdin is closed\n"
