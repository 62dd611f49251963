"""Shell-style patterns as libs matches them.

``glob``/``iglob`` are fnmatch(3) with flags 0; ``pmatch`` tests path prefixes
whose parts may be patterns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any


def _glob_class(pattern: str, i: int) -> tuple[str, int] | None:
    """The regex of a ``[...]`` class whose body starts at ``i``, and the offset after
    its ``]``; None when the class is not closed (the ``[`` is then literal)."""
    n, j = len(pattern), i
    if j < n and pattern[j] in "!^":
        j += 1
    if j < n and pattern[j] == "]":
        j += 1
    while j < n and pattern[j] != "]":
        j += 1
    if j >= n:
        return None
    body = pattern[i:j]
    negated = body[:1] in ("!", "^")
    if negated:
        body = body[1:]
    body = body.replace("\\", "\\\\").replace("[", "\\[")
    return "[" + ("^" if negated else "") + body + "]", j + 1


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
        elif c == "[" and (found := _glob_class(pattern, i)) is not None:
            regex, i = found
            out.append(regex)
        else:
            out.append(re.escape(c))
    flags = re.DOTALL | (re.IGNORECASE | re.ASCII if casefold else 0)
    return re.compile("".join(out), flags)


def _path_parts(path: str) -> list[str]:
    return [p for p in path.split("/") if p]


def pmatch_predicate(paths: Iterable[str]) -> Callable[[Any], bool]:
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
