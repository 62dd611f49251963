"""Lay generated boolean code out as source lines: one term per line, with its comment.

The code generator describes an expression as terms joined by ``and``/``or``
and negations; this module indents it, puts each operator at the start of
its line, and ends every term's line with the comment that names its check.
Only parentheses the expression needs anyway are written (a chain's, a
negation's), so the layout adds no nesting Python's parser would count.
"""

from __future__ import annotations

from typing import NamedTuple, Union

from k8saudit_cli.engine.labels import printable

INDENT = "    "


# Named tuples: thousands are made per group compiled, and they are cheap to make.
class Term(NamedTuple):
    """One check's code and the comment that says where it comes from."""

    code: str
    note: str


class Chain(NamedTuple):
    joiner: str  # "and" | "or"
    parts: tuple[Code, ...]


class Negated(NamedTuple):
    inner: Code


Code = Union[Term, Chain, Negated]
#: A source line before rendering: its text and its comment ("" for none).
Line = tuple[str, str]


def _lines(code: Code, prefix: str, pad: str) -> list[Line]:
    if isinstance(code, Term):
        return [(pad + prefix + code.code, code.note)]
    if isinstance(code, Negated):
        lines = _lines(code.inner, prefix + "(not ", pad)
        text, note = lines[-1]
        return [*lines[:-1], (text + ")", note)]
    lines = [(pad + prefix + "(", "")]
    for i, part in enumerate(code.parts):
        lines += _lines(part, f"{code.joiner} " if i else "", pad + INDENT)
    return [*lines, (pad + ")", "")]


def comment(text: str) -> str:
    """``text`` made safe to stand on one comment line."""
    return printable(text)


def statement(prefix: str, code: Code, suffix: str, pad: str) -> list[str]:
    """``prefix`` + the expression + ``suffix`` (``if `` ... ``:``) as indented lines."""
    lines = _lines(code, prefix, pad)
    text, note = lines[-1]
    lines[-1] = (text + suffix, note)
    return [f"{text}  # {note}" if note else text for text, note in lines]
