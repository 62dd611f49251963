"""The built-in ruleset as a product: valid, tested by its fixtures, quiet on the benign
sample, loud on every step of the attack story, and at least as good as upstream on
Falco's own traces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from k8saudit_cli.cli import main
from k8saudit_cli.ruleset import load_rules
from k8saudit_cli.ruleset.compile_aggregations import is_aggregation
from k8saudit_cli.ruleset.defaults import default_rules_path, default_rules_paths
from tests.conftest import LEGACY

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
FIXTURES = ROOT / "rules" / "tests"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def alerts_of(*args: str) -> list[dict]:
    result = run("scan", *args, "--format", "json", "--no-summary", "--no-progress")
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_default_rules_load_cleanly():
    ruleset = load_rules([default_rules_path()])
    assert ruleset.ok, [d.render() for d in ruleset.errors]
    assert not ruleset.warnings, [d.render() for d in ruleset.warnings]
    assert len(ruleset.rules) >= 48 + 15
    assert not any(is_aggregation(r) for r in ruleset.rules)  # a plain Falco rules file


def test_default_aggregations_load_cleanly_after_the_rules():
    ruleset = load_rules(default_rules_paths())
    assert ruleset.ok, [d.render() for d in ruleset.errors]
    assert not ruleset.warnings, [d.render() for d in ruleset.warnings]
    aggregations = [r for r in ruleset.rules if is_aggregation(r)]
    assert len(aggregations) >= 7
    for agg in aggregations:
        assert any(t.startswith("T1") for t in agg.tags), agg.name
        assert any(t.startswith("mitre_") for t in agg.tags), agg.name


#: The keys by which Falco 0.44's reader (rule_loader_reader.cpp) recognises an
#: item; an entry with none of them is "Unknown top level item" and skipped.
FALCO_ITEM_KEYS = {"required_engine_version", "required_plugin_versions", "list", "macro", "rule"}


def test_falco_skips_the_aggregations_and_nothing_else():
    import yaml

    rules_file = yaml.safe_load(Path(default_rules_path()).read_text())
    assert not [i for i in rules_file if "aggregation" in i]
    aggregations = yaml.safe_load(Path(default_rules_paths()[1]).read_text())
    for item in aggregations:
        if "aggregation" in item:
            assert not FALCO_ITEM_KEYS & set(item), item["aggregation"]
        else:  # what Falco does read there: lists only the aggregations use
            assert set(item) == {"list", "items"}, item


def test_every_new_detection_carries_mitre_tags(conformance):
    ruleset = load_rules([default_rules_path()])
    upstream = conformance / "upstream-current" / "k8s_audit_rules.yaml"
    upstream_names = {r.name for r in load_rules([str(upstream)]).rules}
    assert upstream_names <= {r.name for r in ruleset.rules}
    new = [r for r in ruleset.rules if r.name not in upstream_names]
    assert len(new) >= 15
    for rule in new:
        assert any(t.startswith("T1") for t in rule.tags), rule.name
        assert any(t.startswith("mitre_") for t in rule.tags), rule.name


def test_fixtures_pass():
    result = run("test", str(FIXTURES))
    assert result.exit_code == 0, result.output
    assert " 0 failed" in result.output


def test_customised_fixtures_pass_with_their_override():
    result = run(
        "test",
        str(FIXTURES / "customized" / "customized.yaml"),
        "-r",
        default_rules_path(),
        "-r",
        str(FIXTURES / "customized" / "local_rules.yaml"),
    )
    assert result.exit_code == 0, result.output


def test_every_rule_has_a_firing_fixture_and_a_near_miss():
    import yaml

    fired, quiet = set(), set()
    for path in list(FIXTURES.glob("*.yaml")) + list(FIXTURES.glob("customized/customized.yaml")):
        for case in yaml.safe_load(path.read_text())["cases"]:
            fired |= {r for r, n in (case.get("expect") or {}).items() if n > 0}
            quiet |= set(case.get("expect_none") or []) | {
                r for r, n in (case.get("expect") or {}).items() if n == 0
            }
    names = {r.name for r in load_rules(default_rules_paths()).rules}  # aggregations too
    assert names - fired == set()
    assert names - quiet == set()


def test_benign_day_raises_nothing_above_notice():
    result = run(
        "scan",
        str(SAMPLES / "benign-day.jsonl"),
        "--fail-on",
        "warning",
        "--no-progress",
        "--strict",
    )
    assert result.exit_code == 0, result.output


ATTACK_STEPS = [
    "Anonymous API Probing",
    "Permission Discovery By Service Account",
    "Secrets Listed Cluster-Wide",
    "Create Privileged Pod",
    "Create Sensitive Mount Pod",
    "Create HostPid Pod",
    "Interactive Access To Kube System Pod",
    "Attach/Exec Pod",
    "Service Account Created in Kube Namespace",
    "Attach to cluster-admin Role",
    "Service Account Token Requested By User",
    "K8s Events Deleted",
    # Added with the catalogue coverage (issue 18): the stolen CI token is used
    # from 198.51.100.23, the backdoor pod is named like kube-proxy, started
    # with a terminal (kubectl run -it), from a Docker Hub image.
    "Service Account Token Used From Outside The Cluster",
    "Pod Masquerading As System Component",
    "Interactive Pod Created",
    "Workload Image From Unapproved Registry",
]


def test_attack_story_fires_on_every_step():
    alerts = alerts_of(str(SAMPLES / "attack-story.jsonl"))
    fired = {a["rule"] for a in alerts}
    assert [s for s in ATTACK_STEPS if s not in fired] == []
    probes = [a for a in alerts if a["rule"] == "Anonymous API Probing"]
    assert not any("/healthz" in a["output"] for a in probes)
    assert not any(a["rule"] == "Anonymous Request Allowed" for a in alerts)


def test_attack_story_alerts_by_priority():
    """The README shows this output; a rule change that moves it must be deliberate."""
    alerts = alerts_of(str(SAMPLES / "attack-story.jsonl"))
    by_priority: dict[str, int] = {}
    for a in alerts:
        by_priority[a["priority"]] = by_priority.get(a["priority"], 0) + 1
    assert by_priority == {"Warning": 12, "Notice": 24, "Informational": 2}


def _readme_block(after: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(after) + len(after)
    start = text.index("```\n", start) + 4
    return text[start : text.index("```", start)]


def test_readme_shows_the_attack_story_output():
    result = run("scan", str(SAMPLES / "attack-story.jsonl"), "--no-progress")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == _readme_block("It prints this on stdout:")
    shown = [ln for ln in _readme_block("and this report on stderr:").splitlines()]
    got = result.stderr.splitlines()
    assert [ln for ln in got if not ln.startswith("Elapsed")] == [
        ln for ln in shown if not ln.startswith("Elapsed")
    ]


def test_webhook_and_rotated_samples_read_cleanly():
    for sample in ("webhook-batch.jsonl", "rotated"):
        result = run("scan", str(SAMPLES / sample), "--strict", "--no-progress")
        assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "trace", sorted(p.name for p in (LEGACY / "traces").glob("*.json")) if LEGACY.is_dir() else []
)
def test_default_rules_alert_wherever_upstream_does(conformance, trace):
    path = str(LEGACY / "traces" / trace)
    upstream = alerts_of(
        path,
        "-r",
        str(LEGACY / "rules" / "upstream" / "k8s_audit_rules-0.6.0.yaml"),
        "--rule-matching",
        "first",
    )
    ours = alerts_of(path)
    assert bool(ours) or not upstream, [a["rule"] for a in upstream]
