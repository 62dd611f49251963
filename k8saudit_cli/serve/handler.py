"""The HTTP side: the webhook endpoint with its checks, ``/healthz``, ``/metrics``.

A webhook request goes: access control (401/403) -> room to take it (503
with ``Retry-After``) -> headers and body within limits (413, 415, 408) ->
decoded as a batch (400) -> archived, synced per ``--fsync`` -> events
queued for the rules -> 200. Nothing is acknowledged before it is in the
archive. Wrong paths (404) and methods (405) are aiohttp's own answers,
counted by :func:`observing` like every other response.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import orjson
from aiohttp import web
from aiohttp.typedefs import Middleware

from k8saudit_cli.decode import KEPT_REASONS, DecodeOptions, Problems
from k8saudit_cli.serve.archive import ArchiveError, Location
from k8saudit_cli.serve.auth import TokenSet
from k8saudit_cli.serve.batch import Batch, archive_line, decode_batch, place
from k8saudit_cli.serve.body import BodyError, check_headers, read_body
from k8saudit_cli.serve.config import Limits
from k8saudit_cli.serve.feed import EventFeed
from k8saudit_cli.serve.metrics import CONTENT_TYPE, ServeMetrics
from k8saudit_cli.serve.tls import has_client_certificate
from k8saudit_cli.serve.writer import ArchiveWriter

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: Where events go when there is no archive (``file:line`` of warnings: the batch number).
NO_ARCHIVE = "<webhook>"


def text(status: int, message: str, **headers: str) -> web.Response:
    return web.Response(status=status, text=message + "\n", headers=headers)


class Receiver:
    """The webhook endpoint. All its methods run in the event loop."""

    def __init__(
        self,
        limits: Limits,
        decode: DecodeOptions,
        feed: EventFeed,
        problems: Problems,
        metrics: ServeMetrics,
        *,
        writer: ArchiveWriter | None = None,
        tokens: TokenSet | None = None,
        client_certificates: bool = False,
        rules_running: Callable[[], bool] = lambda: True,
    ) -> None:
        self.limits, self.decode, self.feed = limits, decode, feed
        self.problems, self.metrics, self.writer = problems, metrics, writer
        self.tokens = tokens
        self.client_certificates = client_certificates
        self.rules_running = rules_running
        self.draining = False
        self.inflight = 0
        self._batches = 0  # batch numbers when there is no archive

    def busy(self, message: str) -> web.Response:
        return text(503, message, **{"Retry-After": str(self.limits.retry_after)})

    async def drained(self, timeout: float) -> bool:
        """Wait (at most ``timeout`` s) until no request is being received or archived.

        Called once ``draining`` is set and the listener is closed: aiohttp's
        own shutdown stops reading from connections, which would starve a
        body still arriving, so the receiver waits for those itself first.
        """
        deadline = time.monotonic() + timeout
        while self.inflight and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return not self.inflight

    async def webhook(self, request: web.Request) -> web.StreamResponse:
        refusal = self._refusal(request) or self._no_room()
        if refusal is not None:
            return refusal
        self.inflight += 1
        try:
            return await self._accept(request)
        except BodyError as exc:
            response = text(exc.status, exc.reason)
            if exc.status in (408, 413):  # then closed; the rest is read and dropped for at
                response.force_close()  # most Limits.linger seconds, so the client sees this
            return response
        except ArchiveError:
            return self.busy("the archive cannot be written; retry later")
        finally:
            self.inflight -= 1

    def _refusal(self, request: web.Request) -> web.Response | None:
        """401/403 (counted) when access control says no; the token is never logged."""
        if self.client_certificates and not has_client_certificate(request.transport):
            self.metrics.refusals.labels("no_client_certificate").inc()
            return text(403, "a client certificate signed by --client-ca is required")
        if self.tokens is not None:
            verdict = self.tokens.check(request.headers.get("Authorization"))
            if verdict != "ok":
                self.metrics.refusals.labels(f"{verdict}_token").inc()
                return text(401, f"{verdict} bearer token", **{"WWW-Authenticate": "Bearer"})
        return None

    def _no_room(self) -> web.Response | None:
        if self.draining:
            response = self.busy("shutting down")
            response.force_close()
            return response
        if not self.rules_running():
            return self.busy("the detection run has stopped")
        if not self.feed.has_room() or self.inflight >= self.limits.max_inflight:
            return self.busy("busy: events are waiting for the rules or the archive")
        return None

    async def _accept(self, request: web.Request) -> web.StreamResponse:
        limits = self.limits
        encoding = check_headers(
            request.content_length,
            request.headers.get("Content-Encoding", ""),
            limits.max_batch_size,
        )
        size, body = await read_body(
            request.content, encoding, limits.max_batch_size, limits.client_timeout
        )
        self.metrics.bytes_received.inc(size)
        batch = decode_batch(body, self.decode)
        if self.writer is None:
            self._batches += 1
            self._deliver(batch, Location(NO_ARCHIVE, self._batches))
        else:
            await self.writer.append(archive_line(body), lambda at: self._deliver(batch, at))
        accepted = len(batch.events)
        payload = {"accepted": accepted, "skipped": len(batch.skipped)}
        return web.Response(body=orjson.dumps(payload), content_type="application/json")

    def _deliver(self, batch: Batch, at: Location) -> None:
        """The batch is in the archive: place its events there and queue them for the rules."""
        place(batch, at.file, at.line, self.problems)
        self.feed.put(batch.events)
        self.metrics.events_accepted.inc(len(batch.events))
        for reason, _, _ in batch.skipped:
            if reason not in KEPT_REASONS:
                self.metrics.events_skipped.labels(reason).inc()


def observing(metrics: ServeMetrics) -> Middleware:
    """Middleware counting every response by status, and timing it."""

    @web.middleware
    async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            metrics.requests.labels(str(status)).inc()
            metrics.latency.observe(time.perf_counter() - started)

    return observe


def build_app(receiver: Receiver, metrics: ServeMetrics, path: str) -> web.Application:
    """The routes: POST ``path``, GET ``/healthz`` and ``/metrics``."""

    async def healthz(request: web.Request) -> web.Response:
        if receiver.draining:
            return text(503, "shutting down")
        if not receiver.rules_running():
            return text(503, "the detection run has stopped")
        return text(200, "ok")

    async def scrape(request: web.Request) -> web.Response:
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    app = web.Application(middlewares=[observing(metrics)])
    app.router.add_post(path, receiver.webhook)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", scrape)
    return app
