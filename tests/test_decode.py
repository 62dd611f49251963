"""Decoding input lines into audit events, and accounting for every line that is not one.

Each test writes its own input (hand-written events) to a file, reads it back
with :func:`read_events` and checks the exact events (``num``, ``line``,
``index``, ``time_ns``) and the exact problems: the reason counted in
``Problems.counts`` and the warning line (``file:line[index]: reason: detail``).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from k8saudit_cli.decode import (
    DEFAULT_MAX_EVENT_SIZE,
    REASONS,
    DecodeOptions,
    Decoder,
    Problems,
    read_events,
)
from k8saudit_cli.event import NO_AUDIT_ID, AuditEvent
from k8saudit_cli.fields import MISSING, resolve
from k8saudit_cli.sources import compression_of
from k8saudit_cli.sources.compression import binary_kind
from k8saudit_cli.timestamps import event_time_ns, parse_time_ns

DATA = Path(__file__).parent / "data" / "decode"

#: 2024-05-01T10:00:00Z in seconds since the epoch.
BASE_S = calendar.timegm((2024, 5, 1, 10, 0, 0, 0, 0, 0))
BASE = BASE_S * 1_000_000_000
DROP = object()


def event(n: int = 1, **changes: Any) -> dict[str, Any]:
    """A realistic v1 audit Event; ``n`` picks its auditID and its times (second ``n``)."""
    ev: dict[str, Any] = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "auditID": f"7e1c0000-0000-4000-8000-{n:012d}",
        "stage": "ResponseComplete",
        "requestURI": "/api/v1/namespaces/dev/pods",
        "verb": "list",
        "user": {"username": "alice", "groups": ["devs", "system:authenticated"]},
        "sourceIPs": ["10.0.0.7"],
        "userAgent": "kubectl/v1.30.0",
        "objectRef": {"resource": "pods", "namespace": "dev", "apiVersion": "v1"},
        "responseStatus": {"metadata": {}, "code": 200},
        "requestReceivedTimestamp": f"2024-05-01T10:00:{n:02d}.000000Z",
        "stageTimestamp": f"2024-05-01T10:00:{n:02d}.012345Z",
    }
    for key, value in changes.items():
        if value is DROP:
            ev.pop(key, None)
        else:
            ev[key] = value
    return ev


def t(n: int) -> int:
    """``time_ns`` of ``event(n)`` (its stageTimestamp)."""
    return BASE + n * 1_000_000_000 + 12_345_000


def line(value: Any) -> bytes:
    return orjson.dumps(value) + b"\n"


@dataclass
class Scan:
    path: str
    events: list[AuditEvent]
    counts: dict[str, int]
    warnings: list[str]
    problems: Problems = field(repr=False)

    def rows(self) -> list[tuple[int, int, int | None, int]]:
        return [(e.num, e.line, e.index, e.time_ns) for e in self.events]

    def ids(self) -> list[str | None]:
        return [e.raw.get("auditID") for e in self.events]

    def w(self, where: str, text: str) -> str:
        """The warning line for ``where`` (``"3"`` or ``"3[1]"``) in this file."""
        return f"k8saudit: warning: {self.path}:{where}: {text}"


def scan(tmp_path: Path, data: bytes, name: str = "audit.log", **opts: Any) -> Scan:
    path = tmp_path / name
    path.write_bytes(data)
    warnings: list[str] = []
    problems = Problems(emit=warnings.append)
    events = list(read_events([str(path)], DecodeOptions(**opts), problems))
    return Scan(str(path), events, dict(problems.counts), warnings, problems)


NOT_EVENT = REASONS["not_audit_event"]


# ------------------------------------------------------------------ plain lines


def test_plain_file(tmp_path: Path) -> None:
    s = scan(tmp_path, b"".join(line(event(n)) for n in (1, 2, 3)))
    assert s.rows() == [(1, 1, None, t(1)), (2, 2, None, t(2)), (3, 3, None, t(3))]
    assert [e.raw for e in s.events] == [event(1), event(2), event(3)]
    assert all(e.file == s.path and e.ka is e.raw for e in s.events)
    assert s.counts == {} and s.warnings == []


def test_last_line_without_newline(tmp_path: Path) -> None:
    s = scan(tmp_path, line(event(1)) + orjson.dumps(event(2)))
    assert s.rows() == [(1, 1, None, t(1)), (2, 2, None, t(2))]
    assert s.counts == {}


def test_crlf_line_endings(tmp_path: Path) -> None:
    data = b"".join(orjson.dumps(event(n)) + b"\r\n" for n in (1, 2)) + b"\r\n"
    s = scan(tmp_path, data)
    assert s.rows() == [(1, 1, None, t(1)), (2, 2, None, t(2))]
    assert s.events[1].raw == event(2)
    assert s.counts == {} and s.warnings == []


def test_blank_and_whitespace_lines_are_skipped_silently(tmp_path: Path) -> None:
    data = b"\n" + line(event(1)) + b"   \t \n\r\n\n" + line(event(2)) + b"  \n"
    s = scan(tmp_path, data)
    assert s.rows() == [(1, 2, None, t(1)), (2, 6, None, t(2))]
    assert s.counts == {} and s.warnings == []


def test_utf8_bom(tmp_path: Path) -> None:
    bom = b"\xef\xbb\xbf"
    data = bom + line(event(1)) + line(event(2)) + bom + line(event(3)) + bom + b"\n"
    s = scan(tmp_path, data)
    assert s.rows() == [(1, 1, None, t(1)), (2, 2, None, t(2)), (3, 3, None, t(3))]
    assert s.events[0].raw == event(1)
    assert s.counts == {} and s.warnings == []


def test_event_with_non_ascii_text_is_kept(tmp_path: Path) -> None:
    ev = event(1, user={"username": "jos\u00e9@\u4f8b\u3048.jp", "groups": []})
    s = scan(tmp_path, line(ev))
    assert s.events[0].raw["user"]["username"] == "jos\u00e9@\u4f8b\u3048.jp"


# ------------------------------------------------------------------ EventList and arrays


def test_event_list_items_are_numbered(tmp_path: Path) -> None:
    batch = {
        "kind": "EventList",
        "apiVersion": "audit.k8s.io/v1",
        "metadata": {},
        "items": [event(1), event(2), event(3)],
    }
    s = scan(tmp_path, line(event(9)) + line(batch) + line(event(4)))
    assert s.rows() == [
        (1, 1, None, t(9)),
        (2, 2, 0, t(1)),
        (3, 2, 1, t(2)),
        (4, 2, 2, t(3)),
        (5, 3, None, t(4)),
    ]
    assert s.events[2].where == f"{s.path}:2[1]"
    assert s.counts == {}


def test_event_list_item_that_is_not_an_object(tmp_path: Path) -> None:
    batch = {"kind": "EventList", "items": [event(1), "oops", event(2), None]}
    s = scan(tmp_path, line(batch))
    assert s.rows() == [(1, 1, 0, t(1)), (2, 1, 2, t(2))]
    assert s.counts == {"not_audit_event": 2}
    assert s.warnings == [
        s.w("1[1]", f"{NOT_EVENT}: EventList item is not an object"),
        s.w("1[3]", f"{NOT_EVENT}: EventList item is not an object"),
    ]


def test_empty_event_list_is_no_event_and_no_problem(tmp_path: Path) -> None:
    s = scan(tmp_path, line({"kind": "EventList", "items": []}) + line(event(1)))
    assert s.rows() == [(1, 2, None, t(1))]
    assert s.counts == {}


def test_array_of_events_and_nested_arrays(tmp_path: Path) -> None:
    s = scan(tmp_path, line([event(1), [event(2), [[event(3)]]], event(4)]) + line([event(5)]))
    assert s.rows() == [
        (1, 1, 0, t(1)),
        (2, 1, 1, t(2)),
        (3, 1, 2, t(3)),
        (4, 1, 3, t(4)),
        (5, 2, 0, t(5)),
    ]
    assert s.counts == {}


def test_mixed_array_of_events_and_event_lists(tmp_path: Path) -> None:
    value = [event(1), {"kind": "EventList", "items": [event(2), event(3)]}, event(4)]
    s = scan(tmp_path, line(value))
    assert s.rows() == [(1, 1, 0, t(1)), (2, 1, 1, t(2)), (3, 1, 2, t(3)), (4, 1, 3, t(4))]
    assert s.ids() == [event(n)["auditID"] for n in (1, 2, 3, 4)]
    assert s.counts == {}


def test_non_event_after_events_in_an_array(tmp_path: Path) -> None:
    s = scan(tmp_path, line([event(1), {"kind": "Pod"}]))
    assert s.rows() == [(1, 1, 0, t(1))]
    assert s.counts == {"not_audit_event": 1}
    assert s.warnings == [s.w("1[1]", NOT_EVENT)]


def test_non_event_items_of_an_array_keep_their_position(tmp_path: Path) -> None:
    s = scan(tmp_path, line([5, event(1), "x"]))
    assert s.rows() == [(1, 1, 1, t(1))]
    assert s.warnings == [s.w("1[0]", NOT_EVENT), s.w("1[2]", NOT_EVENT)]


# ------------------------------------------------------------------ not audit events


@pytest.mark.parametrize(
    "value",
    [
        {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "web"}},
        42,
        3.5,
        "kind: Event",
        None,
        True,
        {},
        {"items": [event(1)]},
        {"kind": "EventList"},
        {"kind": "EventList", "items": {"0": event(1)}},
        {"kind": "event", "stageTimestamp": "2024-05-01T10:00:00Z"},
    ],
    ids=[
        "pod",
        "number",
        "float",
        "string",
        "null",
        "bool",
        "empty-object",
        "items-without-kind",
        "eventlist-without-items",
        "eventlist-items-object",
        "lowercase-kind",
    ],
)
def test_values_that_are_not_audit_events(tmp_path: Path, value: Any) -> None:
    s = scan(tmp_path, line(value) + line(event(1)))
    assert s.rows() == [(1, 2, None, t(1))]
    assert s.counts == {"not_audit_event": 1}
    assert s.warnings == [s.w("1", "data not recognized as a k8s audit event")]


# ------------------------------------------------------------------ broken lines


def test_invalid_json(tmp_path: Path) -> None:
    cut = orjson.dumps(event(2))[:80]
    eks = orjson.dumps(event(3))[:-30] + b"[Truncated...]"
    s = scan(
        tmp_path, line(event(1)) + cut + b"\n" + eks + b"\n{'kind': 'Event'}\n" + line(event(4))
    )
    assert s.rows() == [(1, 1, None, t(1)), (2, 5, None, t(4))]
    assert s.counts == {"invalid_json": 3}
    assert [w.split(": invalid JSON: ")[0] for w in s.warnings] == [
        f"k8saudit: warning: {s.path}:{n}" for n in (2, 3, 4)
    ]
    assert all(w.count(": invalid JSON: ") == 1 for w in s.warnings)


def test_invalid_utf8(tmp_path: Path) -> None:
    bad = b'{"kind":"Event","user":{"username":"\xff\xfe"}}'
    at = bad.index(b"\xff")
    s = scan(tmp_path, bad + b"\n" + line(event(1)))
    assert s.rows() == [(1, 2, None, t(1))]
    assert s.counts == {"invalid_utf8": 1}
    assert s.warnings == [s.w("1", f"invalid UTF-8: at byte {at}")]


def test_nul_byte(tmp_path: Path) -> None:
    bad = orjson.dumps(event(1))[:40] + b"\x00" + orjson.dumps(event(1))[40:]
    s = scan(tmp_path, line(event(2)) + bad + b"\n\x00\n")
    assert s.rows() == [(1, 1, None, t(2))]
    assert s.counts == {"nul_byte": 2}
    assert s.warnings == [
        s.w("2", "NUL byte in line: at byte 40"),
        s.w("3", "NUL byte in line: at byte 0"),
    ]


def test_nul_byte_is_named_before_invalid_utf8(tmp_path: Path) -> None:
    bad = b'{"a":"\xff", "b":"\x00"}'
    at = bad.index(b"\x00")
    s = scan(tmp_path, bad + b"\n")
    assert s.counts == {"nul_byte": 1}
    assert s.warnings == [s.w("1", f"NUL byte in line: at byte {at}")]


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_deep_but_accepted_nesting(tmp_path: Path) -> None:
    data = line(event(1, requestObject=[]))
    s = scan(
        tmp_path, data.replace(b'"requestObject":[]', b'"requestObject":' + deep(1000).encode())
    )
    assert s.rows() == [(1, 1, None, t(1))]
    assert s.counts == {}


def test_nesting_too_deep_is_skipped_and_the_rest_is_read(tmp_path: Path) -> None:
    # orjson refuses more than 1024 levels; the line is skipped with one problem
    bad = b'{"kind":"Event","requestObject":' + deep(1100).encode() + b"}\n"
    s = scan(tmp_path, bad + line(event(1)))
    assert s.rows() == [(1, 2, None, t(1))]
    assert sum(s.counts.values()) == 1 and len(s.warnings) == 1
    assert s.warnings[0].startswith(s.w("1", ""))


def test_nesting_too_deep_has_its_own_reason(tmp_path: Path) -> None:
    s = scan(tmp_path, b'{"kind":"Event","requestObject":' + deep(1100).encode() + b"}\n")
    assert s.counts == {"too_deep": 1}
    assert s.warnings[0].startswith(s.w("1", "JSON nesting too deep: "))


def test_legacy_text_audit_line(tmp_path: Path) -> None:
    legacy = (
        b'2017-03-21T03:57:09.106841886-04:00 AUDIT: id="c939d2a7-1c37-4ef1-b2f7-4ba9b1e43b53" '
        b'ip="127.0.0.1" method="GET" user="admin" groups="\\"system:masters\\"" as="<self>" '
        b'asgroups="<lookup>" namespace="default" uri="/api/v1/namespaces/default/pods"\n'
    )
    s = scan(
        tmp_path,
        legacy + b'2017-03-21T03:57:09.108403639-04:00 AUDIT: id="c939d2a7" response="200"\n',
    )
    assert s.events == []
    assert s.counts == {"legacy_format": 2}
    assert s.warnings == [
        s.w(
            str(n),
            "legacy text audit format (not JSON): use --audit-log-format=json on the API server",
        )
        for n in (1, 2)
    ]


# ------------------------------------------------------------------ size limit


def test_event_over_max_event_size_is_skipped(tmp_path: Path) -> None:
    small, big = event(1), event(2, annotations={"note": "x" * 300})
    limit = len(orjson.dumps(small)) + 10
    size = len(orjson.dumps(big))
    s = scan(tmp_path, line(small) + line(big) + line(event(3)), max_event_size=limit)
    assert s.rows() == [(1, 1, None, t(1)), (2, 3, None, t(3))]
    assert s.counts == {"too_large": 1}
    assert s.warnings == [s.w("2", f"event larger than --max-event-size: {size} bytes > {limit}")]


def test_size_is_that_of_the_compact_json_not_the_line(tmp_path: Path) -> None:
    ev = event(1)
    compact = orjson.dumps(ev)
    spaced = orjson.dumps(ev, option=orjson.OPT_INDENT_2).replace(b"\n", b" ")
    assert len(spaced) > len(compact) + 100
    s = scan(tmp_path, spaced + b"\n", max_event_size=len(compact))
    assert s.rows() == [(1, 1, None, t(1))]
    s = scan(tmp_path, spaced + b"\n", max_event_size=len(compact) - 1)
    assert s.events == []
    assert s.warnings == [
        s.w("1", f"event larger than --max-event-size: {len(compact)} bytes > {len(compact) - 1}")
    ]


def test_small_event_on_a_big_event_list_line_is_kept(tmp_path: Path) -> None:
    small, big = event(1), event(2, annotations={"note": "y" * 500})
    limit = len(orjson.dumps(small)) + 50
    batch = {"kind": "EventList", "items": [small, big, event(3)]}
    assert len(line(batch)) > limit
    s = scan(tmp_path, line(batch), max_event_size=limit)
    assert s.rows() == [(1, 1, 0, t(1)), (2, 1, 2, t(3))]
    assert s.counts == {"too_large": 1}
    assert s.warnings == [
        s.w("1[1]", f"event larger than --max-event-size: {len(orjson.dumps(big))} bytes > {limit}")
    ]


def test_default_max_event_size() -> None:
    assert DecodeOptions().max_event_size == DEFAULT_MAX_EVENT_SIZE == 262144


def test_twenty_megabyte_line(tmp_path: Path) -> None:
    big = event(1, annotations={"example.com/blob": "A" * 20_000_000})
    data = line(big) + line(event(2))
    assert len(data) > 20_000_000
    s = scan(tmp_path, data, max_event_size=32 << 20)
    assert s.rows() == [(1, 1, None, t(1)), (2, 2, None, t(2))]
    assert len(s.events[0].raw["annotations"]["example.com/blob"]) == 20_000_000
    assert s.counts == {}
    s = scan(tmp_path, data)  # default limit: skipped, with its size
    assert s.rows() == [(1, 2, None, t(2))]
    assert s.warnings == [
        s.w("1", f"event larger than --max-event-size: {len(orjson.dumps(big))} bytes > 262144")
    ]


def test_deeply_nested_event_on_a_big_line(tmp_path: Path) -> None:
    # orjson.dumps refuses such nesting, so the line is spliced by hand
    data = line(event(1, annotations={"pad": "z" * 400}, requestObject=[]))
    data = data.replace(b'"requestObject":[]', b'"requestObject":' + deep(300).encode())
    s = scan(tmp_path, data, max_event_size=300)
    assert s.events == []
    assert s.counts == {"too_large": 1}


# ------------------------------------------------------------------ events without auditID


def test_events_without_audit_id_are_kept_without_ka_fields(tmp_path: Path) -> None:
    s = scan(tmp_path, line(event(1, auditID=DROP)) + line(event(2)))
    assert s.rows() == [(1, 1, None, t(1)), (2, 2, None, t(2))]
    assert s.counts == {}
    no_id, with_id = s.events
    assert no_id.ka is NO_AUDIT_ID and with_id.ka is with_id.raw
    for name in ("ka.verb", "ka.stage", "ka.user.name", "ka.target.resource", "ka.auditid"):
        _, extract = resolve(name)
        assert extract(no_id) is MISSING, name
        assert extract(with_id) is not MISSING, name
    _, user_groups = resolve("ka.user.groups")
    assert user_groups(no_id) is MISSING
    _, pointer = resolve("json.value", "/verb")
    assert pointer(no_id) == "list"


# ------------------------------------------------------------------ timestamps


def test_stage_timestamp_is_the_event_time(tmp_path: Path) -> None:
    ev = event(1, requestReceivedTimestamp="2024-05-01T09:00:00Z", timestamp="2024-05-01T08:00:00Z")
    s = scan(tmp_path, line(ev))
    assert s.rows() == [(1, 1, None, t(1))]
    assert s.counts == {}


FALLBACK = REASONS["time_fallback"]


@pytest.mark.parametrize("stage", [DROP, "not a time", "", 1714557601, None, "2024-05-01T10:00:01"])
def test_fallback_to_request_received_timestamp(tmp_path: Path, stage: Any) -> None:
    ev = event(1, stageTimestamp=stage, requestReceivedTimestamp="2024-05-01T10:00:01.5Z")
    s = scan(tmp_path, line(ev))
    assert s.rows() == [(1, 1, None, BASE + 1_500_000_000)]
    assert s.counts == {"time_fallback": 1}
    assert s.problems.skipped == 0
    assert s.warnings == [s.w("1", f"{FALLBACK}: used requestReceivedTimestamp")]


def test_fallback_to_v1beta1_timestamp(tmp_path: Path) -> None:
    ev = event(
        1,
        apiVersion="audit.k8s.io/v1beta1",
        stageTimestamp=DROP,
        requestReceivedTimestamp="garbage",
        timestamp="2024-05-01T12:00:03+02:00",
    )
    s = scan(tmp_path, line(ev))
    assert s.rows() == [(1, 1, None, BASE + 3_000_000_000)]
    assert s.warnings == [s.w("1", f"{FALLBACK}: used timestamp")]


def test_fallback_inside_an_event_list_names_the_index(tmp_path: Path) -> None:
    batch = {"kind": "EventList", "items": [event(1), event(2, stageTimestamp=DROP)]}
    s = scan(tmp_path, line(batch))
    assert s.rows() == [(1, 1, 0, t(1)), (2, 1, 1, BASE + 2_000_000_000)]
    assert s.warnings == [s.w("1[1]", f"{FALLBACK}: used requestReceivedTimestamp")]


def test_no_usable_timestamp_is_skipped(tmp_path: Path) -> None:
    none = event(1, stageTimestamp=DROP, requestReceivedTimestamp=DROP)
    bad = event(2, stageTimestamp="x", requestReceivedTimestamp=7, timestamp="2024-13-01T00:00:00Z")
    s = scan(
        tmp_path,
        line(none) + line(bad) + line(event(3)) + line({"kind": "EventList", "items": [none]}),
    )
    assert s.rows() == [(1, 3, None, t(3))]
    assert s.counts == {"no_timestamp": 3}
    assert s.problems.skipped == 3
    detail = (
        "no usable timestamp: no parsable stageTimestamp, requestReceivedTimestamp or timestamp"
    )
    assert s.warnings == [s.w("1", detail), s.w("2", detail), s.w("4[0]", detail)]


def test_event_time_ns_reports_the_fallback_used() -> None:
    assert event_time_ns(event(1)) == (t(1), None)
    assert event_time_ns(event(1, stageTimestamp=DROP)) == (
        BASE + 1_000_000_000,
        "requestReceivedTimestamp",
    )
    assert event_time_ns({"timestamp": "2024-05-01T10:00:00Z"}) == (BASE, "timestamp")
    assert event_time_ns({}) == (None, None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T10:00:00Z", BASE),
        ("2024-05-01T10:00:00.012345Z", BASE + 12_345_000),
        ("2024-05-01T10:00:00.5Z", BASE + 500_000_000),
        ("2024-05-01T10:00:00.123456789Z", BASE + 123_456_789),
        ("2024-05-01T10:00:00.1234567899999Z", BASE + 123_456_789),  # beyond ns: truncated, as Go
        ("2024-05-01T10:00:00.000000000Z", BASE),
        ("2024-05-01T12:00:00+02:00", BASE),
        ("2024-05-01T12:30:00.25+02:30", BASE + 250_000_000),
        ("2024-05-01T08:00:00-02:00", BASE),
        ("2024-05-01T10:00:00+00:00", BASE),
        ("2024-05-01T10:00:00-00:00", BASE),
        ("2024-05-01T00:30:00+01:00", BASE - (10 * 3600 + 30 * 60) * 10**9),
        ("2024-02-29T00:00:00Z", calendar.timegm((2024, 2, 29, 0, 0, 0)) * 10**9),
        ("1970-01-01T00:00:00Z", 0),
    ],
)
def test_parse_time_ns_valid(text: str, expected: int) -> None:
    assert parse_time_ns(text) == expected
    assert parse_time_ns(text) == expected  # second call: minute cache / fast path


@pytest.mark.parametrize(
    "text",
    [
        "2024-13-01T10:00:00Z",
        "2024-00-01T10:00:00Z",
        "2024-04-31T10:00:00Z",
        "2023-02-29T10:00:00Z",
        "2024-05-00T10:00:00Z",
        "2024-05-01T24:00:00Z",
        "2024-05-01T10:60:00Z",
        "2024-05-01T10:00:61Z",
        "2016-12-31T23:59:60Z",  # Go's time.Parse refuses a leap second too
        "2016-12-31T23:59:60.5Z",
        "2024-05-01T10:00:00",
        "2024-05-01 10:00:00Z",
        "2024-05-01T10:00:00.Z",
        "2024-05-01T10:00:00,5Z",
        "2024-05-01T10:00:00.12a456Z",
        "2024-05-01T10:00:00.\u0661\u0662\u0663\u0664\u0665\u0666Z",
        "2024-05-01T10:00:00+24:00",
        "2024-05-01T10:00:00+02:60",
        "2024-05-01T10:00:00+0200",
        "2024-05-01T10:00Z",
        "2024-05-01",
        "",
        "Z",
        "\u0662024-05-01T10:00:00Z",
        "2024-05-01T10:00:00ZZ",
        None,
        1714557600,
        1714557600.5,
        ["2024-05-01T10:00:00Z"],
    ],
)
def test_parse_time_ns_invalid(text: Any) -> None:
    assert parse_time_ns(text) is None
    assert parse_time_ns(text) is None


def test_fast_path_timestamp_with_bad_fraction_after_cached_minute() -> None:
    assert parse_time_ns("2024-05-01T10:00:00.000001Z") == BASE + 1000  # caches the minute
    assert parse_time_ns("2024-05-01T10:00:00.00000xZ") is None
    assert parse_time_ns("2024-05-01T10:00:99.000001Z") is None


# ------------------------------------------------------------------ rate-limited warnings


def test_warnings_are_rate_limited_per_reason(tmp_path: Path) -> None:
    data = b"{bad\n" * 25 + line({"kind": "Pod"}) + line(event(1))
    s = scan(tmp_path, data)
    assert s.counts == {"invalid_json": 25, "not_audit_event": 1}
    assert len(s.warnings) == 22
    assert all(
        w.startswith(f"k8saudit: warning: {s.path}:{n}: invalid JSON: ")
        for n, w in enumerate(s.warnings[:20], 1)
    )
    assert (
        s.warnings[20]
        == "k8saudit: warning: further 'invalid JSON' warnings are not shown (counted in the summary)"
    )
    assert s.warnings[21] == s.w("26", NOT_EVENT)
    assert s.rows() == [(1, 27, None, t(1))]
    assert len([p for p in s.problems.shown if p[0] == "invalid_json"]) == 20
    assert s.problems.final_lines() == [
        "25 invalid JSON",
        "1 data not recognized as a k8s audit event",
    ]
    assert s.problems.skipped == 26


def test_problems_without_emit_only_count() -> None:
    problems = Problems(limit=2)
    for n in range(5):
        problems.add("invalid_json", "f", n + 1, None, "x")
    problems.add("time_fallback", "f", 9, 3, "used timestamp")
    assert problems.counts == {"invalid_json": 5, "time_fallback": 1}
    assert problems.shown == [
        ("invalid_json", "f", 1, None, "x"),
        ("invalid_json", "f", 2, None, "x"),
        ("time_fallback", "f", 9, 3, "used timestamp"),
    ]
    assert problems.skipped == 5


# ------------------------------------------------------------------ the decoder itself


def test_decode_line_matches_events(tmp_path: Path) -> None:
    lines = [
        line(event(1)),
        line([event(2), event(3)]),
        b"{x\n",
        b"\n",
        line(event(4, stageTimestamp=DROP)),
    ]
    a = Decoder(DecodeOptions(), Problems())
    by_line = [a.decode_line(b, "f", n) for n, b in enumerate(lines, 1)]
    assert [[(e.num, e.line, e.index, e.time_ns) for e in evs] for evs in by_line] == [
        [(0, 1, None, t(1))],
        [(0, 2, 0, t(2)), (0, 2, 1, t(3))],
        [],
        [],
        [(0, 5, None, BASE + 4 * 10**9)],
    ]
    b = Decoder(DecodeOptions(), Problems())
    b.count = 10  # continues from an earlier file
    streamed = list(b.events(enumerate(lines, 1), "f"))
    assert [(e.num, e.line, e.index, e.time_ns) for e in streamed] == [
        (11, 1, None, t(1)),
        (12, 2, 0, t(2)),
        (13, 2, 1, t(3)),
        (14, 5, None, BASE + 4 * 10**9),
    ]
    assert a.problems.counts == b.problems.counts == {"invalid_json": 1, "time_fallback": 1}
    assert b.count == 14


def test_mixed_sample_file() -> None:
    path = str(DATA / "mixed.jsonl")
    warnings: list[str] = []
    problems = Problems(emit=warnings.append)
    events = list(read_events([path], problems=problems))
    sec = 1_000_000_000
    assert [(e.num, e.line, e.index, e.time_ns) for e in events] == [
        (1, 1, None, BASE + 1 * sec + 200_000),
        (2, 3, 0, BASE + 2 * sec + 200_000),
        (3, 3, 1, BASE + 3 * sec + 200_000),
        (4, 5, 0, BASE + 4 * sec + 200_000),
        (5, 5, 1, BASE + 5 * sec + 200_000),
        (6, 8, None, BASE + 6 * sec + 100_000),
        (7, 10, None, BASE + 8 * sec + 500_000_000),
    ]
    assert [e.raw["auditID"][-1] for e in events] == list("1234568")
    assert problems.counts == {
        "invalid_json": 1,
        "not_audit_event": 1,
        "legacy_format": 1,
        "time_fallback": 2,
        "no_timestamp": 1,
    }
    assert [w.split(": ")[0:3] for w in warnings] == [
        ["k8saudit", "warning", f"{path}:4"],
        ["k8saudit", "warning", f"{path}:6"],
        ["k8saudit", "warning", f"{path}:7"],
        ["k8saudit", "warning", f"{path}:8"],
        ["k8saudit", "warning", f"{path}:9"],
        ["k8saudit", "warning", f"{path}:10"],
    ]
    assert warnings[1:] == [
        f"k8saudit: warning: {path}:6: {NOT_EVENT}",
        f"k8saudit: warning: {path}:7: legacy text audit format (not JSON): use --audit-log-format=json on the API server",
        f"k8saudit: warning: {path}:8: {FALLBACK}: used requestReceivedTimestamp",
        f"k8saudit: warning: {path}:9: no usable timestamp: no parsable stageTimestamp, requestReceivedTimestamp or timestamp",
        f"k8saudit: warning: {path}:10: {FALLBACK}: used timestamp",
    ]


# ------------------------------------------------------------------ properties

JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
JSON = st.recursive(
    JSON_LEAF,
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=5), kids, max_size=4)
    ),
    max_leaves=10,
)
TIMES = st.one_of(
    st.sampled_from(
        [
            "2024-05-01T10:00:00.012345Z",
            "2024-05-01T10:00:00Z",
            "2024-05-01T12:00:00.5+02:00",
            "2024-02-30T10:00:00Z",
            "2016-12-31T23:59:60Z",
            "2024-05-01T10:00:00",
            "",
            "now",
        ]
    ),
    JSON,
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(strategy, strategy, JSON)


EVENTISH = st.fixed_dictionaries(
    {"kind": st.one_of(st.just("Event"), st.just("Event"), JSON)},
    optional={
        "auditID": maybe(st.uuids().map(str)),
        "stage": maybe(
            st.sampled_from(["RequestReceived", "ResponseStarted", "ResponseComplete", "Panic"])
        ),
        "verb": maybe(
            st.sampled_from(["get", "list", "create", "update", "patch", "delete", "watch"])
        ),
        "objectRef": maybe(
            st.fixed_dictionaries(
                {},
                optional={
                    "resource": maybe(st.sampled_from(["pods", "secrets", "configmaps"])),
                    "namespace": maybe(st.text(max_size=5)),
                    "subresource": maybe(st.just("exec")),
                },
            )
        ),
        "user": maybe(
            st.fixed_dictionaries(
                {},
                optional={
                    "username": maybe(st.text(max_size=8)),
                    "groups": maybe(st.lists(st.text(max_size=5))),
                },
            )
        ),
        "requestObject": JSON,
        "stageTimestamp": TIMES,
        "requestReceivedTimestamp": TIMES,
        "timestamp": TIMES,
    },
)
LINE_VALUE = st.one_of(
    EVENTISH,
    EVENTISH,
    JSON,
    st.lists(st.one_of(EVENTISH, JSON), max_size=3),
    st.builds(
        lambda items: {"kind": "EventList", "items": items},
        st.lists(st.one_of(EVENTISH, JSON), max_size=3),
    ),
)
FRAGMENTS = st.one_of(
    st.binary(max_size=12),
    st.sampled_from(
        [
            b"\n",
            b"\n",
            b"\r\n",
            b"\x00",
            b"{",
            b"[",
            b"]",
            b"}",
            b'"',
            b",",
            b":",
            b" ",
            b"\xef\xbb\xbf",
            b'{"kind":"Event",',
            b'"stageTimestamp":"2024-05-01T10:00:00Z"}',
            b'"auditID":"x",',
            b'{"kind":"EventList","items":[',
            b' AUDIT: id="1"',
            b"\xff",
            b"\xc3",
            b"\\u0000",
            b"null",
            line(event(1)),
        ]
    ),
)


def is_empty_batch(value: Any) -> bool:
    """A value that holds no item at all: ``[]``, ``[[]]``, an EventList with no items, ..."""
    if isinstance(value, list):
        return all(is_empty_batch(v) for v in value)
    return isinstance(value, dict) and value.get("kind") == "EventList" and value.get("items") == []


def binary_lines(data: bytes) -> list[bytes]:
    out, start = [], 0
    while start < len(data):
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end + 1
        out.append(data[start:end])
        start = end
    return out


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(parts=st.lists(FRAGMENTS, max_size=30))
def test_property_arbitrary_bytes(tmp_path: Path, parts: list[bytes]) -> None:
    data = b"".join(parts)
    path = tmp_path / "fuzz.log"
    path.write_bytes(data)
    check_lines(path, data)


def check_lines(
    path: Path, data: bytes, max_size: int = DEFAULT_MAX_EVENT_SIZE
) -> list[AuditEvent]:
    problems = Problems(limit=10**9)
    events = list(read_events([str(path)], DecodeOptions(max_size), problems))
    assert [e.num for e in events] == list(range(1, len(events) + 1))
    assert all(isinstance(e.raw, dict) and e.file == str(path) for e in events)
    assert sum(problems.counts.values()) == len(problems.shown)
    assert set(problems.counts) <= set(REASONS)
    if compression_of(data[:6]) is not None:
        assert problems.counts.get("truncated_stream") == 1
        return events
    if binary_kind(data) is not None:
        # a binary file is refused once, as a whole
        assert (events, problems.counts) == ([], {"binary_input": 1})
        return events
    lines = binary_lines(data)
    with_events = {e.line for e in events}
    with_problems = {p[2] for p in problems.shown}
    assert with_events | with_problems <= set(range(1, len(lines) + 1))
    for n, raw in enumerate(lines, 1):
        if n in with_events or n in with_problems:
            continue
        body = raw
        while body.startswith(b"\xef\xbb\xbf"):
            body = body[3:]
        if body.strip():
            assert is_empty_batch(orjson.loads(body)), (n, raw)
    return events


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    values=st.lists(LINE_VALUE, min_size=1, max_size=6),
    max_size=st.sampled_from([200, 2000, 262144]),
)
def test_property_json_values(tmp_path: Path, values: list[Any], max_size: int) -> None:
    data = b"".join(line(v) for v in values)
    path = tmp_path / "values.jsonl"
    path.write_bytes(data)
    events = check_lines(path, data, max_size)
    # a plain Event with a good stageTimestamp and a small size is always kept as is
    for n, v in enumerate(values, 1):
        if (
            isinstance(v, dict)
            and v.get("kind") == "Event"
            and parse_time_ns(v.get("stageTimestamp"))
            and len(orjson.dumps(v)) <= max_size
        ):
            (ev,) = [e for e in events if e.line == n]
            assert (
                ev.index is None
                and ev.raw == v
                and ev.time_ns == parse_time_ns(v["stageTimestamp"])
            )
            assert (ev.ka is ev.raw) == ("auditID" in v)
