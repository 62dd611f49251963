"""Compact and indented JSON text of decoded values, for any value the decoder accepts.

orjson is fast but refuses nesting deeper than 254 (while its decoder lets
1024 through), integers beyond 64 bits and lone surrogates; the fallback
encoder here handles those with an explicit stack, in orjson's layout. It
sits at the bottom of the package so both the decoder (event sizes) and the
fields (``json.obj``, ``evt.plugininfo``) can use it.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


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
            name = key if isinstance(key, str) else _key_text(key)
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


def _key_text(key: Any) -> str:
    """Non-string keys (events built from YAML) as the plugins would print them."""
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    return str(key) if isinstance(key, int) else compact(key)
