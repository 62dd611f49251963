"""The words of generated code: readable unique names, inline literals, comments.

The code generator names every slot and global after what it holds
(``ka_verb``, ``read_ka_verb``, ``rule_attach_exec_pod``), writes short
constants as Python literals, and ends each term's line with a comment
saying which check (and which macro or exception) it comes from. Nothing
here imports the parser: labels are built from the nodes directly, so a
scan that found every condition in the parse cache never loads Lark.
"""

from __future__ import annotations

import keyword
import re
from functools import lru_cache
from typing import Any

from k8saudit_cli.engine.bound import BCheck
from k8saudit_cli.engine.labels import label

#: Names the generated code uses for itself (locals, builtins, its sentinels).
RESERVED = frozenset({"e", "h", "MISSING", "UNSET", "bool", *keyword.kwlist})
_NOT_WORD = re.compile(r"[^0-9a-zA-Z]+")
#: Longest literal written inline; longer constants get a name.
_INLINE_LIMIT = 72
_INLINE_ITEMS = 12


@lru_cache(maxsize=4096)  # the same field and rule names come back in every group
def identifier(text: str, limit: int = 48) -> str:
    """``ka.target.resource`` -> ``ka_target_resource``; rule names lower-cased."""
    word = _NOT_WORD.sub("_", text).strip("_").lower()[:limit].rstrip("_")
    return word if word and not word[0].isdigit() else f"n_{word}"


class Names:
    """The identifiers of one generated function, and the globals it runs with.

    Every name is unique across locals and globals; an object that is given a
    name twice keeps its first one.
    """

    def __init__(self, builtins: dict[str, Any]) -> None:
        self.globals: dict[str, Any] = dict(builtins)
        self._taken: set[str] = set(RESERVED) | set(builtins)
        self._by_id: dict[int, str] = {}

    def fresh(self, hint: str) -> str:
        """A new name based on ``hint`` (``hint``, ``hint_2``, ``hint_3``...)."""
        name, n = hint, 1
        while name in self._taken:
            n += 1
            name = f"{hint}_{n}"
        self._taken.add(name)
        return name

    def known(self, obj: Any) -> str | None:
        """The name ``obj`` already has, if any."""
        return self._by_id.get(id(obj))

    def of(self, hint: str, obj: Any) -> str:
        """The global name for ``obj`` (which stays alive with the namespace)."""
        known = self._by_id.get(id(obj))
        if known is None:
            known = self._by_id[id(obj)] = self.fresh(hint)
            self.globals[known] = obj
        return known


def literal(obj: Any, in_test: bool) -> str | None:
    """``obj`` as Python source when that reads well and costs nothing more per event.

    Strings always; short tuples of strings; short sets of strings only as
    the right operand of ``in`` (Python folds those into a frozenset constant,
    anywhere else a set display would build a new set on every call).
    """
    if isinstance(obj, str):
        return repr(obj)
    if not isinstance(obj, (tuple, frozenset)) or not obj or len(obj) > _INLINE_ITEMS:
        return None
    if not all(isinstance(x, str) for x in obj):
        return None
    if isinstance(obj, tuple):
        text = repr(obj)
    elif in_test:
        text = "{" + ", ".join(repr(x) for x in sorted(obj)) + "}"
    else:
        return None
    return text if len(text) <= _INLINE_LIMIT else None


def note(checks: list[BCheck]) -> str:
    """The comment of one generated term: its checks, then where they were written."""
    if len(checks) == 1:
        return checks[0].label
    text = " or ".join(c.label_parts[0] for c in checks)
    where = ", ".join(dict.fromkeys(c.label_parts[1] for c in checks if c.label_parts[1]))
    return label(text, where)
