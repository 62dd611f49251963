"""``GET /metrics``: the receiver's counters in Prometheus text format, in a private registry.

A private :class:`CollectorRegistry` keeps these metrics apart from any
other user of ``prometheus_client`` in the process (tests start several
receivers in one process). Archive and queue figures are read when scraped
rather than pushed on every write.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from k8saudit_cli import priority as prio
from k8saudit_cli.detect import Alert
from k8saudit_cli.run_options import AlertSink
from k8saudit_cli.serve.archive import Archive
from k8saudit_cli.serve.compress import Compressor
from k8saudit_cli.serve.feed import EventFeed

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
PREFIX = "k8saudit_serve_"


class ServeMetrics:
    """Every metric of one receiver."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        counter = self._counter
        self.requests = counter("requests", "HTTP requests answered, by status code", "code")
        self.refusals = counter("auth_refusals", "Requests refused by access control", "reason")
        self.events_accepted = counter(
            "events_accepted", "Audit events accepted (archived and queued for the rules)"
        )
        self.events_skipped = counter(
            "events_skipped", "Items of accepted batches skipped, by reason", "reason"
        )
        self.alerts = counter("alerts", "Alerts, by priority and rule", "priority", "rule")
        self.bytes_received = counter(
            "received_bytes", "Request body bytes as received (before gzip is inflated)"
        )
        self.latency = Histogram(
            PREFIX + "request_duration_seconds",
            "Time from request to response",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        ProcessCollector(namespace="k8saudit_serve", registry=self.registry)

    def _counter(self, name: str, doc: str, *labels: str) -> Counter:
        return Counter(PREFIX + name, doc, labels, registry=self.registry)

    def watch(
        self, feed: EventFeed, archive: Archive | None, compressor: Compressor | None
    ) -> None:
        """Read the queue (and the archive) when scraped."""
        depth = Gauge(
            PREFIX + "queue_events", "Events waiting for the rules", registry=self.registry
        )
        depth.set_function(lambda: feed.depth)
        room = Gauge(PREFIX + "queue_capacity_events", "Queue bound", registry=self.registry)
        room.set(feed.capacity)
        evaluated = Gauge(
            PREFIX + "events_evaluated", "Events the rules have seen", registry=self.registry
        )
        evaluated.set_function(lambda: feed.evaluated)
        if archive is not None:
            self.registry.register(_ArchiveCollector(archive, compressor))

    def counting(self, sink: AlertSink) -> AlertSink:
        """``sink`` that also counts each alert by priority and rule."""
        alerts = self.alerts
        by_rule: dict[str, Any] = {}  # the labelled child per rule, looked up once

        def count_and_pass(alert: Alert) -> None:
            rule = alert.rule
            child = by_rule.get(rule.name)
            if child is None:
                child = by_rule[rule.name] = alerts.labels(prio.name(rule.priority), rule.name)
            child.inc()
            sink(alert)

        return count_and_pass

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _ArchiveCollector(Collector):
    def __init__(self, archive: Archive, compressor: Compressor | None) -> None:
        self.archive = archive
        self.compressor = compressor

    def collect(self) -> Iterator[CounterMetricFamily]:
        a, c = self.archive, self.compressor
        yield CounterMetricFamily(
            PREFIX + "archive_files", "Archive files opened", value=a.files_opened
        )
        yield CounterMetricFamily(
            PREFIX + "archive_bytes", "Bytes written to the archive", value=a.bytes_written
        )
        yield CounterMetricFamily(
            PREFIX + "archive_lines", "Lines (request bodies) written", value=a.lines_written
        )
        compressed = c.files_compressed if c is not None else 0
        yield CounterMetricFamily(
            PREFIX + "archive_files_compressed", "Closed files compressed", value=compressed
        )
