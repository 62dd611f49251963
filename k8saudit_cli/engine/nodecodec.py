"""Condition ASTs as plain JSON data and back, for the parse cache: data, never code.

A node is written as a list: a short tag naming its class, then its fields in
declaration order, then the span's ``start, end, line, col``. Only the
classes of :mod:`nodes` have tags, and reading builds only those classes, so
a cache file can at worst describe a wrong condition, never run anything
(which is why the cache is not a pickle). A tuple of nodes is a list of
lists; strings, numbers, booleans and ``None`` are themselves.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from k8saudit_cli.engine.nodes import (
    And,
    Check,
    Const,
    FieldRef,
    ListItem,
    MacroRef,
    Not,
    Num,
    Or,
    Span,
    Str,
    Transform,
    Val,
    ValueList,
)

__all__ = ["CodecError", "decode", "encode"]

_CLASSES: dict[str, type[Any]] = {
    "K": Check,
    "F": FieldRef,
    "T": Transform,
    "V": Val,
    "S": Str,
    "N": Num,
    "I": ListItem,
    "L": ValueList,
    "M": MacroRef,
    "!": Not,
    "&": And,
    "|": Or,
    "C": Const,
}
_TAGS = {cls: tag for tag, cls in _CLASSES.items()}
#: Field names per tag, ``span`` (always last) excluded.
_FIELDS = {
    tag: tuple(f.name for f in dataclasses.fields(cls) if f.name != "span")
    for tag, cls in _CLASSES.items()
}
#: Per tag: the class, its field names and the length of its encoding (tag and span included).
_SHAPES = {tag: (_CLASSES[tag], names, len(names) + 5) for tag, names in _FIELDS.items()}
_new = object.__new__
_SCALAR_CLASSES = frozenset({str, int, bool, type(None)})
_SCALARS = (str, int, bool, type(None))


class CodecError(ValueError):
    """Data that is not an encoded node (a damaged or foreign cache entry)."""


def encode(value: Any) -> Any:
    """Nodes, tuples of nodes and scalars as JSON-ready lists and scalars."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, tuple):
        return [encode(item) for item in value]
    tag = _TAGS.get(type(value))
    if tag is None:
        raise CodecError(f"not a condition node: {type(value).__name__}")
    span = value.span
    if span.origin is not None:  # set by the loader, never by the parser
        raise CodecError("a span with an origin is not parser output")
    fields = [encode(getattr(value, name)) for name in _FIELDS[tag]]
    return [tag, *fields, span.start, span.end, span.line, span.col]


def decode(data: Any) -> Any:
    """The inverse of :func:`encode`; raises :class:`CodecError` on anything else."""
    if data.__class__ is not list:
        if data.__class__ in _SCALAR_CLASSES:
            return data
        raise CodecError(f"unexpected {type(data).__name__}")
    if not data or data[0].__class__ is not str:
        return tuple(map(decode, data))
    shape = _SHAPES.get(data[0])
    if shape is None or len(data) != shape[2]:
        raise CodecError(f"bad node {data[0]!r}")
    cls, names, size = shape
    start, end, line, col = data[size - 4 :]
    if not (start.__class__ is end.__class__ is line.__class__ is col.__class__ is int):
        raise CodecError("bad span")
    # Built as unpickling builds them: a frozen __init__ costs three times more.
    span = _new(Span)
    span.__dict__.update(start=start, end=end, line=line, col=col, origin=None)
    node = _new(cls)
    state = node.__dict__
    for name, item in zip(names, data[1 : size - 4], strict=True):
        state[name] = item if item.__class__ in _SCALAR_CLASSES else decode(item)
    state["span"] = span
    return node
