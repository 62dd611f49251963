"""The receiver's pieces on their own: listen URL, tokens, body limits, batches, archive, feed."""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import orjson
import pytest

from k8saudit_cli.decode import DecodeOptions, Problems
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.serve.archive import Archive, file_name
from k8saudit_cli.serve.auth import TokenSet, bearer_token, parse_tokens
from k8saudit_cli.serve.batch import archive_line, decode_batch, place
from k8saudit_cli.serve.body import BodyError, check_headers, gunzip_bounded
from k8saudit_cli.serve.compress import compress_file
from k8saudit_cli.serve.config import ArchiveOptions, ServeError
from k8saudit_cli.serve.feed import EventFeed
from k8saudit_cli.serve.listen import parse_listen
from tests.serve_support import event_list, events, pretty

# ---------------------------------------------------------------- listen URL


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("http://:9765/k8s-audit", ("http", None, 9765, "/k8s-audit")),
        ("https://0.0.0.0:443/audit", ("https", "0.0.0.0", 443, "/audit")),
        ("http://[::1]:8080/x/y", ("http", "::1", 8080, "/x/y")),
        ("http://localhost", ("http", "localhost", 80, "/")),
        ("https://:0/k8s-audit", ("https", None, 0, "/k8s-audit")),
    ],
)
def test_listen_urls(text, parts):
    address = parse_listen(text)
    assert (address.scheme, address.host, address.port, address.path) == parts


@pytest.mark.parametrize(
    "text", ["ftp://:1/x", ":9765/k8s-audit", "http://:99999/x", "http://:1/x?a=b", "http://u@h:1/"]
)
def test_bad_listen_urls(text):
    with pytest.raises(ServeError, match="--listen"):
        parse_listen(text)


def test_listen_url_shows_the_bound_port():
    assert parse_listen("http://:0/k8s-audit").url(port=4321) == "http://0.0.0.0:4321/k8s-audit"
    assert parse_listen("http://[::1]:1/a").url() == "http://[::1]:1/a"


# ---------------------------------------------------------------- tokens


def test_token_file_forms():
    text = '# tokens\n\nalpha\n  beta  \ngamma,kube-apiserver,uid-1,"system:masters"\n'
    assert parse_tokens(text) == ["alpha", "beta", "gamma"]


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer  abc ", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        (None, None),
    ],
)
def test_bearer_header(header, token):
    assert bearer_token(header) == token


def test_token_check():
    tokens = TokenSet(["alpha", "beta"])
    assert tokens.check("Bearer beta") == "ok"
    assert tokens.check("Bearer gamma") == "invalid"
    assert tokens.check("Bearer alph") == "invalid"
    assert tokens.check(None) == "missing"
    assert tokens.check("Basic YWxwaGE=") == "missing"


def test_token_file_errors(tmp_path):
    with pytest.raises(ServeError, match="cannot read"):
        TokenSet.from_file(str(tmp_path / "absent"))
    empty = tmp_path / "empty"
    empty.write_text("# nothing\n")
    with pytest.raises(ServeError, match="no token"):
        TokenSet.from_file(str(empty))


def test_tokens_are_kept_only_as_digests():
    tokens = TokenSet(["s3cret-token"])
    assert "s3cret-token" not in repr(vars(tokens))


# ---------------------------------------------------------------- body limits


def test_content_length_over_the_limit_is_refused_before_reading():
    with pytest.raises(BodyError) as err:
        check_headers(1001, "", 1000)
    assert err.value.status == 413
    assert check_headers(1000, "", 1000) == "identity"
    assert check_headers(None, "GZIP", 1000) == "gzip"
    assert check_headers(None, "x-gzip", 1000) == "gzip"


def test_unknown_content_encoding():
    with pytest.raises(BodyError) as err:
        check_headers(10, "br", 1000)
    assert err.value.status == 415


def test_gunzip_within_limit_and_multi_member():
    assert gunzip_bounded(gzip.compress(b"abc") + gzip.compress(b"def"), 6) == b"abcdef"


@pytest.mark.parametrize("limit", [5, 1 << 20])
def test_gzip_bomb(limit):
    bomb = gzip.compress(b"\0" * (4 << 20))
    assert len(bomb) < 8192
    with pytest.raises(BodyError) as err:
        gunzip_bounded(bomb, limit)
    assert err.value.status == 413


@pytest.mark.parametrize(
    "data", [b"not gzip", gzip.compress(b"abc")[:-6], gzip.compress(b"abc") + b"junk"]
)
def test_broken_gzip(data):
    with pytest.raises(BodyError) as err:
        gunzip_bounded(data, 1000)
    assert err.value.status == 400


def test_raw_deflate_is_not_gzip():
    with pytest.raises(BodyError):
        gunzip_bounded(zlib.compress(b"abc"), 1000)


# ---------------------------------------------------------------- batches


def test_batch_shapes():
    one, two = events(2)
    options = DecodeOptions()
    assert len(decode_batch(event_list([one, two]), options).events) == 2
    assert len(decode_batch(orjson.dumps(one), options).events) == 1
    assert len(decode_batch(orjson.dumps([one, [two]]), options).events) == 2
    nested = {"kind": "EventList", "items": [one]}
    assert len(decode_batch(orjson.dumps([nested, two]), options).events) == 2


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty body"),
        (b"  \n", "empty body"),
        (b"{nope", "invalid JSON"),
        (b'{"kind":"Pod"}', "not recognized"),
        (b"42", "not recognized"),
        (b'"Event"', "not recognized"),
        (b"\xff\xfe{}", "invalid UTF-8"),
        (b"[" * 2000 + b"]" * 2000, "nesting"),
    ],
)
def test_bodies_that_are_no_batch(body, reason):
    with pytest.raises(BodyError) as err:
        decode_batch(body, DecodeOptions())
    assert err.value.status == 400
    assert reason in err.value.reason


def test_items_that_are_not_events_are_skipped_not_fatal():
    good = events(2)
    no_time = dict(good[0], auditID="x")
    for key in ("stageTimestamp", "requestReceivedTimestamp"):
        no_time.pop(key, None)
    body = event_list([good[0], 42, {"kind": "Pod"}, no_time, good[1]])
    batch = decode_batch(body, DecodeOptions())
    assert [e.raw["auditID"] for e in batch.events] == ["e-0", "e-1"]
    assert [(r, i) for r, i, _ in batch.skipped] == [
        ("not_audit_event", 1),
        ("no_timestamp", 2),  # an object in an EventList is taken as an event, as scan does
        ("no_timestamp", 3),
    ]
    problems = Problems()
    place(batch, "archive/a.jsonl", 7, problems)
    assert {(e.file, e.line) for e in batch.events} == {("archive/a.jsonl", 7)}
    assert problems.shown[0][:4] == (
        "not_audit_event",
        "archive/a.jsonl",
        7,
        1,
    )


def test_event_over_max_event_size_is_skipped():
    big = events(1)[0]
    big["requestObject"] = {"pad": "x" * 5000}
    batch = decode_batch(event_list([big, *events(1, 1)]), DecodeOptions(max_event_size=4000))
    assert [r for r, _, _ in batch.skipped] == ["too_large"]
    assert len(batch.events) == 1


def test_archive_line_keeps_every_value_byte():
    value = {"kind": "EventList", "items": events(2)}
    body = pretty(value).replace(b"\n", b"\r\n")
    line = archive_line(body)
    assert line.endswith(b"\n") and line.count(b"\n") == 1 and b"\r" not in line
    assert orjson.loads(line) == value
    assert line.replace(b" ", b"") == body.replace(b"\r\n", b"").replace(b" ", b"") + b"\n"
    compact = event_list(events(1))
    assert archive_line(compact) == compact + b"\n"


# ---------------------------------------------------------------- archive


def _archive(tmp_path, closed, **options):
    clock = [1_773_480_000.0]  # 2026-03-14T09:20:00Z
    archive = Archive(ArchiveOptions(str(tmp_path), **options), closed.append, lambda: clock[0])
    return archive, clock


def test_file_names_sort_in_time_order():
    names = [file_name(t) for t in (1_773_480_000.0, 1_773_480_000.000001, 1_773_480_001.5)]
    assert names == sorted(names)
    assert names[0] == "audit-20260314T092000.000000Z.jsonl"


def test_archive_rotates_by_size_without_splitting_lines(tmp_path):
    closed: list[str] = []
    archive, _ = _archive(tmp_path, closed, max_bytes=25)
    assert archive.open() == []
    lines = [b"a" * 9 + b"\n"] * 5
    where = archive.write(lines)
    archive.close()
    assert [w.line for w in where] == [1, 2, 1, 2, 1]
    assert len(closed) == 3 and closed == sorted(closed)
    assert [os.path.getsize(p) for p in closed] == [20, 20, 10]
    assert [w.file for w in where] == [closed[0], closed[0], closed[1], closed[1], closed[2]]


def test_archive_line_bigger_than_a_file_gets_a_file_of_its_own(tmp_path):
    closed: list[str] = []
    archive, _ = _archive(tmp_path, closed, max_bytes=10)
    archive.open()
    archive.write([b"x\n", b"y" * 30 + b"\n", b"z\n"])
    archive.close()
    assert [os.path.getsize(p) for p in closed] == [2, 31, 2]


def test_archive_rotates_at_the_turn_of_the_hour(tmp_path):
    closed: list[str] = []
    archive, clock = _archive(tmp_path, closed)
    archive.open()
    archive.write([b"1\n"])
    clock[0] += 30 * 60  # 09:50: same hour
    archive.write([b"2\n"])
    archive.tick()
    assert closed == []
    clock[0] += 15 * 60  # 10:05
    archive.tick()  # an idle receiver closes the file too
    assert len(closed) == 1
    archive.write([b"3\n"])
    archive.close()
    assert [open(p, "rb").read() for p in closed] == [b"1\n2\n", b"3\n"]
    assert os.path.basename(closed[1]).startswith("audit-20260314T100500")


def test_archive_directory_is_locked(tmp_path):
    first, _ = _archive(tmp_path, [])
    first.open()
    second, _ = _archive(tmp_path, [])
    with pytest.raises(ServeError, match="in use"):
        second.open()
    first.close()
    second.open()
    second.close()


def test_archive_repairs_what_a_killed_run_left(tmp_path):
    (tmp_path / "audit-20260314T090000.000000Z.jsonl").write_bytes(gzip.compress(b"a\n"))
    (tmp_path / "audit-20260314T091000.000000Z.jsonl").write_bytes(b"b\n{partial")
    (tmp_path / "notes.txt").write_text("not ours")
    (tmp_path / ".k8saudit-work").mkdir()
    (tmp_path / ".k8saudit-work" / "x.jsonl.gz").write_bytes(b"\x1f\x8b half")
    archive, _ = _archive(tmp_path, [])
    leftovers = archive.open()
    archive.close()
    assert [os.path.basename(p) for p in leftovers] == ["audit-20260314T091000.000000Z.jsonl"]
    assert sorted(os.listdir(tmp_path)) == [
        ".k8saudit-work",
        "audit-20260314T090000.000000Z.jsonl.gz",
        "audit-20260314T091000.000000Z.jsonl",
        "notes.txt",
    ]
    assert os.listdir(tmp_path / ".k8saudit-work") == []


def test_compress_replaces_the_file_atomically(tmp_path):
    archive, _ = _archive(tmp_path, [])
    archive.open()
    path = tmp_path / "audit-20260314T090000.000000Z.jsonl"
    path.write_bytes(b"line\n" * 1000)
    compress_file(str(path), 1)
    archive.close()
    assert not path.exists()
    assert gzip.decompress((tmp_path / (path.name + ".gz")).read_bytes()) == b"line\n" * 1000
    assert oct((tmp_path / (path.name + ".gz")).stat().st_mode & 0o777) == oct(0o640 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# ---------------------------------------------------------------- feed


def test_feed_numbers_events_across_batches_and_ends_when_closed():
    idle: list[int] = []
    feed = EventFeed(capacity=3, on_idle=lambda: idle.append(feed.depth))
    batch = [AuditEvent({"auditID": str(i)}, i) for i in range(2)]
    feed.put(batch)
    feed.put([])
    assert feed.depth == 2 and feed.has_room()
    feed.put([AuditEvent({}, 5)])
    assert not feed.has_room()
    feed.close()
    assert [e.num for e in feed.events()] == [1, 2, 3]
    assert feed.depth == 0 and feed.evaluated == 3


# ---------------------------------------------------------------- the command and its docs


def test_serve_takes_scans_own_options():
    from k8saudit_cli.cli.scan_cmd import scan_command
    from k8saudit_cli.cli.serve_cmd import SHARED_WITH_SCAN, serve_command

    shared = [p for p in serve_command.params if p.name in SHARED_WITH_SCAN]
    assert sorted(p.name for p in shared) == sorted(SHARED_WITH_SCAN)
    assert all(p in scan_command.params for p in shared)


def test_webhook_config_matches_the_default_listen_url():
    import yaml

    from k8saudit_cli.cli.serve_cmd import serve_command

    doc = Path(__file__).parent.parent / "docs" / "cluster" / "webhook-config.yaml"
    server = yaml.safe_load(doc.read_text())["clusters"][0]["cluster"]["server"]
    default = next(p.default for p in serve_command.params if p.name == "listen")
    ours, theirs = parse_listen(default), parse_listen(server)
    assert (theirs.port, theirs.path) == (ours.port, ours.path) == (9765, "/k8s-audit")


def test_command_line_errors_are_one_line_and_exit_2(tmp_path):
    from click.testing import CliRunner

    from k8saudit_cli.cli import main
    from tests.serve_support import RULES

    def serve(*args):
        return CliRunner().invoke(main, ["serve", "-r", RULES, *args])

    bad_url = serve("--listen", "ftp://:1/x")
    assert bad_url.exit_code == 2
    assert bad_url.stderr == "k8saudit: error: --listen 'ftp://:1/x': the scheme is http or https\n"
    no_cert = serve("--listen", "https://127.0.0.1:0/x", "--tls-cert", str(tmp_path / "no.pem"))
    assert no_cert.exit_code == 2 and "cannot load the TLS certificate" in no_cert.stderr
    no_tokens = serve("--auth-token-file", str(tmp_path / "none"))
    assert no_tokens.exit_code == 2 and "--auth-token-file" in no_tokens.stderr


def test_a_failed_compression_leaves_the_plain_file_and_no_copy(tmp_path, monkeypatch):
    from k8saudit_cli.serve import compress

    archive, _ = _archive(tmp_path, [])
    archive.open()
    path = tmp_path / "audit-20260314T090000.000000Z.jsonl"
    path.write_bytes(b"line\n")

    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(compress.shutil, "copyfileobj", full_disk)
    with pytest.raises(OSError):
        compress_file(str(path), 1)
    archive.close()
    assert path.read_bytes() == b"line\n"
    assert os.listdir(tmp_path / ".k8saudit-work") == []
