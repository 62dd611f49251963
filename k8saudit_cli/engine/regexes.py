"""``regex`` as libs runs it: RE2 in POSIX mode, anchored at both ends, in linear time.

libs compiles each pattern with ``re2::RE2(pattern, RE2::POSIX)`` and matches
with ``ANCHOR_BOTH``. POSIX syntax has no Perl classes (``\\d``), no ``\\b``,
no ``(?...)`` groups or flags, and, being RE2, no backreferences or
lookaround: such patterns fail to load, as in Falco, with libs' message
``invalid regex pattern: <RE2's error>``. A match takes time linear in the
value, whatever the pattern. Values are matched as UTF-8; invalid sequences
(``b64`` can decode to anything) become U+FFFD first, as libs' sanitizer does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

__all__ = ["RegexError", "compile_regex"]


class RegexError(re.error):
    """A pattern RE2 refuses; ``str()`` is RE2's own text (``missing ): (bad``)."""


@cache
def _re2() -> tuple[Any, Any, Any]:
    """RE2's compiler, our options and the anchor, imported on first use: most rule
    sets have no ``regex``, and start-up is shorter without the library."""
    import re2
    from re2 import _re2 as binding  # the wrapper's match objects cost 5x more per call

    options = re2.Options()
    options.posix_syntax = True
    options.longest_match = True  # what RE2::POSIX sets; the same truth value either way
    options.log_errors = False  # RE2 would print every refused pattern on stderr
    options.never_capture = True  # only the truth value is needed: no group bounds
    return binding.RE2, options, binding.RE2.Anchor.ANCHOR_BOTH


def _utf8(text: str) -> bytes:
    """``text`` as UTF-8; undecodable bytes (kept as lone surrogates) become U+FFFD."""
    try:
        return text.encode()
    except UnicodeEncodeError:
        pass
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogatepass")
    return raw.decode("utf-8", "replace").encode()


def compile_regex(pattern: str) -> Callable[[str], bool]:
    """A whole-value match predicate; raises :class:`RegexError` for a pattern RE2 refuses."""
    compile_re2, options, both = _re2()
    compiled = compile_re2(_utf8(pattern), options)
    if not compiled.ok():
        raise RegexError(compiled.error().decode("utf-8", "replace"))
    match = compiled.Match

    def fullmatch(value: str) -> bool:
        raw = _utf8(value)
        start: int = match(both, raw, 0, len(raw))[0][0]
        return start >= 0

    return fullmatch
