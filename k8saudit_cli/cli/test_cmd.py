"""``k8saudit test``: run rule fixtures (events + expected alerts) like unit tests."""

from __future__ import annotations

import sys
import time

import click

from k8saudit_cli.alerts import AlertRenderer
from k8saudit_cli.cli.common import fail, load_ruleset, rules_option
from k8saudit_cli.errors import InputError
from k8saudit_cli.fixtures import Case, CaseResult, FixtureError, load_fixture, run_case
from k8saudit_cli.junit import TimedResult, write_junit
from k8saudit_cli.ruleset.compile import CompiledRule
from k8saudit_cli.sources import expand_inputs

EPILOG = """\b
Fixture format (YAML):
  cases:
    - name: privileged pod fires
      events: privileged_pod.jsonl        # JSONL, relative to the fixture
      expect: {Create Privileged Pod: 1}  # rule -> exact alert count
      expect_none: [Create Sensitive Mount Pod]
    - name: inline events
      events: [{kind: Event, auditID: ..., stage: ResponseComplete, ...}]
      expect_none: [Create Privileged Pod]

\b
Examples:
  k8saudit test rules/tests/                       fixtures for the built-in rules
  k8saudit test my_fixtures.yaml -r my_rules.yaml -r overrides.yaml
  k8saudit test rules/tests/ --junit-xml fixtures.xml   results for a CI test report
"""


@click.command("test", epilog=EPILOG)
@click.argument("fixtures", nargs=-1, required=True, metavar="FIXTURE...")
@rules_option()
@click.option(
    "--all-rules",
    is_flag=True,
    help="Also evaluate rules that are 'enabled: false' (to test them before enabling).",
)
@click.option("-v", "--verbose", is_flag=True, help="Show the alerts of passing cases too.")
@click.option(
    "--junit-xml",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Also write the results as JUnit XML (one testsuite per fixture file), for CI.",
)
def test_command(
    fixtures: tuple[str, ...],
    rules: tuple[str, ...],
    all_rules: bool,
    verbose: bool,
    junit_xml: str | None,
) -> None:
    """Check that rules fire (and stay quiet) on fixture events.

    Every rule is evaluated on every event (rule matching 'all'). Prints
    PASS/FAIL per case and, for a failure, what each expected rule matched.
    FIXTURE may be a file or a directory (its *.yaml / *.yml files, in name
    order). Exit code 0 when every case passes, 1 otherwise, 2 when a
    fixture or the rules cannot be read.
    """
    ruleset = load_ruleset(rules)
    selected = [r for r in ruleset.rules if all_rules or r.enabled]
    files = _fixture_files(fixtures)
    renderer = AlertRenderer("iso")
    results: list[TimedResult] = []
    for path in files:
        try:
            cases = load_fixture(path)
        except FixtureError as exc:
            fail(str(exc))
        for case in cases:
            timed = _timed_run(case, selected)
            results.append(timed)
            _print_result(timed.result, renderer, verbose)
    if junit_xml:
        try:
            write_junit(results, junit_xml)
        except OSError as exc:
            fail(f"cannot write '{junit_xml}': {exc.strerror}")
    failed = sum(1 for t in results if not t.result.passed)
    passed = len(results) - failed
    click.echo(f"\n{passed} passed, {failed} failed ({len(files)} fixture files)")
    sys.exit(1 if failed else 0)


def _fixture_files(specs: tuple[str, ...]) -> list[str]:
    """The fixture files of FIXTURE... (directories give their *.yaml, *.yml), or exit 2."""
    try:
        files = [f for f in expand_inputs(specs) if f.endswith((".yaml", ".yml"))]
    except InputError as exc:
        fail(str(exc))
    if not files:
        fail("no fixture files (*.yaml, *.yml) found")
    return files


def _timed_run(case: Case, rules: list[CompiledRule]) -> TimedResult:
    start = time.perf_counter()
    result = run_case(case, rules)
    return TimedResult(result, time.perf_counter() - start)


def _print_result(result: CaseResult, renderer: AlertRenderer, verbose: bool) -> None:
    status = "PASS" if result.passed else "FAIL"
    click.echo(f"{status}  {result.case.file} :: {result.case.name}")
    for failure in result.failures:
        click.echo(f"      {failure}")
    if result.failures or verbose:
        relevant = set(result.case.expect) | set(result.case.expect_none)
        for alert in result.alerts:
            if alert.rule.name in relevant or verbose:
                click.echo(f"      match: {alert.rule.name}: {renderer.text(alert)}")
