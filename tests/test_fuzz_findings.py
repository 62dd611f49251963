"""Inputs ``bench/fuzz.py`` found that crashed k8saudit, kept as regression tests.

Each one failed (crashed) before its fix.
"""

from __future__ import annotations

import pytest

from k8saudit_cli.ruleset import load_texts


def load(text: bytes):
    return load_texts([("fuzz.yaml", text.decode("utf-8"))])


@pytest.mark.parametrize(
    "text",
    [
        b"- - '\xc2\x85    '\n- macro: get\n  condition: '0'\n",
        b"- rule: get\n  desc: ''\n  condition: ''\n  priority: WARNING\n  source: k8s_audit\n"
        b"  output: '\xc2\x85    '\n- macro: get\n  condition: ka.verb\n",
    ],
)
def test_a_line_separator_before_a_syntax_error_is_reported(text: bytes) -> None:
    ruleset = load(text)
    assert ruleset.errors


def test_a_superscript_engine_version_is_an_error_not_a_crash() -> None:
    ruleset = load("- required_engine_version: \u00b9\n".encode())
    assert any("engine version" in d.message for d in ruleset.errors)
