"""Render an alert as Falco's text line or as Falco's ``json_output`` object.

Text: ``<time>: <Priority> <output>``, where ``<time>`` is ``evt.time.iso8601``
(our default: forensic logs span days) or ``evt.time`` (``--time-format
falco``). JSON: sorted keys ``hostname, output, output_fields, priority, rule,
source, tags, time``, compact, as Falco 0.39+ writes it. An alert from an
event salvaged from a cut one (``--salvage-truncated``) says so: the text
line ends with ``(truncated event: ...)`` and the JSON has ``truncated_event``.

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
from k8saudit_cli.escape import json_line_safe, json_safe, visible
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fields.evt import hostname
from k8saudit_cli.formats.salvage import TRUNCATED_ANNOTATION, truncation_mark, truncation_note
from k8saudit_cli.output_code import AlertStyle, compile_alert
from k8saudit_cli.ruleset.compile import CompiledRule
from k8saudit_cli.timestamps import evt_iso8601_text, evt_time_text, per_second, utc_iso

TIME_FORMATS = ("iso", "falco")
#: One rule's renderer: its alert for an event, as written to the output.
Renderer = Callable[[AuditEvent], str]


def time_prefix(time_format: str) -> tuple[str, Callable[[int], str]]:
    """The prefix field Falco uses for a time format, and how to render it from ns."""
    if time_format == "falco":
        return "evt.time", evt_time_text
    return "evt.time.iso8601", evt_iso8601_text


class AlertRenderer:
    """Renders alerts in one time format; caches the host name once.

    Each rule's alerts are rendered by its generated code
    (:mod:`k8saudit_cli.output_code`), written on the rule's first alert;
    :meth:`record` and the ``reference_*`` methods are the generic renderer
    that code must match byte for byte (and that renders aggregation alerts).
    """

    def __init__(self, time_format: str = "iso", host: str | None = None) -> None:
        self.time_format = time_format
        self.time_key, self._time_text = time_prefix(time_format)
        self.hostname = hostname() if host is None else host
        self.style = AlertStyle(
            self.time_key, per_second(self._time_text), per_second(utc_iso), self.hostname
        )
        #: By ``id(rule)``: the rule's line and JSON renderers, ``event -> str``.
        self._lines: dict[int, Renderer] = {}
        self._json_lines: dict[int, Renderer] = {}
        self._rules: list[CompiledRule] = []  # alive while their ids are keys

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        """Pickled as its time format and host name (a Dask worker renders as this
        process would); the generated renderers are written again where it lands."""
        return (AlertRenderer, (self.time_format, self.hostname))

    def text(self, alert: Alert) -> str:
        """The text alert, without its newline."""
        return self.line(alert)[:-1]

    def line(self, alert: Alert) -> str:
        """The text alert with its newline, as written to the output."""
        if _salvaged(alert.event):  # marked: the generic renderer says so
            return self.reference_line(alert)
        render = self._lines.get(id(alert.rule))
        if render is None:
            render = self._add(alert.rule)[0]
        return render(alert.event)

    def json_text(self, alert: Alert) -> str:
        """The JSON alert with its newline, as written to the output."""
        if _salvaged(alert.event):
            return self.reference_json_text(alert)
        render = self._json_lines.get(id(alert.rule))
        if render is None:
            render = self._add(alert.rule)[1]
        try:
            return render(alert.event)
        except TypeError:  # a lone surrogate (bytes from %b64): the generic path shows it
            return self.reference_json_text(alert)

    def json(self, alert: Alert) -> bytes:
        return self.json_text(alert)[:-1].encode()

    def renderers(self, rule: CompiledRule) -> tuple[Renderer, Renderer]:
        """``rule``'s line and JSON line renderers, ``event -> str`` (generated where
        the rule's output allows)."""
        line = self._lines.get(id(rule))
        return (line, self._json_lines[id(rule)]) if line is not None else self._add(rule)

    def _add(self, rule: CompiledRule) -> tuple[Renderer, Renderer]:
        code = compile_alert(rule, self.style)
        if code is not None:
            pair = code.text_line, code.json_line
        else:
            pair = (
                lambda event: self.reference_line(Alert(rule, event)),
                lambda event: self.reference_json_text(Alert(rule, event)),
            )
        self._rules.append(rule)
        self._lines[id(rule)], self._json_lines[id(rule)] = pair
        return pair

    # ------------------------------------------------------------ the generic renderer

    def reference_text(self, alert: Alert) -> str:
        rule, ev = alert.rule, alert.event
        text = f"{self._time_text(ev.time_ns)}: {prio.name(rule.priority)} {rule.output.render(ev)}"
        # Empty unless salvaged from a cut event; escaped, as the note is the event's text.
        return text + visible(truncation_mark(ev.raw))

    def reference_line(self, alert: Alert) -> str:
        return self.reference_text(alert) + "\n"

    def record(self, alert: Alert) -> dict[str, Any]:
        """The JSON alert as a dict (keys as Falco names them)."""
        rule, ev = alert.rule, alert.event
        fields = rule.output.output_fields(ev)
        fields[self.time_key] = ev.time_ns
        record = {
            "hostname": self.hostname,
            "output": self.reference_text(alert),
            "output_fields": fields,
            "priority": prio.name(rule.priority),
            "rule": rule.name,
            "source": rule.source,
            "tags": sorted(rule.tags),
            "time": utc_iso(ev.time_ns),
        }
        note = truncation_note(ev.raw)
        if note is not None:  # salvaged from an event its provider cut (--salvage-truncated)
            record["truncated_event"] = note
        return record

    def reference_json_text(self, alert: Alert) -> str:
        return _dumps(self.record(alert), orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE).decode()


def _salvaged(event: AuditEvent) -> bool:
    """Whether an event was salvaged from a cut one (its alerts are marked)."""
    annotations = event.raw.get("annotations")
    return annotations.__class__ is dict and TRUNCATED_ANNOTATION in annotations


def _dumps(record: dict[str, Any], option: int) -> bytes:
    """Compact JSON of an alert; values that are not UTF-8 are made visible first."""
    try:
        encoded = orjson.dumps(record, option=option)
    except TypeError:  # a lone surrogate: bytes from %b64 that are not UTF-8
        encoded = orjson.dumps(json_safe(record), option=option)
    return json_line_safe(encoded)
