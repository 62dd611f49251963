"""The built-in ``evt.*`` fields libsinsp gives every plugin event, in its order.

Times are integer nanoseconds throughout, rendered by
:mod:`k8saudit_cli.timestamps` (which says how local times are converted).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from k8saudit_cli import timestamps as ts
from k8saudit_cli.fields.args import fixed
from k8saudit_cli.fields.base import MISSING, Extractor, FieldDef, FieldType, Value
from k8saudit_cli.fields.jsonval import compact

#: Field names whose JSON output is the event time in nanoseconds, as libs
#: prints them in ``output_fields`` (their condition value is a string).
TIME_STRING_FIELDS = frozenset(
    {"evt.time", "evt.time.s", "evt.time.iso8601", "evt.datetime", "evt.datetime.s"}
)
#: Fields printed zero-padded to 9 digits in text output.
PADDED_FIELDS = frozenset({"evt.rawtime.ns"})


def _on_time(render: Callable[[int], str]) -> Extractor:
    """An extractor rendering the event time with one of :mod:`timestamps`' functions."""
    return lambda ev: render(ev.time_ns)


def hostname() -> str:
    """Falco's host name: ``FALCO_HOSTNAME`` if set, else the machine's name."""
    given = os.environ.get("FALCO_HOSTNAME")
    if given:
        return given
    if hasattr(os, "uname"):  # the same name as gethostname(), without importing socket
        return os.uname().nodename
    import socket

    return socket.gethostname()


def _bind_hostname(arg: str | None) -> Extractor:
    name = hostname()  # read once per bound rule, not per event
    return lambda ev: name


def _const(value: Value) -> Extractor:
    return lambda ev: value


_S, _U, _A, _B = FieldType.STRING, FieldType.UINT64, FieldType.ABSTIME, FieldType.BOOL

#: (name, type, description, extractor), in libsinsp's order.
_ROWS: tuple[tuple[str, FieldType, str, Extractor], ...] = (
    ("evt.num", _U, "Position of the event in the whole input, from 1.", lambda ev: ev.num),
    (
        "evt.time",
        _S,
        "Event time of day, local, with nanoseconds (HH:MM:SS.nnnnnnnnn).",
        _on_time(ts.evt_time_text),
    ),
    (
        "evt.time.s",
        _S,
        "Event time of day, local, whole seconds (HH:MM:SS).",
        _on_time(ts.evt_time_s_text),
    ),
    (
        "evt.time.iso8601",
        _S,
        "Event time in UTC, ISO 8601 with nanoseconds and +0000.",
        _on_time(ts.evt_iso8601_text),
    ),
    (
        "evt.datetime",
        _S,
        "Event date and local time with nanoseconds.",
        _on_time(ts.evt_datetime_text),
    ),
    (
        "evt.datetime.s",
        _S,
        "Event date and local time, whole seconds.",
        _on_time(ts.evt_datetime_s_text),
    ),
    (
        "evt.rawtime",
        _A,
        "Event time in nanoseconds since the epoch (the stageTimestamp).",
        lambda ev: ev.time_ns,
    ),
    (
        "evt.rawtime.s",
        _A,
        "Whole seconds of the event time since the epoch.",
        lambda ev: ev.time_ns // ts.NS,
    ),
    (
        "evt.rawtime.ns",
        _A,
        "Nanosecond part of the event time (9 digits in text).",
        lambda ev: ev.time_ns % ts.NS,
    ),
    ("evt.pluginname", _S, "Plugin that produced the event: always k8saudit.", _const("k8saudit")),
    (
        "evt.plugininfo",
        _S,
        "The event as the plugin renders it: its compact JSON.",
        lambda ev: compact(ev.raw),
    ),
    ("evt.source", _S, "Event source: always k8s_audit.", _const("k8s_audit")),
    ("evt.is_async", _B, "Whether the event is asynchronous: always false here.", _const(False)),
    ("evt.asynctype", _S, "Type of an asynchronous event: never available here.", _const(MISSING)),
)


def evt_fields() -> list[FieldDef]:
    """The table rows as field definitions; ``evt.hostname`` binds its value per rule."""
    rows = [
        FieldDef(name, ftype, False, None, desc, fixed(extract), source="evt")
        for name, ftype, desc, extract in _ROWS
    ]
    hostname_desc = "Host name: FALCO_HOSTNAME if set, else the machine's name."
    rows.append(
        FieldDef("evt.hostname", _S, False, None, hostname_desc, _bind_hostname, source="evt")
    )
    return rows
