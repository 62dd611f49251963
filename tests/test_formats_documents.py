"""Framing detection and whole JSON documents read record by record.

:class:`DocumentReader` must give, for any layout a tool writes (indented
arrays, wrapper objects, values one after another, JSON lines), exactly the
records ``json.loads`` of the whole text gives, with the line each starts
on, whatever the block size it reads with; and never hold more than the
largest record.
"""

from __future__ import annotations

import io
import json
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from k8saudit_cli.formats import framing_of
from k8saudit_cli.formats.detect import HEAD_BYTES
from k8saudit_cli.formats.jsondoc import DocumentReader
from k8saudit_cli.formats.jsonscan import Scanner, last_member_end

EVENT = {"kind": "Event", "auditID": "a", "s": 'a}{b"]c\\', "x": {"y": [1, {"z": 2}]}}


def read(data: bytes, limit: int = 1 << 20, block: int = 7) -> list[tuple[int, Any]]:
    reader = DocumentReader(io.BytesIO(data).read, limit, block)
    return [(r.line, r.value if r.error is None else r.error) for r in reader]


def events(n: int) -> list[dict[str, Any]]:
    return [{**EVENT, "auditID": str(i)} for i in range(n)]


def starts(doc: bytes, pad: str) -> list[int]:
    """The numbers of the lines that open a record indented by ``pad``."""
    return [i for i, text in enumerate(doc.decode().splitlines(), 1) if text == pad + "{"]


# ---------------------------------------------------------------- framing


@pytest.mark.parametrize(
    ("head", "framing"),
    [
        (b"", "empty"),
        (b"\n \n", "empty"),
        (orjson.dumps(EVENT) + b"\n" + orjson.dumps(EVENT) + b"\n", "lines"),
        (orjson.dumps([EVENT]) + b"\n", "lines"),
        (orjson.dumps(EVENT), "lines"),  # one line, no line break
        (b'{"kind":"Event", broken\n' + orjson.dumps(EVENT) + b"\n", "lines"),
        (b'{"kind":"Ev\n' + orjson.dumps(EVENT) + b"\n", "lines"),  # a cut first line
        (json.dumps(events(2), indent=2).encode(), "document"),
        (json.dumps({"events": events(2)}, indent=4).encode(), "document"),
        (orjson.dumps(EVENT) + orjson.dumps(EVENT), "document"),  # one after another
        (b"\xef\xbb\xbf" + json.dumps(events(1), indent=1).encode(), "document"),
        (b"2024-05-01T10:00:00.012Z " + orjson.dumps(EVENT) + b"\n", "prefixed"),
        (b'@timestamp,@message\n2024-05-01 10:00:00.012,"{}"\n', "csv"),
        (b'"@timestamp","@message","@logStream"\n', "csv"),
        (b"2024-05-01T10:00:00Z AUDIT: id=x\n", "text"),
        (b"H4sIAAAAAAAA\n", "text"),
    ],
)
def test_framing(head: bytes, framing: str) -> None:
    assert framing_of(head) == framing


def test_prefixed_and_csv_are_eks_framings() -> None:
    line = b"2024-05-01T10:00:00.012Z " + orjson.dumps(EVENT) + b"\n"
    assert framing_of(line, "eks") == "prefixed"
    assert framing_of(line, "gke") == "text"
    assert framing_of(b"@timestamp,@message\n", "aks") == "text"


def test_a_first_line_longer_than_the_head() -> None:
    long_line = orjson.dumps({**EVENT, "pad": "x" * HEAD_BYTES})
    head = (long_line + b"\n" + long_line)[:HEAD_BYTES]
    assert framing_of(head) == "lines"  # one long JSON line: read as lines, as always
    values = (orjson.dumps(EVENT) * 100_000)[:HEAD_BYTES]
    assert framing_of(values) == "document"  # values one after another, no line break


# ---------------------------------------------------------------- documents


@pytest.mark.parametrize("indent", [1, 2, 4, "\t"])
def test_an_indented_array(indent: int | str) -> None:
    doc = json.dumps(events(3), indent=indent).encode()
    pad = indent if isinstance(indent, str) else " " * indent
    assert read(doc) == list(zip(starts(doc, pad), events(3), strict=True))


def test_wrappers_stream_their_records_and_skip_the_rest() -> None:
    doc = {
        "events": events(2),
        "searchedLogStreams": [{"logStreamName": "s", "searchedCompletely": True}],
        "nextToken": "t",
    }
    assert [v for _, v in read(json.dumps(doc, indent=4).encode())] == events(2)
    for key in ("records", "results", "entries", "items"):
        wrapped = {"kind": "EventList", "metadata": {"a": [1]}, key: events(2), "after": {}}
        assert [v for _, v in read(orjson.dumps(wrapped))] == events(2)


def test_an_object_that_is_not_a_wrapper_is_one_record() -> None:
    nested = {**EVENT, "requestObject": {"items": [1, 2]}}
    assert read(json.dumps(nested, indent=2).encode()) == [(1, nested)]
    doc = json.dumps([nested, nested], indent=2).encode()
    assert read(doc) == list(zip(starts(doc, "  "), [nested, nested], strict=True))


def test_values_one_after_another() -> None:
    assert read(orjson.dumps(EVENT) * 3) == [(1, EVENT)] * 3
    pretty = b"".join(json.dumps(e, indent=2).encode() + b"\n" for e in events(2))
    assert read(pretty) == list(zip(starts(pretty, ""), events(2), strict=True))


def test_json_lines_read_as_a_document() -> None:
    data = b"".join(orjson.dumps(e) + b"\n" for e in events(3))
    assert read(data) == list(zip([1, 2, 3], events(3), strict=True))
    broken = orjson.dumps(EVENT) + b"\n{broken\n" + orjson.dumps(EVENT) + b"\n"
    assert read(broken) == [
        (1, EVENT),
        (
            2,
            (
                "invalid_json",
                "unexpected character, expected a string key (line 2, column 2)",
            ),
        ),
        (3, EVENT),
    ]


def test_a_cut_document_ends_with_one_problem_where_the_record_starts() -> None:
    doc = json.dumps(events(3), indent=2).encode()
    lines = starts(doc, "  ")
    got = read(doc[: len(doc) - 40])
    assert got[:2] == list(zip(lines[:2], events(2), strict=True))
    assert got[2] == (
        lines[2],
        ("invalid_json", "the document ends inside this record (a cut file?)"),
    )
    assert read(b"[\n") == [
        (1, ("invalid_json", "the document ends before this array is closed (a cut file?)"))
    ]


@pytest.mark.parametrize("block", [7, 1 << 20])
def test_a_broken_record_says_where_in_the_file(block: int) -> None:
    """Line and column of the file, not of the record (a record starts mid-file)."""
    doc = json.dumps(events(3), indent=2)
    lines = doc.splitlines()
    second = starts(doc.encode(), "  ")[1]
    lines[second] = lines[second].rstrip(",")  # the comma after its first member
    got = read("\n".join(lines).encode(), block=block)
    detail = "unexpected character, expected ',' or '}'"
    assert got[1] == (second, ("invalid_json", f"{detail} (line {second + 2}, column 5)"))
    one_line = b'[{"kind": "Event"}, {"kind" "Event"}]\n'
    assert read(one_line, block=block)[1] == (
        1,
        ("invalid_json", "unexpected character, expected ':' after key (line 1, column 29)"),
    )


def test_a_record_past_the_limit_is_skipped_unheld() -> None:
    big = {**EVENT, "pad": "x" * 5000}
    doc = json.dumps([EVENT, big, EVENT], indent=2).encode()
    got = read(doc, limit=2000)
    assert got[0] == (2, EVENT) and got[2][1] == EVENT
    assert got[1][1][0] == "too_large"


def test_junk_at_the_top_is_one_problem_per_line() -> None:
    assert read(b"junk\n[1]\n") == [(1, ("invalid_json", "not a JSON object or array")), (2, 1)]


def test_scalars_in_an_array_are_records() -> None:
    assert [v for _, v in read(b'[1, "x", null, {"a": 1}]')] == [1, "x", None, {"a": 1}]


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.text(alphabet='a{}[]",:\\\n\t é', max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(alphabet="ab{}\"'", max_size=4), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    records=st.lists(st.dictionaries(st.sampled_from("abcd"), JSON, max_size=4), max_size=6),
    indent=st.sampled_from([None, 0, 1, 2, 4]),
    block=st.integers(1, 64),
    wrapper=st.sampled_from([None, "events", "records"]),
)
def test_property_any_layout_gives_the_records(records, indent, block, wrapper) -> None:
    doc: Any = records if wrapper is None else {wrapper: records, "z": [{"k": "}"}]}
    text = json.dumps(doc, indent=indent, ensure_ascii=False).encode()
    assert [v for _, v in read(text, block=block)] == records


# ---------------------------------------------------------------- the scanner


def test_scanner_follows_a_value_across_pieces() -> None:
    text = orjson.dumps({"a": '}\\"{', "b": [1, {"c": "]"}]}) + b"tail"
    scanner, i, pieces, base = Scanner(), 0, [text[k : k + 3] for k in range(0, len(text), 3)], 0
    buf = b""
    for piece in pieces:
        buf += piece
        end, i = scanner.run(buf, i)
        if end >= 0:
            assert buf[:end] == text[: len(text) - 4]
            return
        base += 0
    raise AssertionError("the value never ended")


def test_last_member_end() -> None:
    whole = orjson.dumps({"kind": "Event", "verb": "get", "user": {"username": "a,b"}, "x": 1})
    for cut in range(len(whole) - 1):
        end = last_member_end(whole[:cut])
        if end is not None:
            value = orjson.loads(whole[:end] + b"}")
            assert set(value) < {"kind", "verb", "user", "x"}
    assert last_member_end(b'{"kind":"Event","verb":"ge') == len(b'{"kind":"Event"')
    assert last_member_end(whole) is None  # not cut
