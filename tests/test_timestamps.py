"""Time parsing for ``--since``/``--until`` and Falco's time renderings.

RFC 3339 event times (``parse_time_ns``, ``event_time_ns``) are covered case
by case in tests/test_decode.py.
"""

from __future__ import annotations

import calendar
import time

import pytest

from k8saudit_cli import timestamps as ts

BASE = calendar.timegm((2024, 5, 1, 10, 0, 0)) * ts.NS
NOW = BASE / ts.NS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T10:00:00Z", BASE),
        ("  2024-05-01T10:00:00.5Z ", BASE + ts.NS // 2),
        ("2024-05-01 10:00:00Z", BASE),
        ("2024-05-01", BASE - 10 * 3600 * ts.NS),
        ("90m", BASE - 90 * 60 * ts.NS),
        ("2h", BASE - 2 * 3600 * ts.NS),
        ("1.5 d", BASE - 36 * 3600 * ts.NS),
        ("1w", BASE - 7 * 86400 * ts.NS),
        ("30s", BASE - 30 * ts.NS),
    ],
)
def test_parse_when(text: str, expected: int) -> None:
    assert ts.parse_when(text, now=NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "2h ago", "2024-05-01T10:00:00", "-2h", ""])
def test_parse_when_rejects_other_text(text: str) -> None:
    with pytest.raises(ts.TimeFormatError, match="neither RFC 3339"):
        ts.parse_when(text, now=NOW)
    assert issubclass(ts.TimeFormatError, ValueError)


def test_relative_times_count_back_from_now() -> None:
    before = time.time_ns()
    assert before - 3600 * ts.NS - ts.NS <= ts.parse_when("1h") <= time.time_ns() - 3599 * ts.NS


@pytest.fixture
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    time.tzset()


@pytest.mark.usefixtures("utc")
def test_renderings() -> None:
    t = BASE + 12_345_678
    assert ts.evt_time_text(t) == "10:00:00.012345678"
    assert ts.evt_time_s_text(t) == "10:00:00"
    assert ts.evt_datetime_text(t) == "2024-05-01 10:00:00.012345678"
    assert ts.evt_datetime_s_text(t) == "2024-05-01 10:00:00"
    assert ts.evt_iso8601_text(t) == "2024-05-01T10:00:00.012345678+0000"
    assert ts.utc_iso(t) == "2024-05-01T10:00:00.012345678Z"


def test_utc_renderings_ignore_the_local_zone(monkeypatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert ts.evt_iso8601_text(BASE) == "2024-05-01T10:00:00.000000000+0000"
        assert ts.utc_iso(BASE) == "2024-05-01T10:00:00.000000000Z"
        assert ts.evt_time_text(BASE) == "06:00:00.000000000"  # EDT, the zone at that date
    finally:
        monkeypatch.undo()
        time.tzset()
