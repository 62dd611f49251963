"""Cloud-provider audit exports and whole JSON documents, read as audit events.

The input layer in front of the decoder. Once per file,
:mod:`~k8saudit_cli.formats.detect` looks at the first bytes and picks a
framing (JSON lines, a whole JSON document, CloudWatch export lines, CSV);
per record, :mod:`~k8saudit_cli.formats.records` recognises which
provider's shape it is, so a directory (or a file) may mix them.

* :mod:`~k8saudit_cli.formats.items`: what a record holds (payloads, skips) and the
  reasons they are counted under.
* :mod:`~k8saudit_cli.formats.detect`: framing from the first bytes; format names in words.
* :mod:`~k8saudit_cli.formats.jsonscan`: where a JSON value ends, without parsing it.
* :mod:`~k8saudit_cli.formats.jsondoc`: whole JSON documents, record by record.
* :mod:`~k8saudit_cli.formats.textlines`: CloudWatch S3 export lines, Insights CSV.
* :mod:`~k8saudit_cli.formats.records`: one record -> its provider's items.
* :mod:`~k8saudit_cli.formats.eks`, :mod:`~k8saudit_cli.formats.gke`,
  :mod:`~k8saudit_cli.formats.aks`: each provider's records.
* :mod:`~k8saudit_cli.formats.salvage`: what a cut event still says, marked as such.

Only the light modules (items, detect) are imported here: the readers and
the provider modules are imported where they are used, the first time an
input needs them, so a scan of plain JSON lines starts as fast as before.
"""

from k8saudit_cli.formats.detect import (
    HEAD_BYTES,
    LINE_FRAMINGS,
    describe_format,
    format_label,
    framing_of,
)
from k8saudit_cli.formats.items import (
    CUTTING_PROVIDERS,
    INPUT_FORMATS,
    KEPT,
    QUIET,
    REASONS,
    Payload,
    Skip,
    Unwrapped,
)

__all__ = [
    "CUTTING_PROVIDERS",
    "HEAD_BYTES",
    "INPUT_FORMATS",
    "KEPT",
    "LINE_FRAMINGS",
    "QUIET",
    "REASONS",
    "Payload",
    "Skip",
    "Unwrapped",
    "describe_format",
    "format_label",
    "framing_of",
]
