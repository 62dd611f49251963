"""Did-you-mean hints: the nearest known field or rule name for a misspelled one.

Load errors keep Falco's exact text (rule authors compare them with
``falco -V``); the hint is added only where the CLI shows them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from k8saudit_cli.errors import Diagnostic
from k8saudit_cli.fields import FIELDS

#: Field names are alike (``ka.user.name``, ``ka.impuser.name``...): a high cutoff, and
#: only the candidates about as close as the best, so a hint names one or two.
_CUTOFF = 0.8
_SPREAD = 0.04

#: Where load errors name an unknown field: conditions, output formats, exception fields.
_UNKNOWN_FIELD = (
    re.compile(r"nonexistent field (?P<name>[\w.]+)"),
    re.compile(r"invalid formatting token %(?P<name>[\w.]+)"),
    re.compile(r"'(?P<name>[\w.]+)' is not a supported filter field"),
)


def close_matches(word: str, candidates: Sequence[str]) -> list[str]:
    """The candidates nearest to ``word`` (best first); empty when none is close."""
    import difflib  # only when a name is unknown: not on every start

    scored = []
    for cand in candidates:
        ratio = difflib.SequenceMatcher(None, word, cand).ratio()
        if ratio >= _CUTOFF:
            scored.append((ratio, cand))
    if not scored:
        return []
    scored.sort(key=lambda rc: -rc[0])
    best = scored[0][0]
    return [cand for ratio, cand in scored[:3] if ratio >= best - _SPREAD]


def did_you_mean(word: str, candidates: Sequence[str]) -> str:
    """``"did you mean 'a' or 'b'?"``, or ``""`` when nothing is close."""
    found = close_matches(word, candidates)
    if not found:
        return ""
    quoted = [f"'{c}'" for c in found]
    names = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
    return f"did you mean {names}?"


def field_hint(name: str) -> str:
    """The did-you-mean text for an unknown field name (no argument part)."""
    return did_you_mean(name, [f.name for f in FIELDS])


def diagnostic_hint(diag: Diagnostic) -> str:
    """A did-you-mean for a diagnostic about an unknown field, else ``""``."""
    for pattern in _UNKNOWN_FIELD:
        m = pattern.search(diag.message)
        if m:
            return field_hint(m.group("name"))
    return ""


def render_diagnostic(diag: Diagnostic) -> str:
    """:meth:`Diagnostic.render` with the hint after the headline, when there is one."""
    hint = diagnostic_hint(diag)
    if not hint:
        return diag.render()
    text = f"{diag.headline()} ({hint})"
    if diag.snippet is not None:
        text += "\n" + diag.snippet.render()
    return text
