"""The pieces of a glob match: character classes, star-free segments, and a work budget.

A segment is what lies between two stars: tokens that each take exactly one
character (a literal, ``?`` or a ``[...]`` class). A segment of literals is
found with ``str.find``; any other is found by a shift-and scan, where bit
``j`` of the state says "the first ``j + 1`` tokens match the text ending
here". Python integers hold the state, so a scan costs one shift, one or and
one and per character, whatever the number of tokens, and never backtracks.

Every step that depends on the size of the pattern is counted against a
:class:`Budget`, so a pattern supplied by the event itself cannot make one
match cost more than its budget (see :func:`k8saudit_cli.engine.globs.work_budget`).
"""

from __future__ import annotations

import re
from functools import cache

_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")

#: Masks kept per segment before the cache starts afresh (one per distinct character seen).
_MASK_CACHE = 1024
#: Budget steps are about one Python operation; testing a character against a class
#: costs this many, and an operation on a scan state this many per 256 tokens.
CLASS_TEST = 20
STATE_WORDS = 256


def fold(text: str) -> str:
    """ASCII letters to lower case, as ``iglob`` folds (``str.lower`` would fold far more)."""
    return text.translate(_LOWER)


class OverBudget(Exception):
    """A match ran out of work; the caller counts it as no match."""


class Budget:
    """Steps one match may still take."""

    __slots__ = ("left",)

    def __init__(self, steps: int) -> None:
        self.left = steps

    def spend(self, steps: int) -> None:
        self.left -= steps
        if self.left < 0:
            raise OverBudget


class _Any:
    """``?``: any one character."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ANY"


ANY = _Any()


class CharClass:
    """A ``[...]`` bracket expression: members, ranges, negation, case folding.

    Equal classes (``[0-9]`` written many times) are equal dict keys, so a scan
    tests a character once per distinct class.
    """

    __slots__ = ("casefold", "chars", "key", "negated", "ranges")

    def __init__(
        self,
        chars: frozenset[str],
        ranges: tuple[tuple[str, str], ...],
        negated: bool,
        casefold: bool,
    ) -> None:
        self.chars, self.ranges, self.negated, self.casefold = chars, ranges, negated, casefold
        self.key = (chars, ranges, negated, casefold)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CharClass) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    @classmethod
    def parse(cls, body: str, negated: bool, casefold: bool) -> CharClass:
        """``a-z`` is a range when the ``-`` has a character on each side; other
        characters (``\\``, ``[``, a leading ``]`` or ``-``) stand for themselves.
        A range whose end comes before its start holds nothing (glibc's fnmatch)."""
        chars: set[str] = set()
        ranges: list[tuple[str, str]] = []
        for lo, hi, one in _class_items().findall(body):
            if one:
                chars.add(one)
            elif lo <= hi:
                ranges.append((lo, hi))
        return cls(frozenset(chars), tuple(ranges), negated, casefold)

    def _holds(self, c: str) -> bool:
        return c in self.chars or any(lo <= c <= hi for lo, hi in self.ranges)

    def accepts(self, c: str) -> bool:
        """Whether ``c`` (already folded when ``casefold``) matches the class."""
        hit = self._holds(c)
        if not hit and self.casefold and "a" <= c <= "z":
            hit = self._holds(c.translate(_UPPER))
        return hit != self.negated


@cache
def _class_items() -> re.Pattern[str]:
    """One item of a class body: a range ``lo-hi``, else one character (our own fixed
    regex; compiled on first use, not at every start)."""
    return re.compile(r"(.)-(.)|(.)", re.DOTALL)


#: A piece of a segment: a literal run (any length, or one character: a token), or one
#: ``?`` or class.
Part = str | _Any | CharClass


def _bits(positions: list[int], size: int) -> int:
    """An integer with the given bits set, built in time linear in ``size``."""
    raw = bytearray((size + 7) // 8)
    for p in positions:
        raw[p >> 3] |= 1 << (p & 7)
    return int.from_bytes(raw, "little")


class _Tables:
    """What a shift-and scan of one segment needs: which tokens take which character."""

    def __init__(self, tokens: list[Part], budget: Budget) -> None:
        self.size = len(tokens)
        self.words = 1 + self.size // STATE_WORDS  # the cost of one operation on the state
        self.literals: dict[str, list[int]] = {}
        wild: list[int] = []
        groups: dict[CharClass, list[int]] = {}
        for j, tok in enumerate(tokens):
            if isinstance(tok, str):
                self.literals.setdefault(tok, []).append(j)
            elif isinstance(tok, CharClass):
                groups.setdefault(tok, []).append(j)
            else:
                wild.append(j)
        budget.spend((len(groups) + 1) * self.words)
        self.wild = _bits(wild, self.size)
        self.groups = [(cls, _bits(pos, self.size)) for cls, pos in groups.items()]
        self.masks: dict[str, int] = {}

    def mask(self, c: str, budget: Budget) -> int:
        """Bit ``j`` set when token ``j`` takes ``c`` (paid for before the work, at its worst)."""
        budget.spend(1 + (CLASS_TEST + self.words) * len(self.groups) + self.words)
        m = self.wild
        positions = self.literals.get(c)
        if positions:
            m |= _bits(positions, self.size)
        for cls, bits in self.groups:
            if cls.accepts(c):
                m |= bits
        if len(self.masks) >= _MASK_CACHE:
            self.masks.clear()
        self.masks[c] = m
        return m


class Segment:
    """The tokens between two stars when some are ``?`` or classes (a plain ``str`` stands
    for a segment of literals), as parts: literal runs, ``?`` and classes."""

    __slots__ = ("checks", "parts", "runs", "size", "tables")

    def __init__(self, parts: tuple[Part, ...]) -> None:
        self.parts = parts
        self.size = sum(len(p) if isinstance(p, str) else 1 for p in parts)
        self.runs, self.checks = _runs_and_checks(parts)
        self.tables: _Tables | None = None

    def __len__(self) -> int:
        return self.size

    def at(self, text: str, pos: int, budget: Budget) -> bool:
        """Whether the segment matches at ``pos``; the text holds at least ``len(self)`` there."""
        budget.spend(1 + len(self.runs) + CLASS_TEST * len(self.checks))
        return all(text.startswith(run, pos + off) for off, run in self.runs) and all(
            cls.accepts(text[pos + off]) for off, cls in self.checks
        )

    def find(self, text: str, start: int, end: int, budget: Budget) -> int:
        """The leftmost ``p >= start`` where the segment matches and ends by ``end``, or -1."""
        if self.tables is None:
            budget.spend(self.size)
            self.tables = _Tables(_one_per_character(self.parts), budget)
        return _scan(self.tables, text, start, end, budget)


def _one_per_character(parts: tuple[Part, ...]) -> list[Part]:
    out: list[Part] = []
    for part in parts:
        if isinstance(part, str):
            out.extend(part)
        else:
            out.append(part)
    return out


def _runs_and_checks(
    parts: tuple[Part, ...],
) -> tuple[tuple[tuple[int, str], ...], tuple[tuple[int, CharClass], ...]]:
    """Literal runs (compared with ``startswith``) and classes (tested one by one) by offset;
    ``?`` needs no test."""
    runs: list[tuple[int, str]] = []
    checks: list[tuple[int, CharClass]] = []
    offset = 0
    for part in parts:
        if isinstance(part, str):
            runs.append((offset, part))
            offset += len(part)
            continue
        if isinstance(part, CharClass):
            checks.append((offset, part))
        offset += 1
    return tuple(runs), tuple(checks)


def _scan(tables: _Tables, text: str, start: int, end: int, budget: Budget) -> int:
    """Shift-and over ``text[start:end]``: the start of the first full match, or -1.

    Every match has the segment's length, so the first one to end is the leftmost.
    """
    size = tables.size
    room = budget.left // tables.words
    stop = min(end, start + room)
    done = 1 << (size - 1)
    masks = tables.masks
    state = 0
    for pos, c in enumerate(text[start:stop], start):
        m = masks.get(c)
        if m is None:
            m = tables.mask(c, budget)
        state = ((state << 1) | 1) & m
        if state & done:
            budget.spend((pos + 1 - start) * tables.words)
            return pos + 1 - size
    budget.spend((stop - start) * tables.words)
    if stop < end:
        raise OverBudget
    return -1
