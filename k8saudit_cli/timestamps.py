"""Time in and out: parse RFC 3339 and ``--since`` text, render Falco's time fields.

Every time is an integer count of nanoseconds since the epoch (UTC), so no
precision is lost on the way from ``stageTimestamp`` to an alert. This module
is the bottom layer: it imports nothing from the package.

Local times convert the event's own instant with the zone rules in force at
that date (``time.localtime``); Falco applies the offset in force *now* to
every event, which differs for events on the other side of a DST change.
"""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Callable
from typing import Any

NS = 1_000_000_000


class TimeFormatError(ValueError):
    """A ``--since``/``--until`` text that is neither RFC 3339 nor relative."""


# ------------------------------------------------------------------ parsing

_MINUTE_CACHE: dict[str, int] = {}
#: ``YYYY-MM-DDTHH:MM:SS`` -> ns, for the API server's form (filled from the minutes).
_SECOND_CACHE: dict[str, int] = {}
_SECONDS = {f"{i:02d}": i for i in range(60)}  # Go's time.Parse refuses second 60 too
_FRACTION_PAD = "000000000"


def parse_time_ns(text: Any) -> int | None:
    """Parse an RFC 3339 timestamp (``2024-05-01T10:00:00.012345Z``) to ns since the epoch.

    Integer arithmetic keeps all nine fractional digits (a float would not).
    The date-and-minute part is cached: an audit log repeats it thousands of
    times. Returns ``None`` for anything that is not a valid timestamp.
    """
    if text.__class__ is not str:
        return None
    if len(text) == 27 and text[26] == "Z" and text[19] == "." and text[16] == ":":
        # The API server's own form, 2024-05-01T10:00:00.012345Z: the common case,
        # inline because the decoder calls this once per event.
        second = _SECOND_CACHE.get(text[:19])
        micros = text[20:26]
        if second is not None and micros.isdigit() and micros.isascii():
            return second + int(micros) * 1000
        minute = _MINUTE_CACHE.get(text[:16])
        secs = _SECONDS.get(text[17:19])
        if minute is not None and secs is not None and micros.isdigit() and micros.isascii():
            if len(_SECOND_CACHE) > 65536:
                _SECOND_CACHE.clear()
            second = _SECOND_CACHE[text[:19]] = (minute + secs) * NS
            return second + int(micros) * 1000
    return _parse_rfc3339(text)


def _parse_rfc3339(text: str) -> int | None:
    """The general form: any fraction length, ``Z`` or a ``+hh:mm`` offset."""
    if len(text) < 20 or text[16] != ":":
        return None
    minute = _minute(text[:16])
    secs = _SECONDS.get(text[17:19])
    zone = _split_zone(text[19:])
    if minute is None or secs is None or zone is None:
        return None
    offset, fraction = zone
    nanos = _fraction_ns(fraction)
    if nanos is None:
        return None
    return (minute + secs - offset) * NS + nanos


def _minute(head: str) -> int | None:
    """``YYYY-MM-DDTHH:MM`` to epoch seconds, through the cache."""
    minute = _MINUTE_CACHE.get(head)
    if minute is None:
        minute = _parse_minute(head)
        if minute is None:
            return None
        if len(_MINUTE_CACHE) > 65536:
            _MINUTE_CACHE.clear()
        _MINUTE_CACHE[head] = minute
    return minute


def _parse_minute(head: str) -> int | None:
    """``YYYY-MM-DDTHH:MM`` to epoch seconds, validated."""
    if head[4] != "-" or head[7] != "-" or head[10] != "T" or head[13] != ":":
        return None
    parts = (head[0:4], head[5:7], head[8:10], head[11:13], head[14:16])
    if not all(p.isdigit() and p.isascii() for p in parts):
        return None
    y, mo, d, h, mi = (int(p) for p in parts)
    if not (1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y, mo)[1] and h < 24 and mi < 60):
        return None
    return calendar.timegm((y, mo, d, h, mi, 0, 0, 0, 0))


def _split_zone(rest: str) -> tuple[int, str] | None:
    """``.5+02:00`` -> (offset seconds east of UTC, ``.5``); ``None`` without a valid zone."""
    if rest[-1:] == "Z":
        return 0, rest[:-1]
    if len(rest) < 6 or rest[-6] not in "+-" or rest[-3] != ":":
        return None
    hh, mm = _SECONDS.get(rest[-5:-3]), _SECONDS.get(rest[-2:])
    if hh is None or mm is None or hh > 23:
        return None
    sign = 1 if rest[-6] == "+" else -1
    return sign * (hh * 3600 + mm * 60), rest[:-6]


def _fraction_ns(fraction: str) -> int | None:
    """``.012345`` -> 12345000; digits beyond nanoseconds are cut, as Go does."""
    if not fraction:
        return 0
    digits = fraction[1:]
    if fraction[0] != "." or not digits or not (digits.isdigit() and digits.isascii()):
        return None
    return int((digits + _FRACTION_PAD)[:9])


def event_time_ns(obj: dict[str, Any]) -> tuple[int | None, str | None]:
    """The event time (``stageTimestamp``) and, when a fallback was used, which one."""
    t = parse_time_ns(obj.get("stageTimestamp"))
    if t is not None:
        return t, None
    for key in ("requestReceivedTimestamp", "timestamp"):
        t = parse_time_ns(obj.get(key))
        if t is not None:
            return t, key
    return None, None


_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_when(text: str, now: float | None = None) -> int:
    """RFC 3339 (``2024-05-01T10:00:00Z``), a bare date (midnight UTC) or a time ago
    (``90m``, ``7d``; units s, m, h, d, w) to ns.

    Raises :class:`TimeFormatError` for anything else.
    """
    m = _RELATIVE.match(text.strip())
    if m:
        now = time.time() if now is None else now
        return int((now - float(m.group(1)) * _UNIT[m.group(2)]) * NS)
    candidate = text.strip()
    if len(candidate) == 10:
        candidate += "T00:00:00Z"
    value = parse_time_ns(candidate.replace(" ", "T", 1))
    if value is None:
        raise TimeFormatError(
            f"'{text}' is neither RFC 3339 (2024-05-01T10:00:00Z), a date (2024-05-01) "
            "nor a time ago (30m, 2h, 7d)"
        )
    return value


# ------------------------------------------------------------------ rendering


def _local(time_ns: int) -> tuple[time.struct_time, int]:
    sec, ns = divmod(time_ns, NS)
    return time.localtime(sec), ns


#: "00" to "99": a table lookup instead of a format spec, which is parsed on every call.
_TWO_DIGITS = tuple(f"{i:02d}" for i in range(100))


def _hms(t: time.struct_time) -> str:
    two = _TWO_DIGITS
    return f"{two[t.tm_hour]}:{two[t.tm_min]}:{two[t.tm_sec]}"


def _ymd(t: time.struct_time) -> str:
    return f"{str(t.tm_year).zfill(4)}-{_TWO_DIGITS[t.tm_mon]}-{_TWO_DIGITS[t.tm_mday]}"


def _nine(ns: int) -> str:
    """A fraction of a second (0 <= ns < 10**9) as nine digits."""
    return str(ns + NS)[1:]


def evt_time_text(time_ns: int) -> str:
    """``evt.time``, Falco's alert time: local ``HH:MM:SS.nnnnnnnnn``."""
    t, ns = _local(time_ns)
    return f"{_hms(t)}.{_nine(ns)}"


def evt_time_s_text(time_ns: int) -> str:
    """``evt.time.s``: local ``HH:MM:SS``."""
    return _hms(_local(time_ns)[0])


def evt_datetime_text(time_ns: int) -> str:
    """``evt.datetime``: local ``YYYY-MM-DD HH:MM:SS.nnnnnnnnn``."""
    t, ns = _local(time_ns)
    return f"{_ymd(t)} {_hms(t)}.{_nine(ns)}"


def evt_datetime_s_text(time_ns: int) -> str:
    """``evt.datetime.s``: local ``YYYY-MM-DD HH:MM:SS``."""
    t = _local(time_ns)[0]
    return f"{_ymd(t)} {_hms(t)}"


def evt_iso8601_text(time_ns: int) -> str:
    """``evt.time.iso8601``: UTC with a literal ``+0000``, as libs' ``ts_to_iso_8601``."""
    sec, ns = divmod(time_ns, NS)
    t = time.gmtime(sec)
    return f"{_ymd(t)}T{_hms(t)}.{_nine(ns)}+0000"


def utc_iso(time_ns: int) -> str:
    """``2018-10-20T00:18:28.123456000Z``: the JSON alert's ``time``."""
    sec, ns = divmod(time_ns, NS)
    t = time.gmtime(sec)
    return f"{_ymd(t)}T{_hms(t)}.{_nine(ns)}Z"


def per_second(render: Callable[[int], str]) -> Callable[[int], str]:
    """``render`` (one of the time texts above) computed once per second of event time.

    Alerts of one second share everything but the nine digits of the
    fraction: the text around them is kept from the last second rendered.
    """
    last_second: int | None = None
    head = tail = ""

    def text(time_ns: int) -> str:
        nonlocal last_second, head, tail
        second, fraction = divmod(time_ns, NS)
        if second != last_second:
            whole = render(second * NS)  # "... .000000000 ..."
            cut = whole.index(".000000000")
            head, tail, last_second = whole[: cut + 1], whole[cut + 10 :], second
        # The nine digits, zero-padded: cheaper than a format spec, which is parsed per call.
        return f"{head}{str(fraction + NS)[1:]}{tail}"

    return text
