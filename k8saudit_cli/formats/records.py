"""One JSON record of any cloud export -> what it holds, per record (formats may mix).

:class:`Unwrapper` is what the decoder asks about a JSON value that is not
an audit ``Event``, ``EventList`` or array of them. It recognises each
provider's records by their keys (cheap ``in`` tests, no parsing) and hands
them to the provider module; wrappers (``{"records": [...]}``,
``{"events": [...]}``, base64 payloads) are opened and their contents
recognised in turn. ``--input-format`` limits which providers are tried:
``k8s`` none (today's decoder exactly), ``eks``/``gke``/``aks`` one, ``auto``
all three.
"""

from __future__ import annotations

from typing import Any, Final

from k8saudit_cli.formats import aks, eks, gke
from k8saudit_cli.formats.items import INPUT_FORMATS, Item, Payload, Skip, Unwrapped

_PROVIDERS: Final = {
    "auto": frozenset({"eks", "gke", "aks"}),
    "k8s": frozenset(),
    "eks": frozenset({"eks"}),
    "gke": frozenset({"gke"}),
    "aks": frozenset({"aks"}),
}
#: Keys of objects that only wrap a list of records.
_WRAPPER_KEYS: Final = ("records", "events", "results", "entries")
#: How deep wrappers may nest (a Firehose record's base64 holds a subscription record...).
_MAX_DEPTH: Final = 4
#: The base64 of gzip's magic bytes: how a line of base64 subscription data starts.
_BASE64_GZIP: Final = b"H4sI"


class Unwrapper:
    """Recognises cloud records for the providers ``input_format`` allows."""

    def __init__(self, input_format: str = "auto", gke_faithful: bool = False) -> None:
        if input_format not in _PROVIDERS:
            raise ValueError(f"input format is one of {', '.join(INPUT_FORMATS)}")
        providers = _PROVIDERS[input_format]
        self.eks = "eks" in providers
        self.gke = "gke" in providers
        self.aks = "aks" in providers
        self.faithful = gke_faithful

    def __call__(self, value: Any) -> Unwrapped | None:
        """What ``value`` holds, or ``None`` when it is no record of an allowed provider."""
        return self._unwrap(value, 0)

    def is_record_list(self, value: list[Any]) -> bool:
        """Whether a list is one record (a Logs Insights row), not a list of records."""
        return self.eks and eks.is_insights_row(value)

    def single(self, record: Any) -> tuple[str | dict[str, Any], str] | None:
        """The one audit payload of the commonest records, and their shape: an EKS
        CloudWatch event's message or Insights row's ``@message``, an AKS audit record's
        log (JSON text that ends like an object), a GKE entry's rebuilt event. ``None``
        for anything else, which :meth:`__call__` then reads in full: this only spares
        the common case the general path's work (the decoder's fast path, as for plain
        lines)."""
        if record.__class__ is not dict:
            return self._insights_single(record) if record.__class__ is list else None
        message = record.get("message")
        if message.__class__ is str and self.eks:
            if (
                message[-1:] == "}"
                and "logName" not in record
                and ("timestamp" in record or "logStreamName" in record)
            ):
                return message, "eks-cloudwatch"
            return None
        properties = record.get("properties")
        if properties.__class__ is dict and self.aks:
            log = properties.get("log")
            if log.__class__ is str and log[-1:] == "}":
                if record.get("category") in aks.AUDIT_CATEGORIES:
                    return log, "aks-diagnostic"
            return None
        proto = record.get("protoPayload")
        if proto.__class__ is dict and self.gke and not gke.not_k8s_audit(record):
            build = gke.faithful_event if self.faithful else gke.falco_event
            return build(record, proto), "gke-logentry"
        return None

    def batch(self, record: Any) -> tuple[list[Any], str | None] | None:
        """The records a plain wrapper holds, and the shape they are read as (``None``:
        each its own): a subscription's ``DATA_MESSAGE`` (``eks-subscription``), Lambda's
        ``{"awslogs": {"data": ...}}`` unpacked, an Event Hub body ``{"records": [...]}``.
        ``None`` for anything else or an empty list; the caller then reads the records
        one by one with :meth:`single`, and the record in full if one of them is not
        that simple (this only spares the common batch the general path's work)."""
        if record.__class__ is not dict:
            return None
        if len(record) == 1:
            records = record.get("records")
            if records.__class__ is list and records:
                return records, None
            awslogs = record.get("awslogs")
            if awslogs.__class__ is dict and self.eks:
                data = awslogs.get("data")
                if data.__class__ is str and len(awslogs) == 1:
                    return self.batch(eks.unpack_base64(data))
            return None
        if self.eks and record.get("messageType") == "DATA_MESSAGE":
            events = record.get("logEvents")
            if events.__class__ is list and events and _only_subscription(record):
                return events, "eks-subscription"
        return None

    def _insights_single(self, row: list[Any]) -> tuple[str, str] | None:
        if not self.eks:
            return None
        for cell in row:
            if cell.__class__ is dict and cell.get("field") == "@message":
                message = cell.get("value")
                if message.__class__ is str and message[-1:] == "}":
                    return message, "eks-insights"
                return None
        return None

    def text_line(self, line: bytes) -> Unwrapped | None:
        """A line that is not JSON: base64 subscription data (a dump of Kinesis or
        Firehose records), or ``None``."""
        text = line.strip()
        if not (self.eks and text.startswith(_BASE64_GZIP)):
            return None
        return self._base64(text.decode("ascii", "replace"), 0)

    def _unwrap(self, value: Any, depth: int) -> Unwrapped | None:
        if depth > _MAX_DEPTH:
            return None
        if isinstance(value, dict):
            return self._provider_record(value) or self._wrapped(value, depth)
        if isinstance(value, list) and self.eks and eks.is_insights_row(value):
            return Unwrapped("eks-insights", eks.insights_row(value))
        return None

    def _provider_record(self, record: dict[str, Any]) -> Unwrapped | None:
        if self.gke and ("protoPayload" in record or "logName" in record):
            return Unwrapped("gke-logentry", gke.logentry(record, self.faithful))
        if self.aks and aks.is_record(record):
            return Unwrapped("aks-diagnostic", aks.diagnostic_record(record))
        if not self.eks:
            return None
        if "messageType" in record or "logEvents" in record:
            return Unwrapped("eks-subscription", eks.subscription(record))
        if "message" in record and (
            "timestamp" in record or "ingestionTime" in record or "logStreamName" in record
        ):
            return Unwrapped("eks-cloudwatch", eks.cloudwatch_event(record))
        if "@message" in record:
            return Unwrapped("eks-insights", eks.insights_object(record))
        return None

    def _wrapped(self, record: dict[str, Any], depth: int) -> Unwrapped | None:
        """Records inside a wrapper: base64 data (Lambda's ``awslogs``, a Firehose
        record) or a list under a wrapper key."""
        if self.eks:
            awslogs = record.get("awslogs")
            data = awslogs.get("data") if isinstance(awslogs, dict) else record.get("data")
            if isinstance(data, str) and (awslogs is not None or "recordId" in record):
                return self._base64(data, depth)
        for key in _WRAPPER_KEYS:
            inner = record.get(key)
            if isinstance(inner, list):
                return self._many(inner, depth)
        return None

    def _base64(self, data: str, depth: int) -> Unwrapped:
        value = eks.unpack_base64(data)
        if isinstance(value, Skip):
            return Unwrapped("eks-subscription", [value])
        found = self._unwrap(value, depth + 1)
        if found is None:
            return Unwrapped("eks-subscription", [Skip("not_audit_event", "base64 record")])
        return found

    def _many(self, records: list[Any], depth: int) -> Unwrapped | None:
        """Every record of a wrapper's list; the shape is the first one recognised."""
        shape: str | None = None
        items: list[Item] = []
        for record in records:
            if isinstance(record, dict) and record.get("kind") == "Event":
                items.append(Payload("k8s", event=record))
                shape = shape or "k8s"
                continue
            found = self._unwrap(record, depth + 1)
            if found is None:
                items.append(Skip("not_audit_event", "wrapped record not recognised"))
                continue
            shape = shape or found.shape
            items.extend(found.items)
        if shape is None:
            return None if not records else Unwrapped("unknown", items)
        return Unwrapped(shape, items)


def _only_subscription(record: dict[str, Any]) -> bool:
    """Whether a subscription record has none of the keys that make the general path
    read it as another provider's record first."""
    return not (
        "protoPayload" in record
        or "logName" in record
        or "properties" in record
        or "operationName" in record
    )
