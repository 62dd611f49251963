"""The receiver over real HTTP on 127.0.0.1 (in this process): batches, every error status,
backpressure, metrics, and what the archive gives back to ``scan``."""

from __future__ import annotations

import asyncio
import gzip
import threading

import aiohttp
import orjson
import pytest
from click.testing import CliRunner

from k8saudit_cli.cli import main
from k8saudit_cli.serve.config import ArchiveOptions, Limits, ServeConfig, ServeError
from k8saudit_cli.serve.handler import NO_ARCHIVE
from tests.serve_support import (
    EVERY_EVENT_RULES,
    RULES,
    Live,
    event_list,
    events,
    ids_in,
    metric,
    pretty,
    raw_request,
    status_of,
)

LOOPBACK = "http://127.0.0.1:0/k8s-audit"


def run(coro):
    return asyncio.run(coro)


def config(**kwargs) -> ServeConfig:
    limits = kwargs.pop("limits", Limits())
    return ServeConfig(listen=kwargs.pop("listen", LOOPBACK), limits=limits, **kwargs)


async def post(session, url, body, **headers):
    async with session.post(url, data=body, headers=headers) as response:
        return response.status, await response.text(), response.headers


def port_of(url: str) -> int:
    return int(url.split(":")[2].split("/")[0])


# ---------------------------------------------------------------- batches and alerts


def test_batches_alert_like_scan_and_the_archive_scans_the_same(tmp_path):
    archive = tmp_path / "archive"
    batches = [events(9, 9 * i, tag=f"b{i}") for i in range(6)]

    async def scenario():
        async with Live(config(archive=ArchiveOptions(str(archive))), RULES) as live:
            async with aiohttp.ClientSession() as session:
                replies = await asyncio.gather(
                    *(post(session, live.url, event_list(b)) for b in batches)
                )
            stats = await live.stop()
        return live, replies, stats

    live, replies, stats = run(scenario())
    assert [r[0] for r in replies] == [200] * 6
    assert orjson.loads(replies[0][1]) == {"accepted": 9, "skipped": 0}
    assert stats.events_read == 54 and stats.alerts == len(live.lines) > 0
    # A rescan of the archive gives the very same alert lines, evt.num included:
    # the live run saw the events in archive order.
    rescan = CliRunner().invoke(main, ["scan", str(archive), "-r", RULES, "--no-summary"])
    assert rescan.exit_code == 0, rescan.stderr
    assert rescan.stdout.splitlines() == live.lines
    assert any("num=" in line for line in live.lines)


def test_event_array_and_pretty_bodies(tmp_path):
    rules = tmp_path / "every.yaml"
    rules.write_text(EVERY_EVENT_RULES)
    archive = tmp_path / "archive"
    one, two, three, four = events(4)

    async def scenario():
        async with Live(config(archive=ArchiveOptions(str(archive))), str(rules)) as live:
            async with aiohttp.ClientSession() as session:
                for body in (orjson.dumps(one), orjson.dumps([two, three]), pretty(four)):
                    status, _, _ = await post(session, live.url, body)
                    assert status == 200
        return live

    live = run(scenario())
    assert ids_in(live.lines) == ["e-0", "e-1", "e-2", "e-3"]
    archived = b"".join(p.read_bytes() for p in sorted(archive.iterdir()) if p.is_file())
    lines = gzip.decompress(archived).splitlines()
    assert lines[0] == orjson.dumps(one) and len(lines) == 3  # as received, one body per line
    assert orjson.loads(lines[2]) == four


def test_without_archive_events_are_numbered_by_batch():
    async def scenario():
        async with Live(config()) as live:
            async with aiohttp.ClientSession() as session:
                await post(session, live.url, event_list(events(3)))
                await post(session, live.url, event_list([1, *events(2)]))
        return live

    live = run(scenario())
    assert live.stats.events_read == 5
    assert live.warnings == [
        f"k8saudit: warning: {NO_ARCHIVE}:2[0]: data not recognized as a k8s audit event: EventList item is not an object"
    ]
    assert live.stats.problems.counts == {"not_audit_event": 1}


# ---------------------------------------------------------------- every error status


def test_error_statuses():
    async def scenario():
        limits = Limits(max_batch_size=64 * 1024, client_timeout=0.5, linger=0.2)
        async with Live(config(limits=limits)) as live:
            base = live.url.rsplit("/", 1)[0]
            port = port_of(live.url)
            got = {}
            async with aiohttp.ClientSession() as session:
                got["wrong path"] = (await post(session, base + "/nope", b"{}"))[0]
                async with session.get(live.url) as r:
                    got["wrong method"] = r.status
                got["not json"] = await post(session, live.url, b"{not json")
                got["not a batch"] = await post(session, live.url, b'{"kind":"Pod"}')
                got["empty"] = await post(session, live.url, b"")
                got["encoding"] = await post(session, live.url, b"{}", **{"Content-Encoding": "br"})
                bomb = gzip.compress(b" " * (1 << 20))
                got["bomb"] = await post(session, live.url, bomb, **{"Content-Encoding": "gzip"})
                fine = gzip.compress(event_list(events(5)))
                got["gzip"] = await post(session, live.url, fine, **{"Content-Encoding": "gzip"})
            head = b"POST /k8s-audit HTTP/1.1\r\nHost: t\r\nContent-Length: 999999999\r\n\r\n"
            got["length"] = await raw_request(port, head)
            chunked = b"POST /k8s-audit HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
            chunks = (b"4000\r\n" + b" " * 0x4000 + b"\r\n" for _ in range(5))
            got["chunked"] = await raw_request(port, chunked, chunks)
            got["slow"] = await raw_request(port, chunked + b"10\r\n[")
        return got

    got = run(scenario())
    assert got["wrong path"] == 404
    assert got["wrong method"] == 405
    assert got["not json"][0] == 400 and got["not json"][1].startswith("invalid JSON")
    assert got["not a batch"][0] == 400 and "not recognized" in got["not a batch"][1]
    assert got["empty"][:2] == (400, "empty body\n")
    assert got["encoding"][0] == 415
    assert got["bomb"][0] == 413 and "inflates" in got["bomb"][1]
    assert got["gzip"][0] == 200 and '"accepted":5' in got["gzip"][1]
    assert status_of(got["length"]) == 413
    assert status_of(got["chunked"]) == 413
    assert status_of(got["slow"]) == 408


def test_default_batch_limit_stops_a_gzip_bomb():
    bomb = gzip.compress(b"\0" * (16 << 20), compresslevel=1)
    assert len(bomb) < 100_000

    async def scenario():
        async with Live(config()) as live, aiohttp.ClientSession() as session:
            return await post(session, live.url, bomb, **{"Content-Encoding": "gzip"})

    assert run(scenario())[0] == 413


# ---------------------------------------------------------------- backpressure


def test_full_queue_gets_503_with_retry_after():
    entered, release = threading.Event(), threading.Event()

    def slow_sink(alert):
        entered.set()
        release.wait(10)

    async def scenario():
        limits = Limits(queue_events=1, retry_after=7)
        async with Live(config(limits=limits), sink=slow_sink) as live:
            async with aiohttp.ClientSession() as session:
                first = await post(session, live.url, event_list(events(9)))
                await asyncio.get_running_loop().run_in_executor(None, entered.wait, 10)
                second = await post(session, live.url, event_list(events(9, 9)))
                third = await post(session, live.url, event_list(events(9, 18)))
                health = await session.get(live.base + "/healthz")
                release.set()
                return first, second, third, health.status, live

    first, second, third, health, live = run(scenario())
    assert first[0] == 200 and second[0] == 200
    assert third[0] == 503 and third[2]["Retry-After"] == "7"
    assert health == 200
    assert live.stats.events_read == 18  # nothing acknowledged is dropped


def test_too_many_requests_in_flight_get_503_and_stalled_ones_time_out():
    async def scenario():
        limits = Limits(max_inflight=1, client_timeout=1.0, linger=0.2)
        async with Live(config(limits=limits)) as live:
            port = port_of(live.url)
            head = b"POST /k8s-audit HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n["
            stalled = asyncio.ensure_future(raw_request(port, head))
            while live.service.receiver.inflight == 0:
                await asyncio.sleep(0.01)
            async with aiohttp.ClientSession() as session:
                busy = await post(session, live.url, event_list(events(1)))
            # A client stalled in its headers is disconnected after the same time.
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"POST /k8s-audit HTTP/1.1\r\nHost:")
            headers_stalled = await asyncio.wait_for(reader.read(), 5)
            writer.close()
            return busy, await stalled, headers_stalled

    busy, stalled, headers_stalled = run(scenario())
    assert busy[0] == 503 and "Retry-After" in busy[2]
    assert status_of(stalled) == 408
    assert headers_stalled == b""


# ---------------------------------------------------------------- access control and metrics


def test_bearer_tokens(tmp_path):
    token_file = tmp_path / "tokens"
    token_file.write_text("right-token,kube-apiserver,uid\n")

    async def scenario():
        async with Live(config(token_file=str(token_file))) as live:
            async with aiohttp.ClientSession() as session:
                body = event_list(events(2))
                missing = await post(session, live.url, body)
                wrong = await post(session, live.url, body, Authorization="Bearer wrong-token")
                right = await post(session, live.url, body, Authorization="Bearer right-token")
                async with session.get(live.base + "/metrics") as r:
                    text = await r.text()
        return missing, wrong, right, text, live

    missing, wrong, right, text, live = run(scenario())
    assert missing[0] == 401 and missing[2]["WWW-Authenticate"] == "Bearer"
    assert wrong[0] == 401 and right[0] == 200
    assert metric(text, 'k8saudit_serve_auth_refusals_total{reason="missing_token"}') == 1
    assert metric(text, 'k8saudit_serve_auth_refusals_total{reason="invalid_token"}') == 1
    assert metric(text, 'k8saudit_serve_requests_total{code="401"}') == 2
    assert "wrong-token" not in "".join(live.warnings) + text


def test_metrics_and_health(tmp_path):
    async def scenario():
        async with Live(config(archive=ArchiveOptions(str(tmp_path)))) as live:
            async with aiohttp.ClientSession() as session:
                await post(session, live.url, event_list([*events(9), 5]))
                await post(session, live.url, b"[")
                async with session.get(live.base + "/healthz") as r:
                    health = (r.status, await r.text())
                # the rules run on their own thread: wait until the batch has been through them
                alert = 'k8saudit_serve_alerts_total{priority="Warning",rule="Privileged Pod"}'
                polls = 0
                for _ in range(200):
                    async with session.get(live.base + "/metrics") as r:
                        text = await r.text()
                        kind = r.headers["Content-Type"]
                    polls += 1
                    if alert in text:
                        break
                    await asyncio.sleep(0.05)
        return health, text, kind, polls

    health, text, kind, polls = run(scenario())
    assert health == (200, "ok\n")
    assert kind.startswith("text/plain")
    # The POST, /healthz and the earlier /metrics polls (a response is counted once sent).
    assert metric(text, 'k8saudit_serve_requests_total{code="200"}') == 2 + polls - 1
    assert metric(text, 'k8saudit_serve_requests_total{code="400"}') == 1
    assert metric(text, "k8saudit_serve_events_accepted_total") == 9
    assert metric(text, 'k8saudit_serve_events_skipped_total{reason="not_audit_event"}') == 1
    assert (
        metric(text, 'k8saudit_serve_alerts_total{priority="Warning",rule="Privileged Pod"}') >= 1
    )
    assert metric(text, "k8saudit_serve_received_bytes_total") > 5000
    assert metric(text, "k8saudit_serve_archive_lines_total") == 1
    assert metric(text, "k8saudit_serve_archive_files_total") == 1
    assert metric(text, "k8saudit_serve_queue_capacity_events") == 10000
    assert "k8saudit_serve_queue_events " in text
    assert 'k8saudit_serve_request_duration_seconds_bucket{le="0.25"}' in text


def test_bad_settings_are_reported():
    with pytest.raises(ServeError, match="reserved"):
        Live(config(listen="http://127.0.0.1:0/metrics"))
    with pytest.raises(ServeError, match="--tls-cert"):
        Live(config(listen="https://127.0.0.1:0/k8s-audit"))

    async def busy_port():
        async with Live(config()) as live:
            with pytest.raises(ServeError, match="cannot listen"):
                async with Live(config(listen=live.url)):
                    pass

    run(busy_port())


def test_archive_write_failure_is_503_and_nothing_half_written(tmp_path, monkeypatch):
    from k8saudit_cli.serve import archive as archive_module

    real = archive_module._write_all
    failures = [True]

    def failing_once(fd, data):
        if failures.pop() if failures else False:
            real(fd, data[: len(data) // 2])  # a torn write...
            raise OSError(28, "No space left on device")
        real(fd, data)

    monkeypatch.setattr(archive_module, "_write_all", failing_once)

    async def scenario():
        async with Live(config(archive=ArchiveOptions(str(tmp_path), compress_level=0))) as live:
            async with aiohttp.ClientSession() as session:
                first = await post(session, live.url, event_list(events(3, tag="lost")))
                second = await post(session, live.url, event_list(events(3, tag="kept")))
        return first, second, live

    first, second, live = run(scenario())
    assert first[0] == 503 and "archive" in first[1] and "Retry-After" in first[2]
    assert second[0] == 200
    assert any("No space left" in w for w in live.warnings)
    (archived,) = [p for p in tmp_path.iterdir() if p.is_file()]
    assert archived.read_bytes().count(b"\n") == 1 and b"lost-" not in archived.read_bytes()
    assert live.stats.events_read == 3
