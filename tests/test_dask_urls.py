"""Inputs named by URL (sources/remote.py), on fsspec's in-memory filesystem: no network.

``memory://`` lives in this process (and in forked ``--jobs`` workers), so
these tests cover expansion, opening, ranges and errors; the Dask tests use
``file://`` URLs, which worker processes can read.
"""

from __future__ import annotations

import gzip
import importlib.util
import io
from pathlib import Path

import pytest

fsspec = pytest.importorskip("fsspec")

from k8saudit_cli import parallel_run  # noqa: E402
from k8saudit_cli.alerts import AlertRenderer  # noqa: E402
from k8saudit_cli.detection_run import DetectionRun  # noqa: E402
from k8saudit_cli.errors import InputError  # noqa: E402
from k8saudit_cli.ruleset import load_rules  # noqa: E402
from k8saudit_cli.run_options import RunOptions, TextSink  # noqa: E402
from k8saudit_cli.sources import expand_inputs, is_regular_file  # noqa: E402
from k8saudit_cli.sources import paths as source_paths  # noqa: E402
from k8saudit_cli.sources.remote import is_url, missing_backend, scheme_of  # noqa: E402
from tests.test_scan_cli import AUDIT, RULES  # noqa: E402

STORY = Path(__file__).resolve().parent.parent / "samples" / "attack-story.jsonl"


@pytest.fixture
def store():
    """A fresh in-memory bucket: memory://bucket/..."""
    fs = fsspec.filesystem("memory")
    fs.store.clear()
    fs.pseudo_dirs.clear()
    fs.pseudo_dirs.append("")
    fs.pipe("/bucket/2024/05/01/a.jsonl", Path(AUDIT).read_bytes())
    fs.pipe("/bucket/2024/05/01/b.jsonl.gz", gzip.compress(STORY.read_bytes()))
    fs.pipe("/bucket/2024/05/02/c.jsonl", STORY.read_bytes())
    fs.pipe("/bucket/other.txt", b"not an audit log\n")
    yield fs
    fs.store.clear()


def test_what_is_a_url():
    assert scheme_of("s3://bucket/key") == "s3" and scheme_of("GS://b") == "gs"
    assert is_url("memory://x") and is_url("file:///tmp/a")
    assert not is_url("audit.log") and not is_url("C:\\logs\\a.log") and not is_url("-")
    assert is_regular_file("s3://bucket/key")  # objects are sized and seekable: splittable


def test_a_prefix_is_every_object_under_it_in_name_order(store):
    assert expand_inputs(["memory://bucket/2024/"]) == [
        "memory:///bucket/2024/05/01/a.jsonl",
        "memory:///bucket/2024/05/01/b.jsonl.gz",
        "memory:///bucket/2024/05/02/c.jsonl",
    ]


def test_globs_and_single_objects(store):
    assert expand_inputs(["memory://bucket/2024/*/*/*.jsonl"]) == [
        "memory:///bucket/2024/05/01/a.jsonl",
        "memory:///bucket/2024/05/02/c.jsonl",
    ]
    assert expand_inputs(["memory://bucket/**/b.jsonl.gz"]) == [
        "memory:///bucket/2024/05/01/b.jsonl.gz"
    ]
    assert expand_inputs(["memory://bucket/other.txt", AUDIT]) == [
        "memory://bucket/other.txt",
        AUDIT,
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "memory://bucket/nothing/",
            "cannot open 'memory://bucket/nothing/': no such object or prefix",
        ),
        ("memory://bucket/*.gz", "no object matches 'memory://bucket/*.gz'"),
        ("nosuch://bucket/x", "cannot open 'nosuch://bucket/x': Protocol not known: nosuch"),
    ],
)
def test_what_cannot_be_found_is_one_error_before_anything_is_read(store, spec, message):
    with pytest.raises(InputError) as caught:
        expand_inputs([spec])
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("scheme", "package", "extra"),
    [("s3", "s3fs", "s3"), ("gs", "gcsfs", "gcs"), ("az", "adlfs", "azure")],
)
def test_a_missing_backend_is_named_with_its_extra(scheme, package, extra):
    expected = f"{scheme}:// inputs need {package}: pip install 'k8saudit[{extra}]'"
    assert missing_backend(scheme) == expected
    if importlib.util.find_spec(package) is not None:
        pytest.skip(f"{package} is installed here")
    with pytest.raises(InputError) as caught:
        expand_inputs([f"{scheme}://bucket/prefix/"])
    assert str(caught.value) == expected


def scan(paths: list[str], jobs: int = 1) -> tuple[str, list[str], dict]:
    out = io.StringIO()
    warnings: list[str] = []
    rules = [r for r in load_rules([RULES]).rules if r.enabled]
    stats = DetectionRun(
        rules,
        RunOptions(jobs=jobs),
        TextSink(AlertRenderer().line, out.write),
        on_input_warning=warnings.append,
    ).scan_paths(paths)
    return out.getvalue(), warnings, {"events": stats.events_read, "files": stats.files}


def test_a_url_scans_as_the_same_bytes_on_disk(store, tmp_path):
    local = tmp_path / "c.jsonl"
    local.write_bytes(store.cat("/bucket/2024/05/01/a.jsonl"))
    url = "memory://bucket/2024/05/01/a.jsonl"
    alerts, warnings, counts = scan([url])
    expected = scan([str(local)])
    assert alerts == expected[0] and alerts
    assert warnings == [w.replace(str(local), url) for w in expected[1]]
    assert counts == {"events": expected[2]["events"], "files": [url]}


def test_url_ranges_in_forked_workers_equal_one_process(store, monkeypatch):
    """--jobs cuts an object into byte ranges, each read through fsspec."""
    big = Path(AUDIT).read_bytes() * 30
    store.pipe("/bucket/big.jsonl", big)
    monkeypatch.setattr(parallel_run, "MIN_CHUNK", 8000)
    url = "memory://bucket/big.jsonl"
    assert len(parallel_run.plan_chunks([url], 2)) > 4
    assert scan([url, "memory://bucket/2024/"], jobs=2) == scan([url, "memory://bucket/2024/"])


def test_an_object_that_went_away_is_counted_not_fatal(store, monkeypatch):
    url = "memory://bucket/2024/05/02/c.jsonl"
    paths = expand_inputs([url, "memory://bucket/2024/05/01/a.jsonl"])
    store.rm("/bucket/2024/05/02/c.jsonl")  # after the listing, before it is read
    monkeypatch.setattr(source_paths, "expand_url", lambda spec: [spec])
    _, warnings, counts = scan(paths)
    assert warnings[0].startswith(f"k8saudit: warning: {url}:1: read error: cannot open: ")
    assert counts["files"] == paths
