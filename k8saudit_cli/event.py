"""The audit event as every later stage sees it: decoded JSON plus where it came from."""

from __future__ import annotations

from typing import Any

#: Shared empty mapping given as ``ka`` to objects without ``auditID``: the
#: k8saudit plugin extracts nothing from them, and an empty dict makes every
#: ``ka.*`` extractor return "not available" without a per-field check.
NO_AUDIT_ID: dict[str, Any] = {}


class AuditEvent:
    """One audit event.

    ``raw`` is the decoded JSON object; ``ka`` is ``raw`` when it has an
    ``auditID`` and an empty dict otherwise; ``time_ns`` is the event time
    (nanoseconds since the epoch, UTC); ``num`` is the 1-based position in
    the whole stream (``evt.num``); ``file``/``line``/``index`` say where the
    event was read (``index`` is the position inside an EventList or array,
    ``None`` for a plain line).
    """

    __slots__ = ("file", "index", "ka", "line", "num", "raw", "time_ns")

    def __init__(
        self,
        raw: dict[str, Any],
        time_ns: int,
        num: int = 0,
        file: str = "<memory>",
        line: int = 0,
        index: int | None = None,
    ) -> None:
        self.raw = raw
        self.ka = raw if "auditID" in raw else NO_AUDIT_ID
        self.time_ns = time_ns
        self.num = num
        self.file = file
        self.line = line
        self.index = index

    @property
    def where(self) -> str:
        """``file:line`` or ``file:line[index]`` for messages."""
        suffix = f"[{self.index}]" if self.index is not None else ""
        return f"{self.file}:{self.line}{suffix}"

    def __repr__(self) -> str:
        return f"AuditEvent(num={self.num}, where={self.where!r}, time_ns={self.time_ns})"
