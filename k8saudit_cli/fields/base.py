"""The shape of a field definition and the one "not available" value.

Everything that reads a field (the condition compiler, output formatting,
``k8saudit fields``) goes through :class:`FieldDef`, so a field's type, its
list-ness and its argument rules are stated once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from k8saudit_cli.event import AuditEvent


class _Missing:
    """The value of a field that cannot be extracted (Falco: not available)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "MISSING"


MISSING = _Missing()

#: A field value: a string, a list of strings, an integer (uint64 / abstime
#: fields) or MISSING. A list field that yields an empty list counts as
#: MISSING for conditions and outputs (Falco: zero values = not extracted).
Value = str | list[str] | int | _Missing

Extractor = Callable[[AuditEvent], Value]


class FieldType(str, Enum):
    STRING = "string"
    UINT64 = "uint64"
    ABSTIME = "abstime"
    RELTIME = "reltime"
    BOOL = "bool"

    @property
    def is_numeric(self) -> bool:
        return self in (FieldType.UINT64, FieldType.ABSTIME, FieldType.RELTIME)


class ArgKind(str, Enum):
    INDEX = "index"
    KEY = "key"


@dataclass(frozen=True)
class ArgSpec:
    kind: ArgKind
    required: bool


@dataclass(frozen=True)
class FieldDef:
    """One row of the field table.

    ``bind(arg)`` returns the extractor for a given argument (``None`` when
    the field is used without one). Binding happens once, at rule load time,
    so per-event extraction never re-parses the argument.
    """

    name: str
    type: FieldType
    is_list: bool
    arg: ArgSpec | None
    desc: str
    bind: Callable[[str | None], Extractor]
    deprecated: bool = False
    source: str = "k8saudit"  # k8saudit | json | evt
