"""What each operator does, in one table, for each kind of left-hand value.

A predicate here receives a value that was extracted (never MISSING, never
an empty list): "a missing field makes every comparison false" is applied
once, by the evaluators, before any predicate runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

Predicate = Callable[[Any], bool]

#: Value kinds of a left-hand side after transformers.
STR, LIST, NUM, BOOL = "string", "list", "numeric", "bool"

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def ascii_lower(s: str) -> str:
    """Falco case-folds ASCII letters only; ``str.lower`` would fold far more."""
    return s.translate(_ASCII_LOWER)


def ascii_upper(s: str) -> str:
    return s.translate(_ASCII_UPPER)


# ---------------------------------------------------------------- glob and pmatch


def glob_regex(pattern: str, casefold: bool = False) -> re.Pattern[str]:
    """fnmatch(3) with flags 0 as a regex: ``*`` also matches ``/`` and leading dots,
    ``[...]`` classes with ``!``/``^`` negation, and backslash escapes."""
    out, i, n = [], 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "\\" and i < n:
            out.append(re.escape(pattern[i]))
            i += 1
        elif c == "[":
            j = i
            if j < n and pattern[j] in "!^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:
                out.append(re.escape(c))
                continue
            body = pattern[i:j]
            i = j + 1
            neg = body[:1] in ("!", "^")
            if neg:
                body = body[1:]
            body = body.replace("\\", "\\\\").replace("[", "\\[")
            out.append("[" + ("^" if neg else "") + body + "]")
        else:
            out.append(re.escape(c))
    flags = re.DOTALL | (re.IGNORECASE | re.ASCII if casefold else 0)
    return re.compile("".join(out), flags)


def _path_parts(path: str) -> list[str]:
    return [p for p in path.split("/") if p]


def pmatch_predicate(paths: Iterable[str]) -> Predicate:
    """True when one of ``paths`` is a path prefix of the value.

    ``/a`` matches ``/a/b``, not ``/ab``.
    """
    compiled = []
    for path in paths:
        parts = _path_parts(path)
        compiled.append([glob_regex(p) if any(ch in p for ch in "?*[") else p for p in parts])

    def match(value: str) -> bool:
        vparts = _path_parts(value)
        for parts in compiled:
            if len(parts) > len(vparts):
                continue
            if all(
                p == v if isinstance(p, str) else p.fullmatch(v)
                for p, v in zip(parts, vparts, strict=False)
            ):
                return True
        return False

    return match


# ---------------------------------------------------------------- the table


def _str_ops(c: str) -> dict[str, Predicate]:
    lc = ascii_lower(c)
    return {
        "=": lambda v: v == c,
        "==": lambda v: v == c,
        "!=": lambda v: v != c,
        "<": lambda v: v < c,
        "<=": lambda v: v <= c,
        ">": lambda v: v > c,
        ">=": lambda v: v >= c,
        "contains": lambda v: c in v,
        "icontains": lambda v: lc in ascii_lower(v),
        "startswith": lambda v: v.startswith(c),
        "endswith": lambda v: v.endswith(c),
    }


def string_predicate(op: str, value: Any) -> Predicate:
    """Predicate for a single string left-hand side against a constant."""
    if op in ("in", "intersects"):
        members = frozenset(value)
        return members.__contains__
    if op == "pmatch":
        return pmatch_predicate(value)
    if op == "glob":
        return _fullmatch(glob_regex(value))
    if op == "iglob":
        return _fullmatch(glob_regex(value, casefold=True))
    if op == "regex":
        # RE2's default: `.` does not match a newline (no DOTALL)
        return _fullmatch(re.compile(value))
    return _str_ops(value)[op]


def _fullmatch(rx: re.Pattern[str]) -> Predicate:
    return lambda v: rx.fullmatch(v) is not None


def list_predicate(op: str, value: Any) -> Predicate:
    """``in`` is a subset test, ``intersects`` an overlap test (Falco's list semantics)."""
    members = frozenset(value)
    if op == "in":
        return members.issuperset
    if op == "intersects":
        return lambda v: not members.isdisjoint(v)
    raise ValueError(op)


#: String operators accepted on list fields for engine-v4 rule files (see bind).
LEGACY_LIST_OPS = frozenset(
    {"=", "==", "!=", "contains", "icontains", "startswith", "endswith", "glob", "iglob", "regex"}
)


def legacy_list_predicate(op: str, value: str) -> Predicate:
    """Legacy (Falco <= 0.31) meaning of a string operator on a list field."""
    if op in ("=", "=="):
        return lambda v: set(v) == {value}
    if op == "!=":
        return lambda v: set(v) != {value}
    one = string_predicate(op, value)
    return lambda v: any(one(x) for x in v)


def numeric_predicate(op: str, value: Any) -> Predicate:
    if op in ("in", "intersects"):
        members = frozenset(value)
        return members.__contains__
    return _num_ops(value)[op]


def _num_ops(c: int) -> dict[str, Predicate]:
    return {
        "=": lambda v: v == c,
        "==": lambda v: v == c,
        "!=": lambda v: v != c,
        "<": lambda v: v < c,
        "<=": lambda v: v <= c,
        ">": lambda v: v > c,
        ">=": lambda v: v >= c,
    }


def modifier_predicate(op: str, modifier: str, values: list[Any], kind: str = STR) -> Predicate:
    """``op oneof|anyof|allof (a, b)``: exactly one / at least one / every value matches.

    Numeric and bool fields take modifiers too (with the operators they allow).
    """
    single = string_predicate if kind == STR else numeric_predicate
    preds = [single(op, v) for v in values]
    if not preds:
        return lambda v: False
    if modifier == "anyof":
        return lambda v: any(p(v) for p in preds)
    if modifier == "allof":
        return lambda v: all(p(v) for p in preds)
    return lambda v: sum(1 for p in preds if p(v)) == 1


def field_predicate(op: str, kind: str) -> Callable[[Any, Any], bool]:
    """Predicate over two extracted values, for ``val(field)`` right-hand sides."""
    if kind == LIST:
        if op == "in":
            return lambda v, w: set(v).issubset(w)
        return lambda v, w: not set(v).isdisjoint(w)
    table: dict[str, Callable[[Any, Any], bool]] = {
        "=": lambda v, w: v == w,
        "==": lambda v, w: v == w,
        "!=": lambda v, w: v != w,
        "<": lambda v, w: v < w,
        "<=": lambda v, w: v <= w,
        ">": lambda v, w: v > w,
        ">=": lambda v, w: v >= w,
        "contains": lambda v, w: w in v,
        "icontains": lambda v, w: ascii_lower(w) in ascii_lower(v),
        "startswith": lambda v, w: v.startswith(w),
        "endswith": lambda v, w: v.endswith(w),
        "glob": lambda v, w: glob_regex(w).fullmatch(v) is not None,
        "iglob": lambda v, w: glob_regex(w, casefold=True).fullmatch(v) is not None,
        "in": lambda v, w: v in (w if isinstance(w, list) else (w,)),
        "intersects": lambda v, w: v in (w if isinstance(w, list) else (w,)),
    }
    return table[op]


#: Operators each left-hand kind accepts (libs' check_op_type_compatibility).
ALLOWED: dict[str, frozenset[str]] = {
    STR: frozenset(
        {
            "=",
            "==",
            "!=",
            "<",
            "<=",
            ">",
            ">=",
            "contains",
            "icontains",
            "startswith",
            "endswith",
            "glob",
            "iglob",
            "regex",
            "in",
            "intersects",
            "pmatch",
            "exists",
        }
    ),
    LIST: frozenset({"in", "intersects", "exists"}),
    NUM: frozenset({"=", "==", "!=", "<", "<=", ">", ">=", "in", "intersects", "exists"}),
    BOOL: frozenset({"=", "==", "!=", "in", "intersects", "exists"}),
}
