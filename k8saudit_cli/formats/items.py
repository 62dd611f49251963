"""What a cloud record holds, as the decoder takes it: audit payloads and skipped parts.

A provider module turns one record of its export (a CloudWatch event, a
LogEntry, a diagnostic record) into a list of items: a :class:`Payload`
(the audit event's JSON text as the provider carried it, or an event built
here) or a :class:`Skip` (a counted reason, never a silent drop). The
decoder makes events of the payloads with the checks every event gets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The choices of ``--input-format``.
INPUT_FORMATS: tuple[str, ...] = ("auto", "k8s", "eks", "gke", "aks")

#: Why a record or part of one was skipped, or kept with a warning (decode adds these
#: to its own reasons).
REASONS: dict[str, str] = {
    "truncated_eks": "EKS event cut by CloudWatch Logs ('[Truncated...]' or cut JSON)",
    "truncated_aks": "AKS event cut in properties.log (16 KiB limit of storage exports)",
    "salvaged_eks": "EKS truncated event scanned from its prefix (--salvage-truncated)",
    "salvaged_aks": "AKS truncated event scanned from its prefix (--salvage-truncated)",
    "aks_other_category": "AKS record of a category other than kube-audit/kube-audit-admin",
    "gke_not_k8s_audit": "GKE log entry that is not a Kubernetes audit log",
    "cwl_control_message": "CloudWatch Logs CONTROL_MESSAGE (no events)",
}

#: Reasons that keep the event (counted as warnings, not as skipped input).
KEPT: frozenset[str] = frozenset({"salvaged_eks", "salvaged_aks", "cwl_control_message"})

#: Reasons counted (and reported) but not warned about one by one: records of other
#: kinds that exports normally hold, not audit events that were lost.
QUIET: frozenset[str] = frozenset(
    {"aks_other_category", "gke_not_k8s_audit", "cwl_control_message"}
)

#: Providers whose exports cut events, and so whose cut JSON counts as truncation.
CUTTING_PROVIDERS: frozenset[str] = frozenset({"eks", "aks"})


@dataclass(slots=True)
class Payload:
    """Audit data found in a record.

    ``text``: the JSON text of an Event, EventList or array, as the provider
    carried it (a CloudWatch ``message``, an AKS ``properties.log``); or
    ``event``: an event built here (a converted GKE LogEntry), held to the size
    limit by the size of the record it came from. ``time``: the record's own
    time (ns, or text: RFC 3339, Insights' UTC time), used only to date an
    event salvaged from a cut prefix. ``cut``: why the text is known to be cut
    (EKS's marker), ``None`` when that is found only by parsing.
    """

    provider: str
    text: str | bytes | None = None
    event: dict[str, Any] | None = None
    time: int | str | None = None
    cut: str | None = None


@dataclass(slots=True, frozen=True)
class Skip:
    """A record, or part of one, that holds no event: a reason and a detail."""

    reason: str
    detail: str = ""


Item = Payload | Skip


@dataclass(slots=True, frozen=True)
class Unwrapped:
    """What one record held, and the shape it was recognised as (``eks-cloudwatch``...)."""

    shape: str
    items: list[Item]
