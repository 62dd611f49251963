"""Every export shape of samples/exports/ read end to end by the commands that read events.

The samples are the attack story (samples/attack-story.jsonl) as each cloud
exports it (samples/cloudgen.py). EKS, AKS and the k8s document keep each
event byte for byte, so a scan must give exactly the alerts of the JSON
lines (in the same order, except where the export is not in time order);
GKE keeps a LogEntry per request, so ``--gke-faithful`` must give the same
rules on the same requests (auditID, stage, time) and Falco's mapping (the
default) is pinned by a golden file with its known losses. Truncated
samples are pinned by golden files too (``UPDATE_GOLDEN=1`` regenerates).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from k8saudit_cli.cli import main
from k8saudit_cli.decode import DecodeOptions
from k8saudit_cli.detect import Alert
from k8saudit_cli.detection_run import DetectionRun
from k8saudit_cli.formats import describe_format
from k8saudit_cli.ruleset import load_rules
from k8saudit_cli.ruleset.defaults import default_rules_paths
from k8saudit_cli.run_options import RunOptions
from k8saudit_cli.selection import select_rules

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
EXPORTS = SAMPLES / "exports"
STORY = str(SAMPLES / "attack-story.jsonl")
GOLDEN = Path(__file__).parent / "golden"

#: Sample -> (format read, events it holds, whether its events are in the story's order).
SHAPES = {
    "k8s-array.json": ("k8s/document", 412, True),
    "eks-filter-log-events.json": ("eks-cloudwatch/document", 412, True),
    "eks-s3-export-000000.gz": ("eks-export/prefixed", 412, False),
    "eks-firehose.gz": ("eks-subscription/document", 412, False),
    "eks-lambda-events.jsonl": ("eks-subscription/lines", 412, False),
    "eks-insights.json": ("eks-insights/document", 412, True),
    "eks-insights.csv": ("eks-insights/csv", 412, True),
    "aks-PT1H.json": ("aks-diagnostic/lines", 412, True),
    "aks-eventhub.jsonl": ("aks-diagnostic/lines", 412, True),
    "gke-logging-read.json": ("gke-logentry/document", 220, True),
    "gke-sink.jsonl": ("gke-logentry/lines", 220, True),
    "eks-truncated.json": ("eks-cloudwatch/document", 411, True),
    "aks-truncated-PT1H.json": ("aks-diagnostic/lines", 411, True),
}
SAME_EVENTS = [n for n in SHAPES if not n.startswith("gke") and "truncated" not in n]


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("FALCO_HOSTNAME", "test-host")
    time.tzset()
    yield
    time.tzset()


def run(*args: str, code: int = 0):
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == code, result.stderr
    return result


def scan(*args: str, code: int = 0):
    return run("scan", *args, "--no-progress", code=code)


@pytest.fixture(scope="module")
def story_alerts() -> list[str]:
    return CliRunner().invoke(main, ["scan", STORY, "--no-summary"]).stdout.splitlines()


def test_every_sample_is_listed():
    assert sorted(p.name for p in EXPORTS.iterdir()) == sorted(SHAPES)


@pytest.mark.parametrize("name", SAME_EVENTS)
def test_the_same_alerts_as_the_json_lines(name, story_alerts):
    result = scan(str(EXPORTS / name), "--no-summary")
    alerts = result.stdout.splitlines()
    in_order = SHAPES[name][2]
    assert (alerts if in_order else sorted(alerts)) == (
        story_alerts if in_order else sorted(story_alerts)
    )
    assert "warning" not in result.stderr


@pytest.mark.parametrize("name", SAME_EVENTS)
def test_the_same_alerts_with_jobs(name, story_alerts):
    serial = scan(str(EXPORTS / name), "--no-summary").stdout
    parallel = scan(str(EXPORTS / name), "--no-summary", "--jobs", "2").stdout
    assert parallel == serial


def rule_hits(path: str, **decode: object) -> list[tuple[str, str, str, int]]:
    """(rule, auditID, stage, time) of every alert of the default rules."""
    rules = select_rules(load_rules(default_rules_paths()).rules)
    found: list[tuple[str, str, str, int]] = []

    def sink(alert: Alert) -> None:
        raw = alert.event.raw
        found.append((alert.rule.name, raw["auditID"], raw["stage"], alert.event.time_ns))

    options = RunOptions(decode=DecodeOptions(input_format="auto", **decode))  # type: ignore[arg-type]
    DetectionRun(rules, options, sink).scan_paths([path])
    return found


@pytest.mark.parametrize("name", ["gke-logging-read.json", "gke-sink.jsonl"])
def test_gke_faithful_fires_the_same_rules_on_the_same_requests(name):
    assert sorted(rule_hits(str(EXPORTS / name), gke_faithful=True)) == sorted(rule_hits(STORY))


def normalise(text: str) -> str:
    return re.sub(r"Elapsed: .*", "Elapsed: <elapsed>", text).replace(str(EXPORTS), "<exports>")


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    text = normalise(text)
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert path.exists(), f"missing golden file {path}; run with UPDATE_GOLDEN=1"
    assert text == path.read_text()


GOLDEN_RUNS = {
    "formats_gke_falco.txt": ["gke-logging-read.json"],
    "formats_gke_faithful.txt": ["gke-logging-read.json", "--gke-faithful"],
    "formats_eks_truncated.txt": ["eks-truncated.json"],
    "formats_eks_salvaged.txt": ["eks-truncated.json", "--salvage-truncated"],
    "formats_aks_truncated.txt": ["aks-truncated-PT1H.json"],
    "formats_aks_salvaged.txt": ["aks-truncated-PT1H.json", "--salvage-truncated"],
}


@pytest.mark.parametrize("name", sorted(GOLDEN_RUNS))
def test_golden_stdout_and_stderr(name):
    sample, *flags = GOLDEN_RUNS[name]
    result = scan(str(EXPORTS / sample), *flags)
    golden(name, f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}")


def test_gke_with_falcos_mapping_loses_what_the_plugin_loses(story_alerts):
    """Collections (``core/v1/secrets``) get no objectRef and both entries of an exec
    look like its start: the differences docs/input-formats.md lists."""
    story = Counter(json.loads(line)["rule"] for line in _json_alerts(STORY))
    gke = Counter(json.loads(line)["rule"] for line in _json_alerts(EXPORTS / "gke-sink.jsonl"))
    assert story - gke == Counter(
        {
            "Secrets Listed Cluster-Wide": 1,
            "Permission Discovery By Service Account": 1,
            "Service Account Token Used From Outside The Cluster": 1,
        }
    )
    assert gke - story == Counter(
        {"Interactive Access To Kube System Pod": 1, "Attach/Exec Pod": 1}
    )


def _json_alerts(path: object) -> list[str]:
    return scan(str(path), "--no-summary", "--format", "json").stdout.splitlines()


def test_salvaged_alerts_are_marked_in_json():
    lines = _json_alerts_flags(EXPORTS / "eks-truncated.json", "--salvage-truncated")
    marked = [json.loads(line) for line in lines if "truncated_event" in line]
    assert len(marked) == 8
    for alert in marked:
        assert alert["truncated_event"].startswith("eks: [Truncated...] at 262104 bytes; kept: ")
        assert alert["output"].endswith("(truncated event: eks: [Truncated...] at 262104 bytes)")


def _json_alerts_flags(path: Path, *flags: str) -> list[str]:
    return scan(str(path), "--no-summary", "--format", "json", *flags).stdout.splitlines()


def test_truncation_is_counted_by_provider_and_cause_in_the_summary(tmp_path):
    out = tmp_path / "summary.json"
    scan(str(EXPORTS / "aks-truncated-PT1H.json"), "--no-summary", "--summary-json", str(out))
    summary = json.loads(out.read_text())
    assert summary["input_skipped"] == {"aks_other_category": 8, "truncated_aks": 1}
    scan(str(EXPORTS / "eks-truncated.json"), "--no-summary", "--summary-json", str(out))
    assert json.loads(out.read_text())["input_skipped"] == {"truncated_eks": 1}
    scan(
        str(EXPORTS / "eks-truncated.json"),
        *("--no-summary", "--salvage-truncated", "--summary-json", str(out)),
    )
    summary = json.loads(out.read_text())
    assert summary["input_skipped"] == {}
    assert summary["input_warnings"] == {"salvaged_eks": 1}


# ---------------------------------------------------------------- detection


def test_auto_detection_on_a_mixed_directory():
    """The whole directory in one scan: each file read as what it is (library view)."""
    rules = select_rules(load_rules(default_rules_paths()).rules)
    run_ = DetectionRun(rules, RunOptions(decode=DecodeOptions(input_format="auto")))
    stats = run_.scan_paths([str(EXPORTS)])
    problems = stats.problems
    seen = {Path(f).name: (fmt, problems.inputs[f].events) for f, fmt in problems.formats.items()}
    assert seen == {name: (fmt, events) for name, (fmt, events, _) in SHAPES.items()}
    assert stats.events_read == sum(events for _, events, _ in SHAPES.values())


def test_detection_results_are_the_same_with_jobs():
    rules = select_rules(load_rules(default_rules_paths()).rules)
    serial = DetectionRun(rules, RunOptions(decode=DecodeOptions(input_format="auto")))
    parallel = DetectionRun(rules, RunOptions(decode=DecodeOptions(input_format="auto"), jobs=2))
    got, expected = (run_.scan_paths([str(EXPORTS)]).problems for run_ in (parallel, serial))
    assert (got.formats, got.inputs) == (expected.formats, expected.inputs)


def test_formats_have_words():
    assert describe_format("gke-logentry/document") == (
        "GKE Cloud Logging entries (LogEntry), as a JSON document"
    )
    assert describe_format("unknown/text") == (
        "no audit events or cloud export records recognised, as text that is not JSON"
    )


@pytest.mark.parametrize(
    ("flag", "events"),
    [("auto", 412), ("eks", 412), ("aks", 0), ("gke", 0), ("k8s", 0)],
)
def test_input_format_overrides_detection(flag, events):
    """No event read from a file that holds records is an error (exit 2), not a quiet log."""
    args = (str(EXPORTS / "eks-insights.json"), "--input-format", flag, "--no-summary")
    result = scan(*args, code=0 if events else 2)
    assert len(result.stdout.splitlines()) == (38 if events else 0)


def test_k8s_reads_json_lines_as_it_always_did():
    """``--input-format k8s`` looks at nothing: a document is lines of invalid JSON."""
    result = scan(str(EXPORTS / "k8s-array.json"), "--input-format", "k8s", code=2)
    assert "Events read: 0" in result.stderr
    assert "invalid JSON:" in result.stderr
    assert "invalid JSON" in result.stderr.splitlines()[-1]


# ---------------------------------------------------------------- other commands


@pytest.mark.parametrize(
    ("name", "same_as"),
    [
        ("eks-filter-log-events.json", STORY),
        ("aks-eventhub.jsonl", STORY),
        ("gke-logging-read.json", str(EXPORTS / "gke-sink.jsonl")),
    ],
)
def test_fields_event_n(name, same_as):
    """Event 40 has every field's value of event 40 of the same events in another shape."""
    got = run("fields", "--event", "40", str(EXPORTS / name), "--format", "json").stdout
    expected = run("fields", "--event", "40", same_as, "--format", "json").stdout
    assert json.loads(got) == json.loads(expected)
    assert json.loads(got)["ka.auditid"]


@pytest.mark.parametrize("name", SAME_EVENTS)
def test_extract_query_stats_read_every_shape(name):
    path = str(EXPORTS / name)
    where = "ka.user.name=system:serviceaccount:ci:deployer"
    extract = run("extract", path, "--where", where, "--sort", "-f", "ka.auditid", "-f", "ka.stage")
    expected = run(
        "extract", STORY, "--where", where, "--sort", "-f", "ka.auditid", "-f", "ka.stage"
    )
    assert extract.stdout == expected.stdout
    query = run("query", where, path, "--count")
    assert query.stdout == run("query", where, STORY, "--count").stdout
    stats = run("stats", path, "--by", "ka.verb", "--format", "json")
    assert stats.stdout == run("stats", STORY, "--by", "ka.verb", "--format", "json").stdout


def test_query_writes_each_event_as_json():
    path = str(EXPORTS / "aks-PT1H.json")
    lines = run("query", "ka.verb=deletecollection", path).stdout.splitlines()
    story = run("query", "ka.verb=deletecollection", STORY).stdout.splitlines()
    assert [json.loads(x) for x in lines] == [json.loads(x) for x in story]


@pytest.mark.parametrize(
    ("name", "flags", "code"),
    [
        ("eks-filter-log-events.json", (), 0),
        ("k8s-array.json", (), 0),
        ("eks-truncated.json", (), 2),  # a cut event is skipped input
        ("eks-truncated.json", ("--salvage-truncated",), 0),  # salvaged: a warning only
        ("aks-truncated-PT1H.json", ("--salvage-truncated",), 2),  # other categories count
    ],
)
def test_strict_fails_on_skipped_records_only(name, flags, code):
    scan(str(EXPORTS / name), "--strict", "--no-summary", *flags, code=code)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_scan_names_what_each_file_was_read_as(tmp_path, jobs):
    """The mixed directory through the CLI: every format in --summary-json, the
    exports named in the report."""
    summary = tmp_path / "summary.json"
    result = scan(str(EXPORTS), "-o", os.devnull, "--jobs", jobs, "--summary-json", str(summary))
    formats = json.loads(summary.read_text())["input_formats"]
    assert {Path(f).name: fmt for f, fmt in formats.items()} == {
        name: fmt for name, (fmt, _, _) in SHAPES.items()
    }
    assert (
        f"   {EXPORTS / 'gke-sink.jsonl'}: GKE Cloud Logging entries (LogEntry), as JSON lines"
        in (result.stderr.splitlines())
    )
