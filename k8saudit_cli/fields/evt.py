"""The built-in ``evt.*`` fields libsinsp gives every plugin event, in its order.

Times use integer nanoseconds throughout so no precision is lost. Local
times convert the event's own instant with the zone rules in force at that
date (``time.localtime``); Falco applies the offset in force *now* to every
event, which differs for events on the other side of a DST change.
"""

from __future__ import annotations

import os
import socket
import time

from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fields.args import fixed
from k8saudit_cli.fields.base import MISSING, Extractor, FieldDef, FieldType, Value
from k8saudit_cli.fields.jsonval import compact

_NS = 1_000_000_000

#: Field names whose JSON output is the event time in nanoseconds, as libs
#: prints them in ``output_fields`` (their condition value is a string).
TIME_STRING_FIELDS = frozenset(
    {"evt.time", "evt.time.s", "evt.time.iso8601", "evt.datetime", "evt.datetime.s"}
)
#: Fields printed zero-padded to 9 digits in text output.
PADDED_FIELDS = frozenset({"evt.rawtime.ns"})


def _local(ev: AuditEvent) -> tuple[time.struct_time, int]:
    sec, ns = divmod(ev.time_ns, _NS)
    return time.localtime(sec), ns


def _hms(t: time.struct_time) -> str:
    return f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"


def _ymd(t: time.struct_time) -> str:
    return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}"


def time_ns_text(ev: AuditEvent) -> Value:
    t, ns = _local(ev)
    return f"{_hms(t)}.{ns:09d}"


def time_s_text(ev: AuditEvent) -> Value:
    return _hms(_local(ev)[0])


def datetime_text(ev: AuditEvent) -> Value:
    t, ns = _local(ev)
    return f"{_ymd(t)} {_hms(t)}.{ns:09d}"


def datetime_s_text(ev: AuditEvent) -> Value:
    t = _local(ev)[0]
    return f"{_ymd(t)} {_hms(t)}"


def iso8601_text(ev: AuditEvent) -> Value:
    """UTC with a literal ``+0000``, as libs' ``ts_to_iso_8601`` writes it."""
    sec, ns = divmod(ev.time_ns, _NS)
    t = time.gmtime(sec)
    return f"{_ymd(t)}T{_hms(t)}.{ns:09d}+0000"


def hostname() -> str:
    """Falco's host name: ``FALCO_HOSTNAME`` if set, else the machine's name."""
    return os.environ.get("FALCO_HOSTNAME") or socket.gethostname()


def _bind_hostname(arg: str | None) -> Extractor:
    name = hostname()  # read once per bound rule, not per event
    return lambda ev: name


def _const(value: Value) -> Extractor:
    return lambda ev: value


def evt_fields() -> list[FieldDef]:
    s, u, a, b = FieldType.STRING, FieldType.UINT64, FieldType.ABSTIME, FieldType.BOOL

    def f(name: str, ftype: FieldType, desc: str, extractor: Extractor) -> FieldDef:
        return FieldDef(name, ftype, False, None, desc, fixed(extractor), source="evt")

    return [
        f("evt.num", u, "Position of the event in the whole input, from 1.", lambda ev: ev.num),
        f(
            "evt.time",
            s,
            "Event time of day, local, with nanoseconds (HH:MM:SS.nnnnnnnnn).",
            time_ns_text,
        ),
        f("evt.time.s", s, "Event time of day, local, whole seconds (HH:MM:SS).", time_s_text),
        f(
            "evt.time.iso8601",
            s,
            "Event time in UTC, ISO 8601 with nanoseconds and +0000.",
            iso8601_text,
        ),
        f("evt.datetime", s, "Event date and local time with nanoseconds.", datetime_text),
        f("evt.datetime.s", s, "Event date and local time, whole seconds.", datetime_s_text),
        f(
            "evt.rawtime",
            a,
            "Event time in nanoseconds since the epoch (the stageTimestamp).",
            lambda ev: ev.time_ns,
        ),
        f(
            "evt.rawtime.s",
            a,
            "Whole seconds of the event time since the epoch.",
            lambda ev: ev.time_ns // _NS,
        ),
        f(
            "evt.rawtime.ns",
            a,
            "Nanosecond part of the event time (9 digits in text).",
            lambda ev: ev.time_ns % _NS,
        ),
        f(
            "evt.pluginname",
            s,
            "Plugin that produced the event: always k8saudit.",
            _const("k8saudit"),
        ),
        f(
            "evt.plugininfo",
            s,
            "The event as the plugin renders it: its compact JSON.",
            lambda ev: compact(ev.raw),
        ),
        f("evt.source", s, "Event source: always k8s_audit.", _const("k8s_audit")),
        f(
            "evt.is_async",
            b,
            "Whether the event is asynchronous: always false here.",
            _const(False),
        ),
        f(
            "evt.asynctype",
            s,
            "Type of an asynchronous event: never available here.",
            _const(MISSING),
        ),
        FieldDef(
            "evt.hostname",
            s,
            False,
            None,
            "Host name: FALCO_HOSTNAME if set, else the machine's name.",
            _bind_hostname,
            source="evt",
        ),
    ]
