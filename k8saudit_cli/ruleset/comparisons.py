"""The comparison operators a rule exception may use, as Falco's collector accepts them.

Shared by the collector (which checks exceptions) and the compiler (which
turns them into conditions), so both agree on what a list comparison is.
"""

from __future__ import annotations

#: Operators whose right-hand side is a list of values.
LIST_COMPS = ("in", "pmatch", "intersects")
SUPPORTED_COMPS = frozenset(
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
        "bcontains",
        "startswith",
        "bstartswith",
        "endswith",
        "glob",
        "iglob",
        "regex",
        "in",
        "intersects",
        "pmatch",
    }
)
#: ``<op> oneof|anyof|allof`` applies a scalar operator to each value of a list.
MODIFIERS = ("oneof", "anyof", "allof")


def is_modifier_comp(comp: str) -> bool:
    parts = comp.split()
    return (
        len(parts) == 2 and parts[1] in MODIFIERS and parts[0] in SUPPORTED_COMPS - set(LIST_COMPS)
    )
