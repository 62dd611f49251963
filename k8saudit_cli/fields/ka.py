"""The k8saudit plugin's ``ka.*`` fields, in the plugin's own order.

The rows live with their extractors, one tuple per area: the request
(:mod:`ka_request`), request objects (:mod:`ka_objects`) and pods
(:mod:`ka_pod`). This module only fixes their order, which ``k8saudit
fields`` and docs/fields.md show as it is. Our own ``ka.*`` fields
(:mod:`ka_extension`) come after all of the plugin's.
"""

from __future__ import annotations

from k8saudit_cli.fields.base import FieldDef
from k8saudit_cli.fields.ka_extension import EXTENSION_FIELDS
from k8saudit_cli.fields.ka_objects import (
    BINDING_FIELDS,
    CONFIGMAP_FIELDS,
    ROLE_FIELDS,
    SERVICE_FIELDS,
)
from k8saudit_cli.fields.ka_pod import (
    EPHEMERAL_CONTAINER_FIELDS,
    INIT_CONTAINER_FIELDS,
    POD_PRIVILEGE_FIELDS,
    POD_SPEC_FIELDS,
    VOLUME_FIELDS,
)
from k8saudit_cli.fields.ka_request import (
    ANNOTATION_FIELDS,
    EVENT_FIELDS,
    ORIGIN_FIELDS,
    REQUEST_FIELDS,
    RESPONSE_FIELDS,
    TARGET_FIELDS,
    USER_FIELDS,
)

#: Every ``ka.*`` field, ours last. The plugin lists the role fields between two parts
#: of the pod fields, and the response after the volumes; we follow it.
KA_FIELDS: tuple[FieldDef, ...] = (
    *EVENT_FIELDS,
    *ANNOTATION_FIELDS,
    *USER_FIELDS,
    *REQUEST_FIELDS,
    *TARGET_FIELDS,
    *BINDING_FIELDS,
    *CONFIGMAP_FIELDS,
    *POD_SPEC_FIELDS,
    *ROLE_FIELDS,
    *POD_PRIVILEGE_FIELDS,
    *SERVICE_FIELDS,
    *VOLUME_FIELDS,
    *RESPONSE_FIELDS,
    *ORIGIN_FIELDS,
    *INIT_CONTAINER_FIELDS,
    *EPHEMERAL_CONTAINER_FIELDS,
    *EXTENSION_FIELDS,
)
