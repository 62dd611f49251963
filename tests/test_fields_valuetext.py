"""Rendering of values, local times, JSON pointers, image repositories and JSON text."""

from __future__ import annotations

import time
from collections.abc import Iterator

import orjson
import pytest

from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fields import MISSING, get_field, resolve, to_json, to_text
from k8saudit_cli.fields.jsonf import array_index, split_pointer
from k8saudit_cli.fields.jsonval import compact, encode, indented, text
from k8saudit_cli.fields.ka_request import query_param
from k8saudit_cli.fields.pod import repository
from k8saudit_cli.fields.valuetext import LIST_TEXT_MAX, list_text


def fdef(name: str):  # type: ignore[no-untyped-def]
    f = get_field(name)
    assert f is not None
    return f


# ------------------------------------------------------------------- to_text


@pytest.mark.parametrize(
    ("value", "field", "expected"),
    [
        (MISSING, "ka.verb", "<NA>"),
        (MISSING, "ka.user.groups", "<NA>"),
        ([], "ka.user.groups", "<NA>"),
        (["a"], "ka.user.groups", "(a)"),
        (["a", "b c", "d"], "ka.user.groups", "(a,b c,d)"),
        (["nginx"], "ka.req.pod.containers.image", "(nginx)"),
        # libs adds a comma only after something was written: leading empties vanish
        (["", "*"], "ka.req.role.rules.apiGroups", "(*)"),
        (["*", ""], "ka.req.role.rules.apiGroups", "(*,)"),
        ("create", "ka.verb", "create"),
        ("", "ka.verb", ""),
        (42, "evt.num", "42"),
        (1714557600012345678, "evt.rawtime", "1714557600012345678"),
        (12345678, "evt.rawtime.ns", "012345678"),
        (0, "evt.rawtime.ns", "000000000"),
        (False, "evt.is_async", "false"),
        (True, "evt.is_async", "true"),
    ],
)
def test_to_text(value, field, expected) -> None:  # type: ignore[no-untyped-def]
    assert to_text(value, fdef(field)) == expected


def test_list_text_is_cut_to_1023_bytes() -> None:
    values = [f"item-{i:04d}" for i in range(200)]
    full = "(" + ",".join(values) + ")"
    got = list_text(values)
    assert len(full) > LIST_TEXT_MAX
    assert got == full[:LIST_TEXT_MAX]
    assert not got.endswith(")")


def test_list_text_cut_never_splits_a_character() -> None:
    got = list_text(["é" * 600])  # 1200 bytes of two-byte characters
    raw = got.encode()
    assert len(raw) <= LIST_TEXT_MAX
    assert got == "(" + "é" * 511


def test_list_text_just_under_the_limit_is_whole() -> None:
    value = ["x" * (LIST_TEXT_MAX - 2)]
    assert list_text(value) == "(" + value[0] + ")"
    assert list_text(["x" * (LIST_TEXT_MAX - 1)]) == "(" + "x" * (LIST_TEXT_MAX - 1)


# ------------------------------------------------------------------- to_json


def test_to_json() -> None:
    ev = AuditEvent({"auditID": "a"}, 1714557600012345678, num=3)
    assert to_json(MISSING, fdef("ka.verb")) is None
    assert to_json([], fdef("ka.user.groups")) is None
    assert to_json(["a", "b"], fdef("ka.user.groups")) == ["a", "b"]
    assert to_json("201", fdef("ka.response.code")) == "201"
    assert to_json(3, fdef("evt.num")) == 3
    assert to_json(12345678, fdef("evt.rawtime.ns")) == 12345678
    assert to_json(False, fdef("evt.is_async")) is False
    # Falco prints the time-of-day fields as nanoseconds in output_fields
    assert to_json("10:00:00.012345678", fdef("evt.time"), ev) == 1714557600012345678
    assert to_json("x", fdef("evt.time.iso8601"), ev) == 1714557600012345678
    assert to_json("10:00:00.012345678", fdef("evt.time")) == "10:00:00.012345678"


# ---------------------------------------------------------------- local time


@pytest.fixture()
def new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # A POSIX rule needs no tz database: EST (-5) in winter, EDT (-4) in summer.
    monkeypatch.setenv("TZ", "EST5EDT,M3.2.0,M11.1.0")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _at(field: str, time_ns: int) -> object:
    _, extract = resolve(field)
    return extract(AuditEvent({"auditID": "t"}, time_ns))


@pytest.mark.usefixtures("new_york")
def test_local_time_uses_the_offset_of_the_event_date() -> None:
    winter = 1705320000_000000001  # 2024-01-15T12:00:00.000000001Z
    summer = 1721044800_999999999  # 2024-07-15T12:00:00.999999999Z
    assert _at("evt.time", winter) == "07:00:00.000000001"
    assert _at("evt.time", summer) == "08:00:00.999999999"
    assert _at("evt.time.s", summer) == "08:00:00"
    assert _at("evt.datetime", winter) == "2024-01-15 07:00:00.000000001"
    # the UTC form ignores the zone
    assert _at("evt.time.iso8601", summer) == "2024-07-15T12:00:00.999999999+0000"


@pytest.mark.usefixtures("new_york")
def test_local_date_can_be_the_previous_day() -> None:
    early = 1714528800_000000000  # 2024-05-01T02:00:00Z is 22:00 on 30 April in New York
    assert _at("evt.datetime.s", early) == "2024-04-30 22:00:00"
    assert _at("evt.datetime", early) == "2024-04-30 22:00:00.000000000"


def test_rawtime_parts_keep_nanoseconds() -> None:
    t = 1714557600_999999999
    assert (_at("evt.rawtime", t), _at("evt.rawtime.s", t), _at("evt.rawtime.ns", t)) == (
        t,
        1714557600,
        999999999,
    )


# ------------------------------------------------------------- JSON pointers


@pytest.mark.parametrize(
    ("pointer", "tokens"),
    [
        ("", None),
        ("/", ("",)),
        ("/a/b", ("a", "b")),
        ("a/b", ("a", "b")),
        ("/a~1b/c~0d", ("a/b", "c~d")),
        ("/~01", ("~1",)),  # ~1 is replaced first, so ~01 means the key "~1"
        ("//x", ("", "x")),
    ],
)
def test_split_pointer(pointer: str, tokens: tuple[str, ...] | None) -> None:
    assert split_pointer(pointer) == tokens


@pytest.mark.parametrize(
    ("token", "size", "index"),
    [
        ("0", 1, 0),
        ("2", 3, 2),
        ("3", 3, None),
        ("01", 3, 1),
        ("+1", 3, 1),
        ("-0", 3, 0),
        ("-1", 3, None),
        ("", 3, None),
        ("1e0", 3, None),
        (" 1", 3, None),
        ("١", 3, None),  # noqa: RUF001 (an Arabic-Indic digit, on purpose)
    ],
)
def test_array_index_reads_tokens_like_atoi(token: str, size: int, index: int | None) -> None:
    assert array_index(token, size) == index


def test_json_value_walks_arrays_and_escaped_keys() -> None:
    raw = {"a/b": {"c~d": [10, {"e": [True, None]}]}}
    ev = AuditEvent(raw, 0)
    for pointer, expected in [
        ("/a~1b/c~0d/0", "10"),
        ("/a~1b/c~0d/1/e", "[true,null]"),
        ("/a~1b/c~0d/1/e/1", "null"),
        ("/a~1b/c~0d/2", MISSING),
        ("/a~1b/c~0d/0/x", MISSING),
        ("", '{"a/b":{"c~d":[10,{"e":[true,null]}]}}'),
    ]:
        _, extract = resolve("json.value", pointer)
        assert extract(ev) == expected, pointer


# ------------------------------------------------------- images, URIs, JSON


@pytest.mark.parametrize(
    ("image", "repo"),
    [
        ("nginx", "nginx"),
        ("nginx:1.25", "nginx"),
        ("falcosecurity/falco:0.38.0", "falcosecurity/falco"),
        ("reg:5000/app:1", "reg:5000/app"),
        ("reg:5000/app", "reg:5000/app"),
        ("localhost:5000/team/app@sha256:00ff", "localhost:5000/team/app"),
        ("busybox:1.36@sha256:00ff", "busybox"),
        ("app@sha256:00ff", "app"),
        ("", ""),
    ],
)
def test_repository(image: str, repo: str) -> None:
    assert repository(image) == repo


@pytest.mark.parametrize(
    ("uri", "key", "expected"),
    [
        ("/api/v1/pods?watch=true", "watch", "true"),
        ("/api/v1/pods?watch=1&watch=2", "watch", "1"),
        ("/api/v1/pods?a=1&&b=%20x", "b", " x"),
        ("/api/v1/pods?a=%zz", "a", "%zz"),
        ("/api/v1/pods?a=1;b=2", "a", "1;b=2"),
        ("/api/v1/pods", "watch", MISSING),
        ("/api/v1/pods?#watch=true", "watch", MISSING),
        ("/api/v1/pods?=v", "", "v"),
    ],
)
def test_query_param(uri: str, key: str, expected: object) -> None:
    assert query_param(uri, key) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("x", "x"),
        (True, "true"),
        (False, "false"),
        (None, "null"),
        (0, "0"),
        (-7, "-7"),
        (2**70, "1180591620717411303424"),
        (1.5, "1.5"),
        ({"a": "b"}, '{"a":"b"}'),
        ([1, "two", None], '[1,"two",null]'),
        ({"big": 2**70}, '{"big":1180591620717411303424}'),
        ({1: "x"}, '{"1":"x"}'),
    ],
)
def test_text(value: object, expected: str) -> None:
    assert text(value) == expected


def test_slow_encoder_matches_orjson_layout() -> None:
    value = {"a": [1, {"b": None, "c": []}, {}], "d": 'q"\n\x01é', "e": True, "g": [[[]]]}
    assert encode(value, None) == orjson.dumps(value).decode()
    assert encode(value, 2) == orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


def test_deep_nesting_is_encoded_without_recursion() -> None:
    deep: list[object] = []
    inner = deep
    for _ in range(1023):  # the decoder accepts this depth; orjson stops at 254
        inner.append([])
        inner = inner[0]  # type: ignore[assignment]
    assert compact(deep) == "[" * 1024 + "]" * 1024
    assert indented([[[]]]) == "[\n  [\n    []\n  ]\n]"
