"""Shell-style patterns as libs matches them, in time linear in the text.

``glob``/``iglob`` are fnmatch(3) with flags 0 (``iglob`` folds ASCII
letters); ``pmatch`` tests path prefixes whose parts may be patterns.

The pattern may come from the event itself (``glob val(field)``), so the
matcher never backtracks. A pattern is cut at its stars into segments of
one-character tokens (a literal, ``?`` or a ``[...]`` class). The first
segment must match at the start of the text and the last at its end; each
middle segment is placed at its leftmost fit, which is always safe because
every token takes exactly one character. Literal segments are found with
``str.find``; segments with ``?`` or classes run a bit-parallel shift-and
scan (one bit per token, see :mod:`k8saudit_cli.engine.globscan`).

The work of one match is counted against :func:`work_budget`, which is linear
in the lengths of the text and the pattern. Only wildcard segments thousands
of tokens long, scanned across long texts, can exhaust it; such a match is
given up and counts as no match.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from k8saudit_cli.engine.globscan import (
    ANY,
    Budget,
    CharClass,
    OverBudget,
    Part,
    Segment,
    fold,
)

__all__ = ["Glob", "compile_glob", "pmatch_predicate", "work_budget"]


#: Never charged: literal segments do not count their (linear, C-speed) work.
_UNCOUNTED = Budget(0)


def work_budget(text_len: int, pattern_len: int) -> int:
    """The steps one match may take: a floor for short inputs, then linear in both lengths."""
    return (1 << 16) + 4 * (text_len + pattern_len)


def _bracket(pattern: str, i: int, casefold: bool) -> tuple[CharClass, int] | None:
    """The class whose body starts at ``i`` (just after ``[``), and the offset after its
    ``]``; None when it is never closed (the ``[`` is then a literal).

    A ``]`` right after ``[``, ``[!`` or ``[^`` is a member, not the end. The
    caller never asks about a ``[`` after the pattern's last ``]``, so a
    pattern of many unclosed ``[`` costs one pass, not one per ``[``.
    """
    n, j = len(pattern), i
    if j < n and pattern[j] in "!^":
        j += 1
    if j < n and pattern[j] == "]":
        j += 1
    end = pattern.find("]", j)
    if end < 0:
        return None
    body = pattern[i:end]
    negated = body[:1] in ("!", "^")
    return CharClass.parse(body[1:] if negated else body, negated, casefold), end + 1


#: What is not a literal in a pattern (our own fixed regexes: they cannot backtrack;
#: compiled on first use by ``re``'s own cache, not at every start).
_SPECIAL = r"[*?\[\\]"
_WILD = r"[?\[\\]"


def _add_literal(parts: list[Part], text: str, casefold: bool) -> None:
    parts.append(fold(text) if casefold else text)


def _segment(parts: list[Part]) -> str | Segment:
    """A ``str`` when every part is literal (the ``str`` methods then do the matching);
    adjacent literals are joined into one run (once, so many pieces cost one pass)."""
    merged: list[Part] = []
    run: list[str] = []
    for part in parts:
        if isinstance(part, str):
            run.append(part)
            continue
        if run:
            merged.append("".join(run))
            run = []
        merged.append(part)
    if not merged:
        return "".join(run)
    if run:
        merged.append("".join(run))
    return Segment(tuple(merged))


def _segments(pattern: str, casefold: bool) -> list[str | Segment]:
    """The pattern cut at its stars; each piece as literal runs, ``?`` and classes.

    A run of stars is one cut after another, with empty segments between,
    which match anywhere.
    """
    if re.search(_WILD, pattern) is None:
        return list((fold(pattern) if casefold else pattern).split("*"))
    segments: list[str | Segment] = []
    parts: list[Part] = []
    i, n = 0, len(pattern)
    last_close = pattern.rfind("]")  # a "[" after it can never be closed
    special = re.compile(_SPECIAL)
    while i < n:
        found = special.search(pattern, i)
        j = found.start() if found else n
        if j > i:
            _add_literal(parts, pattern[i:j], casefold)
        if j >= n:
            break
        c, i = pattern[j], j + 1
        if c == "*":
            segments.append(_segment(parts))
            parts = []
        elif c == "?":
            parts.append(ANY)
        elif c == "\\":  # escapes the next character; a trailing one is itself
            _add_literal(parts, pattern[i : i + 1] or c, casefold)
            i += 1
        elif i < last_close and (bracket := _bracket(pattern, i, casefold)) is not None:
            cls, i = bracket
            parts.append(cls)
        else:  # a "[" that is never closed
            _add_literal(parts, c, casefold)
    segments.append(_segment(parts))
    return segments


class Glob:
    """A compiled pattern; :meth:`match` is a whole-text match."""

    __slots__ = ("casefold", "middle", "need", "pattern_len", "plain", "segments")

    def __init__(self, pattern: str, casefold: bool = False) -> None:
        self.casefold = casefold
        self.segments = _segments(pattern, casefold)
        self.middle = self.segments[1:-1]
        self.need = sum(len(s) for s in self.segments)
        self.pattern_len = len(pattern)
        #: Only literal segments: ``str`` methods do all the work, no budget needed.
        self.plain = all(isinstance(s, str) for s in self.segments)

    def match(self, text: str) -> bool:
        if len(text) < self.need:
            return False
        if self.casefold:
            text = fold(text)
        budget = _UNCOUNTED if self.plain else Budget(work_budget(len(text), self.pattern_len))
        try:
            return self._match(text, budget)
        except OverBudget:
            return False

    def _match(self, text: str, budget: Budget) -> bool:
        segments = self.segments
        first = segments[0]
        if len(segments) == 1:
            return len(text) == len(first) and _at(first, text, 0, budget)
        last = segments[-1]
        start, end = len(first), len(text) - len(last)
        if not (_at(first, text, 0, budget) and _at(last, text, end, budget)):
            return False
        for seg in self.middle:
            if isinstance(seg, str):
                found = text.find(seg, start, end)
            else:
                found = seg.find(text, start, end, budget)
            if found < 0:
                return False
            start = found + len(seg)
        return True


def _at(segment: str | Segment, text: str, pos: int, budget: Budget) -> bool:
    if isinstance(segment, str):
        return text.startswith(segment, pos)
    return segment.at(text, pos, budget)


#: Longest pattern :func:`glob_matches` remembers: a compiled pattern keeps scan tables
#: that grow with its length, and events may bring a new one each time.
REMEMBERED_PATTERN = 1024


@lru_cache(maxsize=64)
def compile_glob(pattern: str, casefold: bool = False) -> Glob:
    """The compiled pattern, remembered (rules and ``val()`` repeat the same few)."""
    return Glob(pattern, casefold)


def glob_matches(text: str, pattern: str, casefold: bool = False) -> bool:
    """``text glob pattern`` for a pattern known only at match time (``glob val(...)``)."""
    if len(pattern) > REMEMBERED_PATTERN:
        return Glob(pattern, casefold).match(text)
    return compile_glob(pattern, casefold).match(text)


def _path_parts(path: str) -> list[str]:
    return [p for p in path.split("/") if p]


def pmatch_predicate(paths: Iterable[str]) -> Callable[[Any], bool]:
    """True when one of ``paths`` is a path prefix of the value.

    ``/a`` matches ``/a/b``, not ``/ab``.
    """
    compiled: list[list[str | Glob]] = []
    for path in paths:
        parts = _path_parts(path)
        compiled.append([Glob(p) if any(ch in p for ch in "?*[") else p for p in parts])

    def match(value: str) -> bool:
        vparts = _path_parts(value)
        for parts in compiled:
            if len(parts) > len(vparts):
                continue
            if all(
                p == v if isinstance(p, str) else p.match(v)
                for p, v in zip(parts, vparts, strict=False)
            ):
                return True
        return False

    return match
