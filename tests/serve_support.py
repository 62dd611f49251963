"""Helpers for the ``k8saudit serve`` tests: events, a receiver run in-process, raw HTTP.

Events are the scan CLI's test events (tests/data/scan/audit.jsonl) with a
unique ``auditID`` each, so a test can tell exactly which ones came back.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from k8saudit_cli.alerts import AlertRenderer
from k8saudit_cli.detect import Alert
from k8saudit_cli.ruleset import load_rules
from k8saudit_cli.run_options import RunOptions, TextSink
from k8saudit_cli.run_stats import RunStats
from k8saudit_cli.serve.app import Service
from k8saudit_cli.serve.config import ServeConfig

DATA = Path(__file__).parent / "data" / "scan"
RULES = str(DATA / "rules.yaml")

#: A rule that alerts once per event and prints its auditID: to see which events got through.
EVERY_EVENT_RULES = """\
- rule: Every Event
  desc: one alert per event
  condition: ka.auditid exists
  output: id=%ka.auditid num=%evt.num
  priority: INFO
  source: k8s_audit
"""


def _templates() -> list[dict[str, Any]]:
    found = []
    for line in (DATA / "audit.jsonl").read_bytes().splitlines():
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(value, dict) and value.get("kind") == "Event":
            found.append(value)
    return found


TEMPLATES = _templates()


def events(n: int, start: int = 0, tag: str = "e") -> list[dict[str, Any]]:
    """``n`` audit events cycling over the templates, auditIDs ``{tag}-{i}``."""
    out = []
    for i in range(start, start + n):
        event = copy.deepcopy(TEMPLATES[i % len(TEMPLATES)])
        event["auditID"] = f"{tag}-{i}"
        out.append(event)
    return out


def event_list(items: list[dict[str, Any]]) -> bytes:
    return orjson.dumps({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": items})


def ids_in(lines: list[str]) -> list[str]:
    """The ``id=...`` values of Every Event alert lines."""
    return [word[3:] for line in lines for word in line.split() if word.startswith("id=")]


class Live:
    """A receiver running in this process on 127.0.0.1, collecting alert lines."""

    def __init__(self, config: ServeConfig, rules: str = RULES, **service: Any) -> None:
        ruleset = load_rules([rules])
        assert ruleset.ok, [d.render() for d in ruleset.errors]
        self.lines: list[str] = []
        self.warnings: list[str] = []
        sink = service.pop("sink", None) or TextSink(AlertRenderer("iso").line, self._write)
        self.service = Service(
            config,
            [r for r in ruleset.rules if r.enabled],
            RunOptions(),
            sink,
            on_warning=self.warnings.append,
            on_input_warning=self.warnings.append,
            **service,
        )
        self.url = ""
        self.stats: RunStats | None = None

    def _write(self, text: str) -> None:
        self.lines.append(text.rstrip("\n"))

    @property
    def base(self) -> str:
        return self.url.rsplit("/", 1)[0] if self.url.count("/") > 2 else self.url

    async def __aenter__(self) -> Live:
        self.url = await self.service.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def stop(self) -> RunStats:
        if self.stats is None:
            self.stats = await self.service.stop()
        return self.stats


def render(alert: Alert) -> str:
    return AlertRenderer("iso").line(alert)


async def raw_request(port: int, head: bytes, body_parts: Iterable[bytes] = ()) -> bytes:
    """Send raw bytes (head, then body parts) and return what the server answers."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head)
        for part in body_parts:
            writer.write(part)
        await writer.drain()
        return await asyncio.wait_for(reader.read(65536), 10)
    finally:
        writer.close()


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def metric(text: str, name: str) -> float:
    """The value of one sample line (``name`` with its labels, exactly) in /metrics text."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{name} not in metrics:\n{text}")


def jsonl(lines: list[bytes]) -> bytes:
    return b"".join(line + b"\n" for line in lines)


def pretty(value: Any) -> bytes:
    """JSON with newlines in it (as curl users send it)."""
    return json.dumps(value, indent=2).encode()
