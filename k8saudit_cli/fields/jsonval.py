"""Turn decoded JSON values into the text the plugins give, and walk nested objects.

Both Falco plugins hand every value to the engine as a string: a JSON string
as its text, anything else as its compact JSON spelling. Keeping that rule
in one place keeps all extractors consistent.

Our events are already decoded, so numbers are re-spelled by ``orjson``
rather than copied from the input: ``1.50`` comes back as ``1.5`` and
``1e3`` as ``1000.0`` (upstream keeps the original spelling). Integers,
which are all Kubernetes uses, are unaffected.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

from k8saudit_cli.fields.base import MISSING


def compact(value: Any) -> str:
    """Compact JSON text (``{"a":"b"}``, no spaces), as fastjson's ``MarshalTo`` writes."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return encode(value, None)


def indented(value: Any) -> str:
    """JSON text indented by two spaces, as Go's ``json.Indent(.., "", "  ")`` writes."""
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    except TypeError:
        return encode(value, 2)


class _Literal(str):
    """Text to copy to the output as is (a bracket, separator or key)."""


def encode(value: Any, indent: int | None) -> str:
    """JSON text with an explicit stack, in orjson's layout.

    Only for what orjson refuses: nesting deeper than 254 (the decoder lets
    1024 through), integers beyond 64 bits, lone surrogates, non-string keys
    of YAML-built events. Recursion would overflow on the first of these.
    """
    out: list[str] = []
    work: list[tuple[Any, int]] = [(value, 0)]
    while work:
        item, depth = work.pop()
        if isinstance(item, _Literal):
            out.append(item)
        elif isinstance(item, (dict, list)) and item:
            work.extend(reversed(_container_parts(item, depth, indent)))
        else:
            out.append(_scalar(item))
    return "".join(out)


def _container_parts(
    item: dict[Any, Any] | list[Any], depth: int, indent: int | None
) -> list[tuple[Any, int]]:
    """Opening bracket, separators, keys and children of a non-empty container, in order."""
    inner = "" if indent is None else "\n" + " " * (indent * (depth + 1))
    outer = "" if indent is None else "\n" + " " * (indent * depth)
    colon = ":" if indent is None else ": "
    is_dict = isinstance(item, dict)
    parts: list[tuple[Any, int]] = [(_Literal("{" if is_dict else "["), depth)]
    entries = item.items() if isinstance(item, dict) else enumerate(item)
    for i, (key, child) in enumerate(entries):
        parts.append((_Literal(("," if i else "") + inner), depth))
        if is_dict:
            name = key if isinstance(key, str) else text(key)
            parts.append((_Literal(_scalar(name) + colon), depth))
        parts.append((child, depth + 1))
    parts.append((_Literal(outer + ("}" if is_dict else "]")), depth))
    return parts


def _scalar(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return json.dumps(value, ensure_ascii=False, default=str)


def text(value: Any) -> str:
    """A field's text for one JSON value: strings as they are, the rest as compact JSON."""
    if value.__class__ is str:
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if value.__class__ is int:
        return str(value)
    if isinstance(value, str):
        return str(value)
    return compact(value)


def dig(obj: Any, keys: tuple[str, ...]) -> Any:
    """Follow ``keys`` through nested objects; MISSING when a step is absent or not an object.

    Only the last step may land on any JSON value (``null`` included), so a
    present ``null`` stays distinguishable from an absent key.
    """
    for key in keys:
        if not isinstance(obj, dict):
            return MISSING
        obj = obj.get(key, MISSING)
        if obj is MISSING:
            return MISSING
    return obj


def getter(path: tuple[str, ...]) -> Callable[[Any], Any]:
    """``dig`` bound to ``path``, unrolled for the short paths extractors use per event."""
    if len(path) == 1:
        (a,) = path
        return lambda obj: obj.get(a, MISSING) if isinstance(obj, dict) else MISSING
    if len(path) == 2:
        a, b = path

        def get2(obj: Any) -> Any:
            if isinstance(obj, dict):
                obj = obj.get(a)
                if isinstance(obj, dict):
                    return obj.get(b, MISSING)
            return MISSING

        return get2
    if len(path) == 3:
        a, b, c = path

        def get3(obj: Any) -> Any:
            if isinstance(obj, dict):
                obj = obj.get(a)
                if isinstance(obj, dict):
                    obj = obj.get(b)
                    if isinstance(obj, dict):
                        return obj.get(c, MISSING)
            return MISSING

        return get3
    return lambda obj: dig(obj, path)


ListGetter = Callable[[Any, int | None], list[Any] | None]


def list_getter(path: tuple[str, ...]) -> ListGetter:
    """A reader of the array at ``path``: whole, or only its ``idx``-th element.

    It returns ``None`` for "not available": an absent path, a value that is
    not an array, or an index out of range.
    """
    get = getter(path)

    def items(obj: Any, idx: int | None) -> list[Any] | None:
        found = get(obj)
        if not isinstance(found, list):
            return None
        if idx is None:
            return found
        return [found[idx]] if idx < len(found) else None

    return items


def texts(values: list[Any]) -> list[str]:
    """Text of every element of a JSON array."""
    return [v if v.__class__ is str else text(v) for v in values]
