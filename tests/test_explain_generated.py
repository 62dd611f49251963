"""``k8saudit explain RULE --generated`` through Click's CliRunner, against golden files.

It prints the index key that routes events to the rule and the Python the
fast path runs for it (the rule's own group function). Regenerate the golden
files with ``UPDATE_GOLDEN=1 pytest tests/test_explain_generated.py`` and
review the diff: a change there is a change in the generated code.
"""

from __future__ import annotations

import json
import linecache
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from k8saudit_cli.cli import main
from k8saudit_cli.detect import Detector
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.ruleset import load_rules
from k8saudit_cli.ruleset.defaults import default_rules_path

GOLDEN = Path(__file__).parent / "golden"

#: Two rules of the built-in ruleset: a one-check residual, and one with
#: negated macros, a fused startswith run and a named constant set.
CASES = {
    "explain_generated_attach_exec.txt": "Attach/Exec Pod",
    "explain_generated_scripted_client.txt": "K8s API Request With Scripted Client",
}


def golden(name: str, text: str) -> None:
    """Pins what --generated adds (the lines above it have their own tests, and
    would tie these files to every edit of the rules file)."""
    path = GOLDEN / name
    text = text[text.index("Index key") :]
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert path.exists(), f"missing golden file {path}; run with UPDATE_GOLDEN=1"
    assert text == path.read_text()


def explain(*args: str):
    return CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1"}).invoke(main, ["explain", *args])


@pytest.mark.parametrize("name", sorted(CASES))
def test_explain_generated(name: str) -> None:
    result = explain(CASES[name], "--generated")
    assert result.exit_code == 0, result.output
    golden(name, result.stdout)


def test_generated_json_has_the_same_source_and_key() -> None:
    result = explain("Attach/Exec Pod", "--generated", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)["generated"]
    assert data["index_key"] == [
        "ka.stage in (ResponseStarted)",
        "ka.verb in (create, get)",
        "ka.target.resource in (pods)",
    ]
    assert data["source"].startswith("def group(e):\n")
    text = (GOLDEN / "explain_generated_attach_exec.txt").read_text()
    assert "\n".join("  " + line for line in data["source"].splitlines()) in text


def test_without_the_flag_nothing_is_generated() -> None:
    result = explain("Attach/Exec Pod")
    assert result.exit_code == 0
    assert "Generated code" not in result.stdout and "Index key" not in result.stdout


def test_the_printed_function_is_the_one_the_fast_path_runs() -> None:
    """A detector holding only this rule compiles the printed source for an admitted event."""
    rule = load_rules([default_rules_path()]).rule("Attach/Exec Pod")
    assert rule is not None
    event = AuditEvent(
        {"auditID": "1", "stage": "ResponseStarted", "verb": "create",
         "objectRef": {"resource": "pods", "subresource": "exec"}}, 0,
    )  # fmt: skip
    detector = Detector([rule], match_all=True)
    assert detector.match(event) == [rule]
    printed = json.loads(explain("Attach/Exec Pod", "--generated", "--format", "json").stdout)
    sources = {
        "".join(entry[2]) for name, entry in linecache.cache.items() if "k8saudit-rules" in name
    }
    assert printed["generated"]["source"] in sources
