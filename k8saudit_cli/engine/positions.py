"""Offsets in condition text as line/column spans, and syntax errors placed at them."""

from __future__ import annotations

from k8saudit_cli.engine.nodes import Span
from k8saudit_cli.errors import ConditionSyntaxError


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset``, counting ``\\n`` as Lark does."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def span_at(text: str, start: int, end: int) -> Span:
    return Span(start, end, *line_col(text, start))


def syntax_error(message: str, text: str, offset: int) -> ConditionSyntaxError:
    """libs' ``message`` at ``offset`` of ``text`` (rendered later with a caret there)."""
    return ConditionSyntaxError(message, text, offset, *line_col(text, offset))
