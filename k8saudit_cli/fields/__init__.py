"""Field definitions, extractors and value rendering for k8s_audit events.

The public face of the ``fields`` layer: the engine resolves field
references with :func:`resolve`, outputs render values with
:func:`to_text` / :func:`to_json`, and ``k8saudit fields`` lists :data:`FIELDS`.
"""

from k8saudit_cli.fields.args import FieldError
from k8saudit_cli.fields.base import (
    MISSING,
    ArgKind,
    ArgSpec,
    Extractor,
    FieldDef,
    FieldType,
    Value,
)
from k8saudit_cli.fields.table import FIELDS, FIELDS_BY_NAME, get_field, resolve
from k8saudit_cli.fields.valuetext import to_json, to_text

__all__ = [
    "FIELDS",
    "FIELDS_BY_NAME",
    "MISSING",
    "ArgKind",
    "ArgSpec",
    "Extractor",
    "FieldDef",
    "FieldError",
    "FieldType",
    "Value",
    "get_field",
    "resolve",
    "to_json",
    "to_text",
]
