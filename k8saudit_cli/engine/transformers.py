"""Field kinds and transformers: ``tolower(ka.verb)``, ``len(ka.req.pod.containers.image)``.

What kind of value a field expression yields (string, list, numeric, bool),
what each transformer does to a value, which kinds it accepts, and the
getters that apply transformers (element-wise on lists) during extraction.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from k8saudit_cli.engine.bound import Getter
from k8saudit_cli.engine.nodes import Span
from k8saudit_cli.engine.operators import BOOL, LIST, NUM, STR, ascii_lower, ascii_upper
from k8saudit_cli.errors import ConditionError
from k8saudit_cli.fields import MISSING, FieldDef, FieldType

#: libs' names of the field types (param_type_to_string), for messages.
TYPE_NAMES: Mapping[FieldType, str] = {
    FieldType.STRING: "CHARBUF",
    FieldType.UINT64: "UINT64",
    FieldType.ABSTIME: "ABSTIME",
    FieldType.RELTIME: "RELTIME",
    FieldType.BOOL: "BOOL",
}


class Typed(Protocol):
    """A bound field expression as far as types go (see ``bound.BField``)."""

    @property
    def fdef(self) -> FieldDef: ...

    @property
    def transforms(self) -> tuple[str, ...]: ...

    @property
    def kind(self) -> str: ...


def kind_of(fdef: FieldDef) -> str:
    """The value kind of an untransformed field."""
    if fdef.is_list:
        return LIST
    if fdef.type.is_numeric:
        return NUM
    if fdef.type is FieldType.BOOL:
        return BOOL
    return STR


def base_type_name(f: Typed) -> str:
    """The libs type of a field after its transformers (``len`` makes a UINT64)."""
    return "UINT64" if "len" in f.transforms else TYPE_NAMES[f.fdef.type]


def type_name(f: Typed) -> str:
    return base_type_name(f) + (" (list)" if f.kind == LIST else "")


def transformed_kind(name: str, inner: Typed, span: Span) -> str:
    """The kind after applying transformer ``name``; only strings and lists take one."""
    kind = inner.kind
    if kind not in (STR, LIST):
        raise ConditionError(
            f"can't add field transformer: type '{base_type_name(inner)}' is not supported by "
            f"'{name}' transformer"
            f" applied on {'list ' if kind == LIST else ''}field '{inner.fdef.name}'",
            span,
        )
    return NUM if name == "len" else kind


# ---------------------------------------------------------------- the transformers


def _b64(v: str) -> Any:
    """libs' decoder: padding optional (at most two ``=``), unused trailing bits must be zero."""
    raw = v.encode("utf-8", "surrogateescape")
    body = raw[:-2] if raw.endswith(b"==") else raw[:-1] if raw.endswith(b"=") else raw
    if len(body) % 4 == 1 or (raw and not body):
        return MISSING
    try:
        decoded = base64.b64decode(body + b"=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError):
        return MISSING
    if base64.b64encode(decoded).rstrip(b"=") != body:  # non-zero trailing bits
        return MISSING
    return decoded.decode("utf-8", "surrogateescape")


def _basename(v: str) -> str:
    return v.rsplit("/", 1)[-1]


def _len(v: Any) -> int:
    return len(v) if isinstance(v, list) else len(v.encode("utf-8", "surrogateescape"))


#: What each transformer does to one value (MISSING: the value does not transform).
TRANSFORMS: Mapping[str, Callable[[Any], Any]] = {
    "tolower": ascii_lower,
    "toupper": ascii_upper,
    "b64": _b64,
    "basename": _basename,
    "len": _len,
}
TRANSFORMERS = frozenset(TRANSFORMS)


# ---------------------------------------------------------------- getters


def list_getter(extract: Callable[[Any], Any]) -> Getter:
    """The extractor of a list field, with an empty list turned into MISSING."""

    def get(e: Any) -> Any:
        v = extract(e)
        return v if v else MISSING

    return get


def transform_getter(inner: Getter, fn: Callable[[Any], Any], elementwise: bool) -> Getter:
    """``inner`` followed by transformer ``fn`` (on each element of a list)."""
    if elementwise:

        def get_list(e: Any) -> Any:
            v = inner(e)
            if v is MISSING:
                return MISSING
            out = [fn(i) for i in v]
            # libs fails the whole extraction when one element does not transform
            return MISSING if any(x is MISSING for x in out) else out

        return get_list

    def get(e: Any) -> Any:
        v = inner(e)
        return MISSING if v is MISSING else fn(v)

    return get
