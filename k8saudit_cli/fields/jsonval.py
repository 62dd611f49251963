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

from collections.abc import Callable
from typing import Any

from k8saudit_cli.fields.base import MISSING
from k8saudit_cli.jsontext import compact, encode, indented

__all__ = ["compact", "encode", "indented"]  # re-exported for the extractors


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
