"""Opening inputs: files, directories, globs, stdin, and compressed streams (by content).

Compressed and binary inputs are generated here under ``tmp_path``; nothing
binary is committed.
"""

from __future__ import annotations

import bz2
import calendar
import gzip
import io
import lzma
import os
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from k8saudit_cli.decode import DecodeOptions, Problems, read_events
from k8saudit_cli.errors import InputError
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.sources import STDIN, Input, compression_of, expand_inputs, open_inputs

BASE = calendar.timegm((2024, 5, 1, 10, 0, 0, 0, 0, 0)) * 1_000_000_000


def event_line(n: int) -> bytes:
    """One realistic Event line; second ``n`` after 10:00 and microsecond ``n``."""
    ev = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "auditID": f"0b6a0000-0000-4000-8000-{n:012d}",
        "stage": "ResponseComplete",
        "requestURI": f"/api/v1/namespaces/dev/configmaps/cm-{n}",
        "verb": "get",
        "user": {"username": "system:serviceaccount:dev:app", "groups": ["system:serviceaccounts"]},
        "sourceIPs": ["10.0.0.21"],
        "userAgent": "app/1.0",
        "objectRef": {
            "resource": "configmaps",
            "namespace": "dev",
            "name": f"cm-{n}",
            "apiVersion": "v1",
        },
        "responseStatus": {"metadata": {}, "code": 200},
        "requestReceivedTimestamp": f"2024-05-01T10:{n // 60 % 60:02d}:{n % 60:02d}.000000Z",
        "stageTimestamp": f"2024-05-01T10:{n // 60 % 60:02d}:{n % 60:02d}.{n % 1000000:06d}Z",
    }
    return orjson.dumps(ev) + b"\n"


def t(n: int) -> int:
    return BASE + (n // 60 % 60 * 60 + n % 60) * 1_000_000_000 + (n % 1_000_000) * 1000


def lines(first: int, last: int) -> bytes:
    return b"".join(event_line(n) for n in range(first, last + 1))


def read(*specs: str, **opts: Any) -> tuple[list[AuditEvent], Problems, list[str]]:
    warnings: list[str] = []
    problems = Problems(emit=warnings.append)
    events = list(read_events(list(specs), DecodeOptions(**opts), problems))
    return events, problems, warnings


def rows(events: list[AuditEvent]) -> list[tuple[str, int, int, int | None, int]]:
    return [(os.path.basename(e.file), e.num, e.line, e.index, e.time_ns) for e in events]


def auditid_n(ev: AuditEvent) -> int:
    return int(ev.raw["auditID"].rsplit("-", 1)[1])


def zstd_compress(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor().compress(data)


COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "bzip2": bz2.compress,
    "xz": lzma.compress,
    "zstd": zstd_compress,
}


# ------------------------------------------------------------------ expand_inputs


def test_plain_file_is_itself(tmp_path: Path) -> None:
    p = tmp_path / "audit.log"
    p.write_bytes(lines(1, 2))
    assert expand_inputs([str(p)]) == [str(p)]


def test_directory_gives_regular_files_in_name_order_not_recursive(tmp_path: Path) -> None:
    d = tmp_path / "logs"
    (d / "sub").mkdir(parents=True)
    (d / "sub" / "inner.log").write_bytes(lines(90, 90))
    names = ["b.log", "a2.log", "a10.log", "A.log", ".hidden", "audit.log.1.gz"]
    for n, name in enumerate(names, 1):
        data = event_line(n)
        (d / name).write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    (d / "z-dir.log").mkdir()
    expected = sorted(names)  # byte order: ".hidden", "A.log", "a10.log", "a2.log", ...
    assert expected == [".hidden", "A.log", "a10.log", "a2.log", "audit.log.1.gz", "b.log"]
    assert expand_inputs([str(d)]) == [os.path.join(str(d), n) for n in expected]
    events, problems, _ = read(str(d))
    assert [(os.path.basename(e.file), e.num, e.line) for e in events] == [
        (name, i, 1) for i, name in enumerate(expected, 1)
    ]
    assert [auditid_n(e) for e in events] == [names.index(n) + 1 for n in expected]
    assert problems.counts == {}


def test_empty_directory_gives_nothing(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert expand_inputs([str(tmp_path / "empty")]) == []
    assert read(str(tmp_path / "empty"))[0] == []


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("audit-*.log", ["audit-01.log", "audit-02.log", "audit-10.log", "audit-x.log"]),
        ("audit-0?.log", ["audit-01.log", "audit-02.log"]),
        ("audit-[01]*.log", ["audit-01.log", "audit-02.log", "audit-10.log"]),
        ("audit-[!0]*.log", ["audit-10.log", "audit-x.log"]),
        ("*", ["audit-01.log", "audit-02.log", "audit-10.log", "audit-x.log", "other.txt"]),
    ],
)
def test_globs_in_name_order(tmp_path: Path, pattern: str, expected: list[str]) -> None:
    for name in ["audit-10.log", "audit-02.log", "other.txt", "audit-x.log", "audit-01.log"]:
        (tmp_path / name).write_bytes(event_line(1))
    (tmp_path / "audit-03.log").mkdir()  # a directory matching the pattern is not an input
    assert expand_inputs([str(tmp_path / pattern)]) == [str(tmp_path / n) for n in expected]


def test_glob_does_not_recurse(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.log").write_bytes(event_line(1))
    (tmp_path / "y.log").write_bytes(event_line(2))
    assert expand_inputs([str(tmp_path / "*.log")]) == [str(tmp_path / "y.log")]


def test_existing_name_with_glob_characters_is_taken_literally(tmp_path: Path) -> None:
    (tmp_path / "audit[1].log").write_bytes(event_line(1))
    (tmp_path / "audit1.log").write_bytes(event_line(2))
    assert expand_inputs([str(tmp_path / "audit[1].log")]) == [str(tmp_path / "audit[1].log")]


def test_several_specs_keep_their_order(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "2.log").write_bytes(b"")
    (tmp_path / "d" / "1.log").write_bytes(b"")
    (tmp_path / "z.log").write_bytes(b"")
    (tmp_path / "g1.log").write_bytes(b"")
    specs = [str(tmp_path / "z.log"), STDIN, str(tmp_path / "d"), str(tmp_path / "g*.log")]
    assert expand_inputs(specs) == [
        str(tmp_path / "z.log"),
        "-",
        str(tmp_path / "d" / "1.log"),
        str(tmp_path / "d" / "2.log"),
        str(tmp_path / "g1.log"),
    ]


def test_glob_matching_nothing(tmp_path: Path) -> None:
    spec = str(tmp_path / "audit-*.log")
    with pytest.raises(InputError) as info:
        expand_inputs([spec])
    assert str(info.value) == f"no file matches '{spec}'"


def test_missing_file(tmp_path: Path) -> None:
    spec = str(tmp_path / "nope.log")
    with pytest.raises(InputError) as info:
        expand_inputs([spec])
    assert str(info.value) == f"cannot open '{spec}': no such file or directory"
    assert "\n" not in str(info.value)


def test_missing_input_fails_before_any_event(tmp_path: Path) -> None:
    good = tmp_path / "good.log"
    good.write_bytes(lines(1, 3))
    events = read_events([str(good), str(tmp_path / "missing.log")])
    with pytest.raises(InputError, match=r"missing\.log"):
        next(events)


def test_unreadable_file(tmp_path: Path) -> None:
    p = tmp_path / "secret.log"
    p.write_bytes(event_line(1))
    p.chmod(0)
    try:
        if os.access(p, os.R_OK):
            pytest.skip("running as root: a mode 000 file is still readable")
        with pytest.raises(InputError) as info:
            expand_inputs([str(p)])
        assert str(info.value) == f"cannot open '{p}': permission denied"
    finally:
        p.chmod(0o644)


# ------------------------------------------------------------------ compression by content


@pytest.mark.parametrize("kind", ["gzip", "bzip2", "xz", "zstd"])
@pytest.mark.parametrize(
    "name", ["audit.log", "audit.log.gz", "audit.bz2", "audit-2024-05-01T10-00-00.000.log.1"]
)
def test_compression_detected_by_content(tmp_path: Path, kind: str, name: str) -> None:
    p = tmp_path / name
    p.write_bytes(COMPRESSORS[kind](lines(1, 3)))
    inp = Input(str(p))
    try:
        assert inp.compression == kind
        assert [n for n, _ in inp.lines()] == [1, 2, 3]
        assert inp.error is None
    finally:
        inp.close()
    events, problems, _ = read(str(p))
    assert rows(events) == [(name, n, n, None, t(n)) for n in (1, 2, 3)]
    assert problems.counts == {}


def test_plain_file_named_gz_is_read_as_plain(tmp_path: Path) -> None:
    p = tmp_path / "audit.log.gz"
    p.write_bytes(lines(1, 2))
    inp = Input(str(p))
    assert inp.compression is None
    inp.close()
    events, problems, _ = read(str(p))
    assert rows(events) == [("audit.log.gz", 1, 1, None, t(1)), ("audit.log.gz", 2, 2, None, t(2))]
    assert problems.counts == {}


def test_compression_of_magic_bytes() -> None:
    assert compression_of(b"\x1f\x8b\x08\x00\x00\x00") == "gzip"
    assert compression_of(b"BZh91AY") == "bzip2"
    assert compression_of(b"\xfd7zXZ\x00") == "xz"
    assert compression_of(b"\x28\xb5\x2f\xfd\x04\x00") == "zstd"
    assert compression_of(b"\x50\x2a\x4d\x18\x04\x00") == "zstd"  # a skippable frame first
    assert compression_of(b"\xfd7zXZ") is None  # incomplete magic
    assert compression_of(b'{"kind') is None
    assert compression_of(b"") is None


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.log"
    p.write_bytes(b"")
    assert read(str(p))[0] == []


def test_concatenated_gzip_members(tmp_path: Path) -> None:
    # what `cat a.gz b.gz > c.gz` gives; a line may even span two members
    whole = lines(1, 4)
    cut = len(event_line(1)) + len(event_line(2)) + 25
    p = tmp_path / "joined.gz"
    p.write_bytes(gzip.compress(whole[:cut]) + gzip.compress(whole[cut:]))
    events, problems, _ = read(str(p))
    assert rows(events) == [("joined.gz", n, n, None, t(n)) for n in (1, 2, 3, 4)]
    assert problems.counts == {}


@pytest.mark.parametrize("kind", ["gzip", "bzip2", "xz", "zstd"])
def test_truncated_stream_is_a_counted_problem(tmp_path: Path, kind: str) -> None:
    whole = lines(1, 300)
    blob = COMPRESSORS[kind](whole)
    p = tmp_path / "audit.log"
    p.write_bytes(blob[: len(blob) * 2 // 3])
    events, problems, warnings = read(str(p))
    # whatever was kept is exactly the start of the file
    assert rows(events) == [("audit.log", n, n, None, t(n)) for n in range(1, len(events) + 1)]
    assert len(events) < 300
    assert problems.counts == {"truncated_stream": 1}
    assert warnings == [
        (
            f"k8saudit: warning: {p}:{len(events) + 1}: truncated or corrupt compressed stream: "
            f"{kind} stream ends early (truncated file)"
        )
    ]


def complete_lines_before_cut(kind: str, cut_blob: bytes) -> int:
    """How many whole lines a streaming decompressor can deliver from a cut stream."""
    if kind == "gzip":
        out = zlib.decompressobj(31).decompress(cut_blob)
    else:
        out = lzma.LZMADecompressor().decompress(cut_blob)
    return out.count(b"\n")


@pytest.mark.parametrize("kind", ["gzip", "xz"])
def test_truncated_stream_keeps_every_line_before_the_cut(tmp_path: Path, kind: str) -> None:
    whole = lines(1, 400)
    blob = COMPRESSORS[kind](whole)
    cut_blob = blob[: len(blob) // 2]
    expected = complete_lines_before_cut(kind, cut_blob)
    assert 50 < expected < 400
    p = tmp_path / "audit.log.gz"
    p.write_bytes(cut_blob)
    events, problems, warnings = read(str(p))
    assert rows(events) == [("audit.log.gz", n, n, None, t(n)) for n in range(1, expected + 1)]
    assert problems.counts == {"truncated_stream": 1}
    assert warnings[0].startswith(f"k8saudit: warning: {p}:{expected + 1}: ")


def test_corrupt_gzip_checksum(tmp_path: Path) -> None:
    blob = bytearray(gzip.compress(lines(1, 50)))
    blob[-8] ^= 0xFF  # the CRC32 in the trailer
    p = tmp_path / "audit.log"
    p.write_bytes(bytes(blob))
    events, problems, warnings = read(str(p))
    assert rows(events) == [("audit.log", n, n, None, t(n)) for n in range(1, len(events) + 1)]
    assert problems.counts == {"truncated_stream": 1}
    assert len(warnings) == 1
    assert warnings[0].startswith(
        f"k8saudit: warning: {p}:{len(events) + 1}: truncated or corrupt compressed stream: gzip error: "
    )
    assert "CRC check failed" in warnings[0]


def test_bit_flipped_gzip_does_not_stop_the_next_file(tmp_path: Path) -> None:
    blob = bytearray(gzip.compress(lines(1, 200)))
    blob[len(blob) // 2] ^= 0x10
    bad, good = tmp_path / "1.gz", tmp_path / "2.log"
    bad.write_bytes(bytes(blob))
    good.write_bytes(lines(500, 501))
    events, problems, warnings = read(str(bad), str(good))
    from_bad = [e for e in events if e.file == str(bad)]
    # the damaged file gives whole original events up to some point (or garbage lines counted as problems)
    assert all(e.raw == orjson.loads(event_line(e.line)) for e in from_bad)
    assert problems.counts["truncated_stream"] == 1
    assert any(
        f"{bad}:" in w and "truncated or corrupt compressed stream: gzip error: " in w
        for w in warnings
    )
    assert rows(events[-2:]) == [
        ("2.log", len(events) - 1, 1, None, t(500)),
        ("2.log", len(events), 2, None, t(501)),
    ]


def test_gzip_followed_by_plain_bytes(tmp_path: Path) -> None:
    p = tmp_path / "odd.gz"
    p.write_bytes(gzip.compress(lines(1, 2)) + b"trailing junk\n")
    _, problems, warnings = read(str(p))
    assert problems.counts == {"truncated_stream": 1}
    assert len(warnings) == 1 and "gzip error: " in warnings[0]


def test_zstd_frames_and_skippable_frames(tmp_path: Path) -> None:
    # pzstd writes a skippable frame first; `cat a.zst b.zst` gives two frames
    skippable = b"\x50\x2a\x4d\x18" + (4).to_bytes(4, "little") + b"meta"
    p = tmp_path / "audit.zst"
    p.write_bytes(skippable + zstd_compress(lines(1, 2)) + zstd_compress(lines(3, 4)))
    events, problems, _ = read(str(p))
    assert rows(events) == [("audit.zst", n, n, None, t(n)) for n in (1, 2, 3, 4)]
    assert problems.counts == {}


def test_corrupt_zstd(tmp_path: Path) -> None:
    import zstandard

    # with its checksum a damaged frame is found out (without, zstd cannot tell)
    blob = bytearray(zstandard.ZstdCompressor(write_checksum=True).compress(lines(1, 300)))
    blob[-2] ^= 0xFF
    p = tmp_path / "audit.zst"
    p.write_bytes(bytes(blob))
    events, problems, warnings = read(str(p))
    assert rows(events) == [("audit.zst", n, n, None, t(n)) for n in range(1, len(events) + 1)]
    assert problems.counts == {"truncated_stream": 1}
    assert "truncated or corrupt compressed stream: zstd error: " in warnings[-1]


def _zip(data: bytes) -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("audit.log", data)
    return out.getvalue()


def _tar_gz(data: bytes) -> bytes:
    import tarfile

    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tf:
        info = tarfile.TarInfo("audit.log")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    return out.getvalue()


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (_zip, "zip archive"),
        (_tar_gz, "binary data in a gzip stream"),
        (lambda d: b"\x04\x22\x4d\x18" + d, "lz4"),
        (lambda d: d.decode().encode("utf-16"), "UTF-16 or UTF-32 text"),
        (lambda d: d.decode().encode("utf-16-le"), "UTF-16 text"),
        (lambda d: b"\x7fELF\x02\x01\x01\x00" + bytes(64) + d, "binary data"),
    ],
    ids=["zip", "tar.gz", "lz4", "utf16-bom", "utf16-le", "elf"],
)
def test_binary_input_is_named_once_per_file(
    tmp_path: Path, make: Callable[[bytes], bytes], kind: str
) -> None:
    # zstd used to give NUL-byte warnings line after line; now any binary input is one problem
    bad, good = tmp_path / "1.bin", tmp_path / "2.log"
    bad.write_bytes(make(lines(1, 50)))
    good.write_bytes(lines(60, 60))
    events, problems, warnings = read(str(bad), str(good))
    assert rows(events) == [("2.log", 1, 1, None, t(60))]
    assert problems.counts == {"binary_input": 1}
    assert warnings == [
        f"k8saudit: warning: {bad}:1: unsupported compression or binary file: {kind}"
    ]


def test_a_stray_nul_in_a_json_log_is_still_one_line_warning(tmp_path: Path) -> None:
    p = tmp_path / "audit.log"
    p.write_bytes(lines(1, 1) + b'{"kind":"Event",\x00}\n' + lines(3, 3))
    events, problems, _ = read(str(p))
    assert [e.line for e in events] == [1, 3]
    assert problems.counts == {"nul_byte": 1}


# ------------------------------------------------------------------ stdin


class FakeStdin:
    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", FakeStdin(lines(1, 2) + b"{oops\n"))
    assert expand_inputs(["-"]) == ["-"]
    events, problems, warnings = read("-")
    assert [(e.file, e.num, e.line, e.index, e.time_ns) for e in events] == [
        ("<stdin>", 1, 1, None, t(1)),
        ("<stdin>", 2, 2, None, t(2)),
    ]
    assert problems.counts == {"invalid_json": 1}
    assert warnings[0].startswith("k8saudit: warning: <stdin>:3: invalid JSON: ")


def test_gzip_on_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", FakeStdin(gzip.compress(lines(7, 8))))
    inp = Input(STDIN)
    assert (inp.name, inp.compression, inp.size()) == ("<stdin>", "gzip", None)
    monkeypatch.setattr(sys, "stdin", FakeStdin(gzip.compress(lines(7, 8))))  # the probe read it
    events, problems, _ = read("-")
    assert [(e.file, e.num, e.line, e.time_ns) for e in events] == [
        ("<stdin>", 1, 1, t(7)),
        ("<stdin>", 2, 2, t(8)),
    ]
    assert problems.counts == {}


# ------------------------------------------------------------------ several inputs


def test_num_continues_across_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "rotated").mkdir()
    (tmp_path / "rotated" / "audit-2024-05-01T09-00-00.000.log.gz").write_bytes(
        gzip.compress(lines(1, 2))
    )
    (tmp_path / "rotated" / "audit.log").write_bytes(lines(3, 3))
    (tmp_path / "extra.log").write_bytes(b"\n{bad\n" + lines(4, 5))
    monkeypatch.setattr(sys, "stdin", FakeStdin(lines(6, 6)))
    opened: list[str] = []
    problems = Problems()
    events = list(
        read_events(
            [str(tmp_path / "rotated"), str(tmp_path / "extra.log"), "-"],
            problems=problems,
            on_open=lambda inp: opened.append(os.path.basename(inp.name)),
        )
    )
    assert rows(events) == [
        ("audit-2024-05-01T09-00-00.000.log.gz", 1, 1, None, t(1)),
        ("audit-2024-05-01T09-00-00.000.log.gz", 2, 2, None, t(2)),
        ("audit.log", 3, 1, None, t(3)),
        ("extra.log", 4, 3, None, t(4)),
        ("extra.log", 5, 4, None, t(5)),
        ("<stdin>", 6, 1, None, t(6)),
    ]
    assert opened == ["audit-2024-05-01T09-00-00.000.log.gz", "audit.log", "extra.log", "<stdin>"]
    assert problems.counts == {"invalid_json": 1}
    assert problems.shown[0][:4] == ("invalid_json", str(tmp_path / "extra.log"), 2, None)


def test_inputs_are_opened_one_at_a_time(tmp_path: Path) -> None:
    paths = []
    for n in (1, 2, 3):
        p = tmp_path / f"{n}.log"
        p.write_bytes(event_line(n))
        paths.append(str(p))
    seen: list[tuple[str, bool]] = []
    for inp in open_inputs(paths):
        seen.append((os.path.basename(inp.name), inp._raw.closed))
        assert [n for n, _ in inp.lines()] == [1]
        last = inp
    assert seen == [("1.log", False), ("2.log", False), ("3.log", False)]
    assert last._raw.closed


def test_size_and_position(tmp_path: Path) -> None:
    data = gzip.compress(lines(1, 20))
    p = tmp_path / "a.gz"
    p.write_bytes(data)
    inp = Input(str(p))
    try:
        assert inp.size() == len(data)
        assert inp.position() == 0
        assert len(list(inp.lines())) == 20
        assert inp.position() == len(data)
    finally:
        inp.close()


# ------------------------------------------------------------------ bounded lines


@settings(max_examples=300, deadline=None)
@given(
    data=st.lists(
        st.sampled_from([b"\n", b"\r\n", b"a", b"{}", b"xyz" * 7, b" ", b"\xff"]), max_size=60
    ).map(b"".join),
    limit=st.integers(min_value=1, max_value=30),
    buffer=st.sampled_from([1, 2, 7, 64]),
)
def test_line_reader_matches_splitting_by_hand(data: bytes, limit: int, buffer: int) -> None:
    from k8saudit_cli.sources import LineReader, LongLine

    reader = LineReader(io.BufferedReader(io.BytesIO(data), buffer_size=buffer), limit)
    got = [(n, ("long", line.size) if isinstance(line, LongLine) else line) for n, line in reader]
    expected = []
    pieces = data.split(b"\n")
    whole = [p + b"\n" for p in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])
    for n, line in enumerate(whole, 1):
        if line == b"\n":
            continue
        if len(line) > limit and not (len(line) == limit + 1 and line.endswith(b"\n")):
            expected.append((n, ("long", len(line.rstrip(b"\n").removesuffix(b"\r")))))
        else:
            expected.append((n, line))
    assert got == expected
    assert reader.count == len(whole)
