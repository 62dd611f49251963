"""Glob matching: the linear matcher agrees with fnmatch-as-a-regex, and stays linear.

The oracle is the translation to Python's ``re`` the engine used before it
matched globs itself (kept here only as a reference: it backtracks, so the
engine must never run it on a pattern or text an event supplies).
"""

from __future__ import annotations

import gc
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from k8saudit_cli.engine.globs import Glob, compile_glob, glob_matches, pmatch_predicate


def _oracle_class(pattern: str, i: int) -> tuple[str, int] | None:
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


def oracle(pattern: str, casefold: bool = False) -> re.Pattern[str]:
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
        elif c == "[" and (found := _oracle_class(pattern, i)) is not None:
            regex, i = found
            out.append(regex)
        else:
            out.append(re.escape(c))
    flags = re.DOTALL | (re.IGNORECASE | re.ASCII if casefold else 0)
    return re.compile("".join(out), flags)


PATTERN_CHARS = st.sampled_from([*"abAB*?[]!^-\\/z\n", "é", "K"])
TEXT_CHARS = st.sampled_from([*"abAB*?[]!^-\\/z\n", "é", "K", "É"])


@pytest.mark.filterwarnings("ignore::FutureWarning")  # re warns about "--" or "&&" in a class
@settings(max_examples=3000, deadline=None)
@given(st.text(PATTERN_CHARS, max_size=12), st.text(TEXT_CHARS, max_size=12), st.booleans())
def test_same_answers_as_the_regex_translation(pattern: str, text: str, casefold: bool) -> None:
    try:
        expected = oracle(pattern, casefold).fullmatch(text) is not None
    except re.error:  # a reversed range: the regex refused it, the matcher matches nothing there
        return
    assert Glob(pattern, casefold).match(text) is expected, (pattern, text, casefold)


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("*", "", True),
        ("", "", True),
        ("", "a", False),
        ("a**b", "ab", True),
        ("*a*b*", "xxaxxbxx", True),
        ("[]]", "]", True),
        ("[!]]", "a", True),
        ("[!]]", "]", False),
        ("[a-]", "-", True),
        ("[", "[", True),
        ("\\", "\\", True),
        ("[\\]", "\\", True),
        ("*[0-9]?x", "ab7zx", True),
        ("*[0-9]?x", "ab7x", False),
        ("[z-a]", "m", False),  # glibc: an empty range, no error
        ("[!z-a]", "m", True),
    ],
)
def test_examples(pattern: str, text: str, expected: bool) -> None:
    assert Glob(pattern).match(text) is expected


def test_iglob_folds_ascii_only() -> None:
    assert Glob("/API/[A-Z]*", casefold=True).match("/api/v1")
    assert not Glob("É", casefold=True).match("é")
    assert not Glob("K", casefold=True).match("\u212a")  # the Kelvin sign is not a K


def test_pmatch_parts() -> None:
    match = pmatch_predicate(["/api/*/namespaces", "/data/hello"])
    assert match("/api/v1/namespaces/x")
    assert match("//data//hello/")
    assert not match("/data/hello_world")


# ---------------------------------------------------------------- bounded time

BIG = 100_000
#: (pattern, text): each is hopeless for a backtracking matcher.
PATHOLOGICAL = [
    ("*a" * 20 + "*b", "a" * BIG),
    ("*" + "a?" * 2000 + "b*", "a" * BIG),
    ("*" + "[a-z]" * 3000 + "!*", "a" * BIG),
    ("*a" * (BIG // 2) + "*b", "a" * BIG),  # a 100 KB pattern
    ("*" + "a" * (BIG // 2) + "b*", "a" * BIG),
    ("*" + "?a" * (BIG // 4) + "b*", "a" * BIG),
    ("*" + "[ab]" * (BIG // 8) + "c*", "ab" * (BIG // 2)),
    (
        "*" + "".join(f"[{chr(0x4E00 + i)}-{chr(0x4E00 + i + 1)}]" for i in range(BIG // 5)) + "*",
        "".join(chr(0x4E00 + i % 20000) for i in range(BIG)),
    ),
    ("[" * BIG, "a" * BIG),  # never closed: no "[" may search to the end again
    ("[!]" * (BIG // 3), "a" * BIG),
    ("[]" * (BIG // 2), "a" * BIG),
    ("\\a" * (BIG // 2), "a" * BIG),
    ("?" * BIG, "a" * BIG),
]


@pytest.mark.parametrize(("pattern", "text"), PATHOLOGICAL, ids=range(len(PATHOLOGICAL)))
def test_pathological_patterns_take_well_under_a_second(pattern: str, text: str) -> None:
    for casefold in (False, True):
        compile_glob.cache_clear()
        with matcher_time() as spent:
            glob_matches(text, pattern, casefold)
        assert spent[0] < 0.5, (len(pattern), casefold, spent)


@contextmanager
def matcher_time() -> Iterator[list[float]]:
    """CPU seconds of the block (other processes share the machine), without the
    collector's pauses over the whole test session's heap."""
    gc.collect()
    gc.disable()
    spent = [0.0]
    start = time.process_time()
    try:
        yield spent
    finally:
        spent[0] = time.process_time() - start
        gc.enable()
