"""A reader that goes away (``| head -1``) ends every command the same way: 0, silent stderr.

Real processes, because only a real pipe breaks: the read end is closed
before the command writes, so its first write or its final flush fails.
"""

from __future__ import annotations

import pytest

from tests.clirun import into_closed_pipe
from tests.test_scan_cli import AUDIT, RULES

FIXTURES = "rules/tests/activity.yaml"
EVENTS = "tests/data/fields/cli/events.jsonl"


@pytest.mark.parametrize(
    "args",
    [
        ["scan", AUDIT, "-r", RULES, "--no-summary"],
        ["test", FIXTURES],
        ["test", FIXTURES, "-r", "rules/k8s_audit_rules.yaml", "--verbose"],
        ["fields", "-e", "2", EVENTS],
        ["fields", "-e", "2", EVENTS, "--format", "json"],
        ["fields"],
        ["rules"],
        ["rules", "--format", "json"],
        ["validate", "-r", RULES],
        ["explain", "Create Privileged Pod", "--generated"],
        ["--help"],
        ["scan", "--help"],
    ],
    ids=lambda args: " ".join(a for a in args if "/" not in a),
)
def test_closed_pipe_ends_quietly(args: list[str]) -> None:
    code, err = into_closed_pipe(*args)
    assert (code, err) == (0, "")
