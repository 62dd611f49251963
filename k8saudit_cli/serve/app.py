"""The receiver wired together: start, serve until a signal, stop in order, return the stats.

:class:`Service` owns the pieces (archive and its writer and compressor,
the event feed and the detection thread, the HTTP app). Stopping is
ordered so that nothing acknowledged is lost and nothing is left half
done: stop listening and finish in-flight requests, write and close the
archive, let the rules drain the queue, finish compressing. :func:`serve`
runs a service until SIGTERM or SIGINT; a second signal exits at once (the
archive is consistent at every moment).
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable, Sequence

from aiohttp import web

from k8saudit_cli.decode import Problems
from k8saudit_cli.detection_run import DetectionRun
from k8saudit_cli.ruleset.compile import CompiledRule
from k8saudit_cli.run_options import AlertSink, RunOptions
from k8saudit_cli.run_stats import RunStats
from k8saudit_cli.serve.archive import Archive
from k8saudit_cli.serve.auth import TokenSet
from k8saudit_cli.serve.compress import Compressor
from k8saudit_cli.serve.config import ArchiveOptions, ServeConfig, ServeError
from k8saudit_cli.serve.feed import DetectionThread, EventFeed
from k8saudit_cli.serve.handler import Receiver, build_app
from k8saudit_cli.serve.listen import ListenAddress, parse_listen
from k8saudit_cli.serve.metrics import ServeMetrics
from k8saudit_cli.serve.tls import server_context
from k8saudit_cli.serve.writer import ArchiveWriter

RESERVED_PATHS = ("/healthz", "/metrics")

Say = Callable[[str], object]


def _address(config: ServeConfig) -> ListenAddress:
    address = parse_listen(config.listen)
    if address.path in RESERVED_PATHS:
        raise ServeError(f"--listen path {address.path} is reserved for the receiver itself")
    if not address.tls and config.tls is not None and config.tls.client_ca is not None:
        raise ServeError("--client-ca needs an https:// --listen URL")
    return address


class Service:
    """One receiver. ``await start()`` returns the URL; ``await stop()`` the run's statistics."""

    def __init__(
        self,
        config: ServeConfig,
        rules: Sequence[CompiledRule],
        options: RunOptions,
        sink: AlertSink,
        *,
        on_warning: Say | None = None,
        on_input_warning: Callable[[str], None] | None = None,
        on_idle: Callable[[], object] | None = None,
    ) -> None:
        self.config = config
        self.on_warning = on_warning
        self.address = _address(config)
        self.ssl = server_context(config.tls) if self.address.tls and config.tls else None
        if self.address.tls and self.ssl is None:
            raise ServeError("an https:// --listen URL needs --tls-cert")
        tokens = TokenSet.from_file(config.token_file) if config.token_file else None
        self.metrics = metrics = ServeMetrics()
        self.feed = EventFeed(config.limits.queue_events, on_idle)
        run = DetectionRun(rules, options, metrics.counting(sink), on_warning=on_warning)
        self.detection = DetectionThread(run, self.feed)
        self._archive_parts(config.archive)
        metrics.watch(self.feed, self.archive, self.compressor)
        self.receiver = Receiver(
            config.limits,
            options.decode,
            self.feed,
            Problems(emit=on_input_warning),
            metrics,
            writer=self.writer,
            tokens=tokens,
            client_certificates=bool(config.tls and config.tls.client_ca),
            rules_running=self.detection.alive,
        )
        self.runner: web.AppRunner | None = None

    def _archive_parts(self, options: ArchiveOptions | None) -> None:
        """The archive, its compressor and its writer thread (all ``None`` without one)."""
        self.archive: Archive | None = None
        self.compressor: Compressor | None = None
        self.writer: ArchiveWriter | None = None
        if options is not None:
            self.compressor = Compressor(options.compress_level, self.on_warning)
            self.archive = Archive(options, self.compressor.submit)
            self.writer = ArchiveWriter(self.archive, self.on_warning)

    def _warn(self, message: str) -> None:
        if self.on_warning is not None:
            self.on_warning(message)

    async def start(self) -> str:
        """Open the archive, start the threads, listen; the URL clients should use."""
        self._start_archive()
        self.detection.start()
        self.runner = web.AppRunner(
            build_app(self.receiver, self.metrics, self.address.path),
            access_log=None,
            auto_decompress=False,  # inflated by us, within the batch limit
            # an idle connection, or one stalled before its headers end, is closed as well
            keepalive_timeout=self.config.limits.client_timeout,
            lingering_time=self.config.limits.linger,
            shutdown_timeout=self.config.limits.drain_timeout,
        )
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.address.host, self.address.port, ssl_context=self.ssl)
        try:
            await site.start()
        except OSError as exc:
            await self.stop()
            raise ServeError(f"cannot listen on {self.config.listen}: {exc.strerror}") from None
        port = self.runner.addresses[0][1]
        return self.address.url(port=port)

    def _start_archive(self) -> None:
        if self.archive is None or self.writer is None or self.compressor is None:
            return
        leftovers = self.archive.open()
        self.compressor.start()
        for path in leftovers:  # files of a run that was killed: closed now
            self.compressor.submit(path)
        self.writer.start(asyncio.get_running_loop())

    async def stop(self) -> RunStats:
        """Stop in order (see the module docstring) and return the detection run's statistics."""
        self.receiver.draining = True
        if self.runner is not None:
            for site in list(self.runner.sites):
                await site.stop()  # no new connections
            drain = self.config.limits.drain_timeout
            if not await self.receiver.drained(drain):
                self._warn(f"requests still in flight after {drain:g} s are cut off")
            await self.runner.cleanup()
        loop = asyncio.get_running_loop()
        if self.writer is not None:
            await loop.run_in_executor(None, self.writer.close)
        self.feed.close()
        try:
            stats = await loop.run_in_executor(None, self.detection.join)
        finally:
            if self.compressor is not None:
                await loop.run_in_executor(None, self.compressor.close)
        stats.problems = self.receiver.problems
        return stats


def serve(service: Service, on_ready: Say) -> RunStats:
    """Run ``service`` until SIGTERM or SIGINT; ``on_ready(url)`` once it listens."""

    async def main() -> RunStats:
        url = await service.start()
        stop = asyncio.Event()
        _on_signals(asyncio.get_running_loop(), stop)
        on_ready(url)
        await stop.wait()
        return await service.stop()

    return asyncio.run(main())


def _on_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """The first SIGTERM/SIGINT stops gracefully; a second one exits at once."""

    def handle(signum: int) -> None:
        if stop.is_set():
            os._exit(128 + signum)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, handle, signum)
