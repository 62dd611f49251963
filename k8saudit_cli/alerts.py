"""Render an alert as Falco's text line or as Falco's ``json_output`` object.

Text: ``<time>: <Priority> <output>``, where ``<time>`` is ``evt.time.iso8601``
(our default: forensic logs span days) or ``evt.time`` (``--time-format
falco``). JSON: sorted keys ``hostname, output, output_fields, priority, rule,
source, tags, time``, compact, as Falco 0.39+ writes it.

Both stay one line, whatever the event holds: the text escapes control
characters (see :mod:`k8saudit_cli.escape`), and the JSON writes U+2028,
U+2029 and U+0085 as ``\\uXXXX``. Bytes that are not UTF-8 (from ``%b64``)
appear as ``\\xNN`` in both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from k8saudit_cli import priority as prio
from k8saudit_cli.detect import Alert
from k8saudit_cli.escape import json_line_safe, json_safe
from k8saudit_cli.fields.evt import hostname
from k8saudit_cli.timestamps import evt_iso8601_text, evt_time_text, utc_iso

TIME_FORMATS = ("iso", "falco")


def time_prefix(time_format: str) -> tuple[str, Callable[[int], str]]:
    """The prefix field Falco uses for a time format, and how to render it from ns."""
    if time_format == "falco":
        return "evt.time", evt_time_text
    return "evt.time.iso8601", evt_iso8601_text


class AlertRenderer:
    """Renders alerts in one time format; caches the host name once."""

    def __init__(self, time_format: str = "iso") -> None:
        self.time_key, self._time_text = time_prefix(time_format)
        self.hostname = hostname()

    def text(self, alert: Alert) -> str:
        rule, ev = alert.rule, alert.event
        return f"{self._time_text(ev.time_ns)}: {prio.name(rule.priority)} {rule.output.render(ev)}"

    def record(self, alert: Alert) -> dict[str, Any]:
        """The JSON alert as a dict (keys as Falco names them)."""
        rule, ev = alert.rule, alert.event
        fields = rule.output.output_fields(ev)
        fields[self.time_key] = ev.time_ns
        return {
            "hostname": self.hostname,
            "output": self.text(alert),
            "output_fields": fields,
            "priority": prio.name(rule.priority),
            "rule": rule.name,
            "source": rule.source,
            "tags": sorted(rule.tags),
            "time": utc_iso(ev.time_ns),
        }

    def json(self, alert: Alert) -> bytes:
        return _dumps(self.record(alert), orjson.OPT_SORT_KEYS)

    def line(self, alert: Alert) -> str:
        """The text alert with its newline, as written to the output."""
        return self.text(alert) + "\n"

    def json_text(self, alert: Alert) -> str:
        """The JSON alert with its newline, as written to the output."""
        return _dumps(self.record(alert), orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE).decode()


def _dumps(record: dict[str, Any], option: int) -> bytes:
    """Compact JSON of an alert; values that are not UTF-8 are made visible first."""
    try:
        encoded = orjson.dumps(record, option=option)
    except TypeError:  # a lone surrogate: bytes from %b64 that are not UTF-8
        encoded = orjson.dumps(json_safe(record), option=option)
    return json_line_safe(encoded)
