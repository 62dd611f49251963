"""The one ordered field table, and the lookup that binds a field reference.

Order follows ``falco --list``: libsinsp's ``evt`` class, then the k8saudit
plugin, then the json plugin. Everything that lists or resolves fields
(conditions, outputs, ``k8saudit fields``, docs) reads this table.
"""

from __future__ import annotations

from k8saudit_cli.fields.args import (
    FieldError,
    arg_not_allowed,
    arg_required,
    unknown_field,
)
from k8saudit_cli.fields.base import Extractor, FieldDef
from k8saudit_cli.fields.evt import evt_fields
from k8saudit_cli.fields.jsonf import json_fields
from k8saudit_cli.fields.ka import KA_FIELDS

FIELDS: tuple[FieldDef, ...] = (*evt_fields(), *KA_FIELDS, *json_fields())

FIELDS_BY_NAME: dict[str, FieldDef] = {f.name: f for f in FIELDS}

if len(FIELDS_BY_NAME) != len(FIELDS):  # two sources giving one name is fatal in Falco too
    raise RuntimeError("duplicate field names in the field table")


def get_field(name: str) -> FieldDef | None:
    """The field called ``name`` (without argument), or ``None``."""
    return FIELDS_BY_NAME.get(name)


def resolve(name: str, arg: str | None = None) -> tuple[FieldDef, Extractor]:
    """Check ``name[arg]`` as libsinsp does and return the field with its bound extractor.

    Raises :class:`FieldError` with Falco's message. Built-in ``evt.*`` fields
    take no argument at all, so libs reports ``evt.num[1]`` as unknown.
    """
    fdef = FIELDS_BY_NAME.get(name)
    if fdef is None or (arg is not None and fdef.source == "evt"):
        raise unknown_field(name, arg)
    if arg is not None and fdef.arg is None:
        raise arg_not_allowed(name, arg)
    if arg is None and fdef.arg is not None and fdef.arg.required:
        raise arg_required(name)
    return fdef, fdef.bind(arg)


__all__ = ["FIELDS", "FIELDS_BY_NAME", "FieldError", "get_field", "resolve"]
