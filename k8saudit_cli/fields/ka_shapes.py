"""The shapes most ``ka.*`` fields take: a value at a path, an array, indexed elements.

Every extractor reads ``ev.ka``, which is an empty dict for JSON without an
``auditID``, so such objects give "not available" for every ``ka.*`` field
without a check per field. The row builders (:func:`scalar`, :func:`array`,
:func:`indexed`) let the field tables read as data.
"""

from __future__ import annotations

from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fields.args import INDEX_ARG, Make, fixed, index_binder
from k8saudit_cli.fields.base import MISSING, Extractor, FieldDef, FieldType, Value
from k8saudit_cli.fields.jsonval import getter, list_getter, text, texts

_S = FieldType.STRING


def at_path(*path: str) -> Extractor:
    """The value at ``path`` as text (``null`` gives ``"null"``), or MISSING.

    One- and two-key paths (most ``ka.*`` fields) get a single flat function:
    these run for nearly every event, and a nested call would double their cost.
    """
    if len(path) == 1:
        return _at_key(path[0])
    if len(path) == 2:
        return _at_two_keys(path[0], path[1])
    get = getter(path)

    def extract(ev: AuditEvent) -> Value:
        v = get(ev.ka)
        if v.__class__ is str:
            return v
        return v if v is MISSING else text(v)

    return extract


def _at_key(a: str) -> Extractor:
    def extract1(ev: AuditEvent) -> Value:
        v = ev.ka.get(a, MISSING)
        return v if v.__class__ is str or v is MISSING else text(v)

    return extract1


def _at_two_keys(a: str, b: str) -> Extractor:
    def extract2(ev: AuditEvent) -> Value:
        v = ev.ka.get(a)
        if v.__class__ is dict or isinstance(v, dict):
            v = v.get(b, MISSING)
            return v if v.__class__ is str or v is MISSING else text(v)
        return MISSING

    return extract2


def array_at(*path: str) -> Extractor:
    """The array at ``path``, each element as text; MISSING if absent or not an array."""
    get = getter(path)

    def extract(ev: AuditEvent) -> Value:
        v = get(ev.ka)
        return texts(v) if isinstance(v, list) else MISSING

    return extract


def elements(*path: str) -> Make:
    """Each element of the array at ``path`` as text; an index picks one element."""
    items_of = list_getter(path)

    def make(idx: int | None) -> Extractor:
        def extract(ev: AuditEvent) -> Value:
            items = items_of(ev.ka, idx)
            return MISSING if items is None else texts(items)

        return extract

    return make


def whole_as_one(*path: str) -> Make:
    """The value at ``path`` as ONE element of JSON text; the index is accepted and ignored.

    This is how the plugin renders ``ka.req.service.ports`` (``([{...},{...}])``),
    and Falco users' outputs and golden files depend on that exact text.
    """
    extract_text = at_path(*path)

    def make(idx: int | None) -> Extractor:
        def extract(ev: AuditEvent) -> Value:
            v = extract_text(ev)
            return [v] if isinstance(v, str) else MISSING

        return extract

    return make


# ------------------------------------------------------------ row builders


def scalar(name: str, desc: str, *path: str) -> FieldDef:
    """A string field: the value at ``path`` as text."""
    return FieldDef(name, _S, False, None, desc, fixed(at_path(*path)))


def array(name: str, desc: str, *path: str) -> FieldDef:
    """A list field without argument: every element of the array at ``path``."""
    return FieldDef(name, _S, True, None, desc, fixed(array_at(*path)))


def indexed(name: str, desc: str, make: Make) -> FieldDef:
    """A list field whose optional index argument picks one element."""
    return FieldDef(name, _S, True, INDEX_ARG, desc, index_binder(name, make))


def computed(
    name: str, desc: str, extractor: Extractor, is_list: bool = False, deprecated: bool = False
) -> FieldDef:
    """A field without argument whose value a function of its own computes."""
    return FieldDef(name, _S, is_list, None, desc, fixed(extractor), deprecated=deprecated)
