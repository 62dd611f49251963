"""Cloud exports on a Dask cluster (a LocalCluster of 2 workers): what one process reads.

Every sample of samples/exports, plus a JSON document big enough to be cut
into ranges if it were read as lines: each is read in the framing its first
bytes show (a document is never cut mid-record), and the alerts, warnings,
report and formats are those of one process.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from k8saudit_cli import parallel_run
from k8saudit_cli.cluster import ClusterScan, RuleSpec, connect
from k8saudit_cli.decode import DecodeOptions
from tests.test_dask_run import SMALL, run

EXPORTS = Path(__file__).resolve().parent.parent / "samples" / "exports"


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(parallel_run, "MIN_CHUNK", SMALL // 4)
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("FALCO_HOSTNAME", "test-host")
    time.tzset()
    yield
    time.tzset()


def test_exports_on_a_cluster_are_read_as_by_one_process(tmp_path):
    story = (EXPORTS.parent / "attack-story.jsonl").read_text().splitlines()
    big = tmp_path / "big-array.json"
    big.write_text(json.dumps([json.loads(line) for line in story * 3], indent=2))
    assert big.stat().st_size > 2 * SMALL
    paths = [*sorted(EXPORTS.iterdir()), big]
    spec = RuleSpec.from_paths(())
    options = {"decode": DecodeOptions(input_format="auto")}
    connection = connect("local:2")
    try:
        cluster = ClusterScan(connection, spec, chunk_bytes=SMALL)
        on_cluster = run(paths, spec, "text", cluster, **options)
    finally:
        connection.close()
    assert on_cluster == run(paths, spec, "text", None, **options)
    assert "big-array.json: Kubernetes audit events, as a JSON document" in on_cluster[3][0]
