"""Field-argument checking with libsinsp's exact error texts, and the error it raises.

Rule authors compare our load errors with Falco's, so the wording (quotes,
spacing and all) follows ``plugin_filtercheck.cpp`` and ``filter.cpp``.
"""

from __future__ import annotations

from collections.abc import Callable

from k8saudit_cli.errors import K8sAuditError
from k8saudit_cli.fields.base import ArgKind, ArgSpec, Extractor

_MAX_U64 = 2**64 - 1

#: Builds a field's extractor for its index argument (``None``: no index given).
Make = Callable[[int | None], Extractor]
#: An optional index: ``ka.req.pod.containers.image[0]``.
INDEX_ARG = ArgSpec(ArgKind.INDEX, required=False)
#: A required key: ``ka.uri.param[watch]``.
KEY_ARG = ArgSpec(ArgKind.KEY, required=True)


class FieldError(K8sAuditError):
    """A field reference that cannot be bound.

    ``kind`` is ``"unknown"`` (no such field) or ``"arg"`` (bad or missing
    argument); ``str(err)`` is Falco's message.
    """

    code = "FIELD_ERROR"

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FieldError) and (self.kind, self.message) == (
            other.kind,
            other.message,
        )

    def __hash__(self) -> int:
        return hash((self.kind, self.message))


def full_name(name: str, arg: str | None) -> str:
    """The text libs parses for a field reference: ``name`` or ``name[arg]``."""
    return name if arg is None else f"{name}[{arg}]"


def unknown_field(name: str, arg: str | None) -> FieldError:
    return FieldError(
        "unknown", f"filter_check called with nonexistent field {full_name(name, arg)}"
    )


def arg_not_allowed(name: str, arg: str) -> FieldError:
    return FieldError(
        "arg",
        f"filter '{full_name(name, arg)}': {name} does not allow nor require "
        f"an argument but one is provided: {arg}",
    )


def arg_required(name: str) -> FieldError:
    return FieldError("arg", f"filter '{name}': {name} requires an argument but none provided")


def parse_index(name: str, arg: str) -> int:
    """An index argument as libs accepts it: ASCII digits, no leading zero, fits 64 bits."""
    problem = ""
    if arg == "" or (len(arg) > 1 and arg[0] == "0"):
        problem = "starting with 0"
    if any(not "0" <= c <= "9" for c in arg):
        problem = "not composed only by digits"
    if not problem:
        value = int(arg)
        if value <= _MAX_U64:
            return value
        problem = "not representable on 64 bit"
    raise FieldError(
        "arg",
        f"filter {full_name(name, arg)} {name} has an invalid index argument {problem}: {arg}",
    )


def index_binder(name: str, make: Make) -> Callable[[str | None], Extractor]:
    """A ``bind`` for an optional index argument: parse once, then build the extractor."""

    def bind(arg: str | None) -> Extractor:
        return make(None if arg is None else parse_index(name, arg))

    return bind


def fixed(extractor: Extractor) -> Callable[[str | None], Extractor]:
    """A ``bind`` for a field without argument (the table rejects arguments earlier)."""

    def bind(arg: str | None) -> Extractor:
        return extractor

    return bind
