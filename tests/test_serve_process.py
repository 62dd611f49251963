"""The real ``k8saudit serve`` in a subprocess: signals, exit status, and kill -9 durability."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from click.testing import CliRunner

from k8saudit_cli.cli import main
from tests.serve_support import EVERY_EVENT_RULES, RULES, TEMPLATES, event_list, events, ids_in


class Server:
    """``k8saudit serve`` on 127.0.0.1 with an ephemeral port; stderr collected as it comes."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.alerts = tmp_path / f"alerts-{time.monotonic_ns()}.txt"
        command = [sys.executable, "-m", "k8saudit_cli", "serve"]
        command += ["--listen", "http://127.0.0.1:0/k8s-audit", *args]
        self.proc = subprocess.Popen(
            command, stdout=self.alerts.open("w"), stderr=subprocess.PIPE, text=True
        )
        self.stderr: list[str] = []
        self.ready = threading.Event()
        self.url = ""
        threading.Thread(target=self._read_stderr, daemon=True).start()
        if not self.ready.wait(30):
            self.proc.kill()
            raise AssertionError("serve did not start:\n" + "".join(self.stderr))

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)
            if "listening on " in line:
                self.url = line.split("listening on ")[1].split()[0]
                self.ready.set()
        self.ready.set()

    @property
    def port(self) -> int:
        return int(self.url.split(":")[2].split("/")[0])

    def post(self, body: bytes) -> int:
        request = urllib.request.Request(self.url, data=body, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    def stop(self, signum: int = signal.SIGTERM) -> int:
        self.proc.send_signal(signum)
        code = self.proc.wait(30)
        time.sleep(0.05)  # the stderr reader catches up
        return code


def scan(*args: str):
    return CliRunner().invoke(main, ["scan", *args])


def test_sigterm_finishes_in_flight_requests_reports_and_applies_fail_on(tmp_path):
    archive = tmp_path / "archive"
    server = Server(tmp_path, "-r", RULES, "--archive", str(archive), "--fail-on", "error")
    assert server.post(event_list(TEMPLATES)) == 200
    # A request still being received when SIGTERM arrives is finished and acknowledged.
    body = event_list(events(9, tag="late"))
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        head = f"POST /k8s-audit HTTP/1.1\r\nHost: t\r\nContent-Length: {len(body)}\r\n\r\n"
        sock.sendall(head.encode() + body[:100])
        time.sleep(0.2)
        server.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        sock.sendall(body[100:])
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200")
    assert server.proc.wait(30) == 1
    time.sleep(0.05)
    stderr = "".join(server.stderr)
    assert f"Events read: {len(TEMPLATES) + 9}" in stderr and "Events detected:" in stderr
    assert "failing (--fail-on)" in stderr
    rescan = scan(str(archive), "-r", RULES, "--no-summary")
    assert rescan.stdout.splitlines() == server.alerts.read_text().splitlines()
    assert [p.name.endswith(".jsonl.gz") for p in archive.iterdir() if p.is_file()] == [True]


def test_kill_9_loses_no_acknowledged_event(tmp_path):
    rules = tmp_path / "every.yaml"
    rules.write_text(EVERY_EVENT_RULES)
    archive = tmp_path / "archive"
    # Small files: rotations and background compressions happen while the batches arrive.
    args = ("-r", str(rules), "--archive", str(archive), "--archive-max-size", "30000")
    server = Server(tmp_path, *args)
    acknowledged: list[str] = []
    stop = threading.Event()

    def client(tag: str) -> None:
        for i in range(10_000):
            if stop.is_set():
                return
            batch = events(20, 20 * i, tag=tag)
            try:
                status = server.post(event_list(batch))
            except OSError:
                return
            if status == 200:
                acknowledged.extend(e["auditID"] for e in batch)

    threads = [threading.Thread(target=client, args=(f"c{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    while len(acknowledged) < 1500:
        time.sleep(0.01)
    server.proc.kill()  # SIGKILL, with requests in flight
    server.proc.wait(10)
    stop.set()
    for t in threads:
        t.join(10)

    # A torn last line (as a crash in the middle of a write leaves) is reported, not fatal.
    plain = sorted(p for p in archive.iterdir() if p.name.endswith(".jsonl"))
    assert plain, "the file being written is left plain"
    with plain[-1].open("ab") as fh:
        fh.write(b'{"kind":"EventList","items":[{"kind":"Ev')
    first = scan(str(archive), "-r", str(rules), "--no-summary")
    assert first.exit_code == 0, first.stderr
    assert "invalid JSON" in first.stderr
    found = ids_in(first.stdout.splitlines())
    assert len(found) == len(set(found)), "an event was archived twice"
    assert set(acknowledged) <= set(found)

    # The next run finishes what the killed one left: every closed file compressed.
    again = Server(tmp_path, *args)
    assert again.stop() == 0
    names = [p.name for p in archive.iterdir() if p.is_file()]
    assert names and all(n.endswith(".jsonl.gz") for n in names)
    assert os.listdir(archive / ".k8saudit-work") == []
    second = scan(str(archive), "-r", str(rules), "--no-summary")
    assert ids_in(second.stdout.splitlines()) == found


def test_missing_extra_is_one_line_and_exit_2():
    code = "import sys; sys.modules['aiohttp'] = None\nfrom k8saudit_cli.cli import main\nmain(['serve'])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr == (
        "k8saudit: error: k8saudit serve needs the 'serve' extra: pip install 'k8saudit[serve]'\n"
    )
